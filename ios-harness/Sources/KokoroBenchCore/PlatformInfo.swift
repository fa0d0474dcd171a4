import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Facts about the machine that go into `hello` and every result, so results from different devices never mix.
public struct PlatformInfo: Equatable {
    public var platform: String
    public var deviceModel: String
    public var osVersion: String

    public init(platform: String, deviceModel: String, osVersion: String) {
        self.platform = platform; self.deviceModel = deviceModel; self.osVersion = osVersion
    }

    public static let current: PlatformInfo = {
        #if os(iOS)
        let platform = "iOS"
        #elseif os(macOS)
        let platform = "macOS"
        #elseif os(Linux)
        let platform = "Linux"
        #else
        let platform = "unknown"
        #endif
        #if canImport(Darwin)
        // hw.machine is the model identifier on a phone ("iPhone16,2"), the architecture on a Mac.
        let model = sysctlString("hw.machine") ?? "unknown"
        let v = ProcessInfo.processInfo.operatingSystemVersion
        let os = "\(v.majorVersion).\(v.minorVersion).\(v.patchVersion)"
        #else
        // Python's platform.machine() / platform.release(), which the host harness reports.
        let (model, os) = unameMachineAndRelease()
        #endif
        return PlatformInfo(platform: platform, deviceModel: model, osVersion: os)
    }()

    #if canImport(Darwin)
    static func sysctlString(_ name: String) -> String? {
        var size = 0
        guard sysctlbyname(name, nil, &size, nil, 0) == 0, size > 0 else { return nil }
        var buf = [CChar](repeating: 0, count: size)
        guard sysctlbyname(name, &buf, &size, nil, 0) == 0 else { return nil }
        return String(cString: buf)
    }
    #else
    static func unameMachineAndRelease() -> (String, String) {
        var u = utsname()
        guard uname(&u) == 0 else { return ("unknown", "unknown") }
        func field<T>(_ value: inout T) -> String {
            withUnsafeBytes(of: &value) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
        }
        return (field(&u.machine), field(&u.release))
    }
    #endif
}

public enum HarnessVersion {
    public static let name = "KokoroBenchHarness"
    public static let version = "0.1.0"
    public static let protocolVersion = 1
    public static let maxLineBytes = 1_048_576
}
