import Foundation
import XCTest
@testable import KokoroBenchCore

final class RoundConditionsTests: XCTestCase {
    final class Probe: DeviceStateProbe {
        var thermal: String
        var lowPower: Bool
        var foregroundAfter: Bool
        init(thermal: String = "nominal", lowPower: Bool = false, foregroundAfter: Bool = true) {
            self.thermal = thermal; self.lowPower = lowPower; self.foregroundAfter = foregroundAfter
        }
        func thermalState() -> String? { thermal }
        func extras(suffix: String) -> [(String, JSONValue)] {
            [("low_power_mode_\(suffix)", .bool(lowPower)), ("battery_state_\(suffix)", .string("charging")),
             ("foreground_\(suffix)", .bool(suffix == "before" ? true : foregroundAfter))]
        }
    }

    func run(_ probe: Probe) throws -> JSONValue {
        let runner = BenchmarkRunner(engine: ScriptedEngine(), deviceState: probe, calibrate: { 0 })
        let r = try runner.run(RunRequest(id: "r", text: "Hi there.", voice: "af_heart", variant: "bf16", warmup: false))
        return r.jsonValue
    }

    func testEveryRoundSaysHowTheHarnessWasBuiltAndWhyItIsLeftOutOfGates() throws {
        let values = try run(Probe())
        // `swift test` builds debug: this very harness's rounds must never gate.
        XCTAssertEqual(values["build_configuration"], .string(RoundConditions.buildConfiguration))
        #if DEBUG
        XCTAssertEqual(values["build_configuration"], .string("debug"))
        XCTAssertEqual(values["excluded_from_gates"], .array([.string("debug_build")]))
        #endif
        XCTAssertEqual(values["battery_state_before"], .string("charging"))
        XCTAssertEqual(values["foreground_after"], .bool(true))
    }

    func testHotLowPowerAndBackgroundRoundsAreFlaggedNotDropped() throws {
        XCTAssertEqual(RoundConditions.exclusions(buildConfiguration: "release", thermalStateBefore: "fair", extras: []), [])
        XCTAssertEqual(RoundConditions.exclusions(buildConfiguration: "release", thermalStateBefore: "serious",
                                                  extras: [("low_power_mode_before", .bool(true)),
                                                           ("foreground_after", .bool(false))]),
                       ["thermal_state_before_serious", "low_power_mode", "not_foreground"])
        let values = try run(Probe(thermal: "critical", lowPower: true, foregroundAfter: false))
        guard case .array(let reasons)? = values["excluded_from_gates"] else { return XCTFail("no excluded_from_gates") }
        XCTAssertTrue(reasons.contains(.string("thermal_state_before_critical")))
        XCTAssertTrue(reasons.contains(.string("low_power_mode")))
        XCTAssertTrue(reasons.contains(.string("not_foreground")))
        XCTAssertNotNil(values["time_to_first_audio"], "the round is kept, with its numbers")
    }

    func testMLXCacheLimitIsBoundedByThePhonesMemory() {
        XCTAssertEqual(MLXCachePolicy.cacheLimitBytes(physicalMemory: 6 << 30), 1 << 30)
        XCTAssertEqual(MLXCachePolicy.cacheLimitBytes(physicalMemory: 2 << 30), 512 << 20)
        XCTAssertEqual(MLXCachePolicy.cacheLimitBytes(physicalMemory: 512 << 20), 256 << 20)
    }
}

final class ServedResultsLogTests: XCTestCase {
    func testEachHostConnectionGetsItsOwnFileEvenInTheSameSecond() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("served-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let runner = BenchmarkRunner(engine: ScriptedEngine(), calibrate: { 0 })
        let result = try runner.run(RunRequest(id: "r", text: "Hi there.", voice: "af_heart", variant: "bf16"))
        let log = ServedResultsLog(directory: dir)
        let now = Date()
        log.startConnection(at: now)
        try log.append(result)
        try log.append(result)
        let first = try XCTUnwrap(log.currentFile)
        log.startConnection(at: now)  // a second pytest run against the same running app
        try log.append(result)
        let second = try XCTUnwrap(log.currentFile)
        XCTAssertNotEqual(first, second)
        func count(_ url: URL) throws -> Int {
            (try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [Any])?.count ?? -1
        }
        XCTAssertEqual(try count(first), 2)
        XCTAssertEqual(try count(second), 1, "the second run's file holds only its own results")
    }
}

final class GateAndPlayerTests: XCTestCase {
    func testWorkThatFailsAfterTheGateClosedIsAnInterruptionNotAnEngineError() throws {
        struct GPURefused: Error {}
        let gate = InterruptionGate()
        XCTAssertThrowsError(try gate.run { () -> Int in throw GPURefused() }) { error in
            XCTAssertFalse(error is HarnessError, "an open gate passes the engine's own error on")
        }
        XCTAssertThrowsError(try gate.run { () -> Int in
            gate.closeWithoutWaiting(because: "the app went to the background")
            throw GPURefused()
        }) { error in
            XCTAssertEqual((error as? HarnessError)?.code, .interrupted)
            XCTAssertTrue((error as? HarnessError)?.message.contains("the app went to the background") == true)
        }
    }

    func testThePlayerStartsBeforeTheClockNotOnTheFirstChunk() throws {
        final class Player: PlayedChunkStarts {
            var events: [String] = []
            func prepareForTimedRun() { events.append("prepare") }
            func playedChunkStarts(runID: String, chunkCount: Int) -> [Double]? { nil }
        }
        final class Engine: TTSEngine {
            let inner = ScriptedEngine()
            weak var player: Player?
            var info: EngineInfo { inner.info }
            func loadVariant(_ variant: String) throws -> VariantInfo { try inner.loadVariant(variant) }
            func unloadVariant(_ variant: String) { inner.unloadVariant(variant) }
            func loadVoice(_ voice: String, variant: String) throws { try inner.loadVoice(voice, variant: variant) }
            func synthesize(_ text: String, voice: String, speed: Double) throws -> [Float] {
                player?.events.append(text == BenchmarkRunner.warmupText ? "warmup" : "chunk")
                return try inner.synthesize(text, voice: voice, speed: speed)
            }
            func willStartTimedRun() { player?.events.append("T1") }
        }
        let player = Player()
        let engine = Engine()
        engine.player = player
        let runner = BenchmarkRunner(engine: engine, calibrate: { 0 })
        runner.player = player
        _ = try runner.run(RunRequest(id: "r", text: "One. Two.", voice: "af_heart", variant: "bf16"))
        XCTAssertEqual(player.events, ["warmup", "prepare", "T1", "chunk", "chunk"])
    }
}

final class RunAudioTests: XCTestCase {
    func testRunAllVariantsGivesEachVariantItsOwnAudio() throws {
        let runner = BenchmarkRunner(engine: ScriptedEngine(), calibrate: { 0 })
        let audio = RunAudio()
        let results = try VariantsRunner(runner: runner).runAll(
            RunRequest(id: "ui-1", text: "One. Two.", voice: "af_heart", variant: "bf16"),
            onChunk: { chunk, samples in audio.append(chunk, samples) })
        let pairs = audio.pairs(with: results)
        XCTAssertEqual(pairs.map { $0.result.variant }, ["bf16", "8bit", "6bit", "4bit"])
        for pair in pairs {
            XCTAssertEqual(pair.audio.samples.count, pair.result.samples, "\(pair.result.variant)'s own samples only")
        }
    }
}
