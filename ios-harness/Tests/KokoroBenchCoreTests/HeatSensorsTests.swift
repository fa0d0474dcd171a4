import Foundation
import XCTest
@testable import KokoroBenchCore

/// The heat readings (docs/results.md "Heat"): the same sysfs files as the host harness, nil where unreadable,
/// read before the calibration workload and T1 and again after the last chunk; and the `conditions` request.
final class HeatSensorsTests: XCTestCase {
    var root: URL!

    override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("heat-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: root)
    }

    func write(_ relative: String, _ text: String) throws {
        let url = root.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
    }

    func testTheHottestZoneAndTheMeanFrequency() throws {
        try write("sys/class/thermal/thermal_zone0/temp", "45000\n")
        try write("sys/class/thermal/thermal_zone1/temp", "61500\n")
        try write("sys/class/thermal/thermal_zone2/temp", "off\n")  // a sensor that is off says nothing
        try write("sys/class/thermal/cooling_device0/cur_state", "3\n")
        try write("sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq", "2400000\n")
        try write("sys/devices/system/cpu/cpu1/cpufreq/scaling_cur_freq", "1800000\n")
        try write("sys/devices/system/cpu/cpufreq/policy0/scaling_cur_freq", "999\n")  // a policy, not a CPU
        let sensors = HeatSensors(root: root.path)
        XCTAssertEqual(sensors.cpuTemperatureC(), 61.5)
        XCTAssertEqual(sensors.cpuFrequencyMHz(), 2100)
    }

    func testNothingReadableIsNilNeverAGuess() throws {
        try write("proc/cpuinfo", "cpu MHz\t\t: 2394.454\n")  // a VM's fixed nominal figure: never used
        let sensors = HeatSensors(root: root.path)
        XCTAssertNil(sensors.cpuTemperatureC())
        XCTAssertNil(sensors.cpuFrequencyMHz())
        #if !canImport(Darwin)
        XCTAssertNil(HeatSensors.processThermalState(), "swift-corelibs-foundation has no thermal state")
        #endif
    }

    /// A SIMULATED engine whose timed chunks heat the fake CPU: the readings before are the cool ones, those after
    /// the hot ones, so neither is taken inside the timed region's far side.
    func testARoundReadsHeatBeforeItsClockAndAfterItsLastChunk() throws {
        try write("sys/class/thermal/thermal_zone0/temp", "50000")
        try write("sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq", "2000000")
        let engine = ScriptedEngine(config: ScriptedEngine.Config())
        engine.audioOverride = { [self] text in
            if text != BenchmarkRunner.warmupText {
                try? write("sys/class/thermal/thermal_zone0/temp", "60000")
                try? write("sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq", "1500000")
            }
            return ScriptedEngine.tone(characters: text.count, voice: "af_heart", speed: 1, config: engine.config)
        }
        let runner = BenchmarkRunner(engine: engine, calibrate: { 0.02 })
        runner.sensors = HeatSensors(root: root.path)
        let r = try runner.run(RunRequest(id: "r", text: "Yes. No.", voice: "af_heart", variant: "bf16"))
        XCTAssertEqual(r.cpuTemperatureCBefore, 50)
        XCTAssertEqual(r.cpuTemperatureCAfter, 60)
        XCTAssertEqual(r.cpuFrequencyMHzBefore, 2000)
        XCTAssertEqual(r.cpuFrequencyMHzAfter, 1500)
        let json = r.jsonValue
        XCTAssertEqual(json["cpu_temperature_c_after"]?.numberValue, 60)
        XCTAssertEqual(json["calibration_time_after"]?.numberValue, 0.02)
    }

    func testAConditionsRequestIsAnsweredWithTheReadingsNow() throws {
        try write("sys/class/thermal/thermal_zone0/temp", "54000")
        let runner = BenchmarkRunner(engine: ScriptedEngine(config: ScriptedEngine.Config()), calibrate: { 0.021 })
        runner.sensors = HeatSensors(root: root.path)
        let sink = ArraySink()
        HarnessServer(runner: runner).serve(source: ArraySource([#"{"type": "conditions", "id": "c1"}"#]), sink: sink)
        XCTAssertEqual(sink.types, ["conditions"])
        let event = try XCTUnwrap(sink.events.first)
        XCTAssertEqual(event["id"]?.stringValue, "c1")
        XCTAssertEqual(event["cpu_temperature_c"]?.numberValue, 54)
        XCTAssertEqual(event["cpu_frequency_mhz"], .null)
        XCTAssertEqual(event["calibration_time"]?.numberValue, 0.021)
        XCTAssertEqual(event.objectKeys, ["type", "id", "thermal_state", "cpu_temperature_c", "cpu_frequency_mhz",
                                          "calibration_time"], "the order of spec/protocol_examples.json")
    }
}
