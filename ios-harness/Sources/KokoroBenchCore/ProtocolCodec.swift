import Foundation

/// A `run` request (docs/protocol.md "Requests").
public struct RunRequest: Equatable {
    public var id: String
    public var text: String
    public var voice: String
    public var variant: String
    public var speed: Double = 1.0
    public var warmup: Bool = true
    public var sendAudio: Bool = false
    public var round: Int = 0
    /// How the text is cut into chunks (docs/protocol.md "Split strategies").
    public var split: SplitStrategy = .default

    public init(id: String, text: String, voice: String, variant: String, speed: Double = 1.0, warmup: Bool = true,
                sendAudio: Bool = false, round: Int = 0, split: SplitStrategy = .default) {
        self.id = id; self.text = text; self.voice = voice; self.variant = variant
        self.speed = speed; self.warmup = warmup; self.sendAudio = sendAudio; self.round = round
        self.split = split
    }
}

public enum Request: Equatable {
    case hello(protocolVersion: Int)
    case load(variant: String)
    case unload(variant: String)
    case run(RunRequest)
    case conditions(id: String)
    case ping(id: String)
    case shutdown
}

public struct HelloEvent: Equatable {
    public var protocolVersion: Int
    public var harness: String
    public var harnessVersion: String
    public var engine: String
    public var engineVersion: String
    public var simulated: Bool
    public var platform: String
    public var deviceModel: String
    public var osVersion: String
    public var variants: [String]
    public var voices: [String]
    public var sampleRate: Int

    public init(protocolVersion: Int, harness: String, harnessVersion: String, engine: String, engineVersion: String,
                simulated: Bool, platform: String, deviceModel: String, osVersion: String, variants: [String],
                voices: [String], sampleRate: Int) {
        self.protocolVersion = protocolVersion; self.harness = harness; self.harnessVersion = harnessVersion
        self.engine = engine; self.engineVersion = engineVersion; self.simulated = simulated
        self.platform = platform; self.deviceModel = deviceModel; self.osVersion = osVersion
        self.variants = variants; self.voices = voices; self.sampleRate = sampleRate
    }
}

public struct LoadedEvent: Equatable {
    public var variant: String
    public var modelName: String
    public var modelDescription: String
    public var modelLoadTime: Double
    public var cold: Bool
    public var variantSHA256: String?

    public init(variant: String, modelName: String, modelDescription: String, modelLoadTime: Double, cold: Bool,
                variantSHA256: String?) {
        self.variant = variant; self.modelName = modelName; self.modelDescription = modelDescription
        self.modelLoadTime = modelLoadTime; self.cold = cold; self.variantSHA256 = variantSHA256
    }
}

public struct ChunkEvent: Equatable {
    public var id: String
    public var index: Int
    public var text: String
    public var samples: Int
    /// Seconds since T1, taken the moment the chunk's samples exist.
    public var t: Double

    public init(id: String, index: Int, text: String, samples: Int, t: Double) {
        self.id = id; self.index = index; self.text = text; self.samples = samples; self.t = t
    }
}

/// The answer to a `conditions` request: the device's heat now (docs/protocol.md), nil where unreadable.
public struct ConditionsEvent: Equatable {
    public var id: String
    public var thermalState: String?
    public var cpuTemperatureC: Double?
    public var cpuFrequencyMHz: Double?
    public var calibrationTime: Double?

    public init(id: String, thermalState: String?, cpuTemperatureC: Double?, cpuFrequencyMHz: Double?,
                calibrationTime: Double?) {
        self.id = id; self.thermalState = thermalState; self.cpuTemperatureC = cpuTemperatureC
        self.cpuFrequencyMHz = cpuFrequencyMHz; self.calibrationTime = calibrationTime
    }
}

public enum Event: Equatable {
    case hello(HelloEvent)
    case loaded(LoadedEvent)
    case unloaded(variant: String)
    case chunk(ChunkEvent)
    case audio(id: String, index: Int, encoding: String, data: String)
    case done(id: String, result: BenchmarkResult)
    case error(id: String?, code: String, message: String, fatal: Bool)
    case conditions(ConditionsEvent)
    case pong(id: String)
    case bye

    public static func error(id: String?, _ e: HarnessError) -> Event {
        .error(id: id, code: e.code.rawValue, message: e.message, fatal: e.fatal)
    }
}

/// Parses request lines and encodes event lines of protocol v1, strictly: what the docs do not allow is an error
/// with the documented code, never a guess.
public enum ProtocolCodec {
    /// Allowed fields per request type (besides `type`), and which are required.
    static let fields: [String: (required: [String], optional: [String])] = [
        "hello": (["protocol"], []),
        "load": (["variant"], []),
        "unload": (["variant"], []),
        "run": (["id", "text", "voice", "variant"], ["speed", "warmup", "send_audio", "round", "split"]),
        "conditions": (["id"], []),
        "ping": (["id"], []),
        "shutdown": ([], []),
    ]
    public static let speedRange = 0.5...2.0

    /// The request's `id` when it has a string one, for the `id` of an error event about it; nil otherwise.
    public static func requestID(ofLine line: [UInt8]) -> String? {
        (try? JSONValue.parse(line))?["id"]?.stringValue
    }

    public static func parseRequest(_ line: String) throws -> Request {
        try parseRequest(Array(line.utf8))
    }

    public static func parseRequest(_ line: [UInt8]) throws -> Request {
        guard line.count <= HarnessVersion.maxLineBytes else {
            throw HarnessError(.lineTooLong, "the request line has \(line.count) bytes; the limit is "
                + "\(HarnessVersion.maxLineBytes). Send shorter text in several runs.")
        }
        let json: JSONValue
        do { json = try JSONValue.parse(line) } catch {
            throw HarnessError(.badJSON, "the line is not JSON (\(error)); send one JSON object per line")
        }
        guard case let .object(pairs) = json else {
            throw HarnessError(.badRequest, "a request must be a JSON object with a string \"type\"")
        }
        guard let type = json["type"]?.stringValue else {
            throw HarnessError(.badRequest, "the request has no string \"type\"; one of: "
                + fields.keys.sorted().joined(separator: ", "))
        }
        guard let spec = fields[type] else {
            throw HarnessError(.unknownType, "no request has type '\(type)'; known: "
                + fields.keys.sorted().joined(separator: ", "))
        }
        let allowed = Set(spec.required + spec.optional + ["type"])
        if let extra = pairs.first(where: { !allowed.contains($0.0) }) {
            throw HarnessError(.unknownField, "'\(type)' has no field '\(extra.0)'; allowed: "
                + (spec.required + spec.optional).joined(separator: ", "))
        }
        if let missing = spec.required.first(where: { json[$0] == nil }) {
            throw HarnessError(.missingField, "'\(type)' needs the field '\(missing)'")
        }
        func string(_ key: String) throws -> String {
            guard let s = json[key]?.stringValue else { throw HarnessError(.badValue, "'\(key)' must be a string") }
            return s
        }
        func nonEmptyName(_ key: String) throws -> String {
            let s = try string(key)
            guard !s.isEmpty else { throw HarnessError(.badValue, "'\(key)' must not be empty") }
            return s
        }
        switch type {
        case "hello":
            guard let v = json["protocol"]?.intValue else {
                throw HarnessError(.badValue, "'protocol' must be an integer (this harness speaks 1)")
            }
            guard v == HarnessVersion.protocolVersion else {
                throw HarnessError(.protocolMismatch, "the host speaks protocol \(v); this harness speaks "
                    + "\(HarnessVersion.protocolVersion). Use a plugin and harness of matching versions.", fatal: true)
            }
            return .hello(protocolVersion: v)
        case "load": return .load(variant: try nonEmptyName("variant"))
        case "unload": return .unload(variant: try nonEmptyName("variant"))
        case "conditions": return .conditions(id: try string("id"))
        case "ping": return .ping(id: try string("id"))
        case "shutdown": return .shutdown
        default:  // "run"
            var run = RunRequest(id: try string("id"), text: try string("text"), voice: try nonEmptyName("voice"),
                                 variant: try nonEmptyName("variant"))
            if let v = json["speed"] {
                guard let s = v.numberValue, speedRange.contains(s) else {
                    throw HarnessError(.badValue, "'speed' must be a number from 0.5 to 2.0")
                }
                run.speed = s
            }
            if let v = json["warmup"] {
                guard let b = v.boolValue else { throw HarnessError(.badValue, "'warmup' must be true or false") }
                run.warmup = b
            }
            if let v = json["send_audio"] {
                guard let b = v.boolValue else { throw HarnessError(.badValue, "'send_audio' must be true or false") }
                run.sendAudio = b
            }
            if let v = json["round"] {
                guard let r = v.intValue, r >= 0 else {
                    throw HarnessError(.badValue, "'round' must be an integer >= 0")
                }
                run.round = r
            }
            if let v = json["split"] {
                guard let name = v.stringValue, let strategy = SplitStrategy(rawValue: name) else {
                    throw HarnessError(.badValue, "'split' must be one of "
                        + SplitStrategy.allCases.map(\.rawValue).joined(separator: ", "))
                }
                run.split = strategy
            }
            return .run(run)
        }
    }

    /// A request as a JSON object (what a host would send); used by tests and the app's self-checks.
    public static func jsonValue(of request: Request) -> JSONValue {
        switch request {
        case let .hello(v): return .object([("type", .string("hello")), ("protocol", .int(v))])
        case let .load(v): return .object([("type", .string("load")), ("variant", .string(v))])
        case let .unload(v): return .object([("type", .string("unload")), ("variant", .string(v))])
        case let .conditions(id): return .object([("type", .string("conditions")), ("id", .string(id))])
        case let .ping(id): return .object([("type", .string("ping")), ("id", .string(id))])
        case .shutdown: return .object([("type", .string("shutdown"))])
        case let .run(r):
            return .object([("type", .string("run")), ("id", .string(r.id)), ("text", .string(r.text)),
                            ("voice", .string(r.voice)), ("variant", .string(r.variant)), ("speed", .double(r.speed)),
                            ("warmup", .bool(r.warmup)), ("send_audio", .bool(r.sendAudio)), ("round", .int(r.round)),
                            ("split", .string(r.split.rawValue))])
        }
    }

    // MARK: Events

    /// The event as a JSON object with keys in the order of spec/protocol_examples.json.
    public static func jsonValue(of event: Event) -> JSONValue {
        switch event {
        case let .hello(h):
            return .object([
                ("type", .string("hello")), ("protocol", .int(h.protocolVersion)), ("harness", .string(h.harness)),
                ("harness_version", .string(h.harnessVersion)), ("engine", .string(h.engine)),
                ("engine_version", .string(h.engineVersion)), ("simulated", .bool(h.simulated)),
                ("platform", .string(h.platform)), ("device_model", .string(h.deviceModel)),
                ("os_version", .string(h.osVersion)), ("variants", .array(h.variants.map { .string($0) })),
                ("voices", .array(h.voices.map { .string($0) })), ("sample_rate", .int(h.sampleRate)),
            ])
        case let .loaded(l):
            return .object([
                ("type", .string("loaded")), ("variant", .string(l.variant)), ("model_name", .string(l.modelName)),
                ("model_description", .string(l.modelDescription)), ("model_load_time", .double(l.modelLoadTime)),
                ("cold", .bool(l.cold)), ("variant_sha256", l.variantSHA256.map { .string($0) } ?? .null),
            ])
        case let .unloaded(v):
            return .object([("type", .string("unloaded")), ("variant", .string(v))])
        case let .chunk(c):
            return .object([("type", .string("chunk")), ("id", .string(c.id)), ("index", .int(c.index)),
                            ("text", .string(c.text)), ("samples", .int(c.samples)), ("t", .double(c.t))])
        case let .audio(id, index, encoding, data):
            return .object([("type", .string("audio")), ("id", .string(id)), ("index", .int(index)),
                            ("encoding", .string(encoding)), ("data", .string(data))])
        case let .done(id, result):
            return .object([("type", .string("done")), ("id", .string(id)), ("result", result.jsonValue)])
        case let .error(id, code, message, fatal):
            return .object([("type", .string("error")), ("id", id.map { .string($0) } ?? .null),
                            ("code", .string(code)), ("message", .string(message)), ("fatal", .bool(fatal))])
        case let .conditions(c):
            func opt(_ d: Double?) -> JSONValue { d.map { .double($0) } ?? .null }
            return .object([("type", .string("conditions")), ("id", .string(c.id)),
                            ("thermal_state", c.thermalState.map { .string($0) } ?? .null),
                            ("cpu_temperature_c", opt(c.cpuTemperatureC)), ("cpu_frequency_mhz", opt(c.cpuFrequencyMHz)),
                            ("calibration_time", opt(c.calibrationTime))])
        case let .pong(id):
            return .object([("type", .string("pong")), ("id", .string(id))])
        case .bye:
            return .object([("type", .string("bye"))])
        }
    }

    /// One event line, without the trailing newline.
    public static func encode(_ event: Event) -> String { jsonValue(of: event).serialized() }

    /// Read an event back (tests, and a Swift host if one is ever written). Throws `bad_value` on a shape error.
    public static func parseEvent(_ json: JSONValue) throws -> Event {
        func bad(_ what: String) -> HarnessError { HarnessError(.badValue, "event: \(what)") }
        func s(_ k: String) throws -> String { guard let v = json[k]?.stringValue else { throw bad("'\(k)' must be a string") }; return v }
        func i(_ k: String) throws -> Int { guard let v = json[k]?.intValue else { throw bad("'\(k)' must be an integer") }; return v }
        func d(_ k: String) throws -> Double { guard let v = json[k]?.numberValue else { throw bad("'\(k)' must be a number") }; return v }
        func b(_ k: String) throws -> Bool { guard let v = json[k]?.boolValue else { throw bad("'\(k)' must be a boolean") }; return v }
        func strings(_ k: String) throws -> [String] {
            guard let a = json[k]?.arrayValue else { throw bad("'\(k)' must be an array") }
            return try a.map { guard let x = $0.stringValue else { throw bad("'\(k)' must hold strings") }; return x }
        }
        func optS(_ k: String) throws -> String? {
            guard let v = json[k] else { throw bad("'\(k)' is missing") }
            if v == .null { return nil }
            guard let x = v.stringValue else { throw bad("'\(k)' must be a string or null") }
            return x
        }
        switch try s("type") {
        case "hello":
            return .hello(HelloEvent(protocolVersion: try i("protocol"), harness: try s("harness"),
                                     harnessVersion: try s("harness_version"), engine: try s("engine"),
                                     engineVersion: try s("engine_version"), simulated: try b("simulated"),
                                     platform: try s("platform"), deviceModel: try s("device_model"),
                                     osVersion: try s("os_version"), variants: try strings("variants"),
                                     voices: try strings("voices"), sampleRate: try i("sample_rate")))
        case "loaded":
            return .loaded(LoadedEvent(variant: try s("variant"), modelName: try s("model_name"),
                                       modelDescription: try s("model_description"),
                                       modelLoadTime: try d("model_load_time"), cold: try b("cold"),
                                       variantSHA256: try optS("variant_sha256")))
        case "unloaded": return .unloaded(variant: try s("variant"))
        case "chunk":
            return .chunk(ChunkEvent(id: try s("id"), index: try i("index"), text: try s("text"),
                                     samples: try i("samples"), t: try d("t")))
        case "audio":
            return .audio(id: try s("id"), index: try i("index"), encoding: try s("encoding"), data: try s("data"))
        case "done":
            guard let r = json["result"] else { throw bad("'result' is missing") }
            return .done(id: try s("id"), result: try BenchmarkResult(json: r))
        case "error":
            return .error(id: try optS("id"), code: try s("code"), message: try s("message"), fatal: try b("fatal"))
        case "conditions":
            func optD(_ k: String) throws -> Double? {
                guard let v = json[k] else { throw bad("'\(k)' is missing") }
                if v == .null { return nil }
                guard let x = v.numberValue else { throw bad("'\(k)' must be a number or null") }
                return x
            }
            return .conditions(ConditionsEvent(id: try s("id"), thermalState: try optS("thermal_state"),
                                               cpuTemperatureC: try optD("cpu_temperature_c"),
                                               cpuFrequencyMHz: try optD("cpu_frequency_mhz"),
                                               calibrationTime: try optD("calibration_time")))
        case "pong": return .pong(id: try s("id"))
        case "bye": return .bye
        case let other: throw bad("unknown type '\(other)'")
        }
    }
}
