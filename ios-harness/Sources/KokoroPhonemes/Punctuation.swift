/// phonemizer 3.4.0's punctuation handling (`phonemizer/punctuation.py`, class `Punctuation`), ported line for line,
/// quirks included, because the Python harness phonemizes through it (kokoro-onnx calls `phonemize(text, lang,
/// preserve_punctuation=True, with_stress=True)`) and the Swift harness must send the model the same tokens.
///
/// - `_marks_re` (punctuation.py, `marks.setter`): `(\s*(?:[others]|(?<![0-9])[,.]|[,.](?![0-9]))+\s*)+` over the
///   default marks `;:,.!?¡¿—…"«»“”(){}[]`. Its matches are exactly the maximal runs of whitespace and marks that
///   hold at least one mark, where `,` and `.` are no mark between two ASCII digits. `markRuns` finds those runs.
/// - `_preserve_line` cuts the line at the FIRST occurrence of each match's text (`line.split(mark.mark)`), which
///   is not always where the regex matched (e.g. "1.5 is 2." is cut after "1"); ported as is.
/// - `restore` walks marks and chunks with the line index; ported as is, for `Separator(word=' ')`, strip=False.
enum Punctuation {
    static let marks: Set<Unicode.Scalar> = Set(";:,.!?¡¿—…\"«»“”(){}[]".unicodeScalars)
    static let decimalSeparators: Set<Unicode.Scalar> = [",", "."]

    enum Position { case begin, end, inside, alone }  // 'B', 'E', 'I', 'A'

    struct MarkIndex: Equatable {
        let index: Int
        let mark: PyText
        let position: Position
    }

    static func isASCIIDigit(_ c: Unicode.Scalar) -> Bool { ("0"..."9").contains(c) }

    static func isMark(_ line: PyText, _ i: Int) -> Bool {
        let c = line[i]
        guard marks.contains(c) else { return false }
        guard decimalSeparators.contains(c) else { return true }
        let digitBefore = i > 0 && isASCIIDigit(line[i - 1])
        let digitAfter = i + 1 < line.count && isASCIIDigit(line[i + 1])
        return !(digitBefore && digitAfter)
    }

    /// The matches of `_marks_re` in `line`, as (start, end) code point offsets, in order.
    static func markRuns(_ line: PyText) -> [Range<Int>] {
        var runs: [Range<Int>] = []
        var i = 0
        while i < line.count {
            guard PythonText.isSpace(line[i]) || isMark(line, i) else { i += 1; continue }
            var j = i
            var hasMark = false
            while j < line.count, PythonText.isSpace(line[j]) || isMark(line, j) {
                if isMark(line, j) { hasMark = true }
                j += 1
            }
            if hasMark { runs.append(i..<j) }
            i = j
        }
        return runs
    }

    /// `Punctuation.preserve(lines)`: the chunks to phonemize (empty ones dropped) and the marks to restore.
    static func preserve(_ lines: [PyText]) -> (chunks: [PyText], marks: [MarkIndex]) {
        var chunks: [PyText] = []
        var marks: [MarkIndex] = []
        for (num, line) in lines.enumerated() {
            let (lineChunks, lineMarks) = preserveLine(line, num)
            chunks += lineChunks
            marks += lineMarks
        }
        return (chunks.filter { !$0.isEmpty }, marks)
    }

    static func preserveLine(_ line: PyText, _ num: Int) -> ([PyText], [MarkIndex]) {
        let runs = markRuns(line)
        if runs.isEmpty { return ([line], []) }
        if runs.count == 1, runs[0] == 0..<line.count { return ([], [MarkIndex(index: num, mark: line, position: .alone)]) }
        var marks: [MarkIndex] = []
        for (k, run) in runs.enumerated() {
            let text = Array(line[run])
            var position = Position.inside
            if k == 0 && PythonText.hasPrefix(line, text) {
                position = .begin
            } else if k == runs.count - 1 && PythonText.hasSuffix(line, text) {
                position = .end
            }
            marks.append(MarkIndex(index: num, mark: text, position: position))
        }
        var preserved: [PyText] = []
        var rest = line
        for mark in marks {
            let split = PythonText.split(rest, separator: mark.mark)
            preserved.append(split[0])
            var suffix: PyText = []
            for (n, part) in split.dropFirst().enumerated() { suffix += (n == 0 ? [] : mark.mark) + part }
            rest = suffix
        }
        return (preserved + [rest], marks)
    }

    /// `Punctuation.restore(text, marks, Separator(word=' '), strip=False)`.
    static func restore(_ phonemized: [PyText], _ allMarks: [MarkIndex]) -> [PyText] {
        let sep: PyText = [" "]
        var text = phonemized
        var marks = allMarks[...]
        var out: [PyText] = []
        var pos = 0
        while !text.isEmpty || !marks.isEmpty {
            if marks.isEmpty {
                for var line in text {
                    if !PythonText.hasSuffix(line, sep) { line += sep }
                    out.append(line)
                }
                text = []
            } else if text.isEmpty {
                out.append(marks.flatMap { $0.mark })  // internal spaces would become the word separator, a space
                marks = []
            } else {
                let current = marks.first!
                if current.index == pos {
                    marks = marks.dropFirst()
                    let mark = current.mark
                    if PythonText.hasSuffix(text[0], sep) { text[0].removeLast(sep.count) }
                    let tail: PyText = PythonText.hasSuffix(mark, sep) ? [] : sep
                    switch current.position {
                    case .begin:
                        text[0] = mark + text[0]
                    case .end:
                        out.append(text[0] + mark + tail)
                        text.removeFirst()
                        pos += 1
                    case .alone:
                        out.append(mark + tail)
                        pos += 1
                    case .inside:
                        if text.count == 1 {
                            text[0] = text[0] + mark
                        } else {
                            let first = text.removeFirst()
                            text[0] = first + mark + text[0]
                        }
                    }
                } else {
                    out.append(text[0])
                    text.removeFirst()
                    pos += 1
                }
            }
        }
        return out
    }
}
