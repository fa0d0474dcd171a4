#if canImport(MLXAudioTTS)
import CryptoKit
import Foundation
import KokoroBenchCore
import MLX
import MLXAudioTTS

/// The real engine on iPhone/macOS: Kokoro-82M through Blaizzy/mlx-audio-swift (pinned in project.yml).
/// A thin adapter: the harness core owns splitting, timing and the protocol; this only loads and synthesizes.
///
/// Variant folders (one per variant, as in the mlx-community repos) are looked up, first match wins, in
///   Documents/models/Kokoro-82M-<variant>/   (copy them over with Finder file sharing)
///   <app bundle>/Models/Kokoro-82M-<variant>/ (bundled at build time)
/// each holding config.json, kokoro-v1_0.safetensors and voices/<voice>.safetensors.
final class MLXKokoroEngine: TTSEngine {
    static let variantOrder = ["bf16", "8bit", "6bit", "4bit"]
    static let descriptions = [
        "bf16": "Kokoro 82M (bfloat16 - Full Precision)",
        "8bit": "Kokoro 82M (8-bit quantized)",
        "6bit": "Kokoro 82M (6-bit quantized)",
        "4bit": "Kokoro 82M (4-bit quantized)",
    ]

    let info: EngineInfo
    private let folders: [String: URL]
    private var model: KokoroModel?
    private var modelVariant: String?
    private var shaCache: [String: String] = [:]

    init() {
        var found: [String: URL] = [:]
        for v in MLXKokoroEngine.variantOrder {
            if let url = MLXKokoroEngine.searchRoots().map({ $0.appendingPathComponent("Kokoro-82M-\(v)") })
                .first(where: { FileManager.default.fileExists(atPath: $0.appendingPathComponent("config.json").path) }) {
                found[v] = url
            }
        }
        folders = found
        var voices = Set<String>()
        for url in found.values {
            let dir = url.appendingPathComponent("voices")
            let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
            for f in files where f.hasSuffix(".safetensors") { voices.insert(String(f.dropLast(".safetensors".count))) }
        }
        info = EngineInfo(name: "mlx", version: "mlx-audio-swift 4266f98", simulated: false,
                          variants: MLXKokoroEngine.variantOrder.filter { found[$0] != nil },
                          voices: voices.sorted())
    }

    static func searchRoots() -> [URL] {
        var roots: [URL] = []
        if let docs = FileManager.default.urls(for: .documentDirectory, in: .userDomainMask).first {
            roots.append(docs.appendingPathComponent("models"))
        }
        if let bundled = Bundle.main.resourceURL?.appendingPathComponent("Models") { roots.append(bundled) }
        return roots
    }

    func folder(_ variant: String) throws -> URL {
        guard let url = folders[variant] else {
            throw HarnessError(.missingFile, "no folder for variant '\(variant)': copy mlx-community/Kokoro-82M-\(variant) "
                + "(config.json, kokoro-v1_0.safetensors, voices/) to Documents/models/Kokoro-82M-\(variant)")
        }
        return url
    }

    func loadVariant(_ variant: String) throws -> VariantInfo {
        let dir = try folder(variant)
        unloadVariant(modelVariant ?? variant)
        // The text processor is what TTS.loadModel gives Kokoro: without one, generate() would read the text as
        // phonemes. Its English G2P dictionary must already be in the Hugging Face cache for offline runs (README).
        model = try blocking {
            try await KokoroModel.fromModelDirectory(dir, textProcessor: KokoroMultilingualProcessor())
        }
        modelVariant = variant
        return VariantInfo(modelName: "mlx-community/Kokoro-82M-\(variant)",
                           modelDescription: MLXKokoroEngine.descriptions[variant] ?? "Kokoro 82M (\(variant))")
    }

    func variantSHA256(_ variant: String) -> String? {
        if let cached = shaCache[variant] { return cached }
        guard let dir = folders[variant],
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
        Memory.clearCache()  // give the buffers back, so the next variant's peak is its own
    }

    func loadVoice(_ voice: String, variant: String) throws {
        guard let model, modelVariant == variant else {
            throw HarnessError(.engineError, "variant '\(variant)' is not loaded")
        }
        do { _ = try model.loadVoice(named: voice) } catch {
            throw HarnessError(.missingFile, "voice '\(voice)' of variant '\(variant)': \(error). Put "
                + "voices/\(voice).safetensors in the variant folder")
        }
    }

    func synthesize(_ text: String, voice: String, speed: Double) throws -> [Float] {
        guard let model else { throw HarnessError(.engineError, "no variant loaded") }
        model.speed = Float(speed)
        let audio = try blocking {
            try await model.generate(text: text, voice: voice, refAudio: nil, refText: nil, language: nil,
                                     generationParameters: model.defaultGenerationParameters)
        }
        // The array is lazy: evaluate it here so the runner's timestamp comes after the samples exist.
        eval(audio)
        let samples = audio.asArray(Float.self)
        Memory.clearCache()
        return samples
    }

    func willStartTimedRun() {
        Memory.peakMemory = 0  // the setter resets MLX's peak (the value is ignored)
    }

    func timedRunExtras() -> [(String, JSONValue)] {
        [("mlx_peak_memory_gb", .double(Double(Memory.peakMemory) / MemorySampler.bytesPerGiB))]
    }

    /// Runs async mlx-audio-swift calls from the harness's synchronous engine interface. Always called on the
    /// harness's own serial queue, never on the main thread, so blocking here cannot deadlock the UI.
    private func blocking<T>(_ body: @escaping () async throws -> T) throws -> T {
        let done = DispatchSemaphore(value: 0)
        var result: Result<T, Error>?
        Task.detached {
            do { result = .success(try await body()) } catch { result = .failure(error) }
            done.signal()
        }
        done.wait()
        switch result {
        case let .success(value)?: return value
        case let .failure(error)?:
            let text = "\(error)"
            if text.contains("exceeds max") { throw HarnessError(.textTooLong, "\(text); shorten the chunk") }
            throw error
        case nil: throw HarnessError(.internal, "async call finished without a result")
        }
    }
}
#endif
