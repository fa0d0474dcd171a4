// swift-tools-version:5.9
// A COMPILE CHECK, not a build of the app: compiles the app's MLX engine (../App/Sources/MLXKokoroEngine.swift) and
// its results store on Linux against STUB modules that copy the public signatures the app uses of
// MLX (mlx-swift dc43e62, the revision mlx-audio-swift 4266f98 resolves), MLXLMCommon (mlx-swift-lm bd4b743),
// MLXAudioTTS (mlx-audio-swift 4266f98) and Apple's CryptoKit. The stubs have no behaviour (every body traps):
// nothing here runs. It catches a call whose name, labels, types, throws/async or optionality do not match the
// pinned libraries. Run by scripts/test: `swift build --package-path ios-harness/AppCheck`.
import PackageDescription

let package = Package(
    name: "AppCheck",
    dependencies: [.package(name: "KokoroBench", path: "..")],
    targets: [
        .target(name: "MLX", path: "Stubs/MLX"),
        .target(name: "MLXLMCommon", path: "Stubs/MLXLMCommon"),
        .target(name: "MLXAudioTTS", dependencies: ["MLX", "MLXLMCommon"], path: "Stubs/MLXAudioTTS"),
        .target(name: "CryptoKit", path: "Stubs/CryptoKit"),
        .target(name: "AppEngine",
                dependencies: [.product(name: "KokoroBenchCore", package: "KokoroBench"), "MLX", "MLXAudioTTS",
                               "CryptoKit"],
                path: "AppSources"),
    ]
)
