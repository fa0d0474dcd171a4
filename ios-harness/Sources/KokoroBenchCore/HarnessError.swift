import Foundation

/// The protocol's error codes (docs/protocol.md "Error codes"). The raw values are what goes on the wire.
public enum ErrorCode: String, CaseIterable, Sendable {
    case badJSON = "bad_json"
    case badRequest = "bad_request"
    case lineTooLong = "line_too_long"
    case unknownType = "unknown_type"
    case unknownField = "unknown_field"
    case missingField = "missing_field"
    case badValue = "bad_value"
    case protocolMismatch = "protocol_mismatch"
    case unknownVariant = "unknown_variant"
    case unknownVoice = "unknown_voice"
    case missingFile = "missing_file"
    case emptyText = "empty_text"
    case unspeakableText = "unspeakable_text"
    case textTooLong = "text_too_long"
    case noAudio = "no_audio"
    case engineError = "engine_error"
    case interrupted = "interrupted"
    case `internal` = "internal"
}

/// Every failure the harness reports. It becomes an `error` event; only `fatal` ones end the session.
/// `message` says what went wrong and what to do about it, because it is what a user reads in a failed test.
public struct HarnessError: Error, Equatable, CustomStringConvertible {
    public let code: ErrorCode
    public let message: String
    public let fatal: Bool

    public init(_ code: ErrorCode, _ message: String, fatal: Bool = false) {
        self.code = code
        self.message = message
        self.fatal = fatal
    }

    public var description: String { "\(code.rawValue): \(message)" }

    /// Any error as a HarnessError: engine errors that are not already typed become `engine_error`.
    public static func wrap(_ error: Error, context: String) -> HarnessError {
        if let e = error as? HarnessError { return e }
        return HarnessError(.engineError, "\(context): \(error)")
    }
}
