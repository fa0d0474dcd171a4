import XCTest
@testable import KokoroBenchCore

final class SentenceSplitterTests: XCTestCase {
    func testEverySpecCaseGivesIdenticalChunks() throws {
        let spec = try SpecFiles.load("sentence_splits.json")
        XCTAssertEqual(spec["max_chunk_chars"]?.intValue, SentenceSplitter.maxChunkChars)
        let cases = try XCTUnwrap(spec["cases"]?.arrayValue)
        XCTAssertGreaterThanOrEqual(cases.count, 20, "the spec file lost its cases")
        for c in cases {
            let name = c["name"]?.stringValue ?? "?"
            let text = try XCTUnwrap(c["text"]?.stringValue, name)
            let expected = try XCTUnwrap(c["chunks"]?.arrayValue, name).compactMap { $0.stringValue }
            XCTAssertEqual(SentenceSplitter.split(text), expected, "case '\(name)'")
        }
    }

    func testChunksNeverExceedTheLimitInCodePoints() {
        // "é" as e + combining accent: 2 code points, 1 Character. The limit counts code points like Python.
        let word = "e\u{301}" + String(repeating: "a", count: 8)
        let text = Array(repeating: word, count: 200).joined(separator: " ")
        let chunks = SentenceSplitter.split(text)
        XCTAssertGreaterThan(chunks.count, 1)
        for c in chunks { XCTAssertLessThanOrEqual(c.unicodeScalars.count, SentenceSplitter.maxChunkChars) }
        XCTAssertEqual(chunks.joined(separator: " "), text)
    }

    func testCleaningDropsControlsFormatAndPrivateUseButKeepsWhitespace() {
        XCTAssertEqual(SentenceSplitter.clean("a\u{0}b\u{200B}c\u{E000}d\t\ne"), "abcd\t\ne")
        XCTAssertEqual(SentenceSplitter.clean("\u{1B}[1;31mred\u{1B}[0m"), "red")
        // An unterminated escape is not a sequence: ESC goes (Cc), the rest stays.
        XCTAssertEqual(SentenceSplitter.clean("\u{1B}[12"), "[12")
    }

    func testUnicodeWhitespaceSplitsLikePython() {
        // U+3000 (ideographic space) and U+00A0 are \s in Python; the split must see them too.
        XCTAssertEqual(SentenceSplitter.split("One.\u{3000}Two.\u{A0}Three."), ["One.", "Two.", "Three."])
        // Non-ASCII capitals are not [A-Z]: no split, as in Python.
        XCTAssertEqual(SentenceSplitter.split("One. Élan."), ["One. Élan."])
    }
}
