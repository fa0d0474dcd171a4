/// The one text-cleaning and sentence-splitting rule (docs/protocol.md "Text cleaning and sentence splitting").
///
/// This is the Swift twin of pytest_kokoro/sentences.py; both are checked against spec/sentence_splits.json, so a
/// text gives the same chunks on every device. It scans unicode scalars by hand instead of using
/// NSRegularExpression because ICU's `\s` and Python's `\s` differ at the edges, and lengths are counted in code
/// points (Python `len`), not Characters: "e" + combining accent is 2, as in Python.
public enum SentenceSplitter {
    public static let maxChunkChars = 350
    /// The `split` key of a result: which splitting strategy made the chunks.
    public static let splitName = "sentences"

    static let terminators: Set<Unicode.Scalar> = [".", "!", "?", "…", "。", "！", "？"]
    static let openers: Set<Unicode.Scalar> = ["“", "\"", "'", "(", "["]
    static let abbreviations: Set<String> = ["Mr.", "Mrs.", "Ms.", "Dr.", "Prof.", "Sr.", "Jr.", "St."]
    static let clauseMarks: Set<Unicode.Scalar> = [",", ";", ":", "—", "–"]
    static let keptControls: Set<Unicode.Scalar> = ["\t", "\n", "\u{0B}", "\u{0C}", "\r"]

    /// Python's `str.isspace()` (and `\s` in a str regex): exactly these code points.
    static func isSpace(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    static func isASCIIUpper(_ s: Unicode.Scalar) -> Bool { s.value >= 0x41 && s.value <= 0x5A }

    /// The text without ANSI escape sequences and without Cc (except whitespace controls), Cf, Cs and Co code
    /// points: espeak-ng drops the words after a NUL and reads escape sequences aloud.
    public static func clean(_ text: String) -> String {
        let input = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        while i < input.count {
            // ANSI escape: ESC [ [0-?]* [ -/]* [@-~]  (Python: \x1b\[[0-?]*[ -/]*[@-~])
            if input[i] == "\u{1B}", i + 1 < input.count, input[i + 1] == "[" {
                var j = i + 2
                while j < input.count, (0x30...0x3F).contains(input[j].value) { j += 1 }
                while j < input.count, (0x20...0x2F).contains(input[j].value) { j += 1 }
                if j < input.count, (0x40...0x7E).contains(input[j].value) {
                    i = j + 1
                    continue
                }
            }
            let s = input[i]
            i += 1
            if keptControls.contains(s) { out.append(s); continue }
            switch s.properties.generalCategory {
            case .control, .format, .surrogate, .privateUse: continue
            default: out.append(s)
            }
        }
        return String(out)
    }

    /// The chunks a harness synthesizes one at a time; [] when nothing is left to say.
    public static func split(_ text: String, maxChars: Int = maxChunkChars) -> [String] {
        var chunks: [String] = []
        for paragraph in paragraphs(Array(clean(text).unicodeScalars)) {
            let trimmed = strip(paragraph)
            if trimmed.isEmpty { continue }
            for sentence in rejoinAbbreviations(sentences(trimmed)) {
                chunks.append(contentsOf: cutLong(sentence, maxChars: max(1, maxChars)))
            }
        }
        return chunks
    }

    // MARK: - Steps

    /// Python `re.split(r"\n\s*\n", text)`: a separator runs from a newline to the last newline reachable through
    /// whitespace after it (the greedy `\s*` backs off to that newline).
    static func paragraphs(_ s: [Unicode.Scalar]) -> [[Unicode.Scalar]] {
        var parts: [[Unicode.Scalar]] = []
        var start = 0
        var i = 0
        while i < s.count {
            if s[i] == "\n" {
                var j = i + 1
                var lastNewline = -1
                while j < s.count, isSpace(s[j]) {
                    if s[j] == "\n" { lastNewline = j }
                    j += 1
                }
                if lastNewline > i {
                    parts.append(Array(s[start..<i]))
                    start = lastNewline + 1
                    i = lastNewline + 1
                    continue
                }
            }
            i += 1
        }
        parts.append(Array(s[start..<s.count]))
        return parts
    }

    /// Python `re.split(r"(?<=[.!?…。！？])\s+(?=[“\"'(\[]?[A-Z])", text)`. The `\s+` must take the whole
    /// whitespace run: stopping early would leave whitespace where the look-ahead wants a capital or an opener.
    static func sentences(_ s: [Unicode.Scalar]) -> [[Unicode.Scalar]] {
        var parts: [[Unicode.Scalar]] = []
        var start = 0
        var i = 1
        while i < s.count {
            if isSpace(s[i]), terminators.contains(s[i - 1]) {
                var j = i
                while j < s.count, isSpace(s[j]) { j += 1 }
                var k = j
                if k < s.count, openers.contains(s[k]) { k += 1 }
                let startsSentence = (k < s.count && isASCIIUpper(s[k]))
                    || (j < s.count && isASCIIUpper(s[j]))
                if startsSentence {
                    parts.append(Array(s[start..<i]))
                    start = j
                    i = j + 1
                    continue
                }
            }
            i += 1
        }
        parts.append(Array(s[start..<s.count]))
        return parts
    }

    /// A piece whose last word is an abbreviation ("Dr.") joins the next piece with one space.
    static func rejoinAbbreviations(_ pieces: [[Unicode.Scalar]]) -> [[Unicode.Scalar]] {
        var joined: [[Unicode.Scalar]] = []
        for piece in pieces {
            if let last = joined.last, let word = lastWord(last), abbreviations.contains(word) {
                joined[joined.count - 1] = last + [" "] + piece
            } else {
                joined.append(piece)
            }
        }
        return joined
    }

    static func lastWord(_ s: [Unicode.Scalar]) -> String? {
        var end = s.count
        while end > 0, isSpace(s[end - 1]) { end -= 1 }
        guard end > 0 else { return nil }
        var start = end
        while start > 0, !isSpace(s[start - 1]) { start -= 1 }
        return String(String.UnicodeScalarView(s[start..<end]))
    }

    /// Cut a sentence longer than `maxChars` code points: at a space after a clause mark, else at a space, else hard.
    static func cutLong(_ sentence: [Unicode.Scalar], maxChars: Int) -> [String] {
        var pieces: [String] = []
        var rest = strip(sentence)
        while rest.count > maxChars {
            let cut = cutPoint(rest, maxChars: maxChars)
            pieces.append(string(rstrip(Array(rest[0..<cut]))))
            rest = lstrip(Array(rest[cut...]))
        }
        if !rest.isEmpty { pieces.append(string(rest)) }
        return pieces
    }

    static func cutPoint(_ text: [Unicode.Scalar], maxChars: Int) -> Int {
        var lastSpace = -1
        var lastAfterClause = -1
        for i in 1...maxChars where isSpace(text[i]) {
            lastSpace = i
            if clauseMarks.contains(text[i - 1]) { lastAfterClause = i }
        }
        if lastAfterClause > 0 { return lastAfterClause }
        if lastSpace > 0 { return lastSpace }
        return maxChars
    }

    // MARK: - Helpers

    static func lstrip(_ s: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var a = 0
        while a < s.count, isSpace(s[a]) { a += 1 }
        return Array(s[a...])
    }

    static func rstrip(_ s: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var b = s.count
        while b > 0, isSpace(s[b - 1]) { b -= 1 }
        return Array(s[..<b])
    }

    static func strip(_ s: [Unicode.Scalar]) -> [Unicode.Scalar] { rstrip(lstrip(s)) }

    static func string(_ s: [Unicode.Scalar]) -> String { String(String.UnicodeScalarView(s)) }
}

/// The name the brief and the design use for the same rule.
public typealias TextSplitter = SentenceSplitter
