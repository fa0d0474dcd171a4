import Foundation
import KokoroBenchCore
#if canImport(UIKit)
import UIKit
#endif

/// The device's state before and after each round: a throttled phone, Low Power Mode or an app that left the
/// foreground gives numbers that must not gate (RoundConditions, `excluded_from_gates`). Keys:
/// thermal_state_before/after, low_power_mode_before/after, battery_state_before/after (charging, full, unplugged,
/// unknown), foreground_before/after.
///
/// The runner asks from its own queue; UIKit's battery state and the app's lifecycle are read on the main thread,
/// so the main thread keeps the last values here (BenchController.watchLifecycle) and the runner reads them.
final class DeviceState: DeviceStateProbe {
    private let lock = NSLock()
    private var battery = "unknown"
    private var foreground = true

    func thermalState() -> String? { HeatSensors.processThermalState() }

    func extras(suffix: String) -> [(String, JSONValue)] {
        let (battery, foreground) = lock.withLock { (self.battery, self.foreground) }
        return [("low_power_mode_\(suffix)", .bool(ProcessInfo.processInfo.isLowPowerModeEnabled)),
                ("battery_state_\(suffix)", .string(battery)),
                ("foreground_\(suffix)", .bool(foreground))]
    }

    func setForeground(_ value: Bool) { lock.withLock { foreground = value } }

    #if canImport(UIKit)
    /// On the main thread: turns battery monitoring on and records the current state.
    func refreshBattery() {
        UIDevice.current.isBatteryMonitoringEnabled = true
        let state: String
        switch UIDevice.current.batteryState {
        case .charging: state = "charging"
        case .full: state = "full"
        case .unplugged: state = "unplugged"
        case .unknown: state = "unknown"
        @unknown default: state = "unknown"
        }
        lock.withLock { battery = state }
    }
    #endif
}
