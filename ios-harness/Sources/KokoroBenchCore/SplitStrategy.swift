/// The ways to cut a text into chunks (docs/protocol.md "Split strategies"), the `split` of a run request and of a
/// result. The Swift twin of `split_text` in pytest_kokoro's core sentences module; both are checked against
/// spec/split_strategies.json. Every strategy starts from `SentenceSplitter.split` (the reference's rule) and keeps
/// every chunk within `maxChars` code points, so a long text without punctuation is cut at word boundaries.
public enum SplitStrategy: String, CaseIterable, Equatable {
    /// The reference's rule, byte for byte (SentenceSplitter).
    case sentences
    /// The sentences, each also cut after every , ; : that whitespace follows.
    case clauses
    /// A short first chunk for the earliest audio, then chunks sized to be ready before the queued audio runs out.
    case adaptive
    /// One chunk (the non-streaming baseline); sentences packed up to the limit when the text is longer.
    case whole

    public static let `default` = SplitStrategy.sentences

    /// adaptive: the first chunk is the first clause when it has at most this many words, else its first words.
    public static let adaptiveFirstClauseMaxWords = 5
    public static let adaptiveFirstWords = 3

    /// The chunks of `text` under this strategy; [] when nothing is left to say. `pace` is the device's, measured
    /// before T1 (Pace.swift); only `adaptive` uses it.
    public func split(_ text: String, maxChars: Int = SentenceSplitter.maxChunkChars, pace: Pace = .default) -> [String] {
        switch self {
        case .sentences: return SentenceSplitter.split(text, maxChars: maxChars)
        case .clauses: return SplitStrategy.clauses(text, maxChars: maxChars)
        case .adaptive: return SplitStrategy.adaptive(text, maxChars: maxChars, pace: pace)
        case .whole: return SplitStrategy.whole(text, maxChars: maxChars)
        }
    }

    static let clauseEnds: Set<Unicode.Scalar> = [",", ";", ":"]

    static func clauses(_ text: String, maxChars: Int) -> [String] {
        var pieces: [String] = []
        for sentence in SentenceSplitter.split(text, maxChars: maxChars) {
            let s = Array(sentence.unicodeScalars)
            var start = 0
            for i in 1..<max(1, s.count) where SentenceSplitter.isSpace(s[i]) && clauseEnds.contains(s[i - 1]) {
                pieces.append(SentenceSplitter.string(SentenceSplitter.strip(Array(s[start..<i]))))
                start = i
            }
            pieces.append(SentenceSplitter.string(SentenceSplitter.strip(Array(s[start...]))))
        }
        return pieces
    }

    static func whole(_ text: String, maxChars: Int) -> [String] {
        var chunks: [[Unicode.Scalar]] = []
        for sentence in SentenceSplitter.split(text, maxChars: maxChars) {
            let s = Array(sentence.unicodeScalars)
            if let last = chunks.last, last.count + 1 + s.count <= maxChars {
                chunks[chunks.count - 1] = last + [" "] + s
            } else {
                chunks.append(s)
            }
        }
        return chunks.map(SentenceSplitter.string)
    }

    /// A short first chunk, then chunks the device at `pace` synthesizes before the queued audio runs out: clauses
    /// packed whole, a clause cut at words when none fits, a whole clause when not even its first word fits (a stall
    /// is certain then, and one call per word would make it longer).
    static func adaptive(_ text: String, maxChars: Int, pace: Pace) -> [String] {
        var units = clauses(text, maxChars: maxChars).map { Array($0.unicodeScalars) }
        guard !units.isEmpty else { return [] }
        var chunks: [[Unicode.Scalar]]
        if wordStart(units[0], count: adaptiveFirstClauseMaxWords) != nil,
           let cut = wordStart(units[0], count: adaptiveFirstWords) {
            chunks = [SentenceSplitter.rstrip(Array(units[0][..<cut]))]
            units[0] = Array(units[0][cut...])
        } else {
            chunks = [units.removeFirst()]
        }
        var ready = pace.computeUs(chunks[0].count)
        var queueEnd = ready + pace.audioUs(chunks[0].count)
        while !units.isEmpty {
            let budget = min(maxChars, pace.maxChars(queueEnd - ready))
            var chunk: [Unicode.Scalar] = []
            while let unit = units.first {
                let joined = chunk.isEmpty ? unit : chunk + [" "] + unit
                guard joined.count <= budget else { break }
                chunk = joined
                units.removeFirst()
            }
            if chunk.isEmpty {
                let cut = wordCut(units[0], limit: budget)
                chunk = SentenceSplitter.rstrip(Array(units[0][..<cut]))
                units[0] = SentenceSplitter.lstrip(Array(units[0][cut...]))
                if units[0].isEmpty { units.removeFirst() }
            }
            ready += pace.computeUs(chunk.count)
            queueEnd = max(queueEnd, ready) + pace.audioUs(chunk.count)
            chunks.append(chunk)
        }
        return chunks.map(SentenceSplitter.string)
    }

    /// The index where word `count + 1` starts; nil when the text has `count` words or fewer.
    static func wordStart(_ s: [Unicode.Scalar], count: Int) -> Int? {
        var words = 0
        for i in s.indices where !SentenceSplitter.isSpace(s[i]) && (i == 0 || SentenceSplitter.isSpace(s[i - 1])) {
            if words == count { return i }
            words += 1
        }
        return nil
    }

    /// Where to cut so the head is the most words within `limit` code points: the last whitespace at an index
    /// <= limit, else the end (the whole text, when not even one word fits).
    static func wordCut(_ s: [Unicode.Scalar], limit: Int) -> Int {
        var lastWithin: Int?
        for i in s.indices.dropFirst() where i <= limit && SentenceSplitter.isSpace(s[i]) {
            lastWithin = i
        }
        return lastWithin ?? s.count
    }
}
