import Foundation

/// Peak memory of this process during a run, in GiB (1024^3), as the reference's peak_memory_gb.
///
/// The platform parts are in MemorySampler+Linux.swift (VmHWM) and MemorySampler+Darwin.swift (phys_footprint,
/// what jetsam kills on). A value that cannot be read is -1, never a made-up number.
public final class MemorySampler {
    public static let bytesPerGiB = 1_073_741_824.0

    public init() {}

    // Used by the Darwin part, whose peak is sampled: the kernel's lifetime peak cannot be reset per run.
    let lock = NSLock()
    var windowPeakBytes: Int64 = -1
    var samplingTimer: DispatchSourceTimer?
    deinit { samplingTimer?.cancel() }

    /// Which counter `peakGiB` reads: "VmHWM" on Linux, "phys_footprint" on Apple platforms.
    public var source: String { platformSource }

    /// Start a new peak window (before T1).
    public func resetPeak() { platformResetPeak() }

    /// The peak since the last reset, GiB; -1 when unreadable.
    public func peakGiB() -> Double {
        guard let bytes = platformPeakBytes(), bytes >= 0 else { return -1 }
        return Double(bytes) / MemorySampler.bytesPerGiB
    }

    /// Platform-specific memory keys for the result (e.g. the lifetime peak on Apple platforms).
    public func extras() -> [(String, JSONValue)] { platformExtras() }

    /// Current footprint in GiB; -1 when unreadable.
    public func currentGiB() -> Double {
        guard let bytes = platformCurrentBytes(), bytes >= 0 else { return -1 }
        return Double(bytes) / MemorySampler.bytesPerGiB
    }
}
