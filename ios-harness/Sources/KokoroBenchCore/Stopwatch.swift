import Dispatch

/// A monotonic clock. DispatchTime's uptime nanoseconds never jump with wall-clock changes (NTP, the user
/// setting the time), which Date() would; every time in an event is read from this clock.
public struct Stopwatch {
    public let startNanoseconds: UInt64

    public init() { startNanoseconds = Stopwatch.nowNanoseconds() }

    public static func nowNanoseconds() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// Seconds since this stopwatch started.
    public func elapsed() -> Double {
        let now = Stopwatch.nowNanoseconds()
        return Double(now &- startNanoseconds) / 1e9
    }

    /// Seconds `body` took, with its result.
    public static func time<T>(_ body: () throws -> T) rethrows -> (T, Double) {
        let watch = Stopwatch()
        let value = try body()
        return (value, watch.elapsed())
    }
}
