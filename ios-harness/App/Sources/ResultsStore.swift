import Foundation
import KokoroBenchCore

/// Documents/benchmark_results: `benchmark_results_YYYYMMDD_HHMMSS.json` (a JSON array, like the reference) and
/// WAVs. Documents is shared (UIFileSharingEnabled), so the plugin and Finder can fetch the files.
final class ResultsStore {
    let directory: URL
    private var served: [BenchmarkResult] = []
    private let sessionStart = Date()

    init() {
        let docs = FileManager.default.urls(for: .documentDirectory, in: .userDomainMask).first
            ?? URL(fileURLWithPath: NSTemporaryDirectory())
        directory = docs.appendingPathComponent("benchmark_results")
    }

    /// One file per UI run (or run-all).
    func writeRun(_ results: [BenchmarkResult]) throws -> URL {
        try ResultsFileWriter.write(results, toDirectory: directory)
    }

    /// Served runs accumulate in one file per serving session, rewritten atomically after each result, so a
    /// crash loses nothing already measured.
    func append(_ result: BenchmarkResult) {
        served.append(result)
        _ = try? ResultsFileWriter.write(served, toDirectory: directory, date: sessionStart)
    }

    func writeWAV(_ audio: AudioCollector, name: String) throws -> URL {
        let safe = name.filter { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
        let url = directory.appendingPathComponent("\(ResultsFileWriter.fileName(for: Date()).dropLast(5))_\(safe).wav")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try audio.writeWAV(to: url)
        return url
    }
}
