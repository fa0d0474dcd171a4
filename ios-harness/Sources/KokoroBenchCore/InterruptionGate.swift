import Foundation

/// Lets engine work run only while the app may use the GPU. iOS does not allow GPU work from the background: a
/// Metal command buffer submitted then fails, and MLX aborts the process. The app closes the gate when it enters the
/// background (the phone locks, the user switches away), waiting a bounded time for the chunk in flight; a chunk asked for while the gate is closed fails with the typed error `interrupted`, so the round ends
/// cleanly, the rounds before it are kept, and the harness stays up. It reopens when the app is active again.
public final class InterruptionGate {
    private let condition = NSCondition()
    private var closed = false
    private var inFlight = 0
    private var why = ""

    public init() {}

    /// Before engine work: throws `interrupted` while closed, else counts the work in flight.
    public func enter() throws {
        condition.lock()
        defer { condition.unlock() }
        if closed {
            throw HarnessError(.interrupted, "the round was interrupted: \(why). The rounds before it are kept; "
                + "bring the app to the front, keep the phone unlocked (Auto-Lock: Never) and run again")
        }
        inFlight += 1
    }

    public func leave() {
        condition.lock()
        inFlight -= 1
        condition.broadcast()
        condition.unlock()
    }

    /// Runs `body` between enter() and leave(). When `body` fails after the gate closed (the GPU refused work once
    /// the app was in the background: MLX's error, thrown instead of aborting, see MLXKokoroEngine), the failure is
    /// the interruption, reported as `interrupted` naming why, not as an engine error.
    public func run<T>(_ body: () throws -> T) throws -> T {
        try enter()
        defer { leave() }
        do {
            return try body()
        } catch {
            condition.lock()
            let closedNow = closed
            let reason = why
            condition.unlock()
            guard closedNow else { throw error }
            throw HarnessError(.interrupted, "the round was interrupted: \(reason), and the chunk in flight failed "
                + "(\(error)). The rounds before it are kept; bring the app to the front, keep the phone unlocked "
                + "(Auto-Lock: Never) and run again")
        }
    }

    /// Close the gate and wait up to `seconds` for the work in flight to end. True when nothing is in flight.
    @discardableResult
    public func close(because reason: String, waitingUpTo seconds: Double) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        closed = true
        why = reason
        let deadline = Date(timeIntervalSinceNow: seconds)
        while inFlight > 0 {
            if !condition.wait(until: deadline) { break }
        }
        return inFlight == 0
    }

    /// Close without waiting (from inside the work in flight, or where waiting is not allowed).
    public func closeWithoutWaiting(because reason: String) {
        condition.lock()
        closed = true
        why = reason
        condition.unlock()
    }

    public func open() {
        condition.lock()
        closed = false
        condition.unlock()
    }

    public var isClosed: Bool {
        condition.lock()
        defer { condition.unlock() }
        return closed
    }
}
