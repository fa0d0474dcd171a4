import Foundation

/// What a harness reads of the device's heat before each round's clock and after its last chunk, and for a
/// `conditions` request (docs/results.md "Heat"). A reading the device does not have is nil, never a guess.
public struct HeatReading: Equatable {
    /// `ProcessInfo.thermalState` where the platform has it (Apple); nil on Linux.
    public var thermalState: String?
    /// The hottest readable Linux thermal zone, °C.
    public var cpuTemperatureC: Double?
    /// The mean current frequency of the CPUs that report one (Linux cpufreq), MHz.
    public var cpuFrequencyMHz: Double?

    public init(thermalState: String? = nil, cpuTemperatureC: Double? = nil, cpuFrequencyMHz: Double? = nil) {
        self.thermalState = thermalState; self.cpuTemperatureC = cpuTemperatureC
        self.cpuFrequencyMHz = cpuFrequencyMHz
    }
}

/// The Linux readers, the same files as the host harness's (pytest_kokoro/harness/heat.py): the highest
/// /sys/class/thermal/thermal_zone*/temp (millidegrees) and the mean of /sys/devices/system/cpu/cpu*/cpufreq/
/// scaling_cur_freq (kHz). /proc/cpuinfo's "cpu MHz" is left out on purpose: a VM reports a fixed nominal figure
/// there. `root` is where the filesystem starts, so a test can point it at a folder of fake sysfs files. Elsewhere
/// (iOS, macOS) the files are not there and every reading is nil.
public struct HeatSensors {
    public var root: String

    public init(root: String = "/") { self.root = root }

    /// Apple's thermal state; swift-corelibs-foundation (Linux) has none.
    public static func processThermalState() -> String? {
        #if canImport(Darwin)
        switch ProcessInfo.processInfo.thermalState {
        case .nominal: return "nominal"
        case .fair: return "fair"
        case .serious: return "serious"
        case .critical: return "critical"
        @unknown default: return nil
        }
        #else
        return nil
        #endif
    }

    /// The readings now; `thermalState` is the device's own probe's where it has one (the app), else the process's.
    public func read(thermalState: String? = HeatSensors.processThermalState()) -> HeatReading {
        HeatReading(thermalState: thermalState, cpuTemperatureC: cpuTemperatureC(), cpuFrequencyMHz: cpuFrequencyMHz())
    }

    public func cpuTemperatureC() -> Double? {
        let readings = numbers(in: "sys/class/thermal", entry: { $0.hasPrefix("thermal_zone") }, file: "temp")
        return readings.max().map { $0 / 1000 }
    }

    public func cpuFrequencyMHz() -> Double? {
        // cpu0, cpu1, ...: not cpufreq, cpuidle or the policy folders beside them
        let readings = numbers(in: "sys/devices/system/cpu", entry: { name in
            name.hasPrefix("cpu") && !name.dropFirst(3).isEmpty && name.dropFirst(3).allSatisfy(\.isNumber)
        }, file: "cpufreq/scaling_cur_freq")
        return readings.isEmpty ? nil : readings.reduce(0, +) / Double(readings.count) / 1000
    }

    /// The numbers in `folder/<entry>/file` for the entries `entry` accepts; a file that cannot be read or holds no
    /// number (a sensor that is off) says nothing.
    func numbers(in folder: String, entry: (String) -> Bool, file: String) -> [Double] {
        let base = (root as NSString).appendingPathComponent(folder)
        let entries = ((try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []).filter(entry).sorted()
        return entries.compactMap { name in
            let path = ((base as NSString).appendingPathComponent(name) as NSString).appendingPathComponent(file)
            guard let text = try? String(contentsOfFile: path, encoding: .ascii) else { return nil }
            return Double(text.trimmingCharacters(in: .whitespacesAndNewlines))
        }
    }
}
