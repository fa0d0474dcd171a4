import KokoroBenchCore
@testable import KokoroPhonemes
import XCTest

/// The Swift phonemes must be, token for token, what the Python harness sends the model (spec/phoneme_tokens.json,
/// which tests/harness/test_sherpa.py checks against the host engine).
final class PhonemeTokenTests: XCTestCase {
    func testEverySpecCaseGivesThePythonTokens() throws {
        let phonemizer = try Fixtures.phonemizer()
        guard case .object(let root) = try Fixtures.spec("phoneme_tokens.json"),
              case .array(let cases)? = root.first(where: { $0.0 == "cases" })?.1 else {
            return XCTFail("spec/phoneme_tokens.json has no cases")
        }
        XCTAssertGreaterThan(cases.count, 20)
        for item in cases {
            guard case .object(let fields) = item else { return XCTFail("a case is not an object") }
            func field(_ key: String) -> JSONValue? { fields.first(where: { $0.0 == key })?.1 }
            guard case .string(let name)? = field("name"), case .string(let text)? = field("text"),
                  case .string(let language)? = field("language"), case .string(let phonemes)? = field("phonemes"),
                  case .array(let tokens)? = field("tokens") else { return XCTFail("malformed case \(item)") }
            let expected = tokens.compactMap { value -> Int? in if case .int(let i) = value { return i }; return nil }
            XCTAssertEqual(try phonemizer.phonemes(text, language: language), phonemes, "\(name) (\(language))")
            XCTAssertEqual(try phonemizer.tokens(text, language: language), expected, "\(name) (\(language))")
        }
    }

    func testTheVoiceDecidesTheLanguageAsOnTheHost() {
        XCTAssertEqual(KokoroPhonemizer.language(forVoice: "bf_emma"), "en-gb")
        XCTAssertEqual(KokoroPhonemizer.language(forVoice: "jf_alpha"), "en-us")
        XCTAssertEqual(KokoroPhonemizer.language(forVoice: "af_heart"), "en-us")
    }
}

/// phonemizer's own examples and quirks (phonemizer/punctuation.py), without espeak-ng.
final class PunctuationTests: XCTestCase {
    private func t(_ s: String) -> PyText { PythonText.text(s) }

    func testPreserveSplitsAtMarksAsTheDocstringSays() {
        // punctuation.py: 'hello, my world!' -> ['hello', 'my world'], [',', '!']
        let (chunks, marks) = Punctuation.preserve([t("hello, my world!")])
        XCTAssertEqual(chunks, [t("hello"), t("my world")])
        XCTAssertEqual(marks.map { PythonText.string($0.mark) }, [", ", "!"])
        XCTAssertEqual(marks.map(\.position), [.inside, .end])
    }

    func testRestoreIsTheReverse() {
        let (chunks, marks) = Punctuation.preserve([t("hello, my world!")])
        XCTAssertEqual(Punctuation.restore(chunks.map { $0 + [" "] }, marks), [t("hello, my world! ")])
    }

    func testDecimalSeparatorsBetweenDigitsAreNoMarks() {
        XCTAssertEqual(Punctuation.markRuns(t("3.14 and 1,000")), [])
        XCTAssertEqual(Punctuation.markRuns(t("3. 14")), [1..<3])
        XCTAssertEqual(Punctuation.markRuns(t("a .b")), [1..<3])  // leading whitespace belongs to the match
    }

    func testTheLineIsCutAtTheFirstOccurrenceOfTheMarkText() {
        // "1.5 is 2." matches only the final '.', but line.split('.') cuts after "1" first.
        let (chunks, marks) = Punctuation.preserve([t("1.5 is 2.")])
        XCTAssertEqual(chunks, [t("1"), t("5 is 2.")])
        XCTAssertEqual(marks, [Punctuation.MarkIndex(index: 0, mark: t("."), position: .end)])
    }

    func testALineOfMarksOnlyIsAlone() {
        let (chunks, marks) = Punctuation.preserve([t(" ?! ")])
        XCTAssertEqual(chunks, [])
        XCTAssertEqual(marks.map(\.position), [.alone])
    }

    func testPythonWhitespaceIsNotSwiftWhitespace() {
        XCTAssertEqual(PythonText.strip(t("\u{1C}a\u{85}")), t("a"))
        XCTAssertEqual(PythonText.strip(t("\u{200B}a")), t("\u{200B}a"))  // zero-width space: not str.isspace()
    }
}
