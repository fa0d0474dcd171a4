import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What reading one line gives.
public enum LineRead: Equatable {
    case line([UInt8])       // without the "\n" (and without a "\r" before it)
    case tooLong(Int)        // the line was longer than the limit; its bytes were discarded up to the newline
    case eof
}

/// A byte stream read line by line.
public protocol LineSource: AnyObject {
    func readLine() -> LineRead
}

/// A byte stream written line by line; `write` sends the line and a "\n" and flushes.
public protocol LineSink: AnyObject {
    func writeLine(_ line: String) throws
}

/// Reads lines from a file descriptor (stdin or a socket) with a cap on the line length, so a host that never
/// sends a newline cannot make the harness buffer without end.
public final class FileDescriptorLineSource: LineSource {
    let fd: Int32
    let maxLineBytes: Int
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEOF = false

    public init(fd: Int32, maxLineBytes: Int = HarnessVersion.maxLineBytes) {
        self.fd = fd
        self.maxLineBytes = maxLineBytes
    }

    /// Append more bytes to the buffer; false at end of stream or on a read error.
    private func fill() -> Bool {
        if atEOF { return false }
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, 65_536) }
            if n > 0 {
                buffer.append(contentsOf: chunk[0..<n])
                return true
            }
            if n < 0 && errno == EINTR { continue }
            atEOF = true
            return false
        }
    }

    public func readLine() -> LineRead {
        // Drop the lines already returned, so the buffer starts at the line being read.
        if start > 0 {
            buffer.removeFirst(start)
            start = 0
        }
        var scanFrom = 0
        var discarded = 0  // bytes thrown away of an over-long line
        while true {
            if let nl = buffer[scanFrom...].firstIndex(of: UInt8(ascii: "\n")) {
                start = nl + 1
                if discarded > 0 || nl > maxLineBytes { return .tooLong(discarded + nl) }
                var line = Array(buffer[0..<nl])
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                return .line(line)
            }
            // No newline yet. Past the limit: drop what we hold, keep counting, keep reading to the newline.
            if buffer.count > maxLineBytes {
                discarded += buffer.count
                buffer.removeAll(keepingCapacity: true)
            }
            scanFrom = buffer.count
            if !fill() {
                let rest = buffer
                buffer.removeAll()
                if discarded > 0 { return .tooLong(discarded + rest.count) }
                if !rest.isEmpty { return .line(rest) }  // a last line without a newline still counts
                return .eof
            }
        }
    }
}

/// Writes lines to a file descriptor with write(2) (no stdio buffering: each event is on the wire when
/// `writeLine` returns, so the host sees a chunk as soon as it exists).
///
/// A socket whose peer has gone raises SIGPIPE on write, and SIGPIPE's default action ends the process: the app
/// would die with its harness when the host disconnects. So a socket (`isSocket`) is written with send(2) and
/// MSG_NOSIGNAL on Linux; on Apple platforms TCPListener.accept sets SO_NOSIGPIPE on the socket instead (Darwin
/// has no MSG_NOSIGNAL). Either way a vanished host is the write error EPIPE, which ends the session only.
public final class FileDescriptorLineSink: LineSink {
    let fd: Int32
    let isSocket: Bool
    public init(fd: Int32, isSocket: Bool = false) {
        self.fd = fd
        self.isSocket = isSocket
    }

    private func writeSome(_ base: UnsafeRawPointer?, _ count: Int) -> Int {
        #if canImport(Glibc)
        if isSocket { return send(fd, base, count, Int32(MSG_NOSIGNAL)) }
        #endif
        return write(fd, base, count)
    }

    public struct WriteError: Error, CustomStringConvertible {
        public let errno: Int32
        public var description: String { "writing an event failed (errno \(errno)); the host has gone away" }
    }

    public func writeLine(_ line: String) throws {
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { writeSome($0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw WriteError(errno: errno)
            }
            offset += n
        }
    }
}

/// The protocol loop over any line stream: read a request, answer with events, repeat. A bad request is answered
/// with an `error` event and the loop goes on; only `shutdown` (→ `bye`), a fatal error, the end of the input or
/// a broken output ends it.
public final class HarnessServer {
    public let runner: BenchmarkRunner
    /// Called with each event before it is written (fault injection in the CLI, playback and results in the app).
    public var willEmit: ((Event) throws -> Void)?
    /// Called with each finished result (the app writes its results file from here).
    public var onResult: ((BenchmarkResult) -> Void)?
    /// Called with each chunk's audio inside the timed loop (the app's streaming playback): it must only hand the
    /// samples off (the app schedules them on its playback queue); the result's `playback` key says it happened.
    public var onAudio: (([Float]) -> Void)?
    /// The same, with the chunk's event: a player that reports when each chunk really played (the app's ChunkPlayer,
    /// `played_chunk_starts`) needs its run id, index and `t`. Same rule: hand off, return.
    public var onChunkAudio: ((ChunkEvent, [Float]) -> Void)?
    public var log: (String) -> Void

    public enum Ending: Equatable {
        case shutdown          // `shutdown` answered with `bye`
        case endOfInput        // the host closed its side
        case fatal(String)     // a fatal error event was sent
        case outputBroken      // events can no longer be written
    }

    public init(runner: BenchmarkRunner, log: @escaping (String) -> Void = { _ in }) {
        self.runner = runner
        self.log = log
    }

    public var helloEvent: HelloEvent {
        let e = runner.engine.info
        let p = runner.platform
        return HelloEvent(protocolVersion: HarnessVersion.protocolVersion, harness: HarnessVersion.name,
                          harnessVersion: HarnessVersion.version, engine: e.name, engineVersion: e.version,
                          simulated: e.simulated, platform: p.platform, deviceModel: p.deviceModel,
                          osVersion: p.osVersion, variants: e.variants, voices: e.voices, sampleRate: e.sampleRate)
    }

    struct OutputBroken: Error { let underlying: Error }

    func emit(_ event: Event, to sink: LineSink) throws {
        try willEmit?(event)
        do { try sink.writeLine(ProtocolCodec.encode(event)) } catch { throw OutputBroken(underlying: error) }
    }

    /// Serve one stream until it ends. Returns why it ended.
    @discardableResult
    public func serve(source: LineSource, sink: LineSink) -> Ending {
        while true {
            let read = source.readLine()
            let ending: Ending?
            do {
                switch read {
                case .eof:
                    return .endOfInput
                case let .tooLong(n):
                    let e = HarnessError(.lineTooLong, "the request line has \(n) bytes; the limit is "
                        + "\(HarnessVersion.maxLineBytes). The line was discarded; send shorter text.")
                    try emit(.error(id: nil, e), to: sink)
                    ending = nil
                case let .line(bytes):
                    if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }  // blank lines are not requests
                    ending = try handle(bytes, sink: sink)
                }
            } catch let broken as OutputBroken {
                log("stopping: \(broken.underlying)")
                return .outputBroken
            } catch {
                // Only willEmit hooks throw anything else; treat like a broken output.
                log("stopping: \(error)")
                return .outputBroken
            }
            if let ending = ending { return ending }
        }
    }

    /// Answer one request line. Returns an ending when the session is over.
    func handle(_ bytes: [UInt8], sink: LineSink) throws -> Ending? {
        let request: Request
        do { request = try ProtocolCodec.parseRequest(bytes) } catch {
            let e = HarnessError.wrap(error, context: "parsing the request")
            try emit(.error(id: ProtocolCodec.requestID(ofLine: bytes), e), to: sink)
            return e.fatal ? .fatal(e.message) : nil
        }
        switch request {
        case .hello:
            try emit(.hello(helloEvent), to: sink)
        case let .load(variant):
            do {
                let outcome = try runner.load(variant)
                try emit(.loaded(outcome.event), to: sink)
            } catch let e as HarnessError {
                try emit(.error(id: nil, e), to: sink)
            }
        case let .unload(variant):
            do {
                try runner.checkVariant(variant)
                runner.unload(variant)
                try emit(.unloaded(variant: variant), to: sink)
            } catch let e as HarnessError {
                try emit(.error(id: nil, e), to: sink)
            }
        case let .conditions(id):
            try emit(.conditions(runner.conditions(id: id)), to: sink)
        case let .ping(id):
            try emit(.pong(id: id), to: sink)
        case .shutdown:
            try emit(.bye, to: sink)
            return .shutdown
        case let .run(run):
            // The timing rule (docs/protocol.md "Clock"): between T1 and the last chunk's timestamp the harness
            // does engine work only. Each chunk queues one small `chunk` event on a writer queue (in order, so a
            // slow reader, a full pipe or USB, never blocks the timed loop) and keeps its samples; the audio is
            // base64-encoded and written only after the clock stopped, as the host harness does.
            let writer = EventWriter { [self] event in try emit(event, to: sink) }
            var pendingAudio: [(index: Int, samples: [Float])] = []
            var outcome: Result<BenchmarkResult, Error>
            do {
                outcome = .success(try runner.run(run) { [self] chunk, audio in
                    try writer.checkHealthy()  // the host is gone: stop spending time on the run
                    writer.send { .chunk(chunk) }
                    if run.sendAudio { pendingAudio.append((chunk.index, audio)) }
                    onAudio?(audio)
                    onChunkAudio?(chunk, audio)
                })
            } catch {
                outcome = .failure(error)
            }
            // The clock has stopped: now the audio, still before `done` (or `error`, for the chunks that exist).
            for pending in pendingAudio {
                writer.send {
                    .audio(id: run.id, index: pending.index, encoding: "f32le-base64",
                           data: AudioCollector.f32leBase64(pending.samples))
                }
            }
            pendingAudio.removeAll()
            try writer.drain()  // every chunk and audio event is out before `done` or `error`
            switch outcome {
            case let .success(result):
                onResult?(result)
                try emit(.done(id: run.id, result: result), to: sink)
            case let .failure(e as HarnessError):
                try emit(.error(id: run.id, e), to: sink)
            case let .failure(other):
                throw other  // OutputBroken and hook errors go to serve(), which stops
            }
        }
        return nil
    }
}

/// Writes events on its own serial queue, in the order they were sent. The first write error is kept and
/// reported by `checkHealthy` / `drain`; later events are dropped after it.
final class EventWriter {
    private let queue = DispatchQueue(label: "kokoro.harness.events")
    private let lock = NSLock()
    private var failure: Error?
    private let write: (Event) throws -> Void

    init(write: @escaping (Event) throws -> Void) { self.write = write }

    func send(_ make: @escaping () -> Event) {
        queue.async { [self] in
            guard currentFailure() == nil else { return }
            do { try write(make()) } catch {
                lock.lock()
                failure = error
                lock.unlock()
            }
        }
    }

    private func currentFailure() -> Error? {
        lock.lock()
        defer { lock.unlock() }
        return failure
    }

    func checkHealthy() throws {
        if let f = currentFailure() { throw f }
    }

    /// Wait until everything sent is written; throw the first write error, if any.
    func drain() throws {
        queue.sync {}
        try checkHealthy()
    }
}
