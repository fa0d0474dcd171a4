import XCTest
@testable import KokoroBenchCore

final class PlaybackTests: XCTestCase {
    func testEverySpecCaseReplaysLikeTheSpecSays() throws {
        let spec = try SpecFiles.load("playback_examples.json")
        let cases = try XCTUnwrap(spec["cases"]?.arrayValue)
        XCTAssertGreaterThanOrEqual(cases.count, 7, "the spec file lost its cases")
        for c in cases {
            let name = c["name"]?.stringValue ?? "?"
            let times = try XCTUnwrap(c["times"]?.arrayValue, name).compactMap { $0.numberValue }
            let samples = try XCTUnwrap(c["samples"]?.arrayValue, name).compactMap { $0.intValue }
            let rate = try XCTUnwrap(c["sample_rate"]?.intValue, name)
            let p = try XCTUnwrap(Playback.replay(times: times, samples: samples, sampleRate: rate), name)
            let starts = try XCTUnwrap(c["starts"]?.arrayValue, name).compactMap { $0.numberValue }
            XCTAssertEqual(p.starts.count, starts.count, name)
            for (a, b) in zip(p.starts, starts) { XCTAssertEqual(a, b, accuracy: 1e-9, name) }
            XCTAssertEqual(p.stallTime, try XCTUnwrap(c["playback_stall_time"]?.numberValue), accuracy: 1e-9, name)
            XCTAssertEqual(p.stallCount, try XCTUnwrap(c["stall_count"]?.intValue), name)
            XCTAssertEqual(p.gaplessStartTime, try XCTUnwrap(c["gapless_start_time"]?.numberValue), accuracy: 1e-9, name)
        }
    }

    func testStartingAtTheGaplessStartNeverStalls() throws {
        // The definition's promise: shift every chunk's start to gapless start + audio before it; none is early.
        let times = [0.1, 0.5, 2.0, 2.2]
        let samples = [4800, 24000, 12000, 12000]
        let p = try XCTUnwrap(Playback.replay(times: times, samples: samples, sampleRate: 24_000))
        var audioBefore = 0.0
        for (t, n) in zip(times, samples) {
            XCTAssertLessThanOrEqual(t, p.gaplessStartTime + audioBefore + 1e-12)
            audioBefore += Double(n) / 24_000
        }
    }

    func testNothingToReplayIsNil() {
        XCTAssertNil(Playback.replay(times: [], samples: [], sampleRate: 24_000))
        XCTAssertNil(Playback.replay(times: [0.1], samples: [1, 2], sampleRate: 24_000))
    }
}

final class RunnerPlaybackKeysTests: XCTestCase {
    final class FixedStarts: PlayedChunkStarts {
        var asked: [(String, Int)] = []
        func playedChunkStarts(runID: String, chunkCount: Int) -> [Double]? {
            asked.append((runID, chunkCount))
            return (0..<chunkCount).map { Double($0) + 0.5 }
        }
    }

    func testARunCarriesTheReplayedKeysOfItsOwnChunks() throws {
        let runner = BenchmarkRunner(engine: ScriptedEngine())
        let r = try runner.run(RunRequest(id: "r", text: "Hello there. How are you? Fine.", voice: "af_heart", variant: "bf16"))
        XCTAssertEqual(r.chunkSamples.count, r.chunkCount)
        XCTAssertEqual(r.chunkSamples.reduce(0, +), r.samples)
        var times: [Double] = []
        for d in r.perSentenceInference { times.append((times.last ?? 0) + d) }
        let p = try XCTUnwrap(Playback.replay(times: times, samples: r.chunkSamples, sampleRate: r.sampleRate))
        XCTAssertEqual(r.playbackStallTime, p.stallTime, accuracy: 1e-9)
        XCTAssertEqual(r.stallCount, p.stallCount)
        XCTAssertEqual(r.gaplessStartTime, p.gaplessStartTime, accuracy: 1e-9)
        XCTAssertGreaterThanOrEqual(r.gaplessStartTime, r.timeToFirstAudio - 1e-12)
        XCTAssertNil(r.playedChunkStarts, "no real player, no played starts")
        let back = try BenchmarkResult(json: r.jsonValue)
        XCTAssertEqual(back.chunkSamples, r.chunkSamples)
        XCTAssertEqual(back.gaplessStartTime, r.gaplessStartTime)
    }

    func testColdTTFAIsCountedFromTheLoadOnlyWhenTheRoundLoaded() throws {
        let runner = BenchmarkRunner(engine: ScriptedEngine(), calibrate: { 0.0 })
        let first = try runner.run(RunRequest(id: "a", text: "Hi there.", voice: "af_heart", variant: "bf16"))
        XCTAssertTrue(first.cold)
        let cold = try XCTUnwrap(first.coldTimeToFirstAudio)
        // Load, voice and the warm-up come before T1, so cold TTFA is at least load + TTFA.
        XCTAssertGreaterThanOrEqual(cold, first.modelLoadTime + first.timeToFirstAudio)
        let second = try runner.run(RunRequest(id: "b", text: "Hi there.", voice: "af_heart", variant: "bf16"))
        XCTAssertFalse(second.cold)
        XCTAssertNil(second.coldTimeToFirstAudio)
        XCTAssertEqual(second.jsonValue["cold_time_to_first_audio"], .null)
    }

    func testARealPlayersStartsAreRecordedBesideTheReplay() throws {
        let player = FixedStarts()
        let runner = BenchmarkRunner(engine: ScriptedEngine())
        runner.player = player
        let r = try runner.run(RunRequest(id: "p", text: "One. Two. Three.", voice: "af_heart", variant: "bf16"))
        XCTAssertEqual(player.asked.map(\.0), ["p"])
        XCTAssertEqual(player.asked.map(\.1), [3])
        XCTAssertEqual(r.playedChunkStarts, [0.5, 1.5, 2.5])
        XCTAssertEqual(r.jsonValue["played_chunk_starts"], .array([.double(0.5), .double(1.5), .double(2.5)]))
    }
}

final class ServerChunkAudioTests: XCTestCase {
    func testTheServerHandsEachChunksEventAndSamplesToAPlayer() throws {
        let server = HarnessServer(runner: BenchmarkRunner(engine: ScriptedEngine()))
        var handed: [(ChunkEvent, Int)] = []
        server.onChunkAudio = { chunk, samples in handed.append((chunk, samples.count)) }
        let sink = ArraySink()
        _ = server.serve(source: ArraySource([
            #"{"type": "run", "id": "r9", "text": "One. Two. Three.", "voice": "af_heart", "variant": "bf16"}"#]),
            sink: sink)
        XCTAssertEqual(handed.map(\.0.id), ["r9", "r9", "r9"])
        XCTAssertEqual(handed.map(\.0.index), [0, 1, 2])
        XCTAssertEqual(handed.map(\.0.samples), handed.map(\.1), "the event's sample count is the samples handed")
        XCTAssertEqual(handed.map(\.0.t), handed.map(\.0.t).sorted())
    }
}
