import Foundation
import XCTest
@testable import KokoroBenchCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The loop the app runs in `--serve` mode and the CLI in `--listen` mode, over real loopback sockets.
/// This test process does NOT ignore SIGPIPE (only the CLI's main does): a write to a vanished client that raised
/// SIGPIPE would kill the whole test run, as it killed the app.
final class LoopbackServiceTests: XCTestCase {
    func dial(port: UInt16) throws -> Int32 {
        #if canImport(Glibc)
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let s = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        XCTAssertEqual(rc, 0)
        return s
    }

    func send(_ fd: Int32, _ text: String) {
        _ = text.withCString { write(fd, $0, strlen($0)) }
    }

    /// Reads lines until one contains `marker` (or the stream ends); returns them.
    func readLines(_ fd: Int32, until marker: String) -> [String] {
        let source = FileDescriptorLineSource(fd: fd)
        var lines: [String] = []
        while case let .line(bytes) = source.readLine() {
            let line = String(decoding: bytes, as: UTF8.self)
            lines.append(line)
            if line.contains(marker) { break }
        }
        return lines
    }

    func testAClientThatLeavesMidRunEndsItsSessionAndTheNextClientIsServed() throws {
        let listener = try TCPListener(loopbackPort: 0)
        var config = ScriptedEngine.Config()
        config.costPerChunkMs = 15; config.costPerCharMs = 0; config.loadMs = 1
        let service = LoopbackService(listener: listener, runner: BenchmarkRunner(engine: ScriptedEngine(config: config),
                                                                                   calibrate: { 0 }))
        let finished = expectation(description: "service returned after shutdown")
        DispatchQueue.global().async {
            service.run()
            finished.fulfill()
        }
        // Client 1: starts a long run with audio, reads the first chunk, and goes away without a word.
        let first = try dial(port: listener.port)
        let sentences = (1...40).map { "Sentence number \($0) is here." }.joined(separator: " ")
        send(first, "{\"type\": \"run\", \"id\": \"r1\", \"text\": \"\(sentences)\", \"voice\": \"af_heart\", "
            + "\"variant\": \"bf16\", \"warmup\": false, \"send_audio\": true}\n")
        XCTAssertTrue(readLines(first, until: "\"chunk\"").last?.contains("\"chunk\"") == true)
        close(first)
        // Client 2: served as if nothing happened (the process is alive, the variant still loaded).
        let second = try dial(port: listener.port)
        send(second, "{\"type\": \"ping\", \"id\": \"after\"}\n{\"type\": \"load\", \"variant\": \"bf16\"}\n{\"type\": \"shutdown\"}\n")
        let lines = readLines(second, until: "\"bye\"")
        close(second)
        wait(for: [finished], timeout: 30)
        XCTAssertEqual(lines.count, 3)
        XCTAssertTrue(lines[0].contains("\"pong\"") && lines[0].contains("after"), lines[0])
        XCTAssertTrue(lines[1].contains("\"cold\": false"), "the first client's variant stayed loaded: \(lines[1])")
        XCTAssertEqual(service.endings, [.outputBroken, .shutdown])
    }

    func testFailingAcceptsBackOffAndRecover() throws {
        var fds: [Int32] = [0, 0]
        #if canImport(Glibc)
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds), 0)
        #else
        XCTAssertEqual(socketpair(AF_UNIX, SOCK_STREAM, 0, &fds), 0)
        #endif
        send(fds[1], "{\"type\": \"shutdown\"}\n")
        struct Refused: Error {}
        var attempts = 0
        let service = LoopbackService(runner: BenchmarkRunner(engine: ScriptedEngine()), accept: {
            attempts += 1
            if attempts <= 9 { throw Refused() }
            return fds[0]
        })
        var waits: [Double] = []
        service.sleep = { waits.append($0) }
        service.run()
        XCTAssertEqual(waits, [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.0, 1.0])
        XCTAssertEqual(service.backoff.failuresInARow, 0, "a success resets the backoff")
        XCTAssertEqual(service.endings, [.shutdown])
        XCTAssertTrue(readLines(fds[1], until: "bye").last?.contains("\"bye\"") == true)
        close(fds[1])
    }
}
