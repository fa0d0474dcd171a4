import CSherpaOnnx
import Foundation
import KokoroBenchCore
import KokoroPhonemes
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The real Kokoro-82M (int8 ONNX) through sherpa-onnx's C API: the engine `--device=swift` measures on Linux and
/// macOS. sherpa-onnx 2.x has no text front end for Kokoro, so each chunk is phonemized here with espeak-ng
/// (KokoroPhonemizer, token for token the Python harness's phonemes) and handed over as `phoneme_codepoints`.
///
/// The model folder is derived from the host's model and voices by pytest-kokoro (scripts/bootstrap):
/// model.onnx (the int8 export plus the metadata sherpa reads), tokens.txt, voices.bin and manifest.json. Its
/// voices.bin is shifted by one row, because sherpa takes the style row len(tokens) where kokoro-onnx (and the host
/// engine) take len(tokens) - 1; so both engines feed the model the same style vector.
public final class SherpaKokoroEngine: TTSEngine {
    public static let variant = "int8"
    /// Kokoro's context: 510 tokens between the two pads.
    public static let maxTokens = 510

    public let info: EngineInfo
    public let folder: SherpaModelFolder
    public let phonemizer: KokoroPhonemizer
    public let numThreads: Int
    /// sherpa-onnx's and onnxruntime's versions, e.g. "2.0.1 (af2d8d81)" and "1.28.2".
    public let sherpaVersion: String
    public let onnxruntimeVersion: String
    private var tts: OpaquePointer?
    private var speakerID: Int32 = 0

    public init(folder: SherpaModelFolder, espeak: Espeak, numThreads: Int) throws {
        self.folder = folder
        self.numThreads = numThreads
        phonemizer = KokoroPhonemizer(espeak: espeak, vocabulary: try KokoroPhonemizer.readVocabulary(folder.tokens))
        sherpaVersion = "\(String(cString: SherpaOnnxGetVersionStr())) (\(String(cString: SherpaOnnxGetGitSha1())))"
        onnxruntimeVersion = SherpaKokoroEngine.loadedOnnxruntimeVersion() ?? "unknown"
        info = EngineInfo(
            name: "sherpa-onnx",
            version: "sherpa-onnx \(sherpaVersion), onnxruntime \(onnxruntimeVersion), espeak-ng \(espeak.version)",
            simulated: false, variants: [SherpaKokoroEngine.variant], voices: folder.voices)
    }

    deinit { if let tts { SherpaOnnxDestroyOfflineTts(tts) } }

    /// The onnxruntime the sherpa library loaded: `OrtGetApiBase()->GetVersionString()` (onnxruntime_c_api.h:
    /// `struct OrtApiBase { const OrtApi* (*GetApi)(uint32_t); const char* (*GetVersionString)(void); }`).
    static func loadedOnnxruntimeVersion() -> String? {
        typealias GetApiBase = @convention(c) () -> UnsafePointer<UnsafeRawPointer?>?
        typealias GetVersion = @convention(c) () -> UnsafePointer<CChar>?
        // The process's global scope: libonnxruntime is loaded as a dependency of libsherpa-onnx-c-api.
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "OrtGetApiBase"),
              let base = unsafeBitCast(symbol, to: GetApiBase.self)(), let versionFn = base[1],
              let version = unsafeBitCast(versionFn, to: GetVersion.self)() else { return nil }
        return String(cString: version)
    }

    public func loadVariant(_ variant: String) throws -> VariantInfo {
        guard variant == SherpaKokoroEngine.variant else {
            throw HarnessError(.unknownVariant, "variant '\(variant)' is not known to the sherpa-onnx engine; it has int8")
        }
        if tts == nil {
            tts = folder.withConfig(numThreads: numThreads) { SherpaOnnxCreateOfflineTts($0) }
            guard tts != nil else {
                throw HarnessError(.missingFile, "sherpa-onnx could not load \(folder.directory.path) (see the log); "
                    + "re-derive it: ./scripts/bootstrap")
            }
        }
        return VariantInfo(modelName: folder.modelName, modelDescription: folder.modelDescription,
                           sha256: folder.sourceSHA256)
    }

    public func unloadVariant(_ variant: String) {
        if let tts { SherpaOnnxDestroyOfflineTts(tts) }
        tts = nil
    }

    public func loadVoice(_ voice: String, variant: String) throws {
        guard let index = folder.voices.firstIndex(of: voice) else {
            throw HarnessError(.unknownVoice, "voice '\(voice)' is not in \(folder.directory.path); available: "
                + folder.voices.joined(separator: ", "))
        }
        speakerID = Int32(index)
    }

    public func variantSHA256(_ variant: String) -> String? { folder.sourceSHA256 }

    public func timedRunExtras() -> [(String, JSONValue)] { [("onnxruntime_version", .string(onnxruntimeVersion))] }

    public func synthesize(_ text: String, voice: String, speed: Double) throws -> [Float] {
        guard let tts else { throw HarnessError(.engineError, "synthesize called with no variant loaded") }
        let phonemes: String
        do {
            phonemes = try phonemizer.phonemes(text, language: KokoroPhonemizer.language(forVoice: voice))
        } catch {
            throw HarnessError(.engineError, "espeak-ng: \(error)")
        }
        let codepoints = phonemes.unicodeScalars.map { Int32(bitPattern: $0.value) }
        if codepoints.isEmpty { return [] }
        guard codepoints.count <= SherpaKokoroEngine.maxTokens else {
            throw HarnessError(.textTooLong, "chunk '\(text.prefix(60))...' is \(codepoints.count) phoneme tokens, "
                + "over Kokoro's \(SherpaKokoroEngine.maxTokens); break the text with punctuation")
        }
        var lengths: [Int32] = [Int32(codepoints.count)]
        let audio: UnsafePointer<SherpaOnnxGeneratedAudio>? = codepoints.withUnsafeBufferPointer { points in
            lengths.withUnsafeMutableBufferPointer { lens in
                var config = SherpaOnnxGenerationConfig()
                config.silence_scale = 1.0
                config.speed = Float(speed)
                config.sid = speakerID
                config.phoneme_codepoints = points.baseAddress
                config.phoneme_codepoints_lens = UnsafePointer(lens.baseAddress)
                config.phoneme_codepoints_num_sentences = 1
                return SherpaOnnxOfflineTtsGenerateWithConfig(tts, "", &config, nil, nil)
            }
        }
        guard let audio else {
            throw HarnessError(.engineError, "sherpa-onnx generated nothing for '\(text.prefix(60))' (see the log)")
        }
        defer { SherpaOnnxDestroyOfflineTtsGeneratedAudio(audio) }
        let count = Int(audio.pointee.n)
        guard count > 0, let samples = audio.pointee.samples else { return [] }
        return Array(UnsafeBufferPointer(start: samples, count: count))
    }
}
