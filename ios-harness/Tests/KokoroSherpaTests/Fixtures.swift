import Foundation
import KokoroBenchCore
import KokoroPhonemes
import XCTest

/// What these tests need from the machine, found the way the Python side keeps it: espeak-ng from espeakng-loader in
/// the project's .venv (or ESPEAK_NG_LIBRARY / ESPEAK_NG_DATA), the sherpa model folder that scripts/bootstrap derives
/// into ~/.cache/pytest-kokoro (or PYTEST_KOKORO_CACHE), and ../spec. Missing ones skip with the command to run.
enum Fixtures {
    static let repoRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let setupHint = "run ./scripts/bootstrap in the project root (it installs espeakng-loader and "
        + "sherpa-onnx-core into .venv and derives the sherpa model folder)"

    static func spec(_ name: String) throws -> JSONValue {
        try JSONValue.parse(Array(Data(contentsOf: repoRoot.appendingPathComponent("spec").appendingPathComponent(name))))
    }

    static func espeakPaths() throws -> (library: String, data: String) {
        let env = ProcessInfo.processInfo.environment
        if let library = env["ESPEAK_NG_LIBRARY"], let data = env["ESPEAK_NG_DATA"] { return (library, data) }
        let venvLib = repoRoot.appendingPathComponent(".venv/lib")
        let pythons = (try? FileManager.default.contentsOfDirectory(atPath: venvLib.path)) ?? []
        for python in pythons.sorted() where python.hasPrefix("python") {
            let dir = venvLib.appendingPathComponent(python).appendingPathComponent("site-packages/espeakng_loader")
            for name in ["libespeak-ng.so", "libespeak-ng.dylib"] {
                let library = dir.appendingPathComponent(name).path
                if FileManager.default.fileExists(atPath: library) {
                    return (library, dir.appendingPathComponent("espeak-ng-data").path)
                }
            }
        }
        throw XCTSkip("espeak-ng from espeakng-loader not found in \(venvLib.path): \(setupHint)")
    }

    static func modelDirectory() throws -> URL {
        let env = ProcessInfo.processInfo.environment
        let cache = env["PYTEST_KOKORO_CACHE"].map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: env["XDG_CACHE_HOME"] ?? (NSHomeDirectory() + "/.cache"))
                .appendingPathComponent("pytest-kokoro")
        let dir = cache.appendingPathComponent("sherpa-kokoro-int8")
        guard FileManager.default.fileExists(atPath: dir.appendingPathComponent("manifest.json").path) else {
            throw XCTSkip("no sherpa model folder at \(dir.path): \(setupHint)")
        }
        return dir
    }

    /// One espeak-ng per test process: it keeps global state.
    static let espeak: Result<Espeak, Error> = Result {
        let paths = try espeakPaths()
        return try Espeak(library: paths.library, data: paths.data)
    }

    static func phonemizer() throws -> KokoroPhonemizer {
        let vocabulary = try KokoroPhonemizer.readVocabulary(modelDirectory().appendingPathComponent("tokens.txt"))
        return KokoroPhonemizer(espeak: try espeak.get(), vocabulary: vocabulary)
    }
}
