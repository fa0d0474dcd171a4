#if os(Linux)
import Foundation

/// Linux: VmHWM in /proc/self/status is the resident high-water mark; writing "5" to /proc/self/clear_refs resets
/// it to the current resident size (Linux ≥ 4.0), so each run gets its own peak.
extension MemorySampler {
    var platformSource: String { "VmHWM" }

    func platformResetPeak() {
        // Best effort: when the kernel refuses (old kernel, restricted container) the peak covers the process's
        // whole life instead, which is still an upper bound.
        guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return }
        defer { try? handle.close() }
        try? handle.write(contentsOf: Data("5".utf8))
    }

    func platformPeakBytes() -> Int64? { MemorySampler.statusField("VmHWM") }
    func platformCurrentBytes() -> Int64? { MemorySampler.statusField("VmRSS") }
    func platformExtras() -> [(String, JSONValue)] { [] }

    /// A `kB` field of /proc/self/status, in bytes.
    static func statusField(_ name: String) -> Int64? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard parts.count >= 2, let kb = Int64(parts[1]) else { return nil }
            return kb * 1024
        }
        return nil
    }
}
#endif
