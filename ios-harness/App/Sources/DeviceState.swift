import Foundation
import KokoroBenchCore

/// Thermal state and low-power mode before/after each run: a throttled phone gives slower numbers, and a result
/// must say so (thermal_state_before/after, low_power_mode_before/after).
final class DeviceState: DeviceStateProbe {
    func thermalState() -> String? {
        switch ProcessInfo.processInfo.thermalState {
        case .nominal: return "nominal"
        case .fair: return "fair"
        case .serious: return "serious"
        case .critical: return "critical"
        @unknown default: return "unknown"
        }
    }

    func extras(suffix: String) -> [(String, JSONValue)] {
        [("low_power_mode_\(suffix)", .bool(ProcessInfo.processInfo.isLowPowerModeEnabled))]
    }
}
