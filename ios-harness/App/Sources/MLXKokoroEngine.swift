#if canImport(MLXAudioTTS)
import CryptoKit
import Foundation
import KokoroBenchCore
import MLX
import MLXAudioTTS

/// The real engine on iPhone/macOS: Kokoro-82M through Blaizzy/mlx-audio-swift (pinned in project.yml; the file:line
/// references below are at that revision, 4266f98). A thin adapter: the harness core owns splitting, timing and
/// the protocol; this only loads and synthesizes.
///
/// Variant folders and voices are looked up on every request (ModelFolders), in
///   Documents/models/Kokoro-82M-<variant>/   (pushed with `--kokoro-push-weights`, or copied with Finder / Files)
/// each holding config.json, kokoro-v1_0.safetensors and voices/<voice>.safetensors. Nothing is bundled in the app:
/// four variants would make every install hundreds of MB, and the weights change far less often than the code.
final class MLXKokoroEngine: TTSEngine {
    static let descriptions = [
        "bf16": "Kokoro 82M (bfloat16 - Full Precision)",
        "8bit": "Kokoro 82M (8-bit quantized)",
        "6bit": "Kokoro 82M (6-bit quantized)",
        "4bit": "Kokoro 82M (4-bit quantized)",
    ]

    let folders: ModelFolders
    let hubCache: URL
    let userHubPath: String
    /// Closed while the app is not in the foreground: no GPU work then (see BenchController).
    let gate: InterruptionGate
    /// One text processor for the app's life: what it prepared for a language stays prepared across variants.
    private let textProcessor = PreparedKokoroProcessor()
    private var model: KokoroModel?
    private var modelVariant: String?
    private var shaCache: [String: String] = [:]
    /// Seconds this round spent preparing the text processor for its voice's language (0 when already prepared).
    private var prepareSeconds = 0.0

    /// MLX's buffer cache limit, set once at start (MLXCachePolicy) and recorded on every round.
    let cacheLimit: Int

    init(folders: ModelFolders, hubCache: URL, userHubPath: String, gate: InterruptionGate) {
        self.folders = folders
        self.hubCache = hubCache
        self.userHubPath = userHubPath
        self.gate = gate
        // Without a limit MLX keeps every freed buffer (mlx-swift Memory.swift:251): peak_memory_gb would include
        // buffers cached by earlier rounds, and long chunks come closer to the jetsam limit of a 6 GB phone.
        cacheLimit = MLXCachePolicy.cacheLimitBytes(physicalMemory: ProcessInfo.processInfo.physicalMemory)
        Memory.cacheLimit = cacheLimit
    }

    /// Read from disk each time it is asked for (hello, every run): a folder copied in while the app runs counts.
    var info: EngineInfo {
        EngineInfo(name: "mlx", version: "mlx-audio-swift 4266f98", simulated: false,
                   variants: folders.variants().map { $0.variant }, voices: folders.voices())
    }

    func unavailableVariantError(_ variant: String) -> HarnessError? {
        ModelFolders.variantOrder.contains(variant) ? folders.missingVariant(variant) : nil
    }

    func unavailableVoiceError(_ voice: String, variant: String) -> HarnessError? {
        folders.missingVoice(voice, variant: variant)
    }

    func loadVariant(_ variant: String) throws -> VariantInfo {
        let dir = try folders.require(variant)
        if let loaded = modelVariant { unloadVariant(loaded) }
        let processor = textProcessor
        // fromModelDirectory evaluates the weights on the GPU (KokoroModel.swift:303): foreground only. Its call
        // to textProcessor.prepare() (:300) is the no-op of PreparedKokoroProcessor; languages are prepared in
        // loadVoice.
        model = try gate.run {
            try AsyncBridge.wait { try await KokoroModel.fromModelDirectory(dir, textProcessor: processor) }
        }
        modelVariant = variant
        return VariantInfo(modelName: "mlx-community/Kokoro-82M-\(variant)",
                           modelDescription: MLXKokoroEngine.descriptions[variant] ?? "Kokoro 82M (\(variant))")
    }

    func variantSHA256(_ variant: String) -> String? {
        if let cached = shaCache[variant] { return cached }
        guard let dir = folders.folder(variant),
              let handle = try? FileHandle(forReadingFrom: dir.appendingPathComponent("kokoro-v1_0.safetensors"))
        else { return nil }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let data = try? handle.read(upToCount: 8 << 20), !data.isEmpty { hasher.update(data: data) }
        let hex = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        shaCache[variant] = hex
        return hex
    }

    func unloadVariant(_ variant: String) {
        guard modelVariant == variant || model == nil else { return }
        model = nil
        modelVariant = nil
        // Only here: the next variant's peak is its own. Never between chunks, where it would make every chunk,
        // the first timed one included, allocate its Metal buffers afresh.
        Memory.clearCache()
    }

    func loadVoice(_ voice: String, variant: String) throws {
        guard let model, modelVariant == variant else {
            throw HarnessError(.engineError, "variant '\(variant)' is not loaded")
        }
        do { _ = try model.loadVoice(named: voice) } catch {  // KokoroModel.swift:214-237
            throw HarnessError(.missingFile, "\(folders.missingVoice(voice, variant: variant).message) (\(error))")
        }
        // The language generate() will use (KokoroModel.swift:147); prepared here, before T1, never in a chunk.
        let language = KokoroMultilingualProcessor.languageForVoice(voice) ?? "en-us"
        prepareSeconds = try gate.run {
            try textProcessor.prepare(language: language, hubCache: hubCache, userHubPath: userHubPath)
        }
    }

    func synthesize(_ text: String, voice: String, speed: Double) throws -> [Float] {
        guard let model else { throw HarnessError(.engineError, "no variant loaded") }
        return try gate.run {
            model.speed = Float(speed)
            // withError (mlx-swift ErrorHandler.swift:149) turns an MLX error, such as the GPU refusing work once
            // the app is in the background, into a Swift throw instead of a fatalError; the gate then reports the
            // round `interrupted` and the harness keeps serving.
            return try withError {
                let audio: MLXArray
                do {
                    audio = try AsyncBridge.wait {
                        try await model.generate(text: text, voice: voice, refAudio: nil, refText: nil, language: nil,
                                                 generationParameters: model.defaultGenerationParameters)
                    }
                } catch {
                    // KokoroModel.swift:163-166: "Input too long: N tokens exceeds max 510"
                    let message = "\(error)"
                    if message.contains("exceeds max") {
                        throw HarnessError(.textTooLong, "\(message); shorten the chunk")
                    }
                    throw error
                }
                // The array is lazy: evaluate it here so the runner's timestamp comes after the samples exist.
                eval(audio)
                return audio.asArray(Float.self)
            }
        }
    }

    func willStartTimedRun() {
        Memory.peakMemory = 0  // the setter resets MLX's peak (mlx-swift Memory.swift: "ignores newValue")
    }

    func timedRunExtras() -> [(String, JSONValue)] {
        [("mlx_peak_memory_gb", .double(Double(Memory.peakMemory) / MemorySampler.bytesPerGiB)),
         ("text_processor_prepare_time", .double(prepareSeconds)),
         ("mlx_cache_limit_bytes", .int(cacheLimit))]
    }
}

/// Kokoro's text processor, prepared once per language before any timing, instead of on every chunk.
///
/// mlx-audio-swift's KokoroModel.generate calls `prepare(for:)` on every call when its processor IS a
/// KokoroMultilingualProcessor (KokoroModel.swift:149-153): for English that resolves the G2P folder, parses its
/// config.json and prints (ModelUtils.swift:83-98), inside the timed chunk; and the first `process` builds the
/// English G2P (MisakiTextProcessor.swift:32-48), inside the first timed chunk. fromModelDirectory only calls the
/// protocol's `prepare()`, a no-op for that class (TextProcessor.swift:35-38, KokoroModel.swift:300).
/// This wrapper is not a KokoroMultilingualProcessor, so generate() only calls `process` (KokoroModel.swift:156-157),
/// which it forwards; `prepare(language:)` does the library's `prepare(for:)` and one throwaway `process`, after
/// checking that the data is on the phone (G2PData), so nothing is ever downloaded.
final class PreparedKokoroProcessor: TextProcessor, @unchecked Sendable {
    let inner = KokoroMultilingualProcessor()
    private var prepared: Set<String> = []
    private let lock = NSLock()

    func prepare() async throws {}

    func process(text: String, language: String?) throws -> String {
        try inner.process(text: text, language: language)
    }

    /// Seconds spent (0 when `language` was already prepared).
    func prepare(language: String, hubCache: URL, userHubPath: String) throws -> Double {
        let lang = language.lowercased()
        if lock.withLock({ prepared.contains(lang) }) { return 0 }
        if let missing = G2PData.missing(language: lang, hubCache: hubCache, userHubPath: userHubPath) { throw missing }
        // The repository ships no config.json; without one the library downloads again (ModelUtils.swift:91-122).
        if lang.hasPrefix("en") { try G2PData.prepareEnglishFolder(hubCache: hubCache) }
        let inner = self.inner
        let (_, seconds) = try Stopwatch.time {
            try AsyncBridge.wait { try await inner.prepare(for: lang) }
            _ = try inner.process(text: BenchmarkRunner.warmupText, language: lang)
        }
        lock.withLock { _ = prepared.insert(lang) }
        return seconds
    }
}
#endif
