import Foundation
import KokoroBenchCore
import XCTest
#if canImport(KokoroSherpa)
import KokoroSherpa
#endif

/// The real Kokoro-82M int8 through sherpa-onnx, in the package's own runner. Skipped, with the command that installs
/// the library, in builds where Package.swift did not find libsherpa-onnx-c-api.
final class SherpaEngineTests: XCTestCase {
    #if canImport(KokoroSherpa)
    static var shared: SherpaKokoroEngine?

    private func engine() throws -> SherpaKokoroEngine {
        if let engine = SherpaEngineTests.shared { return engine }
        let folder = try SherpaModelFolder(directory: try Fixtures.modelDirectory())
        let engine = try SherpaKokoroEngine(folder: folder, espeak: try Fixtures.espeak.get(), numThreads: 2)
        SherpaEngineTests.shared = engine
        return engine
    }

    func testEngineNamesItselfAndItsVersions() throws {
        let engine = try engine()
        XCTAssertEqual(engine.info.name, "sherpa-onnx")
        XCTAssertFalse(engine.info.simulated)
        XCTAssertTrue(engine.info.version.hasPrefix("sherpa-onnx 2.0.1"), engine.info.version)
        XCTAssertTrue(engine.onnxruntimeVersion.first?.isNumber == true, engine.onnxruntimeVersion)
        XCTAssertEqual(engine.info.variants, ["int8"])
        XCTAssertTrue(engine.info.voices.contains("jf_alpha"))
    }

    func testARealRoundThroughTheRunner() throws {
        let engine = try engine()
        let runner = BenchmarkRunner(engine: engine)
        let request = RunRequest(id: "t", text: "Hello there. How are you?", voice: "jf_alpha", variant: "int8")
        let result = try runner.run(request)
        XCTAssertEqual(result.chunkCount, 2)
        XCTAssertGreaterThan(result.audioDuration, 0.5)  // real speech: about 2 s for these two sentences
        XCTAssertLessThan(result.audioDuration, 6)
        XCTAssertEqual(result.engine, "sherpa-onnx")
        XCTAssertEqual(result.variantSHA256, engine.folder.sourceSHA256)
    }

    func testAnUnknownVoiceSaysWhichAreThere() throws {
        let engine = try engine()
        XCTAssertThrowsError(try engine.loadVoice("af_heart", variant: "int8")) { error in
            XCTAssertEqual((error as? HarnessError)?.code, .unknownVoice)
        }
    }
    #else
    func testSherpaEngine() throws {
        throw XCTSkip("sherpa-onnx's C library was not found when this package was built: pip install "
            + "sherpa-onnx-core==2.0.1 into the project's .venv (./scripts/bootstrap does), or set SHERPA_ONNX_DIR, "
            + "then rebuild")
    }
    #endif
}
