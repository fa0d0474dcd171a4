import Foundation

/// A SIMULATED engine for tests: no model, no neural network. Its audio is a deterministic tone whose length is
/// proportional to the chunk's length, and its "inference" is a sleep of a configurable cost, so that timings are
/// non-zero and predictable. Everything it reports says so: engine "scripted", `simulated: true`, and model
/// descriptions ending in "(simulated)". Its numbers are never measurements of Kokoro.
public final class ScriptedEngine: TTSEngine {
    public struct Config: Equatable {
        /// Simulated cost per chunk, on top of the per-character cost.
        public var costPerChunkMs: Double = 5
        public var costPerCharMs: Double = 0.5
        /// Simulated time to load a variant.
        public var loadMs: Double = 20
        /// Samples of audio per character at speed 1.0 (≈ 0.06 s per character, a speaking pace).
        public var samplesPerChar: Int = 1_440
        /// Leading near-silence per chunk, so time_to_first_audible differs from time_to_first_audio as it does
        /// with a real model.
        public var leadingSilenceSamples: Int = 240
        /// Spend the simulated cost spinning on the CPU instead of sleeping, so that the engine keeps a core busy
        /// as a real one does; then anything else the harness does at the same time competes with it.
        public var busy = false
        public init() {}
    }

    public static let allVariants = ["bf16", "8bit", "6bit", "4bit"]
    public static let allVoices = ["af_heart", "am_onyx", "jf_alpha"]
    static let descriptions = [
        "bf16": "Kokoro 82M (bfloat16 - Full Precision) (simulated)",
        "8bit": "Kokoro 82M (8-bit quantized) (simulated)",
        "6bit": "Kokoro 82M (6-bit quantized) (simulated)",
        "4bit": "Kokoro 82M (4-bit quantized) (simulated)",
    ]

    public var config: Config
    public let info: EngineInfo
    /// Every call, in order ("loadVariant:bf16", "synthesize:Hi.", "willStartTimedRun", ...), so tests can check
    /// the order of work (warm-up before T1, unload before the next load).
    public private(set) var calls: [String] = []
    public private(set) var loaded: Set<String> = []
    /// Test hook: throw this from `synthesize` for the chunk with this text.
    public var failOnText: (text: String, error: Error)?
    /// Test hook: the audio to return instead of the tone (e.g. [] to provoke no_audio).
    public var audioOverride: ((String) -> [Float])?

    public init(config: Config = Config()) {
        self.config = config
        info = EngineInfo(name: "scripted", version: "scripted \(HarnessVersion.version) (simulated)", simulated: true,
                          variants: ScriptedEngine.allVariants, voices: ScriptedEngine.allVoices)
    }

    public func loadVariant(_ variant: String) throws -> VariantInfo {
        calls.append("loadVariant:\(variant)")
        guard let description = ScriptedEngine.descriptions[variant] else {
            throw HarnessError(.unknownVariant, "variant '\(variant)' is not known to the scripted engine")
        }
        ScriptedEngine.sleep(ms: config.loadMs)
        loaded.insert(variant)
        return VariantInfo(modelName: "mlx-community/Kokoro-82M-\(variant)", modelDescription: description, sha256: nil)
    }

    public func unloadVariant(_ variant: String) {
        calls.append("unloadVariant:\(variant)")
        loaded.remove(variant)
    }

    public func loadVoice(_ voice: String, variant: String) throws {
        calls.append("loadVoice:\(voice)")
        guard loaded.contains(variant) else {
            throw HarnessError(.engineError, "voice '\(voice)' asked for before variant '\(variant)' was loaded")
        }
    }

    public func willStartTimedRun() { calls.append("willStartTimedRun") }

    public func synthesize(_ text: String, voice: String, speed: Double) throws -> [Float] {
        calls.append("synthesize:\(text)")
        guard !loaded.isEmpty else { throw HarnessError(.engineError, "synthesize called with no variant loaded") }
        let chars = text.unicodeScalars.count
        let cost = config.costPerChunkMs + config.costPerCharMs * Double(chars)
        if config.busy { ScriptedEngine.spin(ms: cost) } else { ScriptedEngine.sleep(ms: cost) }
        if let fail = failOnText, fail.text == text { throw fail.error }
        if let override = audioOverride { return override(text) }
        return ScriptedEngine.tone(characters: chars, voice: voice, speed: speed, config: config)
    }

    /// The simulated audio: near-silence, then a sine at a voice-dependent pitch, amplitude 0.5.
    public static func tone(characters: Int, voice: String, speed: Double, config: Config) -> [Float] {
        let count = max(1, Int((Double(characters * config.samplesPerChar) / max(speed, 0.01)).rounded()))
        let frequency = 180.0 + Double(voice.unicodeScalars.reduce(0) { $0 + Int($1.value) } % 120)
        var out = [Float](repeating: 0, count: count)
        for i in 0..<count {
            if i < config.leadingSilenceSamples {
                out[i] = 0.001  // below the 0.01 audibility threshold on purpose
            } else {
                out[i] = Float(0.5 * sin(2 * Double.pi * frequency * Double(i) / 24_000))
            }
        }
        return out
    }

    /// Busy work worth `ms` on an idle core: a fixed count of a dependent floating-point chain (the count is
    /// calibrated once per process), so that, like a real engine's work, it takes longer when it has to share the
    /// CPU with anything else.
    static func spin(ms: Double) {
        guard ms > 0 else { return }
        spinSink = chain(Int((ms * iterationsPerMs).rounded()), from: spinSink)
    }

    static func chain(_ n: Int, from start: Double) -> Double {
        var x = start
        for _ in 0..<n { x = x * 0.999_999_9 + 1e-9 }
        return x
    }

    static let iterationsPerMs: Double = {
        let n = 2_000_000
        let (x, seconds) = Stopwatch.time { chain(n, from: 1) }
        spinSink = x
        return Double(n) / max(seconds * 1000, 1e-6)
    }()

    nonisolated(unsafe) static var spinSink = 1.0

    static func sleep(ms: Double) {
        guard ms > 0 else { return }
        Thread.sleep(forTimeInterval: ms / 1000)
    }
}
