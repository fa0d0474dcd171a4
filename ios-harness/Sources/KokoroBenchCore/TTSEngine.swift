/// What the harness knows about its engine; goes into the `hello` event and every result.
public struct EngineInfo: Equatable {
    public var name: String            // "scripted", "mlx", ...
    public var version: String
    /// True for a test engine whose numbers are not measurements (the `simulated` key of hello and results).
    public var simulated: Bool
    public var variants: [String]
    public var voices: [String]
    public var sampleRate: Int

    public init(name: String, version: String, simulated: Bool, variants: [String], voices: [String],
                sampleRate: Int = 24_000) {
        self.name = name; self.version = version; self.simulated = simulated
        self.variants = variants; self.voices = voices; self.sampleRate = sampleRate
    }
}

/// What loading a variant tells us: the reference's model_name / model_description and the weights' sha256.
public struct VariantInfo: Equatable {
    public var modelName: String
    public var modelDescription: String
    public var sha256: String?

    public init(modelName: String, modelDescription: String, sha256: String? = nil) {
        self.modelName = modelName; self.modelDescription = modelDescription; self.sha256 = sha256
    }
}

/// A TTS engine synthesizes ONE chunk of text at a time; the harness (BenchmarkRunner) owns splitting and timing,
/// so chunk counts and clocks are the same for every engine.
///
/// Calls come from one thread at a time (the harness serves one request at a time). They block: `synthesize`
/// returns only once the samples exist (an MLX engine evaluates its lazy array first), because the runner takes
/// the chunk's timestamp right after it returns.
public protocol TTSEngine: AnyObject {
    var info: EngineInfo { get }
    /// Load a variant's weights (the runner times this and calls it only when the variant is not loaded).
    func loadVariant(_ variant: String) throws -> VariantInfo
    /// Free a variant's memory.
    func unloadVariant(_ variant: String)
    func loadVoice(_ voice: String, variant: String) throws
    /// 24 kHz mono float PCM in [-1, 1] for one chunk.
    func synthesize(_ text: String, voice: String, speed: Double) throws -> [Float]
    /// Called right before the clock starts (after load, voice and warm-up): reset engine-side peak counters.
    func willStartTimedRun()
    /// The sha256 of the variant's weights, or nil. Called after `loadVariant` and outside its timing, because
    /// hashing a few hundred MB must not count as model load time. Cache it: it is asked once per cold load.
    func variantSHA256(_ variant: String) -> String?
    /// Engine-specific result keys (e.g. `mlx_peak_memory_gb`), read right after the last chunk.
    func timedRunExtras() -> [(String, JSONValue)]
    /// The error for a variant (voice) that `info` does not list; nil for the generic unknown_variant
    /// (unknown_voice). An engine whose variants are folders on disk names where to copy a missing one.
    func unavailableVariantError(_ variant: String) -> HarnessError?
    func unavailableVoiceError(_ voice: String, variant: String) -> HarnessError?
}

extension TTSEngine {
    public func willStartTimedRun() {}
    public func timedRunExtras() -> [(String, JSONValue)] { [] }
    public func variantSHA256(_ variant: String) -> String? { nil }
    public func unavailableVariantError(_ variant: String) -> HarnessError? { nil }
    public func unavailableVoiceError(_ voice: String, variant: String) -> HarnessError? { nil }
}
