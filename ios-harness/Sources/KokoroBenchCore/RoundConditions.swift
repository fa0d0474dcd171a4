import Foundation

/// The conditions a round was measured under that decide whether its numbers may gate CI or become a baseline.
/// A round measured in a Debug build, on a phone that started above `fair`, in Low Power Mode, or with the app not in
/// the foreground is KEPT in the results (nothing measured is lost) and carries the reasons in
/// `excluded_from_gates`; gates and baselines leave such rounds out and the summary counts them
/// (docs/results.md "Rounds left out of gates").
public enum RoundConditions {
    /// "debug" or "release": how the harness itself was compiled. SwiftPM and Xcode build package dependencies in
    /// the app's configuration, so this is the app's configuration too. Debug MLX numbers look like Release ones
    /// and are not: never gate on them.
    public static let buildConfiguration: String = {
        #if DEBUG
        return "debug"
        #else
        return "release"
        #endif
    }()

    /// Thermal states a round may start in and still gate (ProcessInfo.ThermalState: nominal < fair < serious <
    /// critical).
    public static let gateableThermalStates: Set<String> = ["nominal", "fair"]

    /// Why a round is left out of gates and baselines ([] when it may gate). `extras` are the device-state keys
    /// the probe wrote (`low_power_mode_before`, `foreground_before`, `foreground_after`, ...).
    public static func exclusions(buildConfiguration: String, thermalStateBefore: String?,
                                  extras: [(String, JSONValue)]) -> [String] {
        var reasons: [String] = []
        if buildConfiguration != "release" { reasons.append("\(buildConfiguration)_build") }
        if let thermal = thermalStateBefore, !gateableThermalStates.contains(thermal) {
            reasons.append("thermal_state_before_\(thermal)")
        }
        func flag(_ key: String) -> Bool? {
            if case .bool(let value)? = extras.first(where: { $0.0 == key })?.1 { return value }
            return nil
        }
        if flag("low_power_mode_before") == true { reasons.append("low_power_mode") }
        if flag("foreground_before") == false || flag("foreground_after") == false { reasons.append("not_foreground") }
        return reasons
    }
}

/// How much memory MLX may keep in its buffer cache between rounds. Without a limit the cache grows with every
/// round (peak_memory_gb then includes buffers cached by earlier rounds) and long chunks come closer to the jetsam
/// limit of a 6 GB phone. A quarter of physical memory, at most 1 GiB and at least 256 MiB, recorded on every
/// round as `mlx_cache_limit_bytes`.
public enum MLXCachePolicy {
    public static func cacheLimitBytes(physicalMemory: UInt64) -> Int {
        let quarter = physicalMemory / 4
        return Int(min(max(quarter, 256 << 20), 1 << 30))
    }
}

/// The results a serving app writes to its own Documents/benchmark_results while a host drives it: one file per
/// host connection (one pytest run), rewritten atomically after each result so a crash loses nothing. One file per
/// connection, not per app start: a second pytest run against the same running app (manual launch) then finds a
/// new file holding exactly its own results, which it compares with what it received.
public final class ServedResultsLog {
    public let directory: URL
    private var results: [BenchmarkResult] = []
    private var fileDate: Date?
    private var lastName: String?
    public private(set) var currentFile: URL?

    public init(directory: URL) { self.directory = directory }

    /// A new host connection: its results go to a new file (named after now, and never the previous file's name).
    public func startConnection(at date: Date = Date()) {
        results = []
        var candidate = date
        func taken(_ date: Date) -> Bool {
            let name = ResultsFileWriter.fileName(for: date)
            return name == lastName || FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path)
        }
        while taken(candidate) { candidate.addTimeInterval(1) }
        fileDate = candidate
        currentFile = nil
    }

    public func append(_ result: BenchmarkResult) throws {
        if fileDate == nil { startConnection() }
        results.append(result)
        let url = try ResultsFileWriter.write(results, toDirectory: directory, date: fileDate!)
        lastName = url.lastPathComponent
        currentFile = url
    }
}
