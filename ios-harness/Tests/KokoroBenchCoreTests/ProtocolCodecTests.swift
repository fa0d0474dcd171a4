import XCTest
@testable import KokoroBenchCore

final class ProtocolCodecTests: XCTestCase {
    func testEveryExampleRequestParses() throws {
        let spec = try SpecFiles.load("protocol_examples.json")
        XCTAssertEqual(spec["protocol_version"]?.intValue, HarnessVersion.protocolVersion)
        XCTAssertEqual(spec["max_line_bytes"]?.intValue, HarnessVersion.maxLineBytes)
        let requests = try XCTUnwrap(spec["requests"]?.arrayValue)
        XCTAssertFalse(requests.isEmpty)
        for r in requests {
            let line = r.serialized()
            let parsed = try ProtocolCodec.parseRequest(line)
            // Re-encoding keeps every field the example gave.
            let again = ProtocolCodec.jsonValue(of: parsed)
            for key in r.objectKeys ?? [] {
                XCTAssertEqual(again[key]?.numberValue ?? -999, r[key]?.numberValue ?? -999, "\(key) in \(line)")
                XCTAssertEqual(again[key]?.stringValue, r[key]?.stringValue, "\(key) in \(line)")
                XCTAssertEqual(again[key]?.boolValue, r[key]?.boolValue, "\(key) in \(line)")
            }
        }
        XCTAssertEqual(try ProtocolCodec.parseRequest(#"{"type": "run", "id": "r1", "text": "Hi.", "voice": "v", "variant": "x"}"#),
                       .run(RunRequest(id: "r1", text: "Hi.", voice: "v", variant: "x")), "defaults")
    }

    func testEveryInvalidExampleGivesItsCode() throws {
        let spec = try SpecFiles.load("protocol_examples.json")
        let invalid = try XCTUnwrap(spec["invalid_requests"]?.arrayValue)
        XCTAssertFalse(invalid.isEmpty)
        for c in invalid {
            let line = try XCTUnwrap(c["line"]?.stringValue)
            let code = try XCTUnwrap(c["code"]?.stringValue)
            XCTAssertThrowsError(try ProtocolCodec.parseRequest(line), line) { error in
                XCTAssertEqual((error as? HarnessError)?.code.rawValue, code, line)
            }
        }
    }

    func testEveryDocumentedErrorCodeExists() throws {
        let spec = try SpecFiles.load("protocol_examples.json")
        let codes = try XCTUnwrap(spec["error_codes"]?.objectKeys)
        XCTAssertEqual(Set(codes), Set(ErrorCode.allCases.map { $0.rawValue }))
    }

    func testEveryExampleEventRoundTripsWithKeysInOrder() throws {
        let spec = try SpecFiles.load("protocol_examples.json")
        let events = try XCTUnwrap(spec["events"]?.arrayValue)
        XCTAssertEqual(events.count, 11)
        for e in events {
            let event = try ProtocolCodec.parseEvent(e)
            let encoded = ProtocolCodec.jsonValue(of: event)
            XCTAssertEqual(encoded, e, "event \(e["type"]?.stringValue ?? "?")")  // same keys, same order, same values
            XCTAssertEqual(try JSONValue.parse(ProtocolCodec.encode(event)), e, "through bytes")
        }
    }

    func testStrictValueChecks() {
        func code(_ line: String) -> String? {
            do { _ = try ProtocolCodec.parseRequest(line); return nil } catch { return (error as? HarnessError)?.code.rawValue }
        }
        let run = #""type": "run", "id": "r", "text": "Hi.", "voice": "af_heart", "variant": "bf16""#
        XCTAssertNil(code("{\(run), \"speed\": 0.5}"))
        XCTAssertNil(code("{\(run), \"speed\": 2}"))
        XCTAssertEqual(code("{\(run), \"speed\": 0.49}"), "bad_value")
        XCTAssertEqual(code("{\(run), \"speed\": true}"), "bad_value")
        XCTAssertEqual(code("{\(run), \"warmup\": 1}"), "bad_value")
        XCTAssertEqual(code("{\(run), \"round\": -1}"), "bad_value")
        XCTAssertEqual(code("{\(run), \"round\": 1.5}"), "bad_value")
        XCTAssertEqual(code(#"{"type": "hello", "protocol": "1"}"#), "bad_value")
        XCTAssertEqual(code(#"{"type": "hello", "protocol": true}"#), "bad_value")
        XCTAssertEqual(code(#"{"type": 5}"#), "bad_request")
        XCTAssertEqual(code(#"{"type": "ping", "id": "p1"} x"#), "bad_json")
        XCTAssertEqual(code(#"{"type": "ping", "id": 7}"#), "bad_value")
        XCTAssertEqual(code(#"{"type": "shutdown", "now": true}"#), "unknown_field")
        XCTAssertEqual(code(String(repeating: "[", count: 100_000)), "bad_json", "deep nesting is refused, not a stack overflow")
        XCTAssertEqual(code("{\"type\": \"ping\", \"id\": \"" + String(repeating: "x", count: HarnessVersion.maxLineBytes) + "\"}"),
                       "line_too_long")
    }

    func testProtocolMismatchIsFatal() {
        XCTAssertThrowsError(try ProtocolCodec.parseRequest(#"{"type": "hello", "protocol": 2}"#)) { error in
            XCTAssertEqual((error as? HarnessError)?.code, .protocolMismatch)
            XCTAssertEqual((error as? HarnessError)?.fatal, true)
        }
    }

    func testJSONWriterEscapesAndKeepsUnicode() throws {
        let v = JSONValue.object([("b", .string("q\"\\\n\u{1}é💡")), ("a", .double(1)), ("c", .null)])
        XCTAssertEqual(v.serialized(), #"{"b": "q\"\\\n\u0001é💡", "a": 1.0, "c": null}"#)
        XCTAssertEqual(try JSONValue.parse(v.serialized()), v)
        XCTAssertEqual(try JSONValue.parse(#""\ud83d\udca1""#), .string("💡"), "surrogate pair escape")
    }
}
