// swift-tools-version:5.9
// The portable core of the pytest-kokoro Swift harness. It has NO outside dependencies on purpose: it must build
// and test on Linux (CI, no Mac) with only the toolchain. The MLX engine lives in the App project (App/project.yml),
// which adds mlx-audio-swift; this package only holds the protocol, the runner and a simulated (scripted) engine.
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
