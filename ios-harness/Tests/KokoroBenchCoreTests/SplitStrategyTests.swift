import XCTest
@testable import KokoroBenchCore

final class SplitStrategyTests: XCTestCase {
    func testEverySpecCaseGivesIdenticalChunksUnderEveryStrategy() throws {
        let spec = try SpecFiles.load("split_strategies.json")
        XCTAssertEqual(spec["max_chunk_chars"]?.intValue, SentenceSplitter.maxChunkChars)
        XCTAssertEqual(try XCTUnwrap(spec["strategies"]?.arrayValue).compactMap { $0.stringValue },
                       SplitStrategy.allCases.map(\.rawValue))
        let adaptive = try XCTUnwrap(spec["adaptive"])
        XCTAssertEqual(adaptive["first_clause_max_words"]?.intValue, SplitStrategy.adaptiveFirstClauseMaxWords)
        XCTAssertEqual(adaptive["first_words"]?.intValue, SplitStrategy.adaptiveFirstWords)
        XCTAssertEqual(adaptive["margin_percent"]?.intValue, Pace.marginPercent)
        XCTAssertEqual(try XCTUnwrap(adaptive["probes"]?.arrayValue).compactMap { $0.stringValue }, Pace.probes)
        XCTAssertEqual(try Pace(json: XCTUnwrap(adaptive["default_pace"])), Pace.default)
        let cases = try XCTUnwrap(spec["cases"]?.arrayValue)
        XCTAssertGreaterThanOrEqual(cases.count, 12, "the spec file lost its cases")
        for c in cases {
            let name = c["name"]?.stringValue ?? "?"
            let text = try XCTUnwrap(c["text"]?.stringValue, name)
            for strategy in SplitStrategy.allCases {
                let expected = try XCTUnwrap(c["chunks"]?[strategy.rawValue]?.arrayValue, "\(name) \(strategy)")
                    .compactMap { $0.stringValue }
                XCTAssertEqual(strategy.split(text), expected, "case '\(name)', strategy \(strategy)")
            }
        }
    }

    func testAdaptiveCutsForThePaceItIsGiven() throws {
        let spec = try SpecFiles.load("split_strategies.json")
        let cases = try XCTUnwrap(spec["pace_cases"]?.arrayValue)
        XCTAssertGreaterThanOrEqual(cases.count, 3)
        for c in cases {
            let name = c["name"]?.stringValue ?? "?"
            let pace = try Pace(json: XCTUnwrap(c["pace"], name))
            let expected = try XCTUnwrap(c["chunks"]?.arrayValue, name).compactMap { $0.stringValue }
            XCTAssertEqual(SplitStrategy.adaptive.split(try XCTUnwrap(c["text"]?.stringValue), pace: pace), expected, name)
            XCTAssertEqual(try Pace(json: pace.json), pace, "adaptive_pace round-trips")
        }
    }

    func testThePaceIsTheLineThroughTheTwoProbes() throws {
        let spec = try SpecFiles.load("split_strategies.json")
        for c in try XCTUnwrap(spec["fit_cases"]?.arrayValue) {
            let name = c["name"]?.stringValue ?? "?"
            let probes = try XCTUnwrap(c["probes"]?.arrayValue, name).map { p -> (chars: Int, compute: Double, audio: Double) in
                let v = try XCTUnwrap(p.arrayValue, name)
                return (try XCTUnwrap(v[0].intValue), try XCTUnwrap(v[1].numberValue), try XCTUnwrap(v[2].numberValue))
            }
            XCTAssertEqual(try Pace.fit(probes), try Pace(json: XCTUnwrap(c["pace"], name)), name)
        }
        XCTAssertThrowsError(try Pace.fit([(9, 0.7, 1.4), (9, 0.8, 1.4)]))
    }

    func testSentencesIsTheReferenceRule() throws {
        let spec = try SpecFiles.load("sentence_splits.json")
        for c in try XCTUnwrap(spec["cases"]?.arrayValue) {
            let text = try XCTUnwrap(c["text"]?.stringValue)
            XCTAssertEqual(SplitStrategy.sentences.split(text), SentenceSplitter.split(text))
        }
    }

    func testEveryChunkKeepsTheLimitAndLosesNoWord() {
        // A long text without punctuation: every strategy cuts it at word boundaries, none sends it whole.
        let text = (0..<400).map { "w\($0)" }.joined(separator: " ")
        for strategy in SplitStrategy.allCases {
            let chunks = strategy.split(text)
            XCTAssertGreaterThan(chunks.count, 1, "\(strategy)")
            for c in chunks { XCTAssertLessThanOrEqual(c.unicodeScalars.count, SentenceSplitter.maxChunkChars) }
            XCTAssertEqual(chunks.joined(separator: " "), text, "\(strategy) lost or changed words")
        }
    }

    func testAdaptiveStartsShortAndGrows() {
        let chunks = SplitStrategy.adaptive.split(
            "The harbor was quiet before dawn. Fishing boats rocked gently against the pier, their lanterns still lit.")
        XCTAssertEqual(chunks.first, "The harbor was")
        XCTAssertGreaterThan(chunks[1].count, chunks[0].count)
    }

    func testAnAdaptiveRunMeasuresThePaceOnceBeforeTheClockAndCutsWithIt() throws {
        // SIMULATED engine: it sleeps 5 ms a call and 0.5 ms a character, a device far faster than the host.
        let engine = ScriptedEngine()
        let runner = BenchmarkRunner(engine: engine)
        let text = "Hello, this is a benchmark test of the Kokoro text-to-speech system. We are testing quantization."
        var chunks: [String] = []
        let first = try runner.run(RunRequest(id: "r1", text: text, voice: "af_heart", variant: "bf16", split: .adaptive),
                                   onChunk: { event, _ in chunks.append(event.text) })
        let probes = Pace.probes.map { "synthesize:\($0)" }
        let timed = try XCTUnwrap(engine.calls.firstIndex(of: "willStartTimedRun"))
        XCTAssertEqual(Array(engine.calls[..<timed].suffix(2)), probes, "the probes run after the warm-up, before T1")
        let pace = try XCTUnwrap(first.adaptivePace)
        XCTAssertEqual(chunks, SplitStrategy.adaptive.split(text, pace: pace))
        XCTAssertEqual(chunks.first, "Hello,")
        let second = try runner.run(RunRequest(id: "r2", text: text, voice: "af_heart", variant: "bf16", split: .adaptive))
        XCTAssertEqual(second.adaptivePace, pace)
        XCTAssertEqual(engine.calls.filter { $0 == probes[0] }.count, 1, "one pace per variant, voice and speed")
        XCTAssertNil(try runner.run(RunRequest(id: "r3", text: text, voice: "af_heart", variant: "bf16")).adaptivePace)
    }

    func testTheRunRequestCarriesTheStrategy() throws {
        guard case let .run(r) = try ProtocolCodec.parseRequest(
            #"{"type": "run", "id": "r", "text": "Hi, you.", "voice": "af_heart", "variant": "bf16", "split": "clauses"}"#)
        else { return XCTFail("not a run") }
        XCTAssertEqual(r.split, .clauses)
        guard case let .run(d) = try ProtocolCodec.parseRequest(
            #"{"type": "run", "id": "r", "text": "Hi.", "voice": "af_heart", "variant": "bf16"}"#)
        else { return XCTFail("not a run") }
        XCTAssertEqual(d.split, .sentences, "the default is the reference's rule")
        XCTAssertThrowsError(try ProtocolCodec.parseRequest(
            #"{"type": "run", "id": "r", "text": "Hi.", "voice": "af_heart", "variant": "bf16", "split": "words"}"#)) {
            XCTAssertEqual(($0 as? HarnessError)?.code, .badValue)
        }
        let result = try BenchmarkRunner(engine: ScriptedEngine())
            .run(RunRequest(id: "r", text: "Hello, this is a test.", voice: "af_heart", variant: "bf16", split: .clauses))
        XCTAssertEqual(result.split, "clauses")
        XCTAssertEqual(result.chunkCount, 2)
    }
}
