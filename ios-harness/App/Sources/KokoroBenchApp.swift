import KokoroBenchCore
import SwiftUI
#if canImport(UIKit)
import UIKit
#endif

/// Entry point. Launched with `--serve PORT` (what the pytest plugin does through pymobiledevice3), the app runs
/// the protocol v1 harness on 127.0.0.1:PORT in the background; the screen then only shows that it is serving.
@main
struct KokoroBenchApp: App {
    @StateObject private var bench = BenchController()

    var body: some Scene {
        WindowGroup {
            BenchmarkView()
                .environmentObject(bench)
                .onAppear { bench.startServerIfAsked(arguments: ProcessInfo.processInfo.arguments) }
        }
    }
}

/// Where the user puts files: the app's Documents folder, which Finder (the phone > Files > Kokoro Bench) and the
/// Files app (On My iPhone > Kokoro Bench) show, because Info.plist sets UIFileSharingEnabled and
/// LSSupportsOpeningDocumentsInPlace.
enum AppFolders {
    static var documents: URL {
        FileManager.default.urls(for: .documentDirectory, in: .userDomainMask).first
            ?? URL(fileURLWithPath: NSTemporaryDirectory())
    }

    /// Documents/models only: nothing is bundled (docs/iphone.md "The weights": pushed with --kokoro-push-weights
    /// or copied with Finder / Files).
    static var models: ModelFolders {
        ModelFolders(roots: [documents.appendingPathComponent("models")], userPath: "Documents/models")
    }

    /// mlx-audio-swift keeps its G2P data under the Hugging Face cache (ModelUtils.swift:77-80), which is
    /// HF_HUB_CACHE when set (swift-huggingface CacheLocationProvider.swift:164-170) and otherwise Library/Caches,
    /// which no user can reach. Pointed at Documents before anything of MLXAudio runs (HubCache.default is a lazy
    /// static, HubCache.swift:73), so the data can be copied in with Finder or Files.
    static let hubCache = documents.appendingPathComponent("huggingface/hub")
    static let userHubPath = "Documents/huggingface/hub"

    static func pointHuggingFaceCacheAtDocuments() {
        try? FileManager.default.createDirectory(at: hubCache, withIntermediateDirectories: true)
        setenv("HF_HUB_CACHE", hubCache.path, 1)
    }
}

/// Owns the one engine and runner; all engine work happens on `queue`, never on the main thread.
final class BenchController: ObservableObject {
    let engine: TTSEngine
    let runner: BenchmarkRunner
    let deviceState = DeviceState()
    let playback = ChunkPlayer()
    let store = ResultsStore()
    /// Closed while the app is not in the foreground (GPU work is not allowed in the background).
    let gate = InterruptionGate()
    private let queue = DispatchQueue(label: "kokoro.bench", qos: .userInitiated)
    // Playback is scheduled from its own queue so the timed chunk loop only pays for an async hop.
    private let playbackQueue = DispatchQueue(label: "kokoro.playback")
    private var observers: [NSObjectProtocol] = []

    @Published var results: [BenchmarkResult] = []
    @Published var status = "Idle"
    @Published var running = false
    @Published var servingPort: UInt16?
    /// The last run's files (its results JSON and one WAV per variant), shared together.
    @Published var lastRunFiles: [URL] = []
    /// Write one WAV per run and variant (on by default; off saves space on long sessions).
    @Published var saveWAVs = true
    @Published var variants: [String] = []
    @Published var voices: [String] = []

    init() {
        AppFolders.pointHuggingFaceCacheAtDocuments()
        #if canImport(MLXAudioTTS)
        engine = MLXKokoroEngine(folders: AppFolders.models, hubCache: AppFolders.hubCache,
                                 userHubPath: AppFolders.userHubPath, gate: gate)
        #else
        engine = ScriptedEngine()  // SIMULATED: only when MLX is not linked (never in the shipped app)
        #endif
        runner = BenchmarkRunner(engine: engine, deviceState: deviceState)
        let player = playback
        runner.playbackActive = { player.enabled }  // the result's `playback` key
        runner.player = playback  // played_chunk_starts, beside the replayed playback keys
        refreshModels()
        watchLifecycle()
    }

    /// A voice that some variant folders have and others lack is not offered (ModelFolders.voices is the
    /// intersection); say which, so the user knows what to copy.
    var partialVoicesNote: String? {
        let partial = AppFolders.models.partialVoices()
        guard !partial.isEmpty else { return nil }
        return "Not in every variant, so not offered: " + partial.keys.sorted().map {
            "\($0) (missing in \(partial[$0]!.joined(separator: ", ")))"
        }.joined(separator: "; ")
    }

    /// Variants and voices as they are on disk now (the pickers; the harness asks the engine itself).
    func refreshModels() {
        let info = engine.info
        variants = info.variants
        voices = info.voices
    }

    #if canImport(UIKit)
    private var backgroundTask = UIBackgroundTaskIdentifier.invalid

    private func watchLifecycle() {
        let center = NotificationCenter.default
        let gate = self.gate
        let deviceState = self.deviceState
        deviceState.refreshBattery()
        // Not on willResignActive: pulling down Control Center resigns active without leaving the foreground, and
        // GPU work is still allowed then. Apple: finish GPU work before didEnterBackground returns ("Preparing your
        // Metal app to run in the background"): the chunk in flight gets up to 4 s of the handler's time; the next
        // fails `interrupted`. A background task keeps the process from being suspended until the harness has sent
        // that error and written its results, so the host hears why and the app keeps serving when it comes back.
        observers.append(center.addObserver(forName: UIApplication.didEnterBackgroundNotification, object: nil,
                                            queue: .main) { [weak self] _ in
            deviceState.setForeground(false)
            self?.beginBackgroundTask()
            gate.close(because: "the app went to the background (the phone locked or another app came to the front)",
                       waitingUpTo: 4)
            DispatchQueue.main.asyncAfter(deadline: .now() + 5) { self?.endBackgroundTask() }
        })
        observers.append(center.addObserver(forName: UIApplication.willEnterForegroundNotification, object: nil,
                                            queue: .main) { _ in deviceState.setForeground(true) })
        observers.append(center.addObserver(forName: UIApplication.didBecomeActiveNotification, object: nil,
                                            queue: .main) { [weak self] _ in
            deviceState.setForeground(true)
            deviceState.refreshBattery()
            gate.open()
            self?.endBackgroundTask()
            self?.refreshModels()
        })
        observers.append(center.addObserver(forName: UIDevice.batteryStateDidChangeNotification, object: nil,
                                            queue: .main) { _ in deviceState.refreshBattery() })
    }

    private func beginBackgroundTask() {
        guard backgroundTask == .invalid else { return }
        backgroundTask = UIApplication.shared.beginBackgroundTask(withName: "kokoro.interrupted") { [weak self] in
            self?.endBackgroundTask()
        }
    }

    private func endBackgroundTask() {
        guard backgroundTask != .invalid else { return }
        UIApplication.shared.endBackgroundTask(backgroundTask)
        backgroundTask = .invalid
    }

    private func keepScreenOn(_ on: Bool) {
        // A locked screen suspends the app and with it the harness.
        DispatchQueue.main.async { UIApplication.shared.isIdleTimerDisabled = on }
    }
    #else
    private func watchLifecycle() {}
    private func keepScreenOn(_ on: Bool) {}
    #endif

    /// `--serve PORT`: headless harness mode for the plugin. The serving loop holds `queue` for the app's life, so
    /// the on-screen Run is disabled while serving (BenchmarkView).
    func startServerIfAsked(arguments: [String]) {
        guard let i = arguments.firstIndex(of: "--serve"), i + 1 < arguments.count,
              let port = UInt16(arguments[i + 1]), servingPort == nil else { return }
        // Sockets are written without SIGPIPE (KokoroBenchCore FileDescriptorLineSink / TCPListener); ignoring the
        // signal as well covers any other descriptor.
        signal(SIGPIPE, SIG_IGN)
        let listener: TCPListener
        do { listener = try TCPListener(loopbackPort: port) } catch {
            status = "Cannot serve: \(error)"
            return
        }
        servingPort = listener.port
        status = "Serving on 127.0.0.1:\(listener.port)"
        keepScreenOn(true)
        let service = LoopbackService(listener: listener, runner: runner) { NSLog("KokoroBench: %@", $0) }
        service.configure = { [self] server, _ in
            store.startConnection()  // one results file per host connection (a pytest run)
            server.onResult = { result in
                self.store.append(result)
                DispatchQueue.main.async { self.results.append(result) }
            }
            server.onChunkAudio = { chunk, samples in
                let t1 = self.playback.expect(chunk, samples: samples.count)  // played_chunk_starts
                self.playbackQueue.async { self.playback.enqueue(samples, chunk: chunk, t1: t1) }
            }
        }
        queue.async {
            service.run()  // returns after `shutdown`
            exit(0)  // the protocol: `bye`, then the harness exits
        }
    }

    func run(text: String, voice: String, variant: String, warmup: Bool, allVariants: Bool) {
        guard !running, servingPort == nil else { return }
        running = true
        status = allVariants ? "Running all variants…" : "Running \(variant)…"
        let request = RunRequest(id: "ui-\(Int(Date().timeIntervalSince1970))", text: text, voice: voice,
                                 variant: variant, warmup: warmup)
        playback.reset()
        keepScreenOn(true)
        let saveWAVs = self.saveWAVs
        queue.async { [self] in
            // One collector per timed run: "Run All Variants" gives each variant its own WAV (RunAudio).
            let audio = RunAudio()
            var newResults: [BenchmarkResult] = []
            let onChunk: ChunkHandler = { chunk, samples in
                audio.append(chunk, samples)
                let t1 = self.playback.expect(chunk, samples: samples.count)
                self.playbackQueue.async { self.playback.enqueue(samples, chunk: chunk, t1: t1) }
            }
            var failure: Error?
            do {
                if allVariants {
                    // Each result is kept as it comes: an interruption or error keeps the variants done.
                    _ = try VariantsRunner(runner: runner).runAll(request, onChunk: onChunk) { newResults.append($0) }
                } else {
                    newResults = [try runner.run(request, onChunk: onChunk)]
                }
            } catch {
                failure = error
            }
            var files: [URL] = []
            if !newResults.isEmpty, let file = try? store.writeRun(newResults) {
                files.append(file)
                if saveWAVs {
                    for (result, collector) in audio.pairs(with: newResults) {
                        if let wav = try? store.writeWAV(collector, resultsFile: file, variant: result.variant,
                                                         voice: result.voice) {
                            files.append(wav)
                        }
                    }
                }
            }
            DispatchQueue.main.async {
                self.results.append(contentsOf: newResults)
                if !files.isEmpty { self.lastRunFiles = files }
                self.status = failure.map { "Error: \($0) (\(newResults.count) result(s) kept)" }
                    ?? "Done: \(newResults.count) result(s)"
                self.running = false
                self.keepScreenOn(false)
            }
        }
    }
}
