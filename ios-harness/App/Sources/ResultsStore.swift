import Foundation
import KokoroBenchCore

/// Documents/benchmark_results: `benchmark_results_YYYYMMDD_HHMMSS.json` (a JSON array, like the reference) and
/// WAVs. Documents is shared (UIFileSharingEnabled), so the plugin and Finder can fetch the files.
final class ResultsStore {
    let directory: URL
    /// What a host connection's rounds go to: one file per connection (ServedResultsLog).
    private let served: ServedResultsLog

    init() {
        let docs = FileManager.default.urls(for: .documentDirectory, in: .userDomainMask).first
            ?? URL(fileURLWithPath: NSTemporaryDirectory())
        directory = docs.appendingPathComponent("benchmark_results")
        served = ServedResultsLog(directory: directory)
    }

    /// One file per UI run (or run-all).
    func writeRun(_ results: [BenchmarkResult]) throws -> URL {
        try ResultsFileWriter.write(results, toDirectory: directory)
    }

    /// A host connected: its results go to a file of their own, so a second pytest run against the same running
    /// app finds a new file holding exactly its rounds.
    func startConnection() { served.startConnection() }

    /// Served runs are rewritten atomically after each result, so a crash loses nothing already measured.
    func append(_ result: BenchmarkResult) {
        do { try served.append(result) } catch { NSLog("KokoroBench: cannot write the results file: %@", "\(error)") }
    }

    /// `<results file stem>_<variant>_<voice>.wav`: one per run and variant, named after the variant it holds.
    func writeWAV(_ audio: AudioCollector, resultsFile: URL, variant: String, voice: String) throws -> URL {
        let safe = "\(variant)_\(voice)".filter { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
        let stem = resultsFile.deletingPathExtension().lastPathComponent
        let url = directory.appendingPathComponent("\(stem)_\(safe).wav")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try audio.writeWAV(to: url)
        return url
    }
}
