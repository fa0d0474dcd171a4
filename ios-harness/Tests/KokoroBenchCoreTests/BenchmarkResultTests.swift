import Foundation
import XCTest
@testable import KokoroBenchCore

final class BenchmarkResultTests: XCTestCase {
    func specKeys() throws -> [String] {
        let spec = try SpecFiles.load("result_keys.json")
        let ref = try XCTUnwrap(spec["reference_keys"]?.arrayValue).compactMap { $0["name"]?.stringValue }
        let extra = try XCTUnwrap(spec["harness_extra_keys"]?.arrayValue).compactMap { $0["name"]?.stringValue }
        XCTAssertEqual(ref.count, 14)
        return ref + extra
    }

    func testEncodesTheSpecKeysInOrder() throws {
        let runner = BenchmarkRunner(engine: ScriptedEngine())
        let r = try runner.run(RunRequest(id: "r", text: "Hello there. How are you?", voice: "af_heart", variant: "bf16"))
        let keys = try specKeys()
        XCTAssertEqual(BenchmarkResult.keys, keys)
        // Then the condition keys every Swift harness writes on every round (spec "condition_keys").
        let spec = try SpecFiles.load("result_keys.json")
        let always = try XCTUnwrap(spec["condition_keys"]?.arrayValue)
            .filter { $0["written_by"]?.stringValue?.hasPrefix("every Swift harness") == true }
            .compactMap { $0["name"]?.stringValue }
        XCTAssertEqual(always, ["build_configuration", "excluded_from_gates"])
        XCTAssertEqual(r.jsonValue.objectKeys, keys + always)
        // In the bytes, too: each key appears after the previous one.
        let line = r.jsonValue.serialized()
        var last = line.startIndex
        for k in keys {
            let found = try XCTUnwrap(line.range(of: "\"\(k)\": ", range: last..<line.endIndex), "\(k) out of order")
            last = found.upperBound
        }
        XCTAssertTrue(line.contains("\"thermal_state_before\": null"), "optional extras are null, not missing")
        XCTAssertEqual(keys.last, "adaptive_pace", "the last harness extra key")
        XCTAssertEqual(r.jsonValue["playback"], .bool(false), "the scripted runner plays nothing")
        XCTAssertGreaterThan(try XCTUnwrap(r.jsonValue["calibration_time"]?.numberValue), 0)
    }

    func testPlaybackSaysWhetherTheHarnessPlayedWhileItMeasured() throws {
        let runner = BenchmarkRunner(engine: ScriptedEngine(), calibrate: { 0 })
        var playing = true
        runner.playbackActive = { playing }
        let on = try runner.run(RunRequest(id: "a", text: "Hi.", voice: "af_heart", variant: "bf16"))
        playing = false
        let off = try runner.run(RunRequest(id: "b", text: "Hi.", voice: "af_heart", variant: "bf16"))
        XCTAssertEqual([on.playback, off.playback], [true, false])
        XCTAssertEqual(try BenchmarkResult(json: on.jsonValue).playback, true)
        XCTAssertEqual(try JSONDecoder().decode(BenchmarkResult.self, from: JSONEncoder().encode(on)).playback, true)
    }

    func testSpecTypesHold() throws {
        let spec = try SpecFiles.load("result_keys.json")
        let entries = try XCTUnwrap(spec["reference_keys"]?.arrayValue) + XCTUnwrap(spec["harness_extra_keys"]?.arrayValue)
        // adaptive_pace is null on a sentences run and an object on an adaptive one: both must match the spec.
        for split in [SplitStrategy.sentences, .adaptive] {
        let r = try BenchmarkRunner(engine: ScriptedEngine()).run(
            RunRequest(id: "r", text: "Hi.", voice: "af_heart", variant: "8bit", split: split))
        let json = r.jsonValue
        XCTAssertEqual(json["adaptive_pace"] == .null, split != .adaptive)
        for e in entries {
            let name = try XCTUnwrap(e["name"]?.stringValue)
            let type = try XCTUnwrap(e["type"]?.stringValue)
            let v = try XCTUnwrap(json[name], name)
            let ok: Bool
            switch v {
            case .string: ok = type.hasPrefix("string")
            case .int: ok = type == "integer" || type.hasPrefix("number")
            case .double: ok = type.hasPrefix("number")
            case .bool: ok = type == "boolean"
            case .array: ok = type.hasPrefix("array")
            case .null: ok = type.hasSuffix("|null")
            case .object: ok = type.hasPrefix("object")
            }
            XCTAssertTrue(ok, "\(name) is \(v), spec says \(type)")
        }
        }
    }

    func testCodableUsesTheSameKeysWithNulls() throws {
        let r = try BenchmarkRunner(engine: ScriptedEngine()).run(RunRequest(id: "r", text: "Hi.", voice: "af_heart", variant: "bf16"))
        let data = try JSONEncoder().encode(r)
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(Set(obj.keys), Set(try specKeys()))
        XCTAssertTrue(obj["variant_sha256"] is NSNull)
        let back = try JSONDecoder().decode(BenchmarkResult.self, from: data)
        var known = r
        known.extras = []  // Codable carries the known keys only; the ordered writer (jsonValue) carries extras
        XCTAssertEqual(back, known)
        XCTAssertEqual(try BenchmarkResult(json: r.jsonValue), r)
    }

    func testCalibrationTimeIsNullWhenAbsentAndSurvivesRoundTrips() throws {
        var r = try BenchmarkRunner(engine: ScriptedEngine(), calibrate: { 0.042 })
            .run(RunRequest(id: "r", text: "Hi.", voice: "af_heart", variant: "bf16"))
        XCTAssertEqual(r.calibrationTime, 0.042)
        XCTAssertEqual(try BenchmarkResult(json: r.jsonValue).calibrationTime, 0.042)
        XCTAssertEqual(try JSONDecoder().decode(BenchmarkResult.self, from: JSONEncoder().encode(r)).calibrationTime, 0.042)
        r.calibrationTime = nil
        XCTAssertEqual(r.jsonValue["calibration_time"], .null)
        XCTAssertTrue(r.jsonValue.serialized().contains("\"calibration_time\": null"))
        XCTAssertNil(try BenchmarkResult(json: r.jsonValue).calibrationTime)
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: JSONEncoder().encode(r)) as? [String: Any])
        XCTAssertTrue(obj["calibration_time"] is NSNull, "written as null, not left out")
    }

    func testResultsFileIsAJSONArrayNamedLikeTheReference() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kokoro-results-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let runner = BenchmarkRunner(engine: ScriptedEngine())
        let rs = try [runner.run(RunRequest(id: "a", text: "Hi.", voice: "af_heart", variant: "bf16")),
                      runner.run(RunRequest(id: "b", text: "Bye.", voice: "af_heart", variant: "bf16"))]
        let date = Date(timeIntervalSince1970: 1_700_000_000)
        let url = try ResultsFileWriter.write(rs, toDirectory: dir, date: date)
        XCTAssertNotNil(url.lastPathComponent.range(of: #"^benchmark_results_\d{8}_\d{6}\.json$"#, options: .regularExpression))
        let parsed = try JSONValue.parse(Array(try Data(contentsOf: url)))
        XCTAssertEqual(parsed.arrayValue?.count, 2)
        XCTAssertEqual(try parsed.arrayValue.map { try $0.map { try BenchmarkResult(json: $0) } }, rs)
    }
}
