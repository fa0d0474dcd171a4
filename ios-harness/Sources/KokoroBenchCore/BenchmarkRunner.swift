import Foundation

/// Reads the device's thermal state (and anything else that belongs next to it) before and after a run.
/// The iOS app supplies one (ProcessInfo.thermalState, low-power mode). Without one the runner reads the process's
/// own thermal state (HeatSensors.processThermalState: a Mac), and on Linux there is none: the keys are null.
public protocol DeviceStateProbe: AnyObject {
    /// e.g. "nominal", "fair", "serious", "critical"
    func thermalState() -> String?
    /// Extra result keys describing the device state, e.g. [("low_power_mode_before", .bool(false))].
    func extras(suffix: String) -> [(String, JSONValue)]
}

/// A real player's report of when each chunk of a run started playing (`played_chunk_starts`), beside the replayed
/// playback keys. Asked after the clock stopped; it may wait for the audio to play out.
public protocol PlayedChunkStarts: AnyObject {
    /// Called before T1 (after the warm-up): start whatever the first chunk would otherwise start (the audio
    /// session and the audio engine), so that work is never inside the first timed chunk.
    func prepareForTimedRun()
    /// Seconds since T1 at which chunk 0, 1, … of run `runID` started playing, or nil when not all were heard.
    func playedChunkStarts(runID: String, chunkCount: Int) -> [Double]?
}

extension PlayedChunkStarts {
    public func prepareForTimedRun() {}
}

/// What the runner emits while it works: the chunk (with its samples, for audio events and playback).
public typealias ChunkHandler = (ChunkEvent, [Float]) throws -> Void

/// Runs one benchmark the way kokoro_benchmark.py does, with its race removed (docs/protocol.md, DESIGN.md
/// "Measurement rules"): load the variant (timed, 0 and cold=false when already loaded), load the voice, finish the
/// warm-up, time the fixed calibration workload, reset the memory peak, start the clock (T1), then synthesize chunk
/// by chunk and timestamp each chunk on this thread the moment its samples exist.
public final class BenchmarkRunner {
    public let engine: TTSEngine
    public let memory: MemorySampler
    public let platform: PlatformInfo
    public weak var deviceState: DeviceStateProbe?
    /// A real audio player that reports when each chunk started playing (the app's AVAudioEngine); nil elsewhere.
    public weak var player: PlayedChunkStarts?
    /// Times the fixed CPU workload before each round's clock starts (`calibration_time`); `Calibration.measure`
    /// unless a test injects another.
    public let calibrate: () -> Double
    /// The Linux heat sensors read before the calibration workload and after the last chunk (HeatSensors.swift); a
    /// test points them at fake sysfs files.
    public var sensors = HeatSensors()
    /// Whether the audio is being played while it is measured (the app's ChunkPlayer); read at the end of each
    /// round into the result's `playback`.
    public var playbackActive: () -> Bool = { false }
    public private(set) var loadedVariant: String?
    private var loadedInfo: VariantInfo?
    /// The `adaptive` split's pace per variant, voice and speed, measured once per runner (`measurePace`).
    private var paces: [String: Pace] = [:]
    public static let warmupText = "Hi."
    public static let audibleThreshold: Float = 0.01

    public init(engine: TTSEngine, memory: MemorySampler = MemorySampler(), platform: PlatformInfo = .current,
                deviceState: DeviceStateProbe? = nil, calibrate: @escaping () -> Double = Calibration.measure) {
        self.engine = engine
        self.calibrate = calibrate
        self.memory = memory
        self.platform = platform
        self.deviceState = deviceState
    }

    public struct LoadOutcome: Equatable {
        public var variant: String
        public var info: VariantInfo
        public var modelLoadTime: Double
        public var cold: Bool

        public var event: LoadedEvent {
            LoadedEvent(variant: variant, modelName: info.modelName, modelDescription: info.modelDescription,
                        modelLoadTime: modelLoadTime, cold: cold, variantSHA256: info.sha256)
        }
    }

    func checkVariant(_ variant: String) throws {
        let variants = engine.info.variants
        guard variants.contains(variant) else {
            if let e = engine.unavailableVariantError(variant) { throw e }
            throw HarnessError(.unknownVariant, "variant '\(variant)' is not known to this harness; available: "
                + variants.joined(separator: ", "))
        }
    }

    /// Load `variant`; one variant is resident at a time, so another loaded one is unloaded first.
    public func load(_ variant: String) throws -> LoadOutcome {
        try checkVariant(variant)
        if loadedVariant == variant, let info = loadedInfo {
            // The reference reports 0 when the model is cached in-process; `cold: false` says so.
            return LoadOutcome(variant: variant, info: info, modelLoadTime: 0, cold: false)
        }
        if let other = loadedVariant { unload(other) }
        let watch = Stopwatch()
        var info: VariantInfo
        do { info = try engine.loadVariant(variant) } catch {
            throw HarnessError.wrap(error, context: "loading variant '\(variant)' failed")
        }
        let seconds = watch.elapsed()
        if info.sha256 == nil { info.sha256 = engine.variantSHA256(variant) }  // after the clock: not load time
        loadedVariant = variant
        loadedInfo = info
        return LoadOutcome(variant: variant, info: info, modelLoadTime: seconds, cold: true)
    }

    public func unload(_ variant: String) {
        engine.unloadVariant(variant)
        if loadedVariant == variant {
            loadedVariant = nil
            loadedInfo = nil
        }
    }

    /// What the steps before T1 hand to the timed loop and the result.
    struct Prepared {
        var load: LoadOutcome
        var chunks: [String]
        var pace: Pace?
        var setupTime: Double
        var calibrationTime: Double
        var heatBefore: HeatReading
        var thermalBefore: String?
        var stateBefore: [(String, JSONValue)]
    }

    /// What the timed loop measured: each chunk's time since T1, its sample count and its samples. The samples are
    /// kept (the arrays themselves, not copies) so that the first audible sample is searched after the clock, as the
    /// Python harness does (it keeps every chunk's samples too, pytest_kokoro/harness/server.py `_run`).
    struct Timed {
        var times: [Double] = []
        var chunkSamples: [Int] = []
        var totalSamples = 0
        var audio: [[Float]] = []

        /// The index of the run's first audible sample, counted over the chunks in order; nil when none is.
        var firstAudible: Int? {
            var offset = 0
            for chunk in audio {
                if let i = AudioCollector.firstAudibleIndex(chunk, threshold: BenchmarkRunner.audibleThreshold) {
                    return offset + i
                }
                offset += chunk.count
            }
            return nil
        }
    }

    /// Run one benchmark. `onChunk` is called on this thread after each chunk's timestamp is taken; an error it
    /// throws (e.g. the host went away) ends the run and propagates, as does any engine error: never swallowed.
    /// The steps: check the request, prepare everything before T1, time the chunks, build the result.
    public func run(_ request: RunRequest, onChunk: ChunkHandler = { _, _ in }) throws -> BenchmarkResult {
        let chunks = try check(request)
        let prepared = try prepare(request, chunks: chunks)
        let timed = try timeChunks(request, prepared.chunks, onChunk: onChunk)
        return try result(request, prepared, timed)
    }

    /// Cheap checks first, so a bad request costs no model load. Returns the text's chunks.
    func check(_ request: RunRequest) throws -> [String] {
        try checkVariant(request.variant)
        let voices = engine.info.voices
        guard voices.contains(request.voice) else {
            if let e = engine.unavailableVoiceError(request.voice, variant: request.variant) { throw e }
            throw HarnessError(.unknownVoice, "voice '\(request.voice)' is not available; available: "
                + voices.joined(separator: ", "))
        }
        guard ProtocolCodec.speedRange.contains(request.speed) else {
            throw HarnessError(.badValue, "speed \(request.speed) is outside 0.5-2.0")
        }
        let chunks = request.split.split(request.text)
        guard !chunks.isEmpty else {
            throw HarnessError(.emptyText, "the text has nothing to say once cleaned (empty, whitespace or control "
                + "characters only); send text with words in it")
        }
        return chunks
    }

    /// Everything before T1: the variant (timed on its own), the voice, the device state, the finished warm-up,
    /// the adaptive split's pace, the player, the calibration workload, the memory peak reset.
    func prepare(_ request: RunRequest, chunks: [String]) throws -> Prepared {
        let setup = Stopwatch()  // cold_time_to_first_audio counts from here: load, voice and warm-up included
        let load = try self.load(request.variant)
        do { try engine.loadVoice(request.voice, variant: request.variant) } catch {
            throw HarnessError.wrap(error, context: "loading voice '\(request.voice)' failed")
        }
        let thermalBefore = thermalState()
        let stateBefore = deviceState?.extras(suffix: "before") ?? []
        if request.warmup {
            // Finished, not merely started: the reference app's asynchronous warm-up races the timed run.
            do { _ = try engine.synthesize(BenchmarkRunner.warmupText, voice: request.voice, speed: request.speed) } catch {
                throw HarnessError.wrap(error, context: "the warm-up (\"Hi.\") failed")
            }
        }
        // The harness's own calibration below is no part of what a user waits for: cold TTFA leaves it out.
        let setupTime = setup.elapsed()
        var chunks = chunks
        var pace: Pace?
        if request.split == .adaptive {
            let measured = try measurePace(request)
            chunks = request.split.split(request.text, pace: measured)
            pace = measured
        }
        // The player's audio session and engine start here, before T1, not on the first chunk inside the clock.
        player?.prepareForTimedRun()
        // After the warm-up (or right away without one), before the memory reset and T1: never timed with the run.
        let heatBefore = sensors.read(thermalState: thermalBefore)
        let calibrationTime = calibrate()
        memory.resetPeak()
        engine.willStartTimedRun()
        return Prepared(load: load, chunks: chunks, pace: pace, setupTime: setupTime, calibrationTime: calibrationTime,
                        heatBefore: heatBefore, thermalBefore: thermalBefore, stateBefore: stateBefore)
    }

    /// T1, then chunk by chunk: synthesize, timestamp the moment the samples exist, hand the chunk on. Only engine
    /// work and that bookkeeping happen between T1 and the last chunk's timestamp (GitHub issue 24: what the Swift
    /// harness does per chunk besides the engine call is what the Python harness does, tools/chunk_instructions.py).
    func timeChunks(_ request: RunRequest, _ chunks: [String], onChunk: ChunkHandler) throws -> Timed {
        var timed = Timed()
        let t1 = Stopwatch()  // T1
        for (index, chunk) in chunks.enumerated() {
            let audio: [Float]
            do { audio = try engine.synthesize(chunk, voice: request.voice, speed: request.speed) } catch {
                throw HarnessError.wrap(error, context: "synthesizing chunk \(index) failed")
            }
            let t = t1.elapsed()  // right after the samples exist, on the thread that produced them
            // Bookkeeping only: the search for the first audible sample waits until after the clock (`result`).
            timed.audio.append(audio)
            timed.times.append(t)
            timed.totalSamples += audio.count
            timed.chunkSamples.append(audio.count)
            try onChunk(ChunkEvent(id: request.id, index: index, text: chunk, samples: audio.count, t: t), audio)
        }
        return timed
    }

    /// After the clock: memory and device state, the derived metrics, the result with its playback keys.
    func result(_ request: RunRequest, _ prepared: Prepared, _ timed: Timed) throws -> BenchmarkResult {
        let peak = memory.peakGiB()
        let engineExtras = engine.timedRunExtras() + memory.extras()
        let thermalAfter = thermalState()
        let stateAfter = deviceState?.extras(suffix: "after") ?? []
        let heatAfter = sensors.read(thermalState: thermalAfter)
        let calibrationAfter = calibrate()  // the same workload as before T1, now that the clock has stopped
        let chunkCount = prepared.chunks.count
        guard timed.totalSamples > 0 else {
            throw HarnessError(.noAudio, "the engine produced zero samples for \(chunkCount) chunk(s); check the "
                + "voice and variant files")
        }
        let sampleRate = engine.info.sampleRate
        // Derived exactly as the host derives them from the chunk events (docs/protocol.md), from the same `t`s.
        var perSentence: [Double] = []
        var previous = 0.0
        for t in timed.times {
            perSentence.append(t - previous)
            previous = t
        }
        let inference = timed.times.last ?? 0
        let ttfa = perSentence.first ?? 0
        let duration = Double(timed.totalSamples) / Double(sampleRate)
        let load = prepared.load
        let info = load.info
        let result = BenchmarkResult(
            modelName: info.modelName, modelDescription: info.modelDescription, text: request.text,
            voice: request.voice, modelLoadTime: load.modelLoadTime, inferenceTime: inference,
            totalTime: load.modelLoadTime + inference, timeToFirstAudio: ttfa, perSentenceInference: perSentence,
            audioDuration: duration, realTimeFactor: inference / duration,
            // A clock that did not move (impossible with a real engine) must not divide by zero.
            samplesPerSec: inference > 0 ? Double(timed.totalSamples) / inference : 0,
            peakMemoryGB: peak, sampleRate: sampleRate, variant: request.variant, round: request.round,
            cold: load.cold, warmup: request.warmup, speed: request.speed, split: request.split.rawValue,
            chunkCount: chunkCount, samples: timed.totalSamples,
            timeToFirstAudible: timed.firstAudible.map { ttfa + Double($0) / Double(sampleRate) },
            memorySource: memory.source, engine: engine.info.name, engineVersion: engine.info.version,
            harnessVersion: HarnessVersion.version, simulated: engine.info.simulated, platform: platform.platform,
            deviceModel: platform.deviceModel, osVersion: platform.osVersion, variantSHA256: info.sha256,
            thermalStateBefore: prepared.thermalBefore, thermalStateAfter: thermalAfter,
            calibrationTime: prepared.calibrationTime, playback: playbackActive(),
            extras: engineExtras + prepared.stateBefore + stateAfter + [
                ("build_configuration", .string(RoundConditions.buildConfiguration)),
                ("excluded_from_gates", .array(RoundConditions.exclusions(
                    buildConfiguration: RoundConditions.buildConfiguration, thermalStateBefore: prepared.thermalBefore,
                    extras: prepared.stateBefore + stateAfter).map { .string($0) })),
            ])
        var played = result.withPlayback(times: timed.times, samples: timed.chunkSamples)
        played.calibrationTimeAfter = calibrationAfter
        played.cpuTemperatureCBefore = prepared.heatBefore.cpuTemperatureC
        played.cpuTemperatureCAfter = heatAfter.cpuTemperatureC
        played.cpuFrequencyMHzBefore = prepared.heatBefore.cpuFrequencyMHz
        played.cpuFrequencyMHzAfter = heatAfter.cpuFrequencyMHz
        played.coldTimeToFirstAudio = load.cold ? prepared.setupTime + ttfa : nil
        played.playedChunkStarts = player?.playedChunkStarts(runID: request.id, chunkCount: chunkCount)
        played.adaptivePace = prepared.pace
        return played
    }

    /// The device's thermal state: its probe's (the app), else the process's (a Mac), nil on Linux.
    func thermalState() -> String? {
        deviceState.map { $0.thermalState() } ?? HeatSensors.processThermalState()
    }

    /// The device's heat now, with nothing run on the engine: the `conditions` request (docs/protocol.md), asked
    /// between rounds by a cooldown that waits until the device is nominal.
    public func conditions(id: String) -> ConditionsEvent {
        let heat = sensors.read(thermalState: thermalState())
        return ConditionsEvent(id: id, thermalState: heat.thermalState, cpuTemperatureC: heat.cpuTemperatureC,
                               cpuFrequencyMHz: heat.cpuFrequencyMHz, calibrationTime: calibrate())
    }

    /// This device's pace for `adaptive` (Pace.swift): the probes synthesized untimed, after the warm-up and before
    /// T1, once per variant, voice and speed in this runner, so every round of a case cuts its text the same way.
    func measurePace(_ request: RunRequest) throws -> Pace {
        let key = "\(request.variant)|\(request.voice)|\(request.speed)"
        if let known = paces[key] { return known }
        var probes: [(chars: Int, compute: Double, audio: Double)] = []
        for text in Pace.probes {
            let watch = Stopwatch()
            let audio: [Float]
            do { audio = try engine.synthesize(text, voice: request.voice, speed: request.speed) } catch {
                throw HarnessError.wrap(error, context: "measuring the device's pace for the adaptive split failed")
            }
            probes.append((SentenceSplitter.clean(text).unicodeScalars.count, watch.elapsed(),
                           Double(audio.count) / Double(engine.info.sampleRate)))
        }
        let pace = try Pace.fit(probes)
        paces[key] = pace
        return pace
    }
}

/// "Run All Variants": bf16 → 8bit → 6bit → 4bit, one at a time, each unloaded before the next is loaded so only
/// one variant's memory is ever resident (and each variant's peak is its own).
public final class VariantsRunner {
    public static let order = ["bf16", "8bit", "6bit", "4bit"]
    public let runner: BenchmarkRunner

    public init(runner: BenchmarkRunner) { self.runner = runner }

    /// The variants of `order` this engine has, in order.
    public var variants: [String] { VariantsRunner.order.filter { runner.engine.info.variants.contains($0) } }

    /// Runs `request` once per variant (its `variant` is replaced). Stops at the first error: a half-run matrix
    /// must not look complete. Results so far are handed to `onResult` as they come, so nothing measured is lost.
    public func runAll(_ request: RunRequest, onChunk: ChunkHandler = { _, _ in },
                       onResult: (BenchmarkResult) throws -> Void = { _ in }) throws -> [BenchmarkResult] {
        var results: [BenchmarkResult] = []
        if let loaded = runner.loadedVariant { runner.unload(loaded) }
        for variant in variants {
            var r = request
            r.variant = variant
            r.id = "\(request.id)-\(variant)"
            defer { runner.unload(variant) }
            let result = try runner.run(r, onChunk: onChunk)
            results.append(result)
            try onResult(result)
        }
        return results
    }
}
