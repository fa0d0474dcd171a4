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
        XCTAssertEqual(adaptive["audio_ms_per_chunk"]?.intValue, SplitStrategy.adaptiveAudioMsPerChunk)
        XCTAssertEqual(adaptive["audio_ms_per_char"]?.intValue, SplitStrategy.adaptiveAudioMsPerChar)
        XCTAssertEqual(adaptive["compute_ms_per_chunk"]?.intValue, SplitStrategy.adaptiveComputeMsPerChunk)
        XCTAssertEqual(adaptive["compute_ms_per_char"]?.intValue, SplitStrategy.adaptiveComputeMsPerChar)
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
