import XCTest
@testable import KokoroBenchCore

/// An engine that hashes slowly and reports an engine extra, to check what the runner does with both.
final class HashingEngine: TTSEngine {
    let inner = ScriptedEngine()
    var hashCalls = 0
    var info: EngineInfo { inner.info }
    func loadVariant(_ variant: String) throws -> VariantInfo { try inner.loadVariant(variant) }
    func unloadVariant(_ variant: String) { inner.unloadVariant(variant) }
    func loadVoice(_ voice: String, variant: String) throws { try inner.loadVoice(voice, variant: variant) }
    func synthesize(_ text: String, voice: String, speed: Double) throws -> [Float] {
        try inner.synthesize(text, voice: voice, speed: speed)
    }
    func variantSHA256(_ variant: String) -> String? {
        hashCalls += 1
        Thread.sleep(forTimeInterval: 0.3)  // a slow hash must not count as model load time
        return String(repeating: "ab", count: 32)
    }
    func timedRunExtras() -> [(String, JSONValue)] { [("mlx_peak_memory_gb", .double(0.25))] }
}

final class EngineHooksTests: XCTestCase {
    func testHashIsOutsideLoadTimeAndExtrasComeLast() throws {
        let engine = HashingEngine()
        let runner = BenchmarkRunner(engine: engine)
        let r = try runner.run(RunRequest(id: "r", text: "Hi.", voice: "af_heart", variant: "bf16"))
        XCTAssertEqual(r.variantSHA256, String(repeating: "ab", count: 32))
        XCTAssertLessThan(r.modelLoadTime, 0.25, "the hash's 0.3 s leaked into model_load_time")
        XCTAssertEqual(r.jsonValue.objectKeys?.suffix(3), ["mlx_peak_memory_gb", "build_configuration",
                                                          "excluded_from_gates"], "engine extras, then the conditions")
        XCTAssertEqual(r.jsonValue["mlx_peak_memory_gb"], .double(0.25))
        _ = try runner.run(RunRequest(id: "r", text: "Hi.", voice: "af_heart", variant: "bf16"))
        XCTAssertEqual(engine.hashCalls, 1, "hashed once per cold load")
        XCTAssertEqual(try BenchmarkResult(json: r.jsonValue), r, "extras survive a round trip")
    }
}
