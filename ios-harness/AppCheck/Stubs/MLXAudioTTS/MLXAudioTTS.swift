// STUB of mlx-audio-swift's MLXAudioTTS (revision 4266f98) for a compile check only: the public signatures the app
// uses, no behaviour.
import Foundation
import MLX
import MLXLMCommon

func stub(_ what: String) -> Never { fatalError("STUB \(what): AppCheck only compiles, it never runs") }

/// Sources/MLXAudioTTS/TextProcessor.swift:19-38
public protocol TextProcessor: Sendable {
    func prepare() async throws
    func process(text: String, language: String?) throws -> String
}

extension TextProcessor {
    public func prepare() async throws {}
}

/// Sources/MLXAudioTTS/Models/StyleTTS2/Kokoro/KokoroModel.swift:8 (there also Module, SpeechGenerationModel)
public final class KokoroModel: @unchecked Sendable {
    /// :11
    public let defaultGenerationParameters: GenerateParameters
    /// :26
    public var speed: Float = 1.0

    private init() { stub("KokoroModel.init") }

    /// :131-138
    public func generate(text: String, voice: String?, refAudio: MLXArray?, refText: String?, language: String?,
                         generationParameters: GenerateParameters) async throws -> MLXArray {
        stub("KokoroModel.generate")
    }

    /// :214
    public func loadVoice(named name: String) throws -> MLXArray { stub("KokoroModel.loadVoice") }

    /// :279-282
    public static func fromModelDirectory(_ modelDir: URL, textProcessor: TextProcessor? = nil) async throws
        -> KokoroModel { stub("KokoroModel.fromModelDirectory") }
}

/// Sources/MLXAudioTTS/Models/StyleTTS2/Kokoro/KokoroMultilingualProcessor.swift:11
public final class KokoroMultilingualProcessor: TextProcessor, @unchecked Sendable {
    /// :62-68
    public init(lexiconRepo: String = "beshkenadze/kokoro-ipa-lexicons",
                neuralG2PRepo: String = "beshkenadze/g2p-multilingual-byT5-tiny-mlx") {}

    /// :75
    public static func languageForVoice(_ voice: String) -> String? { stub("languageForVoice") }

    /// :80
    public func process(text: String, language: String?) throws -> String { stub("process") }

    /// :142
    public func prepare(for language: String) async throws { stub("prepare(for:)") }
}
