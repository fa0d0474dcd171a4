import Foundation
import XCTest
@testable import KokoroBenchCore

final class AsyncBridgeTests: XCTestCase {
    /// The generation task runs at its caller's priority (a task at the default priority that a userInitiated
    /// queue waits on is a priority inversion). On Linux there is no thread QoS, so the caller is a task here.
    func testTheAsyncWorkRunsAtTheCallersPriority() throws {
        for wanted in [TaskPriority.utility, .high] {
            let finished = expectation(description: "bridged call at \(wanted)")
            let seen = AsyncBridge.Box<TaskPriority>()
            Task.detached(priority: wanted) {
                seen.result = Result { try AsyncBridge.wait { Task.currentPriority } }
                finished.fulfill()
            }
            wait(for: [finished], timeout: 10)
            XCTAssertEqual(try XCTUnwrap(seen.result).get(), wanted)
        }
    }

    func testErrorsAndValuesComeBack() throws {
        struct Boom: Error, Equatable {}
        XCTAssertEqual(try AsyncBridge.wait { 42 }, 42)
        XCTAssertThrowsError(try AsyncBridge.wait { () async throws -> Int in throw Boom() }) {
            XCTAssertEqual($0 as? Boom, Boom())
        }
    }
}
