import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The serving loop of `KokoroBenchHarness --listen` and of the app's `--serve`: accept one client, serve it until
/// it leaves, accept the next. A client that disconnects, even mid-run, ends its session only; `shutdown` ends the
/// loop. One runner for the whole life of the loop, so a loaded variant stays loaded across clients.
public final class LoopbackService {
    /// Waits between failed accepts: 10 ms after the first failure in a row, doubling up to 1 s, back to none
    /// after a success. Without it, an accept that keeps failing at once (EMFILE: out of file descriptors;
    /// ECONNABORTED storms) spins a core and floods the log while the app is meant to measure.
    public struct Backoff: Equatable {
        public var first = 0.01
        public var maximum = 1.0
        public private(set) var failuresInARow = 0
        public init() {}

        /// Seconds to wait after one more failure.
        public mutating func failed() -> Double {
            failuresInARow += 1
            return min(maximum, first * pow(2, Double(failuresInARow - 1)))
        }

        public mutating func succeeded() { failuresInARow = 0 }
    }

    public let runner: BenchmarkRunner
    let accept: () throws -> Int32
    public var log: (String) -> Void
    /// Waits between failed accepts (injectable for tests).
    public var sleep: (Double) -> Void = { Thread.sleep(forTimeInterval: $0) }
    /// Called with each new connection's server before it serves (hooks: fault injection, results, playback).
    public var configure: (HarnessServer, Int32) -> Void = { _, _ in }
    public private(set) var backoff = Backoff()
    /// How each session ended, in order (for logs and tests).
    public private(set) var endings: [HarnessServer.Ending] = []

    public init(runner: BenchmarkRunner, accept: @escaping () throws -> Int32, log: @escaping (String) -> Void = { _ in }) {
        self.runner = runner
        self.accept = accept
        self.log = log
    }

    public convenience init(listener: TCPListener, runner: BenchmarkRunner, log: @escaping (String) -> Void = { _ in }) {
        self.init(runner: runner, accept: { try listener.accept() }, log: log)
    }

    /// Serve clients until one sends `shutdown`.
    public func run() {
        while true {
            let fd: Int32
            do {
                fd = try accept()
                backoff.succeeded()
            } catch {
                let wait = backoff.failed()
                log("\(error); still listening, next accept in \(Int(wait * 1000)) ms")
                sleep(wait)
                continue
            }
            log("client connected")
            let server = HarnessServer(runner: runner, log: log)
            configure(server, fd)
            let ending = server.serve(source: FileDescriptorLineSource(fd: fd),
                                      sink: FileDescriptorLineSink(fd: fd, isSocket: true))
            close(fd)
            endings.append(ending)
            log("client session ended: \(ending)")
            if ending == .shutdown { return }  // `shutdown` ends the harness; a disconnect does not
        }
    }
}
