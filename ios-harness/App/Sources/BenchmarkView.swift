import KokoroBenchCore
import SwiftUI

/// The benchmark screen: text, voice, variant, warm-up, Run / Run All Variants, a results table, sharing.
struct BenchmarkView: View {
    @EnvironmentObject var bench: BenchController
    @State private var text = "Hello, this is a benchmark test of the Kokoro text-to-speech system. We are testing "
        + "different model quantization levels for performance and quality."
    @State private var voice = "af_heart"
    @State private var variant = "bf16"
    @State private var warmup = true

    var body: some View {
        NavigationStack {
            Form {
                if let port = bench.servingPort {
                    Section {
                        Label("Serving protocol v1 on 127.0.0.1:\(port)", systemImage: "network")
                        Text("Run is off while the app serves the host; the screen stays on.").font(.footnote)
                    }
                }
                Section("Input") {
                    TextEditor(text: $text).frame(minHeight: 100)
                    Picker("Voice", selection: $voice) {
                        ForEach(bench.voices, id: \.self) { Text($0) }
                    }
                    Picker("Variant", selection: $variant) {
                        ForEach(bench.variants, id: \.self) { Text($0) }
                    }
                    Toggle("Warm-up (\"Hi.\") before the clock", isOn: $warmup)
                    Toggle("Save a WAV per variant", isOn: $bench.saveWAVs)
                    if let note = bench.partialVoicesNote { Text(note).font(.footnote) }
                }
                Section {
                    Button("Run") { bench.run(text: text, voice: voice, variant: variant, warmup: warmup, allVariants: false) }
                    Button("Run All Variants") {
                        bench.run(text: text, voice: voice, variant: variant, warmup: warmup, allVariants: true)
                    }
                    Text(bench.status).font(.footnote).foregroundStyle(.secondary)
                }
                .disabled(bench.running || bench.servingPort != nil || bench.variants.isEmpty)
                if bench.variants.isEmpty {
                    Section {
                        Text("No model folders found. Push them with pytest --kokoro-push-weights, or copy "
                            + "Kokoro-82M-<variant> folders to Documents/models with Finder or the Files app "
                            + "(docs/iphone.md), then tap Refresh.")
                        Button("Refresh") { bench.refreshModels() }
                    }
                }
                Section("Results") {
                    ForEach(Array(bench.results.enumerated()), id: \.offset) { _, r in
                        VStack(alignment: .leading) {
                            Text("\(r.variant) · \(r.voice)\(r.cold ? " · cold" : "")").font(.headline)
                            // %d is a 32-bit C int: a Swift Int goes in as text.
                            Text(String(format: "TTFA %.3f s · RTF %.3f · %.2f GiB · ", r.timeToFirstAudio,
                                        r.realTimeFactor, r.peakMemoryGB) + "\(r.chunkCount) chunks")
                                .font(.caption.monospacedDigit())
                            Text("per sentence: " + r.perSentenceInference.map { String(format: "%.3f", $0) }
                                .joined(separator: " · ") + " s")
                                .font(.caption2.monospacedDigit()).foregroundStyle(.secondary)
                        }
                    }
                    if !bench.lastRunFiles.isEmpty {
                        ShareLink("Share this run's files (\(bench.lastRunFiles.count))", items: bench.lastRunFiles)
                    }
                }
            }
            .navigationTitle("Kokoro Bench")
            .onAppear { bench.refreshModels() }
            .onChange(of: bench.voices) { _, voices in
                if let v = voices.first, !voices.contains(voice) { voice = v }
            }
            .onChange(of: bench.variants) { _, variants in
                if let v = variants.first, !variants.contains(variant) { variant = v }
            }
        }
    }
}
