import Foundation
import KokoroBenchCore
import KokoroPhonemes
#if canImport(KokoroSherpa)
import KokoroSherpa
#endif

/// The CLI's engines: `scripted` (SIMULATED, for tests) and `sherpa-onnx` (the real Kokoro-82M int8, in builds
/// where Package.swift found sherpa-onnx's library).
#if canImport(KokoroSherpa)
let sherpaBuilt = true
#else
let sherpaBuilt = false
#endif

struct SherpaOptions {
    var modelDirectory: String?
    var espeakLibrary: String?
    var espeakData: String?
    var threads = ProcessInfo.processInfo.activeProcessorCount
    var language = "en-us"
}

func openEspeak(_ s: SherpaOptions) -> Espeak {
    guard let library = s.espeakLibrary, let data = s.espeakData else {
        fail("--espeak-library PATH and --espeak-data DIR are needed (the Python harness's: python -c 'import "
            + "espeakng_loader as e; print(e.get_library_path(), e.get_data_path())')")
    }
    do { return try Espeak(library: library, data: data) } catch { fail("\(error)") }
}

func modelDirectory(_ s: SherpaOptions) -> URL {
    guard let dir = s.modelDirectory else {
        fail("--sherpa-model DIR is needed (derived by ./scripts/bootstrap into ~/.cache/pytest-kokoro/sherpa-kokoro-int8)")
    }
    return URL(fileURLWithPath: dir)
}

func makeEngine(_ o: Options) -> TTSEngine {
    if o.engine == "scripted" { return ScriptedEngine(config: o.config) }
    #if canImport(KokoroSherpa)
    do {
        let folder = try SherpaModelFolder(directory: modelDirectory(o.sherpa))
        return try SherpaKokoroEngine(folder: folder, espeak: openEspeak(o.sherpa), numThreads: o.sherpa.threads)
    } catch { fail("\(error)") }
    #else
    fail("engine 'sherpa-onnx' is not in this build: Package.swift found no sherpa-onnx library. Install it "
        + "(pip install sherpa-onnx-core==2.0.1 into the project's .venv, as ./scripts/bootstrap does, or set "
        + "SHERPA_ONNX_DIR) and rebuild")
    #endif
}

/// `--tokens`: each stdin line a JSON string, each stdout line the JSON array of its Kokoro token ids, made the
/// way the sherpa-onnx engine makes them (lets the Python tests compare Swift and Python tokens on many texts).
func printTokens(_ o: Options) -> Never {
    let espeak = openEspeak(o.sherpa)
    let vocabulary: [Unicode.Scalar: Int]
    do {
        vocabulary = try KokoroPhonemizer.readVocabulary(modelDirectory(o.sherpa).appendingPathComponent("tokens.txt"))
    } catch { fail("\(error)") }
    let phonemizer = KokoroPhonemizer(espeak: espeak, vocabulary: vocabulary)
    while let line = readLine(strippingNewline: true) {
        guard case .string(let text)? = try? JSONValue.parse(Array(line.utf8)) else {
            fail("--tokens reads one JSON string per line, got: \(line.prefix(80))")
        }
        do {
            let tokens = try phonemizer.tokens(text, language: o.sherpa.language)
            print(JSONValue.array(tokens.map { .int($0) }).serialized())
        } catch { fail("\(error)") }
    }
    exit(0)
}
