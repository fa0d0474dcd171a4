import XCTest
@testable import KokoroBenchCore

final class BenchmarkRunnerTests: XCTestCase {
    func fastEngine() -> ScriptedEngine {
        var c = ScriptedEngine.Config()
        c.costPerChunkMs = 2
        c.costPerCharMs = 0.1
        c.loadMs = 5
        return ScriptedEngine(config: c)
    }

    let text = "Hello, this is a benchmark test of the Kokoro text-to-speech system. We are testing different model "
        + "quantization levels for performance and quality. Mr. Smith agrees."

    func testResultInvariants() throws {
        let runner = BenchmarkRunner(engine: fastEngine())
        var chunks: [ChunkEvent] = []
        let r = try runner.run(RunRequest(id: "r1", text: text, voice: "af_heart", variant: "bf16")) { c, audio in
            XCTAssertEqual(c.samples, audio.count)
            chunks.append(c)
        }
        XCTAssertEqual(chunks.map { $0.index }, [0, 1, 2])
        XCTAssertEqual(chunks.map { $0.text }, SentenceSplitter.split(text))
        XCTAssertEqual(r.chunkCount, 3)
        XCTAssertEqual(r.perSentenceInference.count, 3)
        XCTAssertEqual(r.perSentenceInference.reduce(0, +), r.inferenceTime, accuracy: 1e-9)
        XCTAssertEqual(r.timeToFirstAudio, r.perSentenceInference[0])
        XCTAssertEqual(r.timeToFirstAudio, chunks[0].t)
        XCTAssertEqual(r.inferenceTime, chunks[2].t)
        XCTAssertEqual(r.totalTime, r.modelLoadTime + r.inferenceTime, accuracy: 1e-12)
        XCTAssertEqual(r.samples, chunks.map { $0.samples }.reduce(0, +))
        XCTAssertEqual(r.audioDuration, Double(r.samples) / 24_000, accuracy: 1e-12)
        XCTAssertEqual(r.realTimeFactor, r.inferenceTime / r.audioDuration, accuracy: 1e-12)
        XCTAssertEqual(r.samplesPerSec, Double(r.samples) / r.inferenceTime, accuracy: 1e-6)
        XCTAssertTrue(r.perSentenceInference.allSatisfy { $0 > 0 }, "the scripted cost makes every chunk take time")
        XCTAssertTrue(r.cold)
        XCTAssertGreaterThan(r.modelLoadTime, 0.004)
        XCTAssertTrue(r.simulated)
        XCTAssertEqual(r.engine, "scripted")
        XCTAssertTrue(r.modelDescription.hasSuffix("(simulated)"))
        // 240 samples of leading near-silence in the simulated tone.
        let audible = try XCTUnwrap(r.timeToFirstAudible)
        XCTAssertEqual(audible, r.timeToFirstAudio + 240.0 / 24_000, accuracy: 1e-9)
        XCTAssertEqual(r.split, "sentences")
        XCTAssertEqual(r.sampleRate, 24_000)

        // Second run: variant already loaded → 0 and cold=false, as the reference does.
        let again = try runner.run(RunRequest(id: "r2", text: "Hi.", voice: "am_onyx", variant: "bf16", round: 1))
        XCTAssertEqual(again.modelLoadTime, 0)
        XCTAssertFalse(again.cold)
        XCTAssertEqual(again.round, 1)
        XCTAssertEqual(again.totalTime, again.inferenceTime)
    }

    /// Issue 24: the first audible sample is searched after the clock, over the chunks the loop kept, and still
    /// counts across chunks (a silent first chunk, as the Python harness's `time_to_first_audible` over all audio).
    func testFirstAudibleIsFoundAfterTheClockAcrossChunks() {
        var timed = BenchmarkRunner.Timed()
        XCTAssertNil(timed.firstAudible)
        timed.audio = [[0, 0.001, -0.005], [0.002, -0.5, 0.9]]
        XCTAssertEqual(timed.firstAudible, 3 + 1)
        timed.audio = [[0, 0.001], []]
        XCTAssertNil(timed.firstAudible, "no sample reaches the threshold: no audible time, never a made-up one")
    }

    func testWarmupFinishesBeforeTheClockStarts() throws {
        let engine = fastEngine()
        let runner = BenchmarkRunner(engine: engine)
        // A slow warm-up: if it were inside the timed window, TTFA would be at least 0.3 s.
        engine.failOnText = nil
        engine.config.costPerCharMs = 100  // "Hi." = 3 chars → 300 ms; "Go." too, so compare against call order
        let r = try runner.run(RunRequest(id: "r", text: "Yes", voice: "af_heart", variant: "4bit"))
        let calls = engine.calls
        let warm = try XCTUnwrap(calls.firstIndex(of: "synthesize:Hi."))
        let t1 = try XCTUnwrap(calls.firstIndex(of: "willStartTimedRun"))
        let first = try XCTUnwrap(calls.firstIndex(of: "synthesize:Yes"))
        XCTAssertEqual(calls[0], "loadVariant:4bit")
        XCTAssertEqual(calls[1], "loadVoice:af_heart")
        XCTAssertLessThan(warm, t1)
        XCTAssertLessThan(t1, first)
        XCTAssertLessThan(r.timeToFirstAudio, 0.6, "one 3-char chunk costs ~0.3 s; warm-up must not add another")
        XCTAssertGreaterThan(r.timeToFirstAudio, 0.29)

        let noWarm = try runner.run(RunRequest(id: "r", text: "Yes", voice: "af_heart", variant: "4bit", warmup: false))
        XCTAssertFalse(noWarm.warmup)
        XCTAssertEqual(engine.calls.filter { $0 == "synthesize:Hi." }.count, 1, "warmup:false skips the warm-up")
    }

    func testCalibrationRunsAfterTheWarmupAndBeforeTheClockStarts() throws {
        let engine = fastEngine()
        var seenAtCalibration: [[String]] = []
        // The fake records what the engine had done when it ran, so the order is checked without wall-clock bounds.
        let runner = BenchmarkRunner(engine: engine, calibrate: {
            seenAtCalibration.append(engine.calls)
            return 0.25
        })
        let r = try runner.run(RunRequest(id: "r", text: "Yes. No.", voice: "af_heart", variant: "4bit"))
        XCTAssertEqual(r.calibrationTime, 0.25, "the result carries what the calibration measured")
        XCTAssertEqual(r.calibrationTimeAfter, 0.25)
        XCTAssertEqual(seenAtCalibration, [["loadVariant:4bit", "loadVoice:af_heart", "synthesize:Hi."],
                                           ["loadVariant:4bit", "loadVoice:af_heart", "synthesize:Hi.",
                                            "willStartTimedRun", "synthesize:Yes.", "synthesize:No."]],
                       "after the finished warm-up, before willStartTimedRun (T1); again after the last chunk")
        XCTAssertEqual(engine.calls.suffix(3), ["willStartTimedRun", "synthesize:Yes.", "synthesize:No."])

        // Without a warm-up: right after the voice is loaded, still before T1.
        seenAtCalibration = []
        let noWarm = try runner.run(RunRequest(id: "r2", text: "Yes.", voice: "am_onyx", variant: "4bit", warmup: false,
                                               round: 1))
        XCTAssertEqual(noWarm.calibrationTime, 0.25)
        XCTAssertEqual(seenAtCalibration.count, 2)
        XCTAssertEqual(seenAtCalibration.first?.last, "loadVoice:am_onyx")
        XCTAssertEqual(seenAtCalibration.last?.last, "synthesize:Yes.")
        XCTAssertEqual(engine.calls.suffix(3), ["loadVoice:am_onyx", "willStartTimedRun", "synthesize:Yes."])
    }

    func testTheDefaultCalibrationIsMeasuredInEveryRun() throws {
        let runner = BenchmarkRunner(engine: fastEngine())
        let a = try runner.run(RunRequest(id: "a", text: "Hi.", voice: "af_heart", variant: "bf16"))
        let b = try runner.run(RunRequest(id: "b", text: "Hi.", voice: "af_heart", variant: "bf16", warmup: false))
        XCTAssertGreaterThan(try XCTUnwrap(a.calibrationTime), 0)
        XCTAssertGreaterThan(try XCTUnwrap(b.calibrationTime), 0)
        // The workload is fixed: the same steps give the same number, whatever the engine or text.
        XCTAssertEqual(Calibration.workload(iterations: 1_000), Calibration.workload(iterations: 1_000))
        XCTAssertEqual(Calibration.workload(iterations: Calibration.iterations), 1, accuracy: 0.01)
    }

    func testErrorsInTheChunkLoopPropagate() {
        let engine = fastEngine()
        let runner = BenchmarkRunner(engine: engine)
        struct Boom: Error {}
        engine.failOnText = ("Second one.", Boom())
        var seen: [Int] = []
        XCTAssertThrowsError(try runner.run(RunRequest(id: "r", text: "First one. Second one. Third one.",
                                                       voice: "af_heart", variant: "bf16")) { c, _ in seen.append(c.index) }) {
            XCTAssertEqual(($0 as? HarnessError)?.code, .engineError)
            XCTAssertTrue(($0 as? HarnessError)?.message.contains("chunk 1") ?? false)
        }
        XCTAssertEqual(seen, [0], "the chunk after the failure is never synthesized")
        XCTAssertFalse(engine.calls.contains("synthesize:Third one."))

        // A typed engine error keeps its code.
        engine.failOnText = ("Second one.", HarnessError(.textTooLong, "too many tokens"))
        XCTAssertThrowsError(try runner.run(RunRequest(id: "r", text: "First one. Second one.", voice: "af_heart",
                                                       variant: "bf16"))) {
            XCTAssertEqual(($0 as? HarnessError)?.code, .textTooLong)
        }
        // An error thrown by the chunk callback (e.g. the host went away) propagates too.
        engine.failOnText = nil
        XCTAssertThrowsError(try runner.run(RunRequest(id: "r", text: "A. B.", voice: "af_heart", variant: "bf16")) { _, _ in
            throw Boom()
        }) { XCTAssertTrue($0 is Boom) }
    }

    func testEmptyTextAndBadNamesAreTypedErrors() {
        let engine = fastEngine()
        let runner = BenchmarkRunner(engine: engine)
        func code(_ text: String, voice: String = "af_heart", variant: String = "bf16") -> ErrorCode? {
            do { _ = try runner.run(RunRequest(id: "r", text: text, voice: voice, variant: variant)); return nil } catch {
                return (error as? HarnessError)?.code
            }
        }
        for t in ["", "   ", "\n\n\t", "\u{0}\u{1}\u{7}", "\u{1B}[0m\u{200B}\u{FEFF}", "\u{E000}"] {
            XCTAssertEqual(code(t), .emptyText, "text \(t.unicodeScalars.map { $0.value })")
        }
        XCTAssertEqual(code("Hi.", voice: "af_nope"), .unknownVoice)
        XCTAssertEqual(code("Hi.", variant: "fp64"), .unknownVariant)
        XCTAssertEqual(engine.calls, [], "bad requests cost no model load")
        engine.audioOverride = { _ in [] }
        XCTAssertEqual(code("Hi there."), .noAudio)
        XCTAssertThrowsError(try runner.run(RunRequest(id: "r", text: "Hi.", voice: "af_heart", variant: "bf16", speed: 3)))
    }

    func testVariantsRunSequentiallyOneLoadedAtATime() throws {
        let engine = fastEngine()
        let runner = BenchmarkRunner(engine: engine)
        _ = try runner.load("6bit")  // something already resident gets unloaded first
        let results = try VariantsRunner(runner: runner).runAll(RunRequest(id: "all", text: "Hi there.", voice: "jf_alpha",
                                                                            variant: "ignored"))
        XCTAssertEqual(results.map { $0.variant }, ["bf16", "8bit", "6bit", "4bit"])
        XCTAssertTrue(results.allSatisfy { $0.cold })
        let loadsAndUnloads = engine.calls.filter { $0.hasPrefix("loadVariant") || $0.hasPrefix("unloadVariant") }
        XCTAssertEqual(loadsAndUnloads, ["loadVariant:6bit", "unloadVariant:6bit",
                                         "loadVariant:bf16", "unloadVariant:bf16", "loadVariant:8bit", "unloadVariant:8bit",
                                         "loadVariant:6bit", "unloadVariant:6bit", "loadVariant:4bit", "unloadVariant:4bit"])
        XCTAssertTrue(engine.loaded.isEmpty)
        XCTAssertNil(runner.loadedVariant)
    }

    func testLoadingAnotherVariantUnloadsTheFirst() throws {
        let engine = fastEngine()
        let runner = BenchmarkRunner(engine: engine)
        XCTAssertTrue(try runner.load("bf16").cold)
        let second = try runner.load("bf16")
        XCTAssertFalse(second.cold)
        XCTAssertEqual(second.modelLoadTime, 0)
        _ = try runner.load("8bit")
        XCTAssertEqual(engine.loaded, ["8bit"])
    }

    func testDeviceStateProbeFillsThermalKeys() throws {
        final class Probe: DeviceStateProbe {
            var n = 0
            func thermalState() -> String? { n += 1; return n == 1 ? "nominal" : "fair" }
            func extras(suffix: String) -> [(String, JSONValue)] { [("low_power_mode_\(suffix)", .bool(false))] }
        }
        let probe = Probe()
        let runner = BenchmarkRunner(engine: fastEngine(), deviceState: probe)
        let r = try runner.run(RunRequest(id: "r", text: "Hi.", voice: "af_heart", variant: "bf16"))
        XCTAssertEqual(r.thermalStateBefore, "nominal")
        XCTAssertEqual(r.thermalStateAfter, "fair")
        XCTAssertEqual(r.jsonValue.objectKeys?.suffix(4), ["low_power_mode_before", "low_power_mode_after",
                                                          "build_configuration", "excluded_from_gates"])
    }
}
