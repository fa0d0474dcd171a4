import Foundation
import XCTest
@testable import KokoroBenchCore

/// An engine whose variants and voices are the folders of ModelFolders, as the app's MLX engine's are; its audio is
/// the scripted engine's (SIMULATED).
final class FolderEngine: TTSEngine {
    let folders: ModelFolders
    let inner = ScriptedEngine()
    init(folders: ModelFolders) { self.folders = folders }
    var info: EngineInfo {
        EngineInfo(name: "folders", version: "test (simulated)", simulated: true,
                   variants: folders.variants().map { $0.variant }, voices: folders.voices())
    }
    func loadVariant(_ variant: String) throws -> VariantInfo {
        _ = try folders.require(variant)
        return try inner.loadVariant(variant)
    }
    func unloadVariant(_ variant: String) { inner.unloadVariant(variant) }
    func loadVoice(_ voice: String, variant: String) throws { try inner.loadVoice(voice, variant: variant) }
    func synthesize(_ text: String, voice: String, speed: Double) throws -> [Float] {
        try inner.synthesize(text, voice: voice, speed: speed)
    }
    func unavailableVariantError(_ variant: String) -> HarnessError? {
        ModelFolders.variantOrder.contains(variant) ? folders.missingVariant(variant) : nil
    }
    func unavailableVoiceError(_ voice: String, variant: String) -> HarnessError? {
        folders.missingVoice(voice, variant: variant)
    }
}

final class ModelFoldersTests: XCTestCase {
    var root: URL!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("kokoro-models-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: root) }

    func copyVariant(_ variant: String, voices: [String]) throws {
        let dir = root.appendingPathComponent("Kokoro-82M-\(variant)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("voices"), withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: dir.appendingPathComponent("config.json"))
        for v in voices { try Data([1]).write(to: dir.appendingPathComponent("voices/\(v).safetensors")) }
    }

    func testVariantsAndVoicesAreFoundWhenAskedNotOnlyAtStart() throws {
        let server = HarnessServer(runner: BenchmarkRunner(engine: FolderEngine(folders: ModelFolders(
            roots: [root], userPath: "Documents/models")), calibrate: { 0 }))
        XCTAssertEqual(server.helloEvent.variants, [])
        let sink = ArraySink()
        _ = server.serve(source: ArraySource([#"{"type": "run", "id": "r", "text": "Hi.", "voice": "af_heart", "variant": "8bit"}"#]),
                         sink: sink)
        XCTAssertEqual(sink.events.last?["code"]?.stringValue, "missing_file")
        let message = try XCTUnwrap(sink.events.last?["message"]?.stringValue)
        XCTAssertTrue(message.contains("copy mlx-community/Kokoro-82M-8bit") && message.contains("Documents/models/Kokoro-82M-8bit"),
                      message)
        // The user copies the folder while the app runs: the next request sees it.
        try copyVariant("8bit", voices: ["af_heart"])
        try copyVariant("4bit", voices: ["am_onyx"])
        XCTAssertEqual(server.helloEvent.variants, ["8bit", "4bit"])
        XCTAssertEqual(server.helloEvent.voices, [], "no voice is in both variants")
        try copyVariant("4bit", voices: ["af_heart"])
        XCTAssertEqual(server.helloEvent.voices, ["af_heart"], "offered once every variant has it")
        let after = ArraySink()
        _ = server.serve(source: ArraySource([
            #"{"type": "run", "id": "r2", "text": "Hi.", "voice": "af_heart", "variant": "8bit", "warmup": false}"#,
            #"{"type": "run", "id": "r3", "text": "Hi.", "voice": "bf_emma", "variant": "8bit", "warmup": false}"#,
            #"{"type": "run", "id": "r4", "text": "Hi.", "voice": "af_heart", "variant": "fp64", "warmup": false}"#,
        ]), sink: after)
        XCTAssertEqual(after.types, ["chunk", "done", "error", "error"])
        XCTAssertEqual(after.events[2]["code"]?.stringValue, "missing_file")
        XCTAssertTrue(after.events[2]["message"]?.stringValue?.contains("Kokoro-82M-8bit/voices/") == true)
        XCTAssertEqual(after.events[3]["code"]?.stringValue, "unknown_variant", "not a Kokoro variant at all")
    }

    func testTheFirstRootWins() throws {
        let bundled = root.appendingPathComponent("bundle")
        let docs = root.appendingPathComponent("docs")
        for r in [bundled, docs] {
            let d = r.appendingPathComponent("Kokoro-82M-bf16")
            try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
            try Data("{}".utf8).write(to: d.appendingPathComponent("config.json"))
        }
        let folders = ModelFolders(roots: [docs, bundled], userPath: "Documents/models")
        XCTAssertEqual(folders.folder("bf16")?.deletingLastPathComponent().lastPathComponent, "docs")
    }

    /// The files beshkenadze/kitten-tts-g2p really ships (no config.json), by the names mlx-audio-swift 4266f98
    /// opens (EnglishFallbackNetwork.swift:92-115, DataResourcesUtil.swift:6-27).
    static let kittenFiles = ["us_bart.safetensors", "us_bart_config.json", "us_gold.json", "us_silver.json"]

    func testG2PDataIsCheckedWhereMLXAudioReadsIt() throws {
        let hub = root.appendingPathComponent("hub")
        let english = G2PData.missing(language: "en-us", hubCache: hub, userHubPath: "Documents/huggingface/hub")
        XCTAssertEqual(english?.code, .missingFile)
        let message = try XCTUnwrap(english?.message)
        XCTAssertTrue(message.contains("Documents/huggingface/hub/mlx-audio/beshkenadze_kitten-tts-g2p/"), message)
        XCTAssertTrue(message.contains("nothing is downloaded"), message)
        XCTAssertTrue(message.contains("us_bart.safetensors, us_bart_config.json, us_gold.json, us_silver.json"), message)
        let dir = G2PData.folder(repo: G2PData.englishRepo, hubCache: hub)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for name in Self.kittenFiles.dropLast() { try Data("{}".utf8).write(to: dir.appendingPathComponent(name)) }
        XCTAssertTrue(G2PData.missing(language: "en-us", hubCache: hub, userHubPath: "x")?.message
            .contains("the files us_silver.json") == true, "the one file still missing is named")
        try Data().write(to: dir.appendingPathComponent("us_silver.json"))
        XCTAssertNotNil(G2PData.missing(language: "en-us", hubCache: hub, userHubPath: "x"), "an empty file is missing")
        try Data("{}".utf8).write(to: dir.appendingPathComponent("us_silver.json"))
        // The repository as it is: no config.json, and still complete for American and British voices.
        XCTAssertNil(G2PData.missing(language: "en-us", hubCache: hub, userHubPath: "x"))
        XCTAssertNil(G2PData.missing(language: "en-gb", hubCache: hub, userHubPath: "x"), "gb_ falls back to us_")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("config.json").path))
        XCTAssertTrue(G2PData.missing(language: "fr", hubCache: hub, userHubPath: "x")?.message.contains("fr_lexicon.tsv") == true)
        XCTAssertTrue(G2PData.missing(language: "ja", hubCache: hub, userHubPath: "x")?.message
            .contains("g2p-multilingual-byT5-tiny-mlx") == true)
    }

    /// mlx-audio-swift reuses a cached folder only with a config.json that parses (ModelUtils.swift:91-103) and
    /// otherwise downloads (:122): the folder as copied from the repository must get one, once.
    func testTheCopiedEnglishFolderIsMadeOneTheLibraryReuses() throws {
        let hub = root.appendingPathComponent("hub")
        let dir = G2PData.folder(repo: G2PData.englishRepo, hubCache: hub)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for name in Self.kittenFiles { try Data("{}".utf8).write(to: dir.appendingPathComponent(name)) }
        XCTAssertTrue(try G2PData.prepareEnglishFolder(hubCache: hub))
        let config = try Data(contentsOf: dir.appendingPathComponent("config.json"))
        XCTAssertNotNil(try? JSONSerialization.jsonObject(with: config), "the library's check parses it")
        XCTAssertFalse(try G2PData.prepareEnglishFolder(hubCache: hub), "written once")
        try Data("not json".utf8).write(to: dir.appendingPathComponent("config.json"))
        XCTAssertTrue(try G2PData.prepareEnglishFolder(hubCache: hub), "one that does not parse is replaced")
    }

    func testAVoiceInOneVariantOnlyIsNamedWithTheVariantsThatLackIt() throws {
        try copyVariant("8bit", voices: ["af_heart", "bf_emma"])
        try copyVariant("4bit", voices: ["af_heart"])
        let folders = ModelFolders(roots: [root], userPath: "Documents/models")
        XCTAssertEqual(folders.voices(), ["af_heart"])
        XCTAssertEqual(folders.partialVoices(), ["bf_emma": ["4bit"]])
    }
}

final class InterruptionGateTests: XCTestCase {
    func testAClosedGateInterruptsTheNextChunkAndTheRoundsBeforeAreKept() throws {
        let gate = InterruptionGate()
        final class GatedEngine: TTSEngine {
            let inner = ScriptedEngine()
            let gate: InterruptionGate
            var chunks = 0
            var closeAfter: Int?
            init(gate: InterruptionGate) { self.gate = gate }
            var info: EngineInfo { inner.info }
            func loadVariant(_ variant: String) throws -> VariantInfo { try inner.loadVariant(variant) }
            func unloadVariant(_ variant: String) { inner.unloadVariant(variant) }
            func loadVoice(_ voice: String, variant: String) throws { try inner.loadVoice(voice, variant: variant) }
            func synthesize(_ text: String, voice: String, speed: Double) throws -> [Float] {
                try gate.run {
                    chunks += 1
                    if chunks == closeAfter {  // the phone locks while this chunk runs
                        DispatchQueue.global().async { self.gate.close(because: "the phone locked", waitingUpTo: 5) }
                        while !gate.isClosed { Thread.sleep(forTimeInterval: 0.001) }  // close() waits for us
                    }
                    return try inner.synthesize(text, voice: voice, speed: speed)
                }
            }
        }
        let engine = GatedEngine(gate: gate)
        let sink = ArraySink()
        let server = HarnessServer(runner: BenchmarkRunner(engine: engine, calibrate: { 0 }))
        engine.closeAfter = 4  // round 1: chunks 1-2; round 2: chunk 3, then chunk 4 is in flight when the gate closes
        _ = server.serve(source: ArraySource([
            #"{"type": "run", "id": "r1", "text": "One. Two.", "voice": "af_heart", "variant": "bf16", "warmup": false}"#,
            #"{"type": "run", "id": "r2", "text": "One. Two. Three.", "voice": "af_heart", "variant": "bf16", "warmup": false}"#,
            #"{"type": "ping", "id": "alive"}"#,
        ]), sink: sink)
        XCTAssertEqual(sink.types, ["chunk", "chunk", "done", "chunk", "chunk", "error", "pong"])
        XCTAssertEqual(sink.events[5]["code"]?.stringValue, "interrupted")
        XCTAssertEqual(sink.events[5]["id"]?.stringValue, "r2")
        XCTAssertTrue(sink.events[5]["message"]?.stringValue?.contains("the phone locked") == true)
        XCTAssertEqual(engine.chunks, 4, "the chunk in flight finished; none started after the gate closed")
        gate.open()
        XCTAssertEqual(try gate.run { 7 }, 7)
    }

    func testCloseWaitsForTheChunkInFlightButNotForever() {
        let gate = InterruptionGate()
        try? gate.enter()
        XCTAssertFalse(gate.close(because: "test", waitingUpTo: 0.05), "still in flight after the bounded wait")
        gate.leave()
        XCTAssertTrue(gate.close(because: "test", waitingUpTo: 0.05))
    }
}
