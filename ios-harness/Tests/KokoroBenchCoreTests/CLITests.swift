import Foundation
import XCTest
@testable import KokoroBenchCore

/// The KokoroBenchHarness binary end to end, as the Python plugin will drive it. `swift test` builds it next to
/// the tests (.build/<config>/KokoroBenchHarness).
final class CLITests: XCTestCase {
    func binary() throws -> URL {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build")
        for config in ["debug", "release"] {
            let url = root.appendingPathComponent(config).appendingPathComponent("KokoroBenchHarness")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        throw XCTSkip("KokoroBenchHarness is not built under \(root.path); run `swift build` first")
    }

    /// Run the CLI with `input` on stdin; (exit status, stdout lines, stderr).
    func runCLI(_ args: [String], input: String) throws -> (Int32, [String], String) {
        let p = Process()
        p.executableURL = try binary()
        p.arguments = args
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        p.standardInput = stdin
        p.standardOutput = stdout
        p.standardError = stderr
        try p.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let lines = String(decoding: out, as: UTF8.self).split(separator: "\n").map(String.init)
        return (p.terminationStatus, lines, String(decoding: err, as: UTF8.self))
    }

    func testStdioSessionOnlyWritesEventsToStdout() throws {
        let input = """
        {"type":"hello","protocol":1}
        {"type":"run","id":"r1","text":"Hello there. How are you?","voice":"af_heart","variant":"bf16"}
        this is not json
        {"type":"ping","id":"p1"}
        {"type":"shutdown"}

        """
        let (status, lines, err) = try runCLI(["--stdio", "--cost-per-char-ms", "0.1"], input: input)
        XCTAssertEqual(status, 0)
        let events = try lines.map { try JSONValue.parse($0) }  // every stdout line is JSON
        XCTAssertEqual(events.compactMap { $0["type"]?.stringValue }, ["hello", "chunk", "chunk", "done", "error", "pong", "bye"])
        XCTAssertEqual(events[0]["simulated"], .bool(true))
        XCTAssertEqual(events[3]["result"]?["chunk_count"]?.intValue, 2)
        XCTAssertTrue(err.contains("SIMULATED"), "logs go to stderr")
    }

    func testCrashFaultExits137AfterNChunks() throws {
        let input = #"{"type":"run","id":"r","text":"One. Two. Three.","voice":"af_heart","variant":"bf16"}"# + "\n"
        let (status, lines, _) = try runCLI(["--stdio", "--fault-after-chunks", "2", "--fault", "crash"], input: input)
        XCTAssertEqual(status, 137)
        XCTAssertEqual(lines.count, 2)
        XCTAssertTrue(lines.allSatisfy { $0.contains("\"chunk\"") })
    }

    func testGarbageFaultWritesOneNonJSONLineAndGoesOn() throws {
        let input = #"{"type":"run","id":"r","text":"One. Two.","voice":"af_heart","variant":"bf16"}"# + "\n"
        let (status, lines, _) = try runCLI(["--stdio", "--fault-after-chunks", "1", "--fault", "garbage"], input: input)
        XCTAssertEqual(status, 0)
        XCTAssertEqual(lines.filter { (try? JSONValue.parse($0)) == nil }, ["this is not JSON {{{"])
        XCTAssertEqual(lines.last.flatMap { try? JSONValue.parse($0) }?["type"]?.stringValue, "done")
    }

    func testSplitModeMatchesTheLibrary() throws {
        let text = "Mr. Smith met Dr. Jones. They talked.\n\nNew paragraph"
        let (status, lines, _) = try runCLI(["--split"], input: text)
        XCTAssertEqual(status, 0)
        XCTAssertEqual(try JSONValue.parse(lines.first ?? ""), .array(SentenceSplitter.split(text).map { .string($0) }))
    }

    func testSplitBatchModeAnswersEveryLineInOrder() throws {
        let texts = ["Mr. Smith met Dr. Jones. They talked.\n\nNew paragraph", "", "Hi \u{1B}[31mthere\u{0}. Ok.",
                     String(repeating: "word ", count: 200)]
        let input = texts.map { JSONValue.string($0).serialized() }.joined(separator: "\n")
            + "\nnot json\n42\n" + #""A lone \ud800 surrogate. Goes.""# + "\n"
        let (status, lines, err) = try runCLI(["--split-batch"], input: input)
        XCTAssertEqual(status, 0)
        XCTAssertEqual(lines.count, texts.count + 3, "one answer per input line")
        for (text, line) in zip(texts, lines) {
            XCTAssertEqual(try JSONValue.parse(line), .array(SentenceSplitter.split(text).map { .string($0) }))
        }
        XCTAssertNotNil(try JSONValue.parse(lines[texts.count])["error"]?.stringValue)
        XCTAssertTrue(try JSONValue.parse(lines[texts.count + 1])["error"]?.stringValue?.contains("JSON string") ?? false)
        XCTAssertEqual(try JSONValue.parse(lines[texts.count + 2]), .array([.string("A lone  surrogate."), .string("Goes.")]))
        XCTAssertTrue(err.contains("split 7 texts"))
    }

    func testBadFlagsExit2() throws {
        XCTAssertEqual(try runCLI(["--stdio", "--fault", "explode", "--fault-after-chunks", "1"], input: "").0, 2)
        XCTAssertEqual(try runCLI(["--engine", "mlx", "--stdio"], input: "").0, 2)
        XCTAssertEqual(try runCLI([], input: "").0, 2)
        XCTAssertEqual(try runCLI(["--split", "--split-batch"], input: "").0, 2)
    }
}
