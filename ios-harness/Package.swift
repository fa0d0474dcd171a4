// swift-tools-version:5.9
// The portable core of the pytest-kokoro Swift harness. It has NO outside dependencies on purpose: it must build
// and test on Linux (CI, no Mac) with only the toolchain. The MLX engine lives in the App project (App/project.yml),
// which adds mlx-audio-swift; this package only holds the protocol, the runner and a simulated (scripted) engine.
import Foundation
import PackageDescription

let package = Package(
    name: "KokoroBench",
    platforms: [.iOS(.v17), .macOS(.v14)],
    products: [
        .library(name: "KokoroBenchCore", targets: ["KokoroBenchCore"]),
        .executable(name: "KokoroBenchHarness", targets: ["KokoroBenchHarness"]),
    ],
    targets: [
        .target(name: "KokoroBenchCore"),
        .executableTarget(name: "KokoroBenchHarness", dependencies: ["KokoroBenchCore"]),
        .testTarget(name: "KokoroBenchCoreTests", dependencies: ["KokoroBenchCore"]),
    ]
)

// The real Kokoro-82M through sherpa-onnx's C API (Sources/KokoroSherpa; docs in README.md "The sherpa-onnx engine").
// Only where its library is found, so that this package still builds with the toolchain alone: SHERPA_ONNX_DIR (a
// folder with include/sherpa-onnx/c-api/c-api.h and lib/libsherpa-onnx-c-api.*), else the sherpa_onnx folder of
// PyPI's sherpa-onnx-core in the project's .venv (scripts/bootstrap installs it). KokoroPhonemes (espeak-ng, opened
// at run time) has no build-time dependency and is always built.
func sherpaOnnxDirectory() -> String? {
    let fm = FileManager.default
    func usable(_ dir: String) -> Bool {
        fm.fileExists(atPath: dir + "/include/sherpa-onnx/c-api/c-api.h")
            && (fm.fileExists(atPath: dir + "/lib/libsherpa-onnx-c-api.so")
                || fm.fileExists(atPath: dir + "/lib/libsherpa-onnx-c-api.dylib"))
    }
    if let dir = Context.environment["SHERPA_ONNX_DIR"], !dir.isEmpty { return usable(dir) ? dir : nil }
    let venvLib = Context.packageDirectory + "/../.venv/lib"
    for python in ((try? fm.contentsOfDirectory(atPath: venvLib)) ?? []).sorted() where python.hasPrefix("python") {
        let dir = (venvLib + "/" + python + "/site-packages/sherpa_onnx" as NSString).standardizingPath
        if usable(dir) { return dir }
    }
    return nil
}

package.products.append(.library(name: "KokoroPhonemes", targets: ["KokoroPhonemes"]))
package.targets.append(.target(name: "KokoroPhonemes"))
var sherpaTestDependencies: [Target.Dependency] = ["KokoroPhonemes", "KokoroBenchCore"]
if let sherpa = sherpaOnnxDirectory() {
    // The header's folder for the Clang importer of every module that sees CSherpaOnnx; the library's folder to link
    // against and, as an rpath, to load from (SwiftPM refuses an rpath coming from pkg-config).
    let include: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-I\(sherpa)/include"])]
    let link: [LinkerSetting] = [.unsafeFlags(["-L\(sherpa)/lib", "-Xlinker", "-rpath", "-Xlinker", "\(sherpa)/lib"])]
    package.targets += [
        .systemLibrary(name: "CSherpaOnnx", path: "Sources/CSherpaOnnx"),
        .target(name: "KokoroSherpa", dependencies: ["KokoroBenchCore", "KokoroPhonemes", "CSherpaOnnx"],
                swiftSettings: include, linkerSettings: link),
    ]
    for target in package.targets where target.name == "KokoroBenchHarness" {
        target.dependencies.append("KokoroSherpa")
        target.swiftSettings = (target.swiftSettings ?? []) + include
        target.linkerSettings = (target.linkerSettings ?? []) + link
    }
    sherpaTestDependencies.append("KokoroSherpa")
}
package.targets.append(.testTarget(name: "KokoroSherpaTests", dependencies: sherpaTestDependencies,
                                   swiftSettings: sherpaOnnxDirectory().map { [.unsafeFlags(["-Xcc", "-I\($0)/include"])] },
                                   linkerSettings: sherpaOnnxDirectory().map {
                                       [.unsafeFlags(["-L\($0)/lib", "-Xlinker", "-rpath", "-Xlinker", "\($0)/lib"])] }))
