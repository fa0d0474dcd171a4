import Foundation

/// A fixed, deterministic CPU workload, timed by the runner right before each round's clock starts (after the
/// warm-up, before the memory-peak reset and T1; never inside the timed region). Its seconds are the result's
/// `calibration_time`.
///
/// Why: the regression gates divide RTF and TTFA by it. On a shared CI machine, or a phone that is hot or in
/// low-power mode, everything runs slower together, so a busier or throttled device does not look like a code
/// regression; a slower engine still does, because the workload never touches the engine, the model or the text.
///
/// The workload is a dependent chain of Float32 multiply-adds (each step needs the previous result, so the steps
/// cannot be vectorized or overlapped): it measures how fast this core runs right now, about 20-60 ms on a
/// laptop-class CPU in a release build. Its result is checked, so the optimizer cannot remove the loop.
public enum Calibration {
    /// Steps of the chain. Fixed: changing it changes every calibration_time, so gates compare like with like.
    public static let iterations = 16_000_000

    /// Seconds the fixed workload takes now (monotonic clock).
    public static func measure() -> Double {
        let watch = Stopwatch()
        let value = workload(iterations: iterations)
        let seconds = watch.elapsed()
        // Uses the result: the loop has an observable effect and cannot be optimized away. The chain converges to
        // 1.0 (x = a*x + (1-a)), so anything else means broken floating point.
        precondition(value.isFinite && abs(value - 1) < 0.01, "the calibration workload produced \(value)")
        return seconds
    }

    /// The chain itself: `x = x * a + b` with `a + b = 1`, starting away from the fixed point 1.0, so every value
    /// stays normal (no denormal slow paths) and the loop-carried dependency is real.
    @inline(never)
    public static func workload(iterations: Int) -> Float {
        var x: Float = 2
        let a: Float = 0.999
        let b: Float = 1 - a
        var i = 0
        while i < iterations {
            x = x * a + b
            i &+= 1
        }
        return x
    }
}
