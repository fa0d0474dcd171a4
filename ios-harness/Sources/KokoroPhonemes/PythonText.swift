/// Text as Python's `str` sees it: a sequence of Unicode code points (not Swift's grapheme clusters), with
/// Python's notion of whitespace. The phonemizer port below must cut, search and strip exactly where the Python
/// harness's phonemizer does, and Swift's `String` compares by canonical equivalence and counts graphemes, so it
/// works on `[Unicode.Scalar]` throughout.
typealias PyText = [Unicode.Scalar]

enum PythonText {
    /// `str.isspace()` in CPython 3.11, which is also what `\s` matches in a `str` pattern of `re`
    /// (listed by `[c for c in range(0x110000) if chr(c).isspace()]`).
    static let whitespace: Set<UInt32> = [
        0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F, 0x20, 0x85, 0xA0, 0x1680,
        0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200A,
        0x2028, 0x2029, 0x202F, 0x205F, 0x3000,
    ]

    static func text(_ s: String) -> PyText { Array(s.unicodeScalars) }

    static func string(_ t: PyText) -> String {
        var s = String.UnicodeScalarView()
        s.append(contentsOf: t)
        return String(s)
    }

    static func isSpace(_ c: Unicode.Scalar) -> Bool { whitespace.contains(c.value) }

    /// `s.strip()`.
    static func strip(_ t: PyText) -> PyText { strip(t, where: isSpace) }

    /// `s.strip(chars)`.
    static func strip(_ t: PyText, chars: Set<Unicode.Scalar>) -> PyText { strip(t) { chars.contains($0) } }

    static func strip(_ t: PyText, where drop: (Unicode.Scalar) -> Bool) -> PyText {
        guard let first = t.firstIndex(where: { !drop($0) }), let last = t.lastIndex(where: { !drop($0) }) else {
            return []
        }
        return Array(t[first...last])
    }

    /// The index of the first occurrence of `needle` in `t`, code point by code point (`str.find`).
    static func find(_ needle: PyText, in t: PyText) -> Int? {
        guard !needle.isEmpty else { return 0 }
        guard needle.count <= t.count else { return nil }
        outer: for i in 0...(t.count - needle.count) {
            for j in 0..<needle.count where t[i + j] != needle[j] { continue outer }
            return i
        }
        return nil
    }

    static func hasPrefix(_ t: PyText, _ p: PyText) -> Bool { t.count >= p.count && Array(t.prefix(p.count)) == p }
    static func hasSuffix(_ t: PyText, _ p: PyText) -> Bool { t.count >= p.count && Array(t.suffix(p.count)) == p }

    /// `s.split(sep)` with a non-empty separator.
    static func split(_ t: PyText, separator: PyText) -> [PyText] {
        var parts: [PyText] = []
        var rest = t[...]
        while let i = find(separator, in: Array(rest)) {
            parts.append(Array(rest.prefix(i)))
            rest = rest.dropFirst(i + separator.count)
        }
        parts.append(Array(rest))
        return parts
    }

    /// `s.replace(old, new)`: non-overlapping, left to right.
    static func replace(_ t: PyText, _ old: PyText, _ new: PyText) -> PyText {
        let parts = split(t, separator: old)
        var out: PyText = parts[0]
        for part in parts.dropFirst() { out += new + part }
        return out
    }

    /// `re.sub(c + '+', c, s)`: runs of one code point collapsed to one.
    static func squeeze(_ t: PyText, _ c: Unicode.Scalar) -> PyText {
        var out: PyText = []
        for x in t where !(x == c && out.last == c) { out.append(x) }
        return out
    }
}
