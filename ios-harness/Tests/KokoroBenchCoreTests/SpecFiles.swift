import Foundation
import XCTest
@testable import KokoroBenchCore

/// The shared example files in ../spec, which the Python tests read too. Located from this file's path so the
/// tests work from any working directory.
enum SpecFiles {
    static var directory: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // KokoroBenchCoreTests
            .deletingLastPathComponent()  // Tests
            .deletingLastPathComponent()  // ios-harness
            .deletingLastPathComponent()  // repo root
            .appendingPathComponent("spec")
    }

    static func load(_ name: String) throws -> JSONValue {
        let url = directory.appendingPathComponent(name)
        let data = try Data(contentsOf: url)
        return try JSONValue.parse(Array(data))
    }
}
