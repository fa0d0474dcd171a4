import Foundation

/// A JSON value that keeps object keys in order.
///
/// Why not JSONSerialization/JSONEncoder: neither keeps key order, and the protocol and the result schema are
/// defined with a key order (spec/result_keys.json, spec/protocol_examples.json). JSONSerialization also cannot
/// tell `1` from `1.0` from `true` on every platform, and the protocol's strict validation needs that distinction.
public enum JSONValue: Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.int(a), .int(b)): return a == b
        case let (.double(a), .double(b)): return a == b || (a.isNaN && b.isNaN)
        case let (.string(a), .string(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// The value of `key` in an object (first occurrence), nil otherwise.
    public subscript(key: String) -> JSONValue? {
        guard case let .object(pairs) = self else { return nil }
        return pairs.first(where: { $0.0 == key })?.1
    }

    public var objectKeys: [String]? {
        guard case let .object(pairs) = self else { return nil }
        return pairs.map { $0.0 }
    }

    public var stringValue: String? { if case let .string(s) = self { return s }; return nil }
    public var boolValue: Bool? { if case let .bool(b) = self { return b }; return nil }
    public var intValue: Int? { if case let .int(i) = self { return i }; return nil }
    /// A number as Double (ints included); nil for anything else, including bools.
    public var numberValue: Double? {
        switch self {
        case let .int(i): return Double(i)
        case let .double(d): return d
        default: return nil
        }
    }
    public var arrayValue: [JSONValue]? { if case let .array(a) = self { return a }; return nil }
}

// MARK: - Writing

extension JSONValue {
    /// One line of JSON, keys in order, `", "` and `": "` separators like Python's `json.dumps` so the byte output
    /// of the Swift and Python harnesses looks alike. Non-ASCII is written as UTF-8 (the protocol is UTF-8).
    public func serialized() -> String {
        var out = ""
        write(into: &out)
        return out
    }

    func write(into out: inout String) {
        switch self {
        case .null: out += "null"
        case let .bool(b): out += b ? "true" : "false"
        case let .int(i): out += String(i)
        case let .double(d): out += JSONValue.formatDouble(d)
        case let .string(s): JSONValue.writeString(s, into: &out)
        case let .array(items):
            out += "["
            for (n, item) in items.enumerated() {
                if n > 0 { out += ", " }
                item.write(into: &out)
            }
            out += "]"
        case let .object(pairs):
            out += "{"
            for (n, pair) in pairs.enumerated() {
                if n > 0 { out += ", " }
                JSONValue.writeString(pair.0, into: &out)
                out += ": "
                pair.1.write(into: &out)
            }
            out += "}"
        }
    }

    /// Shortest round-tripping form, like Python's `repr(float)`. JSON has no NaN/Infinity: they become null
    /// (a harness never reports them; the runner turns the cases that could produce them into errors).
    static func formatDouble(_ d: Double) -> String {
        guard d.isFinite else { return "null" }
        return "\(d)"  // Swift prints 1.0 as "1.0", 0.41 as "0.41", 1e-05 as "1e-05": valid JSON in every case
    }

    static func writeString(_ s: String, into out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}

// MARK: - Parsing

public struct JSONParseError: Error, CustomStringConvertible {
    public let offset: Int
    public let reason: String
    public var description: String { "invalid JSON at byte \(offset): \(reason)" }
}

extension JSONValue {
    /// Parse exactly one JSON value (surrounding whitespace allowed). Strict RFC 8259: no NaN, no trailing commas.
    public static func parse(_ text: String) throws -> JSONValue {
        try parse(Array(text.utf8))
    }

    public static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        var parser = JSONParser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.pos == bytes.count else { throw parser.error("unexpected data after the JSON value") }
        return value
    }
}

struct JSONParser {
    let bytes: [UInt8]
    var pos = 0
    /// Deep nesting is the classic way to blow a recursive parser's stack; a request never nests this deep.
    static let maxDepth = 64

    init(bytes: [UInt8]) { self.bytes = bytes }

    func error(_ reason: String) -> JSONParseError { JSONParseError(offset: pos, reason: reason) }

    mutating func skipWhitespace() {
        while pos < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[pos]) { pos += 1 }
    }

    mutating func parseValue(depth: Int) throws -> JSONValue {
        guard depth < JSONParser.maxDepth else { throw error("nested deeper than \(JSONParser.maxDepth) levels") }
        guard pos < bytes.count else { throw error("unexpected end of input") }
        switch bytes[pos] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        default: return try parseNumber()
        }
    }

    mutating func expectLiteral(_ word: String) throws {
        let w = Array(word.utf8)
        guard pos + w.count <= bytes.count, Array(bytes[pos..<pos + w.count]) == w else {
            throw error("unexpected character")
        }
        pos += w.count
    }

    mutating func parseObject(depth: Int) throws -> JSONValue {
        pos += 1
        var pairs: [(String, JSONValue)] = []
        skipWhitespace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "}") { pos += 1; return .object(pairs) }
        while true {
            skipWhitespace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let key = try parseString()
            skipWhitespace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else { throw error("expected ':'") }
            pos += 1
            skipWhitespace()
            let value = try parseValue(depth: depth + 1)
            // A duplicate key keeps its last value, as Python's json does.
            if let i = pairs.firstIndex(where: { $0.0 == key }) { pairs[i].1 = value } else { pairs.append((key, value)) }
            skipWhitespace()
            guard pos < bytes.count else { throw error("unterminated object") }
            if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
            if bytes[pos] == UInt8(ascii: "}") { pos += 1; return .object(pairs) }
            throw error("expected ',' or '}'")
        }
    }

    mutating func parseArray(depth: Int) throws -> JSONValue {
        pos += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
        while true {
            skipWhitespace()
            items.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            guard pos < bytes.count else { throw error("unterminated array") }
            if bytes[pos] == UInt8(ascii: ",") { pos += 1; continue }
            if bytes[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
            throw error("expected ',' or ']'")
        }
    }

    mutating func parseHex4() throws -> UInt32 {
        guard pos + 4 <= bytes.count else { throw error("short \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[pos]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw error("bad hex digit in \\u escape")
            }
            v = v * 16 + d
            pos += 1
        }
        return v
    }

    mutating func parseString() throws -> String {
        pos += 1  // opening quote
        var scalars = String.UnicodeScalarView()
        var runStart = pos
        func flushRun(_ p: inout JSONParser, upTo end: Int) throws {
            if end > runStart {
                guard let s = String(validating: p.bytes[runStart..<end], as: UTF8.self) else {
                    throw p.error("string is not valid UTF-8")
                }
                scalars.append(contentsOf: s.unicodeScalars)
            }
        }
        while true {
            guard pos < bytes.count else { throw error("unterminated string") }
            let c = bytes[pos]
            if c == UInt8(ascii: "\"") {
                try flushRun(&self, upTo: pos)
                pos += 1
                return String(scalars)
            }
            if c < 0x20 { throw error("raw control character in string") }
            if c != UInt8(ascii: "\\") { pos += 1; continue }
            try flushRun(&self, upTo: pos)
            pos += 1
            guard pos < bytes.count else { throw error("unterminated escape") }
            let e = bytes[pos]
            pos += 1
            switch e {
            case UInt8(ascii: "\""): scalars.append("\"")
            case UInt8(ascii: "\\"): scalars.append("\\")
            case UInt8(ascii: "/"): scalars.append("/")
            case UInt8(ascii: "b"): scalars.append("\u{08}")
            case UInt8(ascii: "f"): scalars.append("\u{0C}")
            case UInt8(ascii: "n"): scalars.append("\n")
            case UInt8(ascii: "r"): scalars.append("\r")
            case UInt8(ascii: "t"): scalars.append("\t")
            case UInt8(ascii: "u"):
                let hi = try parseHex4()
                if (0xD800...0xDBFF).contains(hi), pos + 6 <= bytes.count,
                   bytes[pos] == UInt8(ascii: "\\"), bytes[pos + 1] == UInt8(ascii: "u") {
                    let save = pos
                    pos += 2
                    let lo = try parseHex4()
                    if (0xDC00...0xDFFF).contains(lo), let s = Unicode.Scalar(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)) {
                        scalars.append(s)
                    } else {
                        pos = save  // lone high surrogate; the next escape is read on its own
                    }
                } else if let s = Unicode.Scalar(hi) {
                    scalars.append(s)
                }
                // A lone surrogate cannot live in a Swift String. Python keeps it and clean_text then drops it
                // (category Cs); dropping it here gives the same chunks.
            default: throw error("unknown escape")
            }
            runStart = pos
        }
    }

    mutating func parseNumber() throws -> JSONValue {
        let start = pos
        var isInteger = true
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "-") { pos += 1 }
        func digits(_ p: inout JSONParser) -> Int {
            let s = p.pos
            while p.pos < p.bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(p.bytes[p.pos]) { p.pos += 1 }
            return p.pos - s
        }
        let intStart = pos
        let intDigits = digits(&self)
        guard intDigits > 0 else { pos = start; throw error("unexpected character") }
        if intDigits > 1, bytes[intStart] == UInt8(ascii: "0") { throw error("leading zero in number") }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: ".") {
            isInteger = false
            pos += 1
            guard digits(&self) > 0 else { throw error("expected digits after '.'") }
        }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E") {
            isInteger = false
            pos += 1
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-") { pos += 1 }
            guard digits(&self) > 0 else { throw error("expected exponent digits") }
        }
        let text = String(decoding: bytes[start..<pos], as: UTF8.self)
        if isInteger, let i = Int(text) { return .int(i) }
        guard let d = Double(text), d.isFinite else { throw error("number out of range") }
        return .double(d)
    }
}
