import Foundation
import KokoroBenchCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// KokoroBenchHarness: the protocol v1 harness as a command-line program (docs/protocol.md).
/// Events go to stdout (or the TCP connection); logs go to stderr only, never into the event stream.

func log(_ message: String) {
    FileHandle.standardError.write(Data("KokoroBenchHarness: \(message)\n".utf8))
}

func fail(_ message: String) -> Never {
    log(message)
    log("run with --help for the flags")
    exit(2)
}

let usage = """
usage: KokoroBenchHarness (--stdio | --listen PORT) [options]

  --stdio                  speak protocol v1 on stdin/stdout (logs on stderr)
  --listen PORT            speak it over TCP on 127.0.0.1:PORT, one connection at a time (0 = any free port;
                           the chosen port is logged as "listening on 127.0.0.1:PORT")
  --engine scripted        the SIMULATED test engine (default)
  --engine sherpa-onnx     the real Kokoro-82M int8 through sherpa-onnx (builds that found its library); with
                           --sherpa-model DIR --espeak-library PATH --espeak-data DIR [--threads N]
  --tokens                 no server: each stdin line a JSON string, each stdout line its token ids (needs
                           --sherpa-model, --espeak-library, --espeak-data; --language en-us|en-gb)
  --cost-per-char-ms X     scripted engine: simulated cost per character (default 0.5)
  --cost-per-chunk-ms X    scripted engine: simulated fixed cost per chunk (default 5)
  --load-ms X              scripted engine: simulated variant load time (default 20)
  --busy                   scripted engine: spend the simulated cost spinning on a CPU core instead of sleeping
  --fault-after-chunks N   fault injection: after N chunk events have been written, do --fault
  --fault KIND             crash (exit 137) | hang (stop answering) | garbage (write a non-JSON line, go on)
                           | close (close the event stream and exit 0)
  --split                  no server: read text on stdin, write its chunks as one JSON array line on stdout
                           (the shared sentence rule; lets the Python tests compare the Swift and Python splitters)
  --split-batch            no server: read JSON Lines on stdin, one text per line, and write one line per text:
                           its chunks as a JSON array, or {"error": "..."} for a line it cannot read. A line is a
                           JSON string (the sentence rule) or {"text": ..., "split": ..., "pace": {...}} (a split
                           strategy, adaptive with the given pace). Thousands of texts in one process
                           (differential fuzzing, docs/fuzzing.md)
  --help
"""

struct Options {
    var stdio = false
    var listenPort: Int?
    var engine = "scripted"
    var config = ScriptedEngine.Config()
    var faultAfterChunks: Int?
    var fault: String?
    var split = false
    var sherpa = SherpaOptions()
    var tokens = false
    var splitBatch = false
}

func parseOptions(_ args: [String]) -> Options {
    var o = Options()
    var i = 0
    func value(_ flag: String) -> String {
        i += 1
        guard i < args.count else { fail("\(flag) needs a value") }
        return args[i]
    }
    func number(_ flag: String) -> Double {
        let v = value(flag)
        guard let d = Double(v), d.isFinite, d >= 0 else { fail("\(flag) needs a number >= 0, got '\(v)'") }
        return d
    }
    while i < args.count {
        let a = args[i]
        switch a {
        case "--stdio": o.stdio = true
        case "--listen":
            let v = value(a)
            guard let p = Int(v), (0...65_535).contains(p) else { fail("--listen needs a port 0-65535, got '\(v)'") }
            o.listenPort = p
        case "--engine": o.engine = value(a)
        case "--cost-per-char-ms": o.config.costPerCharMs = number(a)
        case "--cost-per-chunk-ms": o.config.costPerChunkMs = number(a)
        case "--load-ms": o.config.loadMs = number(a)
        case "--busy": o.config.busy = true
        case "--fault-after-chunks":
            let v = value(a)
            guard let n = Int(v), n >= 0 else { fail("--fault-after-chunks needs an integer >= 0, got '\(v)'") }
            o.faultAfterChunks = n
        case "--fault":
            let v = value(a)
            guard ["crash", "hang", "garbage", "close"].contains(v) else {
                fail("--fault must be crash, hang, garbage or close, got '\(v)'")
            }
            o.fault = v
        case "--split": o.split = true
        case "--sherpa-model": o.sherpa.modelDirectory = value(a)
        case "--espeak-library": o.sherpa.espeakLibrary = value(a)
        case "--espeak-data": o.sherpa.espeakData = value(a)
        case "--language": o.sherpa.language = value(a)
        case "--threads": o.sherpa.threads = max(1, Int(number(a)))
        case "--tokens": o.tokens = true
        case "--split-batch": o.splitBatch = true
        case "--help", "-h":
            print(usage)
            exit(0)
        default: fail("unknown argument '\(a)'")
        }
        i += 1
    }
    if o.split && o.splitBatch { fail("give one of --split or --split-batch") }
    if o.split || o.splitBatch || o.tokens { return o }
    guard o.stdio != (o.listenPort != nil) else { fail("give exactly one of --stdio or --listen PORT") }
    guard o.engine == "scripted" || o.engine == "sherpa-onnx" else {
        fail("engine '\(o.engine)' is not in this build; the CLI has 'scripted' (simulated) and 'sherpa-onnx'. The MLX "
            + "engine runs in the iOS/macOS app (ios-harness/App)")
    }
    if (o.fault == nil) != (o.faultAfterChunks == nil) { fail("--fault and --fault-after-chunks go together") }
    return o
}

/// Fault injection for the host's fault tests: after N chunk events went out, misbehave like a broken harness.
final class FaultInjector {
    let afterChunks: Int
    let kind: String
    var chunksWritten = 0
    var fired = false
    let sinkFD: Int32

    init(afterChunks: Int, kind: String, sinkFD: Int32) {
        self.afterChunks = afterChunks; self.kind = kind; self.sinkFD = sinkFD
    }

    func willEmit(_ event: Event) throws {
        if !fired, chunksWritten >= afterChunks, case .chunk = event {
            fired = true
            log("fault injection: \(kind) after \(chunksWritten) chunk event(s)")
            switch kind {
            case "crash":
                exit(137)  // what a jetsam/SIGKILL death looks like to the host
            case "hang":
                while true { sleep(3_600) }  // alive, silent: the host's timeout must fire
            case "garbage":
                _ = "this is not JSON {{{\n".withCString { write(sinkFD, $0, strlen($0)) }
            default:  // "close"
                close(sinkFD)
                exit(0)
            }
        }
        if case .chunk = event { chunksWritten += 1 }
    }
}

func makeServer(_ o: Options, sinkFD: Int32, faults: FaultInjector?) -> HarnessServer {
    let engine = makeEngine(o)
    let server = HarnessServer(runner: BenchmarkRunner(engine: engine), log: log)
    if let f = faults { server.willEmit = { try f.willEmit($0) } }
    return server
}

/// One server and engine for the process's life: a variant stays loaded across connections, like on the phone.
func serveStdio(_ o: Options) -> Int32 {
    signal(SIGPIPE, SIG_IGN)  // a vanished host must give a write error, not kill us
    let faults = o.fault.map { FaultInjector(afterChunks: o.faultAfterChunks ?? 0, kind: $0, sinkFD: 1) }
    let server = makeServer(o, sinkFD: 1, faults: faults)
    let ending = server.serve(source: FileDescriptorLineSource(fd: 0), sink: FileDescriptorLineSink(fd: 1))
    log("session ended: \(ending)")
    if case .fatal = ending { return 1 }
    return 0
}

func serveTCP(_ o: Options, port: Int) -> Int32 {
    signal(SIGPIPE, SIG_IGN)
    let listener: TCPListener
    do { listener = try TCPListener(loopbackPort: UInt16(port)) } catch { fail("\(error)") }
    log("listening on 127.0.0.1:\(listener.port)")
    let service = LoopbackService(listener: listener, runner: BenchmarkRunner(engine: makeEngine(o)),
                                  log: log)
    if let kind = o.fault {
        service.configure = { server, fd in
            let f = FaultInjector(afterChunks: o.faultAfterChunks ?? 0, kind: kind, sinkFD: fd)
            server.willEmit = { try f.willEmit($0) }
        }
    }
    service.run()
    return 0
}

/// `--split-batch`: one output line per input line, in order, so the caller can zip texts with their chunks (or
/// keep the process open and send one text at a time, as the hypothesis differential test does).
/// The JSON reader is the protocol's (lone-surrogate escapes dropped, as in a `run` request), and the splitters are
/// the public `SentenceSplitter.split` and `SplitStrategy.split`, the ones every harness run uses.
func splitBatch() -> Int32 {
    var count = 0
    while let line = readLine(strippingNewline: true) {
        func refusal(_ reason: String) -> JSONValue { .object([("error", .string("line \(count + 1): \(reason)"))]) }
        let answer: JSONValue
        do {
            let value = try JSONValue.parse(line)
            if let text = value.stringValue {
                answer = .array(SentenceSplitter.split(text).map { .string($0) })
            } else if let text = value["text"]?.stringValue, let name = value["split"]?.stringValue {
                guard let strategy = SplitStrategy(rawValue: name) else { throw HarnessError(.badValue, "unknown split '\(name)'") }
                let pace = try value["pace"].map { try Pace(json: $0) } ?? .default
                answer = .array(strategy.split(text, pace: pace).map { .string($0) })
            } else {
                answer = refusal("expected a JSON string or {\"text\", \"split\", \"pace\"} (one text per line)")
            }
        } catch {
            answer = refusal("\(error)")
        }
        print(answer.serialized())
        fflush(stdout)  // one answer per text as it comes: the caller may hold the pipe open and ask one at a time
        count += 1
    }
    log("split \(count) texts")
    return 0
}

let options = parseOptions(Array(CommandLine.arguments.dropFirst()))
if options.split {
    let input = FileHandle.standardInput.readDataToEndOfFile()
    // Invalid UTF-8 is replaced (U+FFFD), as Python's errors="replace" would.
    let chunks = SentenceSplitter.split(String(decoding: input, as: UTF8.self))
    print(JSONValue.array(chunks.map { .string($0) }).serialized())
    exit(0)
}
if options.splitBatch {
    exit(splitBatch())
}
if options.tokens { printTokens(options) }
log(options.engine == "scripted" ? "engine scripted (SIMULATED: its timings and audio are not Kokoro measurements)"
    : "engine \(options.engine)")
if let port = options.listenPort {
    exit(serveTCP(options, port: port))
} else {
    exit(serveStdio(options))
}
