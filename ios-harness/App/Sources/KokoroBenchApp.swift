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

/// Owns the one engine and runner; all engine work happens on `queue`, never on the main thread.
final class BenchController: ObservableObject {
    let engine: TTSEngine
    let runner: BenchmarkRunner
    let deviceState = DeviceState()
    let playback = ChunkPlayer()
    let store = ResultsStore()
    private let queue = DispatchQueue(label: "kokoro.bench", qos: .userInitiated)
    // Playback is scheduled from its own queue so the timed chunk loop only pays for an async hop.
    private let playbackQueue = DispatchQueue(label: "kokoro.playback")

    @Published var results: [BenchmarkResult] = []
    @Published var status = "Idle"
    @Published var running = false
    @Published var servingPort: UInt16?
    @Published var lastResultsFile: URL?
    @Published var lastWAV: URL?

    init() {
        #if canImport(MLXAudioTTS)
        engine = MLXKokoroEngine()
        #else
        engine = ScriptedEngine()  // SIMULATED: only when MLX is not linked (never in the shipped app)
        #endif
        runner = BenchmarkRunner(engine: engine, deviceState: deviceState)
        runner.player = playback  // played_chunk_starts, beside the replayed playback keys
    }

    /// `--serve PORT`: headless harness mode for the plugin.
    func startServerIfAsked(arguments: [String]) {
        guard let i = arguments.firstIndex(of: "--serve"), i + 1 < arguments.count,
              let port = UInt16(arguments[i + 1]), servingPort == nil else { return }
        queue.async { [self] in
            let listener: TCPListener
            do { listener = try TCPListener(loopbackPort: port) } catch {
                DispatchQueue.main.async { self.status = "Cannot serve: \(error)" }
                return
            }
            DispatchQueue.main.async {
                self.servingPort = listener.port
                self.status = "Serving on 127.0.0.1:\(listener.port)"
                #if canImport(UIKit)
                // A locked screen suspends the app and with it the harness: keep the phone awake while serving.
                UIApplication.shared.isIdleTimerDisabled = true
                #endif
            }
            while true {
                guard let fd = try? listener.accept() else { continue }
                let server = HarnessServer(runner: runner) { NSLog("KokoroBench: %@", $0) }
                server.onResult = { result in
                    self.store.append(result)
                    DispatchQueue.main.async { self.results.append(result) }
                }
                let ending = server.serve(source: FileDescriptorLineSource(fd: fd), sink: FileDescriptorLineSink(fd: fd))
                close(fd)
                if ending == .shutdown { exit(0) }  // the protocol: `bye`, then the harness exits
            }
        }
    }

    func run(text: String, voice: String, variant: String, warmup: Bool, allVariants: Bool) {
        guard !running else { return }
        running = true
        status = allVariants ? "Running all variants…" : "Running \(variant)…"
        let request = RunRequest(id: "ui-\(Int(Date().timeIntervalSince1970))", text: text, voice: voice,
                                 variant: variant, warmup: warmup)
        playback.reset()
        queue.async { [self] in
            let audio = AudioCollector()
            var newResults: [BenchmarkResult] = []
            let onChunk: ChunkHandler = { chunk, samples in
                audio.append(samples)
                let t1 = self.playback.expect(chunk, samples: samples.count)
                self.playbackQueue.async { self.playback.enqueue(samples, chunk: chunk, t1: t1) }
            }
            do {
                if allVariants {
                    newResults = try VariantsRunner(runner: runner).runAll(request, onChunk: onChunk)
                } else {
                    newResults = [try runner.run(request, onChunk: onChunk)]
                }
                let file = try store.writeRun(newResults)
                let wav = try store.writeWAV(audio, name: "\(variant)_\(voice)")
                DispatchQueue.main.async {
                    self.results.append(contentsOf: newResults)
                    self.lastResultsFile = file
                    self.lastWAV = wav
                    self.status = "Done: \(newResults.count) result(s)"
                    self.running = false
                }
            } catch {
                DispatchQueue.main.async {
                    self.status = "Error: \(error)"
                    self.running = false
                }
            }
        }
    }
}
