import Foundation

/// Text to Kokoro token ids exactly as the Python harness makes them (pytest_kokoro's onnx engine: kokoro-onnx
/// 0.6.1's `Tokenizer.phonemize(text, lang)` then `tokenize`), on the same espeak-ng library:
///
///   kokoro_onnx/tokenizer.py  text.strip(); phonemizer.phonemize(text, lang, preserve_punctuation=True,
///                             with_stress=True); keep the code points in the vocabulary; strip()
///   phonemizer/phonemize.py   `_phonemize`: lines = text.strip("\n").split("\n"), each .strip("\n"), blank ones
///                             dropped; backend.phonemize(lines); "\n".join(result)
///   phonemizer/backend/base.py   punctuation preserve -> `_phonemize_aux` per chunk -> punctuation restore
///   phonemizer/backend/espeak/espeak.py  `_postprocess_line` (below), language switches kept ('keep-flags'),
///                             word-count mismatches ignored (they only log)
public final class KokoroPhonemizer {
    public let espeak: Espeak
    /// Phoneme code point -> token id (tokens.txt of the sherpa model folder, kokoro-onnx's vocabulary).
    public let vocabulary: [Unicode.Scalar: Int]

    public init(espeak: Espeak, vocabulary: [Unicode.Scalar: Int]) {
        self.espeak = espeak
        self.vocabulary = vocabulary
    }

    /// The host's rule (pytest_kokoro onnx engine `tokens`): British voices (b*) read en-gb, all others en-us.
    public static func language(forVoice voice: String) -> String { voice.hasPrefix("b") ? "en-gb" : "en-us" }

    /// The phonemes the model gets (already filtered to the vocabulary and stripped).
    public func phonemes(_ text: String, language: String) throws -> String {
        try espeak.setLanguage(language)
        let raw = phonemize(PythonText.strip(PythonText.text(text)))
        return PythonText.string(PythonText.strip(raw.filter { vocabulary[$0] != nil }))
    }

    public func tokens(_ text: String, language: String) throws -> [Int] {
        try phonemes(text, language: language).unicodeScalars.map { vocabulary[$0]! }
    }

    /// phonemizer's `phonemize(text)` for one string: lines, punctuation kept, "\n"-joined.
    func phonemize(_ text: PyText) -> PyText {
        let newline: Set<Unicode.Scalar> = ["\n"]
        let lines = PythonText.split(PythonText.strip(text, chars: newline), separator: ["\n"])
            .map { PythonText.strip($0, chars: newline) }
            .filter { !PythonText.strip($0).isEmpty }
        guard !lines.isEmpty else { return [] }
        let (chunks, marks) = Punctuation.preserve(lines)
        let phonemized = chunks.map { postprocess(PythonText.text(espeak.textToPhonemes(PythonText.string($0)))) }
        let restored = Punctuation.restore(phonemized, marks)
        var out: PyText = []
        for (i, line) in restored.enumerated() { out += (i == 0 ? [] : ["\n"]) + line }
        return out
    }

    /// `EspeakBackend._postprocess_line` with stress kept, no tie, the default separator (phone '', word ' '),
    /// strip=False: every word gets '_' appended and then every '_' becomes the phone separator '' (removed).
    func postprocess(_ raw: PyText) -> PyText {
        var line = PythonText.strip(raw)
        line = PythonText.replace(line, ["\n"], [" "])
        line = PythonText.replace(line, [" ", " "], [" "])
        line = PythonText.squeeze(line, "_")
        line = PythonText.replace(line, ["_", " "], [" "])
        guard !line.isEmpty else { return [] }
        var out: PyText = []
        for word in PythonText.split(line, separator: [" "]) {
            out += PythonText.strip(word).filter { $0 != "_" } + [" "]
        }
        return out
    }

    /// tokens.txt: one "symbol id" per line; the symbol may be a space (the line " 16").
    public static func readVocabulary(_ url: URL) throws -> [Unicode.Scalar: Int] {
        let text = try String(contentsOf: url, encoding: .utf8)
        var vocabulary: [Unicode.Scalar: Int] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let scalars = Array(line.unicodeScalars)
            guard scalars.count >= 3, scalars[1] == " ", let id = Int(String(String.UnicodeScalarView(scalars[2...])))
            else { throw Espeak.LoadError(description: "\(url.path): bad line '\(line)' (want 'symbol id')") }
            vocabulary[scalars[0]] = id
        }
        return vocabulary
    }
}
