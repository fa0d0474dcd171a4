import Foundation
import XCTest
@testable import KokoroBenchCore

/// In-memory streams for the server loop.
final class ArraySource: LineSource {
    var lines: [LineRead]
    init(_ lines: [String]) { self.lines = lines.map { .line(Array($0.utf8)) } }
    init(reads: [LineRead]) { self.lines = reads }
    func readLine() -> LineRead { lines.isEmpty ? .eof : lines.removeFirst() }
}

final class ArraySink: LineSink {
    var lines: [String] = []
    func writeLine(_ line: String) throws { lines.append(line) }
    var events: [JSONValue] { lines.compactMap { try? JSONValue.parse($0) } }
    var types: [String] { events.compactMap { $0["type"]?.stringValue } }
}

final class HarnessServerTests: XCTestCase {
    func server() -> HarnessServer {
        var c = ScriptedEngine.Config()
        c.costPerChunkMs = 1; c.costPerCharMs = 0.05; c.loadMs = 1
        return HarnessServer(runner: BenchmarkRunner(engine: ScriptedEngine(config: c)))
    }

    func testSurvivesMalformedLinesAndAnswersPingAfterwards() throws {
        let spec = try SpecFiles.load("protocol_examples.json")
        let invalid = try XCTUnwrap(spec["invalid_requests"]?.arrayValue).compactMap { $0["line"]?.stringValue }
            .filter { !$0.contains("\"hello\"") }  // protocol_mismatch is fatal by design; tested below
        let garbage = ["\u{0}\u{1}", "{", "}", "null", "\"str\"", "{\"type\": null}", "{\"type\": \"run\"}", "💥"]
        let sink = ArraySink()
        let ending = server().serve(source: ArraySource(invalid + garbage + [#"{"type": "ping", "id": "after"}"#]), sink: sink)
        XCTAssertEqual(ending, .endOfInput)
        XCTAssertEqual(sink.types, Array(repeating: "error", count: invalid.count + garbage.count) + ["pong"])
        XCTAssertEqual(sink.events.last?["id"]?.stringValue, "after")
        XCTAssertTrue(sink.events.dropLast().allSatisfy { $0["fatal"] == .bool(false) })
        // The id of a request that failed validation is echoed when it had one.
        XCTAssertEqual(sink.events[invalid.firstIndex(where: { $0.contains("/etc/passwd") }) ?? 0]["id"]?.stringValue, "p1")
    }

    func testFullSession() throws {
        let sink = ArraySink()
        let lines = [
            #"{"type": "hello", "protocol": 1}"#,
            #"{"type": "load", "variant": "8bit"}"#,
            #"{"type": "load", "variant": "8bit"}"#,
            #"{"type": "run", "id": "r1", "text": "Hello there. How are you?", "voice": "af_heart", "variant": "8bit", "send_audio": true}"#,
            #"{"type": "run", "id": "r2", "text": "Hi.", "voice": "af_nope", "variant": "8bit"}"#,
            #"{"type": "unload", "variant": "8bit"}"#,
            #"{"type": "load", "variant": "fp64"}"#,
            #"{"type": "shutdown"}"#,
            #"{"type": "ping", "id": "never"}"#,
        ]
        let ending = server().serve(source: ArraySource(lines), sink: sink)
        XCTAssertEqual(ending, .shutdown)
        // Audio goes out after the clock stopped: both chunks first, then both audio events, then `done`.
        XCTAssertEqual(sink.types, ["hello", "loaded", "loaded", "chunk", "chunk", "audio", "audio", "done", "error",
                                    "unloaded", "error", "bye"])
        let e = sink.events
        XCTAssertEqual(e[0]["simulated"], .bool(true))
        XCTAssertEqual(e[0]["engine"]?.stringValue, "scripted")
        XCTAssertEqual(e[0]["protocol"]?.intValue, 1)
        XCTAssertEqual(e[1]["cold"], .bool(true))
        XCTAssertEqual(e[2]["cold"], .bool(false))
        XCTAssertEqual(e[2]["model_load_time"]?.numberValue, 0)
        for (chunk, audioEvent) in [(e[3], e[5]), (e[4], e[6])] {
            XCTAssertEqual(audioEvent["index"], chunk["index"])
            let audio = try XCTUnwrap(AudioCollector.decodeF32leBase64(audioEvent["data"]?.stringValue ?? ""))
            XCTAssertEqual(audio.count, chunk["samples"]?.intValue)
            XCTAssertTrue(audio.allSatisfy { $0.isFinite && abs($0) <= 1 })
        }
        let result = try BenchmarkResult(json: try XCTUnwrap(e[7]["result"]))
        XCTAssertFalse(result.cold, "the run used the variant loaded before")
        XCTAssertEqual(result.perSentenceInference.first, e[3]["t"]?.numberValue)
        XCTAssertEqual(result.inferenceTime, e[4]["t"]?.numberValue)
        XCTAssertEqual(e[8]["code"]?.stringValue, "unknown_voice")
        XCTAssertEqual(e[8]["id"]?.stringValue, "r2")
        XCTAssertEqual(e[10]["code"]?.stringValue, "unknown_variant")
    }

    func testProtocolMismatchEndsTheSession() {
        let sink = ArraySink()
        let ending = server().serve(source: ArraySource([#"{"type": "hello", "protocol": 2}"#, #"{"type": "ping", "id": "p"}"#]),
                                    sink: sink)
        guard case .fatal = ending else { return XCTFail("expected fatal, got \(ending)") }
        XCTAssertEqual(sink.types, ["error"])
        XCTAssertEqual(sink.events[0]["fatal"], .bool(true))
        XCTAssertEqual(sink.events[0]["code"]?.stringValue, "protocol_mismatch")
    }

    func testLineTooLongIsAnsweredAndTheLoopGoesOn() {
        let sink = ArraySink()
        _ = server().serve(source: ArraySource(reads: [.tooLong(2_000_000), .line(Array(#"{"type": "ping", "id": "p"}"#.utf8))]),
                           sink: sink)
        XCTAssertEqual(sink.types, ["error", "pong"])
        XCTAssertEqual(sink.events[0]["code"]?.stringValue, "line_too_long")
    }

    func testBrokenOutputStopsTheLoop() {
        final class BrokenSink: LineSink {
            struct Gone: Error {}
            func writeLine(_ line: String) throws { throw Gone() }
        }
        let ending = server().serve(source: ArraySource([#"{"type": "ping", "id": "p"}"#, #"{"type": "ping", "id": "q"}"#]),
                                    sink: BrokenSink())
        XCTAssertEqual(ending, .outputBroken)
    }

    /// The real file-descriptor reader over a pipe: lines split across reads, CRLF, an over-long line, no final newline.
    func testFileDescriptorLineSource() throws {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        let source = FileDescriptorLineSource(fd: fds[0], maxLineBytes: 16)
        let writer = FileHandle(fileDescriptor: fds[1], closeOnDealloc: true)
        let payload = "one\ntwo\r\n" + String(repeating: "x", count: 100_000) + "\nthree\n\nlast"
        DispatchQueue.global().async {
            writer.write(Data(payload.utf8))
            try? writer.close()
        }
        XCTAssertEqual(source.readLine(), .line(Array("one".utf8)))
        XCTAssertEqual(source.readLine(), .line(Array("two".utf8)))
        XCTAssertEqual(source.readLine(), .tooLong(100_000))
        XCTAssertEqual(source.readLine(), .line(Array("three".utf8)))
        XCTAssertEqual(source.readLine(), .line([]))
        XCTAssertEqual(source.readLine(), .line(Array("last".utf8)))
        XCTAssertEqual(source.readLine(), .eof)
        close(fds[0])
    }

    func testTCPListenerIsLoopbackOnlyAndServes() throws {
        let listener = try TCPListener(loopbackPort: 0)
        XCTAssertGreaterThan(listener.port, 0)
        let port = listener.port
        let done = expectation(description: "served")
        let sink = ArraySink()  // read only after `done`, so never touched by two threads at once
        let server = self.server()
        DispatchQueue.global().async {
            if let fd = try? listener.accept() {
                _ = server.serve(source: FileDescriptorLineSource(fd: fd), sink: sink)
                close(fd)
            }
            done.fulfill()
        }
        let client = try connectLoopback(port: port)
        let req = "{\"type\": \"ping\", \"id\": \"tcp\"}\n{\"type\": \"shutdown\"}\n"
        _ = req.withCString { write(client, $0, strlen($0)) }
        wait(for: [done], timeout: 10)
        close(client)
        XCTAssertEqual(sink.types, ["pong", "bye"])
    }

    func connectLoopback(port: UInt16) throws -> Int32 {
        #if canImport(Glibc)
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let s = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        XCTAssertEqual(rc, 0)
        return s
    }
}

final class SlowReaderTests: XCTestCase {
    /// A host that reads slowly (full pipe, slow USB) must not slow the measured chunks down.
    func testSlowSinkDoesNotEnterTheTimings() throws {
        final class SlowSink: LineSink {
            let lock = NSLock()
            var lines: [String] = []
            func writeLine(_ line: String) throws {
                if line.contains("\"chunk\"") { Thread.sleep(forTimeInterval: 0.2) }
                lock.lock(); lines.append(line); lock.unlock()
            }
        }
        var c = ScriptedEngine.Config()
        c.costPerChunkMs = 10; c.costPerCharMs = 0; c.loadMs = 1
        let server = HarnessServer(runner: BenchmarkRunner(engine: ScriptedEngine(config: c)))
        let sink = SlowSink()
        _ = server.serve(source: ArraySource([#"{"type": "run", "id": "r", "text": "One. Two. Three.", "voice": "af_heart", "variant": "bf16"}"#]),
                         sink: sink)
        let events = sink.lines.compactMap { try? JSONValue.parse($0) }
        XCTAssertEqual(events.compactMap { $0["type"]?.stringValue }, ["chunk", "chunk", "chunk", "done"])
        let result = try BenchmarkResult(json: try XCTUnwrap(events.last?["result"]))
        XCTAssertLessThan(result.inferenceTime, 0.2, "a 0.2 s write per chunk leaked into the timings")
        XCTAssertEqual(events[2]["t"]?.numberValue, result.inferenceTime)
    }
}

/// The timing rule (docs/protocol.md "Clock"): between T1 and the last chunk's timestamp a harness does engine work
/// only; audio is encoded and written after the clock stopped.
final class TimingRuleTests: XCTestCase {
    /// A sink that counts the audio lines written so far, from any thread.
    final class CountingSink: LineSink {
        private let lock = NSLock()
        private(set) var lines: [String] = []
        func writeLine(_ line: String) throws {
            lock.lock(); lines.append(line); lock.unlock()
        }
        var audioLinesSoFar: Int {
            lock.lock(); defer { lock.unlock() }
            return lines.filter { $0.contains("\"type\": \"audio\"") }.count
        }
    }

    /// An engine that, each time it is asked for a chunk, notes how many audio events the host has received: all
    /// must be zero, since every synthesis lies between T1 and the last chunk's timestamp.
    final class WatchingEngine: TTSEngine {
        let inner = ScriptedEngine()
        let sink: CountingSink
        var audioSeenAtSynthesis: [Int] = []
        init(sink: CountingSink) {
            self.sink = sink
            inner.config.costPerChunkMs = 20; inner.config.costPerCharMs = 0; inner.config.loadMs = 0
        }
        var info: EngineInfo { inner.info }
        func loadVariant(_ variant: String) throws -> VariantInfo { try inner.loadVariant(variant) }
        func unloadVariant(_ variant: String) { inner.unloadVariant(variant) }
        func loadVoice(_ voice: String, variant: String) throws { try inner.loadVoice(voice, variant: variant) }
        func synthesize(_ text: String, voice: String, speed: Double) throws -> [Float] {
            audioSeenAtSynthesis.append(sink.audioLinesSoFar)
            return try inner.synthesize(text, voice: voice, speed: speed)
        }
    }

    func testNoAudioIsEncodedOrSentBetweenT1AndTheLastChunk() throws {
        let sink = CountingSink()
        let engine = WatchingEngine(sink: sink)
        let server = HarnessServer(runner: BenchmarkRunner(engine: engine, calibrate: { 0 }))
        let run = #"{"type": "run", "id": "r", "text": "One. Two. Three. Four.", "voice": "af_heart", "variant": "bf16", "warmup": false, "send_audio": true}"#
        XCTAssertEqual(server.serve(source: ArraySource([run]), sink: sink), .endOfInput)
        XCTAssertEqual(engine.audioSeenAtSynthesis, [0, 0, 0, 0], "audio was written while chunks were being timed")
        let types = sink.lines.compactMap { try? JSONValue.parse($0)["type"]?.stringValue }
        XCTAssertEqual(types, ["chunk", "chunk", "chunk", "chunk", "audio", "audio", "audio", "audio", "done"])
    }

    func testAnErrorMidRunStillSendsTheAudioOfTheChunksThatExist() throws {
        let sink = CountingSink()
        let engine = ScriptedEngine()
        engine.failOnText = ("Three.", HarnessError(.engineError, "boom"))
        let server = HarnessServer(runner: BenchmarkRunner(engine: engine, calibrate: { 0 }))
        let run = #"{"type": "run", "id": "r", "text": "One. Two. Three.", "voice": "af_heart", "variant": "bf16", "warmup": false, "send_audio": true}"#
        _ = server.serve(source: ArraySource([run]), sink: sink)
        let types = sink.lines.compactMap { try? JSONValue.parse($0)["type"]?.stringValue }
        XCTAssertEqual(types, ["chunk", "chunk", "audio", "audio", "error"])
    }
}
