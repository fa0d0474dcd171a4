/// The pace of one device for the `adaptive` split: how long a chunk takes to synthesize and how long it speaks.
/// The Swift twin of pytest_kokoro's core pace module; both are checked against spec/split_strategies.json.
///
/// `adaptive` sizes every chunk after the first so that it is ready before the audio queued ahead of it runs out,
/// which needs the device's own cost of a model call (it differs by 10x between a phone and a busy CI host). So a
/// runner measures it before T1: it synthesizes the two `probes`, untimed, and fits a line with `fit`. Every number
/// is an integer in microseconds, so that Python and Swift cut identically from the same pace.
public struct Pace: Equatable, Codable {
    public var computeUsPerChunk: Int
    public var computeUsPerChar: Int
    public var audioUsPerChunk: Int
    public var audioUsPerChar: Int

    public enum CodingKeys: String, CodingKey {
        case computeUsPerChunk = "compute_us_per_chunk", computeUsPerChar = "compute_us_per_char"
        case audioUsPerChunk = "audio_us_per_chunk", audioUsPerChar = "audio_us_per_char"
    }

    public init(computeUsPerChunk: Int, computeUsPerChar: Int, audioUsPerChunk: Int, audioUsPerChar: Int) {
        self.computeUsPerChunk = computeUsPerChunk
        self.computeUsPerChar = computeUsPerChar
        self.audioUsPerChunk = audioUsPerChunk
        self.audioUsPerChar = audioUsPerChar
    }

    /// Two texts of different length, synthesized before T1 when a run splits adaptively: their difference gives
    /// the cost of a character, the rest the fixed cost of a call. Prose with commas, like the texts people benchmark
    /// (a pause is audio the model must synthesize).
    public static let probes = [
        "Hello, there.",
        "The harbor was quiet before dawn, and the fishing boats rocked gently against the pier, waiting.",
    ]
    /// The planned compute is the measured one times this (in percent): room for the noise of a shared machine.
    public static let marginPercent = 120

    /// Used when nothing was measured (the CLI's --split-batch): Kokoro-82M's audio at speed 1.0 and the host's
    /// int8 model on a quiet 2-core machine (docs/performance.md).
    public static let `default` = Pace(computeUsPerChunk: 410_000, computeUsPerChar: 32_000,
                                       audioUsPerChunk: 900_000, audioUsPerChar: 59_000)

    /// The planned compute of a chunk of `chars` code points: the measured line times `marginPercent`.
    public func computeUs(_ chars: Int) -> Int { (computeUsPerChunk + computeUsPerChar * chars) * Pace.marginPercent / 100 }

    public func audioUs(_ chars: Int) -> Int { audioUsPerChunk + audioUsPerChar * chars }

    /// The most code points whose planned compute fits `budgetUs` (>= 0); 0 when not even an empty chunk does.
    public func maxChars(_ budgetUs: Int) -> Int {
        max(0, budgetUs * 100 / Pace.marginPercent - computeUsPerChunk) / computeUsPerChar
    }

    /// The line through the shortest and the longest probe, each (code points, compute seconds, audio seconds).
    /// A slope that noise made zero or negative becomes 1 µs a character; an intercept below zero becomes 0.
    public static func fit(_ probes: [(chars: Int, compute: Double, audio: Double)]) throws -> Pace {
        let sorted = probes.sorted { ($0.chars, $0.compute, $0.audio) < ($1.chars, $1.compute, $1.audio) }
        guard let a = sorted.first, let b = sorted.last, b.chars > a.chars else {
            throw HarnessError(.internal, "the pace needs two probes of different length, got "
                + probes.map { "\($0.chars)" }.joined(separator: " and ") + " code points")
        }
        let n = Double(b.chars - a.chars)
        let computePerChar = max(1, us((b.compute - a.compute) / n))
        let audioPerChar = max(1, us((b.audio - a.audio) / n))
        return Pace(computeUsPerChunk: max(0, us(a.compute) - computePerChar * a.chars), computeUsPerChar: computePerChar,
                    audioUsPerChunk: max(0, us(a.audio) - audioPerChar * a.chars), audioUsPerChar: audioPerChar)
    }

    /// Seconds to whole microseconds, halves rounded up (Python: math.floor(x * 1e6 + 0.5)).
    static func us(_ seconds: Double) -> Int { Int((seconds * 1e6 + 0.5).rounded(.down)) }

    /// The result key `adaptive_pace`.
    public var json: JSONValue {
        .object([("compute_us_per_chunk", .int(computeUsPerChunk)), ("compute_us_per_char", .int(computeUsPerChar)),
                 ("audio_us_per_chunk", .int(audioUsPerChunk)), ("audio_us_per_char", .int(audioUsPerChar))])
    }

    public init(json: JSONValue) throws {
        func field(_ name: String) throws -> Int {
            guard let v = json[name]?.intValue else {
                throw HarnessError(.badValue, "adaptive_pace needs an integer \(name)")
            }
            return v
        }
        self.init(computeUsPerChunk: try field("compute_us_per_chunk"), computeUsPerChar: try field("compute_us_per_char"),
                  audioUsPerChunk: try field("audio_us_per_chunk"), audioUsPerChar: try field("audio_us_per_char"))
    }
}
