import Foundation

/// One benchmark result: the 14 keys of kokoro_benchmark.py in its order, then the harness's extra keys in the
/// order of spec/result_keys.json, then any engine-specific extras (e.g. `mlx_peak_memory_gb`).
///
/// `jsonValue` is the ordered form that goes on the wire and into results files. The Codable conformance encodes
/// the same keys (null for absent optionals) for callers that want it, but JSONEncoder does not keep key order:
/// write with `jsonValue.serialized()` when order matters.
public struct BenchmarkResult: Codable, Equatable {
    // The 14 reference keys.
    public var modelName: String
    public var modelDescription: String
    public var text: String
    public var voice: String
    public var modelLoadTime: Double
    public var inferenceTime: Double
    public var totalTime: Double
    public var timeToFirstAudio: Double
    public var perSentenceInference: [Double]
    public var audioDuration: Double
    public var realTimeFactor: Double
    public var samplesPerSec: Double
    public var peakMemoryGB: Double
    public var sampleRate: Int
    // Harness extras.
    public var variant: String
    public var round: Int
    public var cold: Bool
    public var warmup: Bool
    public var speed: Double
    public var split: String
    public var chunkCount: Int
    public var samples: Int
    public var timeToFirstAudible: Double?
    public var memorySource: String
    public var engine: String
    public var engineVersion: String
    public var harnessVersion: String
    public var simulated: Bool
    public var platform: String
    public var deviceModel: String
    public var osVersion: String
    public var variantSHA256: String?
    public var thermalStateBefore: String?
    public var thermalStateAfter: String?
    /// Seconds the fixed CPU workload of `Calibration` took right before T1 (see Calibration.swift); nil if not measured.
    public var calibrationTime: Double?
    // Heat (docs/results.md "Heat"): the calibration workload again after the last chunk, and the Linux sensors
    // before the clock and after the last chunk (HeatSensors.swift); nil where unreadable.
    public var calibrationTimeAfter: Double?
    public var cpuTemperatureCBefore: Double?
    public var cpuTemperatureCAfter: Double?
    public var cpuFrequencyMHzBefore: Double?
    public var cpuFrequencyMHzAfter: Double?
    /// Whether the harness played the audio while it measured (the app's streaming playback schedules each chunk
    /// on AVAudioEngine as it arrives); false for harnesses that do not play (the CLI, the host).
    public var playback: Bool
    // Playback as heard (Playback.swift, docs/results.md "Playback keys"): set by `withPlayback`, after the clock.
    /// Each chunk's sample count, in order: with per_sentence_inference, all a replay of the playback needs.
    public var chunkSamples: [Int] = []
    public var playbackStallTime: Double = 0
    public var stallCount: Int = 0
    public var gaplessStartTime: Double = 0
    /// Seconds from the start of the variant's load to the first chunk (load, voice, warm-up included); nil when
    /// the round did not load its variant.
    public var coldTimeToFirstAudio: Double?
    /// When a real audio player (the app's AVAudioEngine) started each chunk, seconds since T1; nil without one.
    public var playedChunkStarts: [Double]?
    /// The device's pace the `adaptive` split planned with (Pace.swift); nil for the other strategies.
    public var adaptivePace: Pace?
    /// Engine- or device-specific keys written after all of the above, in this order.
    public var extras: [(String, JSONValue)] = []

    public enum CodingKeys: String, CodingKey, CaseIterable {
        case modelName = "model_name", modelDescription = "model_description", text, voice
        case modelLoadTime = "model_load_time", inferenceTime = "inference_time", totalTime = "total_time"
        case timeToFirstAudio = "time_to_first_audio", perSentenceInference = "per_sentence_inference"
        case audioDuration = "audio_duration", realTimeFactor = "real_time_factor", samplesPerSec = "samples_per_sec"
        case peakMemoryGB = "peak_memory_gb", sampleRate = "sample_rate"
        case variant, round, cold, warmup, speed, split
        case chunkCount = "chunk_count", samples
        case timeToFirstAudible = "time_to_first_audible", memorySource = "memory_source", engine
        case engineVersion = "engine_version", harnessVersion = "harness_version", simulated, platform
        case deviceModel = "device_model", osVersion = "os_version", variantSHA256 = "variant_sha256"
        case thermalStateBefore = "thermal_state_before", thermalStateAfter = "thermal_state_after"
        case calibrationTime = "calibration_time", calibrationTimeAfter = "calibration_time_after"
        case cpuTemperatureCBefore = "cpu_temperature_c_before", cpuTemperatureCAfter = "cpu_temperature_c_after"
        case cpuFrequencyMHzBefore = "cpu_frequency_mhz_before", cpuFrequencyMHzAfter = "cpu_frequency_mhz_after"
        case playback
        case chunkSamples = "chunk_samples", playbackStallTime = "playback_stall_time", stallCount = "stall_count"
        case gaplessStartTime = "gapless_start_time", coldTimeToFirstAudio = "cold_time_to_first_audio"
        case playedChunkStarts = "played_chunk_starts", adaptivePace = "adaptive_pace"
    }

    /// Every key this struct writes before `extras`, in order.
    public static var keys: [String] { CodingKeys.allCases.map { $0.rawValue } }

    public static func == (a: BenchmarkResult, b: BenchmarkResult) -> Bool { a.jsonValue == b.jsonValue }

    public init(modelName: String, modelDescription: String, text: String, voice: String, modelLoadTime: Double,
                inferenceTime: Double, totalTime: Double, timeToFirstAudio: Double, perSentenceInference: [Double],
                audioDuration: Double, realTimeFactor: Double, samplesPerSec: Double, peakMemoryGB: Double,
                sampleRate: Int, variant: String, round: Int, cold: Bool, warmup: Bool, speed: Double,
                split: String, chunkCount: Int, samples: Int, timeToFirstAudible: Double?, memorySource: String,
                engine: String, engineVersion: String, harnessVersion: String, simulated: Bool, platform: String,
                deviceModel: String, osVersion: String, variantSHA256: String?, thermalStateBefore: String?,
                thermalStateAfter: String?, calibrationTime: Double?, playback: Bool,
                extras: [(String, JSONValue)] = []) {
        self.modelName = modelName; self.modelDescription = modelDescription; self.text = text; self.voice = voice
        self.modelLoadTime = modelLoadTime; self.inferenceTime = inferenceTime; self.totalTime = totalTime
        self.timeToFirstAudio = timeToFirstAudio; self.perSentenceInference = perSentenceInference
        self.audioDuration = audioDuration; self.realTimeFactor = realTimeFactor; self.samplesPerSec = samplesPerSec
        self.peakMemoryGB = peakMemoryGB; self.sampleRate = sampleRate; self.variant = variant; self.round = round
        self.cold = cold; self.warmup = warmup; self.speed = speed; self.split = split; self.chunkCount = chunkCount
        self.samples = samples; self.timeToFirstAudible = timeToFirstAudible; self.memorySource = memorySource
        self.engine = engine; self.engineVersion = engineVersion; self.harnessVersion = harnessVersion
        self.simulated = simulated; self.platform = platform; self.deviceModel = deviceModel
        self.osVersion = osVersion; self.variantSHA256 = variantSHA256; self.thermalStateBefore = thermalStateBefore
        self.thermalStateAfter = thermalStateAfter; self.calibrationTime = calibrationTime
        self.playback = playback; self.extras = extras
    }

    /// This result with the playback keys replayed from its chunks (`times` since T1, `samples` per chunk).
    public func withPlayback(times: [Double], samples: [Int]) -> BenchmarkResult {
        var r = self
        r.chunkSamples = samples
        if let p = Playback.replay(times: times, samples: samples, sampleRate: sampleRate) {
            r.playbackStallTime = p.stallTime
            r.stallCount = p.stallCount
            r.gaplessStartTime = p.gaplessStartTime
        }
        return r
    }

    // MARK: Ordered JSON

    public var jsonValue: JSONValue {
        func opt(_ d: Double?) -> JSONValue { d.map { .double($0) } ?? .null }
        func opt(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
        var pairs: [(String, JSONValue)] = [
            ("model_name", .string(modelName)), ("model_description", .string(modelDescription)),
            ("text", .string(text)), ("voice", .string(voice)),
            ("model_load_time", .double(modelLoadTime)), ("inference_time", .double(inferenceTime)),
            ("total_time", .double(totalTime)), ("time_to_first_audio", .double(timeToFirstAudio)),
            ("per_sentence_inference", .array(perSentenceInference.map { .double($0) })),
            ("audio_duration", .double(audioDuration)), ("real_time_factor", .double(realTimeFactor)),
            ("samples_per_sec", .double(samplesPerSec)), ("peak_memory_gb", .double(peakMemoryGB)),
            ("sample_rate", .int(sampleRate)),
            ("variant", .string(variant)), ("round", .int(round)), ("cold", .bool(cold)), ("warmup", .bool(warmup)),
            ("speed", .double(speed)), ("split", .string(split)), ("chunk_count", .int(chunkCount)),
            ("samples", .int(samples)), ("time_to_first_audible", opt(timeToFirstAudible)),
            ("memory_source", .string(memorySource)), ("engine", .string(engine)),
            ("engine_version", .string(engineVersion)), ("harness_version", .string(harnessVersion)),
            ("simulated", .bool(simulated)), ("platform", .string(platform)), ("device_model", .string(deviceModel)),
            ("os_version", .string(osVersion)), ("variant_sha256", opt(variantSHA256)),
            ("thermal_state_before", opt(thermalStateBefore)), ("thermal_state_after", opt(thermalStateAfter)),
            ("calibration_time", opt(calibrationTime)), ("calibration_time_after", opt(calibrationTimeAfter)),
            ("cpu_temperature_c_before", opt(cpuTemperatureCBefore)),
            ("cpu_temperature_c_after", opt(cpuTemperatureCAfter)),
            ("cpu_frequency_mhz_before", opt(cpuFrequencyMHzBefore)),
            ("cpu_frequency_mhz_after", opt(cpuFrequencyMHzAfter)), ("playback", .bool(playback)),
            ("chunk_samples", .array(chunkSamples.map { .int($0) })),
            ("playback_stall_time", .double(playbackStallTime)), ("stall_count", .int(stallCount)),
            ("gapless_start_time", .double(gaplessStartTime)), ("cold_time_to_first_audio", opt(coldTimeToFirstAudio)),
            ("played_chunk_starts", playedChunkStarts.map { .array($0.map { .double($0) }) } ?? .null),
            ("adaptive_pace", adaptivePace?.json ?? .null),
        ]
        pairs.append(contentsOf: extras)
        return .object(pairs)
    }

    /// Read a result object back (e.g. the `result` of a `done` event). Strict on the known keys' types; keys
    /// after the known ones are kept, in order, as `extras`.
    public init(json: JSONValue) throws {
        guard case let .object(pairs) = json else { throw HarnessError(.badValue, "a result must be a JSON object") }
        func value(_ key: String) throws -> JSONValue {
            guard let v = json[key] else { throw HarnessError(.missingField, "result has no '\(key)'") }
            return v
        }
        func str(_ k: String) throws -> String {
            guard let s = try value(k).stringValue else { throw HarnessError(.badValue, "result '\(k)' must be a string") }
            return s
        }
        func num(_ k: String) throws -> Double {
            guard let d = try value(k).numberValue else { throw HarnessError(.badValue, "result '\(k)' must be a number") }
            return d
        }
        func int(_ k: String) throws -> Int {
            guard let i = try value(k).intValue else { throw HarnessError(.badValue, "result '\(k)' must be an integer") }
            return i
        }
        func bool(_ k: String) throws -> Bool {
            guard let b = try value(k).boolValue else { throw HarnessError(.badValue, "result '\(k)' must be a boolean") }
            return b
        }
        func optNum(_ k: String) throws -> Double? {
            let v = try value(k)
            if v == .null { return nil }
            guard let d = v.numberValue else { throw HarnessError(.badValue, "result '\(k)' must be a number or null") }
            return d
        }
        func optStr(_ k: String) throws -> String? {
            let v = try value(k)
            if v == .null { return nil }
            guard let s = v.stringValue else { throw HarnessError(.badValue, "result '\(k)' must be a string or null") }
            return s
        }
        guard let perSentence = try value("per_sentence_inference").arrayValue?.compactMap({ $0.numberValue }) else {
            throw HarnessError(.badValue, "result 'per_sentence_inference' must be an array of numbers")
        }
        self.init(
            modelName: try str("model_name"), modelDescription: try str("model_description"), text: try str("text"),
            voice: try str("voice"), modelLoadTime: try num("model_load_time"), inferenceTime: try num("inference_time"),
            totalTime: try num("total_time"), timeToFirstAudio: try num("time_to_first_audio"),
            perSentenceInference: perSentence, audioDuration: try num("audio_duration"),
            realTimeFactor: try num("real_time_factor"), samplesPerSec: try num("samples_per_sec"),
            peakMemoryGB: try num("peak_memory_gb"), sampleRate: try int("sample_rate"), variant: try str("variant"),
            round: try int("round"), cold: try bool("cold"), warmup: try bool("warmup"), speed: try num("speed"),
            split: try str("split"), chunkCount: try int("chunk_count"), samples: try int("samples"),
            timeToFirstAudible: try optNum("time_to_first_audible"), memorySource: try str("memory_source"),
            engine: try str("engine"), engineVersion: try str("engine_version"),
            harnessVersion: try str("harness_version"), simulated: try bool("simulated"), platform: try str("platform"),
            deviceModel: try str("device_model"), osVersion: try str("os_version"),
            variantSHA256: try optStr("variant_sha256"), thermalStateBefore: try optStr("thermal_state_before"),
            thermalStateAfter: try optStr("thermal_state_after"), calibrationTime: try optNum("calibration_time"),
            playback: try bool("playback"), extras: pairs.filter { !BenchmarkResult.keys.contains($0.0) })
        guard let chunkSamples = try value("chunk_samples").arrayValue?.compactMap({ $0.intValue }) else {
            throw HarnessError(.badValue, "result 'chunk_samples' must be an array of integers")
        }
        self.chunkSamples = chunkSamples
        calibrationTimeAfter = try optNum("calibration_time_after")
        cpuTemperatureCBefore = try optNum("cpu_temperature_c_before")
        cpuTemperatureCAfter = try optNum("cpu_temperature_c_after")
        cpuFrequencyMHzBefore = try optNum("cpu_frequency_mhz_before")
        cpuFrequencyMHzAfter = try optNum("cpu_frequency_mhz_after")
        playbackStallTime = try num("playback_stall_time")
        stallCount = try int("stall_count")
        gaplessStartTime = try num("gapless_start_time")
        coldTimeToFirstAudio = try optNum("cold_time_to_first_audio")
        let played = try value("played_chunk_starts")
        if played != .null {
            guard let starts = played.arrayValue?.compactMap({ $0.numberValue }) else {
                throw HarnessError(.badValue, "result 'played_chunk_starts' must be an array of numbers or null")
            }
            playedChunkStarts = starts
        }
        let pace = try value("adaptive_pace")
        if pace != .null { adaptivePace = try Pace(json: pace) }
    }

    // MARK: Codable (same keys; order is the encoder's business)

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            modelName: try c.decode(String.self, forKey: .modelName),
            modelDescription: try c.decode(String.self, forKey: .modelDescription),
            text: try c.decode(String.self, forKey: .text), voice: try c.decode(String.self, forKey: .voice),
            modelLoadTime: try c.decode(Double.self, forKey: .modelLoadTime),
            inferenceTime: try c.decode(Double.self, forKey: .inferenceTime),
            totalTime: try c.decode(Double.self, forKey: .totalTime),
            timeToFirstAudio: try c.decode(Double.self, forKey: .timeToFirstAudio),
            perSentenceInference: try c.decode([Double].self, forKey: .perSentenceInference),
            audioDuration: try c.decode(Double.self, forKey: .audioDuration),
            realTimeFactor: try c.decode(Double.self, forKey: .realTimeFactor),
            samplesPerSec: try c.decode(Double.self, forKey: .samplesPerSec),
            peakMemoryGB: try c.decode(Double.self, forKey: .peakMemoryGB),
            sampleRate: try c.decode(Int.self, forKey: .sampleRate), variant: try c.decode(String.self, forKey: .variant),
            round: try c.decode(Int.self, forKey: .round), cold: try c.decode(Bool.self, forKey: .cold),
            warmup: try c.decode(Bool.self, forKey: .warmup), speed: try c.decode(Double.self, forKey: .speed),
            split: try c.decode(String.self, forKey: .split), chunkCount: try c.decode(Int.self, forKey: .chunkCount),
            samples: try c.decode(Int.self, forKey: .samples),
            timeToFirstAudible: try c.decodeIfPresent(Double.self, forKey: .timeToFirstAudible),
            memorySource: try c.decode(String.self, forKey: .memorySource),
            engine: try c.decode(String.self, forKey: .engine),
            engineVersion: try c.decode(String.self, forKey: .engineVersion),
            harnessVersion: try c.decode(String.self, forKey: .harnessVersion),
            simulated: try c.decode(Bool.self, forKey: .simulated), platform: try c.decode(String.self, forKey: .platform),
            deviceModel: try c.decode(String.self, forKey: .deviceModel),
            osVersion: try c.decode(String.self, forKey: .osVersion),
            variantSHA256: try c.decodeIfPresent(String.self, forKey: .variantSHA256),
            thermalStateBefore: try c.decodeIfPresent(String.self, forKey: .thermalStateBefore),
            thermalStateAfter: try c.decodeIfPresent(String.self, forKey: .thermalStateAfter),
            calibrationTime: try c.decodeIfPresent(Double.self, forKey: .calibrationTime),
            playback: try c.decode(Bool.self, forKey: .playback))
        calibrationTimeAfter = try c.decodeIfPresent(Double.self, forKey: .calibrationTimeAfter)
        cpuTemperatureCBefore = try c.decodeIfPresent(Double.self, forKey: .cpuTemperatureCBefore)
        cpuTemperatureCAfter = try c.decodeIfPresent(Double.self, forKey: .cpuTemperatureCAfter)
        cpuFrequencyMHzBefore = try c.decodeIfPresent(Double.self, forKey: .cpuFrequencyMHzBefore)
        cpuFrequencyMHzAfter = try c.decodeIfPresent(Double.self, forKey: .cpuFrequencyMHzAfter)
        chunkSamples = try c.decode([Int].self, forKey: .chunkSamples)
        playbackStallTime = try c.decode(Double.self, forKey: .playbackStallTime)
        stallCount = try c.decode(Int.self, forKey: .stallCount)
        gaplessStartTime = try c.decode(Double.self, forKey: .gaplessStartTime)
        coldTimeToFirstAudio = try c.decodeIfPresent(Double.self, forKey: .coldTimeToFirstAudio)
        playedChunkStarts = try c.decodeIfPresent([Double].self, forKey: .playedChunkStarts)
        adaptivePace = try c.decodeIfPresent(Pace.self, forKey: .adaptivePace)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(modelName, forKey: .modelName); try c.encode(modelDescription, forKey: .modelDescription)
        try c.encode(text, forKey: .text); try c.encode(voice, forKey: .voice)
        try c.encode(modelLoadTime, forKey: .modelLoadTime); try c.encode(inferenceTime, forKey: .inferenceTime)
        try c.encode(totalTime, forKey: .totalTime); try c.encode(timeToFirstAudio, forKey: .timeToFirstAudio)
        try c.encode(perSentenceInference, forKey: .perSentenceInference)
        try c.encode(audioDuration, forKey: .audioDuration); try c.encode(realTimeFactor, forKey: .realTimeFactor)
        try c.encode(samplesPerSec, forKey: .samplesPerSec); try c.encode(peakMemoryGB, forKey: .peakMemoryGB)
        try c.encode(sampleRate, forKey: .sampleRate); try c.encode(variant, forKey: .variant)
        try c.encode(round, forKey: .round); try c.encode(cold, forKey: .cold); try c.encode(warmup, forKey: .warmup)
        try c.encode(speed, forKey: .speed); try c.encode(split, forKey: .split)
        try c.encode(chunkCount, forKey: .chunkCount); try c.encode(samples, forKey: .samples)
        // Optionals are written as null, not left out: every result has every key.
        try c.encode(timeToFirstAudible, forKey: .timeToFirstAudible)
        try c.encode(memorySource, forKey: .memorySource); try c.encode(engine, forKey: .engine)
        try c.encode(engineVersion, forKey: .engineVersion); try c.encode(harnessVersion, forKey: .harnessVersion)
        try c.encode(simulated, forKey: .simulated); try c.encode(platform, forKey: .platform)
        try c.encode(deviceModel, forKey: .deviceModel); try c.encode(osVersion, forKey: .osVersion)
        try c.encode(variantSHA256, forKey: .variantSHA256)
        try c.encode(thermalStateBefore, forKey: .thermalStateBefore)
        try c.encode(thermalStateAfter, forKey: .thermalStateAfter)
        try c.encode(calibrationTime, forKey: .calibrationTime)
        try c.encode(calibrationTimeAfter, forKey: .calibrationTimeAfter)
        try c.encode(cpuTemperatureCBefore, forKey: .cpuTemperatureCBefore)
        try c.encode(cpuTemperatureCAfter, forKey: .cpuTemperatureCAfter)
        try c.encode(cpuFrequencyMHzBefore, forKey: .cpuFrequencyMHzBefore)
        try c.encode(cpuFrequencyMHzAfter, forKey: .cpuFrequencyMHzAfter)
        try c.encode(playback, forKey: .playback)
        try c.encode(chunkSamples, forKey: .chunkSamples)
        try c.encode(playbackStallTime, forKey: .playbackStallTime)
        try c.encode(stallCount, forKey: .stallCount)
        try c.encode(gaplessStartTime, forKey: .gaplessStartTime)
        try c.encode(coldTimeToFirstAudio, forKey: .coldTimeToFirstAudio)
        try c.encode(playedChunkStarts, forKey: .playedChunkStarts)
        try c.encode(adaptivePace, forKey: .adaptivePace)
    }
}

/// Writes a results file like the reference: `benchmark_results_YYYYMMDD_HHMMSS.json`, a JSON array of results,
/// keys in order. Written to a temporary file and renamed, so a crash never leaves half a file.
public enum ResultsFileWriter {
    public static func fileName(for date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.dateFormat = "yyyyMMdd_HHmmss"
        return "benchmark_results_\(f.string(from: date)).json"
    }

    @discardableResult
    public static func write(_ results: [BenchmarkResult], toDirectory dir: URL, date: Date = Date()) throws -> URL {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent(fileName(for: date))
        let body = "[\n" + results.map { "  " + $0.jsonValue.serialized() }.joined(separator: ",\n") + "\n]\n"
        try Data(body.utf8).write(to: url, options: .atomic)
        return url
    }
}
