import CSherpaOnnx
import Foundation
import KokoroBenchCore

/// The model folder sherpa-onnx reads, as pytest-kokoro derives it (pytest_kokoro/harness/sherpa_model.py):
/// model.onnx, tokens.txt, voices.bin and manifest.json (voices in speaker-id order, the source model's name and
/// sha256, and the sha256 of every file, checked when the folder is made).
public struct SherpaModelFolder {
    public let directory: URL
    public let voices: [String]
    public let modelName: String
    public let modelDescription: String
    public let sourceSHA256: String?

    public var model: URL { directory.appendingPathComponent("model.onnx") }
    public var tokens: URL { directory.appendingPathComponent("tokens.txt") }
    public var voicesFile: URL { directory.appendingPathComponent("voices.bin") }

    public init(directory: URL) throws {
        self.directory = directory
        let manifestURL = directory.appendingPathComponent("manifest.json")
        guard let data = FileManager.default.contents(atPath: manifestURL.path) else {
            throw HarnessError(.missingFile, "\(manifestURL.path) is missing: derive the sherpa model folder with "
                + "./scripts/bootstrap (or .venv/bin/python -m pytest_kokoro.harness.sherpa_model)")
        }
        let manifest = try JSONValue.parse(Array(data))
        guard case .object(let fields) = manifest,
              case .array(let names)? = fields.first(where: { $0.0 == "voices" })?.1 else {
            throw HarnessError(.missingFile, "\(manifestURL.path) has no voices list: re-derive it with ./scripts/bootstrap")
        }
        voices = names.compactMap { if case .string(let s) = $0 { return s } else { return nil } }
        func string(_ key: String) -> String? {
            if case .string(let s)? = fields.first(where: { $0.0 == key })?.1 { return s }
            return nil
        }
        modelName = string("model_name") ?? "kokoro-v1.0.int8.onnx"
        modelDescription = string("model_description") ?? "Kokoro 82M (int8 ONNX)"
        sourceSHA256 = string("source_sha256")
        for file in [model, tokens, voicesFile] where !FileManager.default.fileExists(atPath: file.path) {
            throw HarnessError(.missingFile, "\(file.path) is missing: re-derive the folder with ./scripts/bootstrap")
        }
    }

    /// A sherpa TTS config for this folder; the C strings live for the duration of `body`.
    func withConfig<R>(numThreads: Int, _ body: (UnsafePointer<SherpaOnnxOfflineTtsConfig>) -> R) -> R {
        model.path.withCString { model in
            voicesFile.path.withCString { voices in
                tokens.path.withCString { tokens in
                    "cpu".withCString { provider in
                        var config = SherpaOnnxOfflineTtsConfig()
                        config.model.kokoro.model = model
                        config.model.kokoro.voices = voices
                        config.model.kokoro.tokens = tokens
                        config.model.kokoro.length_scale = 1.0
                        config.model.num_threads = Int32(numThreads)
                        config.model.provider = provider
                        config.max_num_sentences = 1
                        config.silence_scale = 1.0
                        return body(&config)
                    }
                }
            }
        }
    }
}
