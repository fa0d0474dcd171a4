import AVFoundation
import KokoroBenchCore

/// Plays chunks as they arrive (24 kHz mono float) with AVAudioEngine, so a listener hears what TTFA means.
/// Playback runs beside the benchmark; it never delays a timestamp (buffers are scheduled, not awaited).
///
/// It also reports when each chunk really started playing (`played_chunk_starts`, beside the replayed playback
/// keys): a buffer scheduled with `.dataPlayedBack` calls back once its last sample has left the output device
/// (output latency included, AVAudioPlayerNodeCompletionCallbackType.dataPlayedBack, iOS 11+), and a buffer plays
/// without a break once it started, so it started `duration` before that. Times are on the runner's clock
/// (Stopwatch), in seconds since the run's T1.
final class ChunkPlayer: PlayedChunkStarts {
    private let engine = AVAudioEngine()
    private let node = AVAudioPlayerNode()
    private let format = AVAudioFormat(standardFormatWithSampleRate: 24_000, channels: 1)
    var enabled = true

    private let state = NSCondition()
    private var runID = ""
    private var expected: [Int: Double] = [:]  // chunk index -> seconds of audio, for the current run
    private var starts: [Int: Double] = [:]    // chunk index -> when it started playing, seconds since T1
    private var generation = 0                 // bumped by reset(): callbacks of stopped buffers are ignored

    init() {
        guard let format else { return }
        engine.attach(node)
        engine.connect(node, to: engine.mainMixerNode, format: format)
    }

    func reset() {
        state.lock()
        generation += 1
        expected = [:]
        starts = [:]
        state.unlock()
        node.stop()
    }

    /// Call on the runner's thread from the chunk handler, right after the chunk's `t` was taken: it anchors T1 on
    /// the Stopwatch clock (now − t, off by the microseconds since `t`) and registers the chunk synchronously, so
    /// `playedChunkStarts` knows what to wait for. Then schedule the samples with `enqueue(_:chunk:t1:)`.
    func expect(_ chunk: ChunkEvent, samples: Int) -> UInt64 {
        let t1 = Stopwatch.nowNanoseconds() &- UInt64(max(0, chunk.t) * 1e9)
        state.lock()
        if chunk.id != runID {
            runID = chunk.id
            expected = [:]
            starts = [:]
        }
        expected[chunk.index] = Double(samples) / 24_000
        state.unlock()
        return t1
    }

    /// Before T1 (BenchmarkRunner calls it after the warm-up): the audio session and the engine start here, not on
    /// the first chunk, where starting them would fall inside the first timed round's chunk handler.
    func prepareForTimedRun() {
        guard enabled else { return }
        do {
            try startIfNeeded()
        } catch {
            NSLog("KokoroBench: playback off: %@", "\(error)")
            enabled = false
        }
    }

    private func startIfNeeded() throws {
        if !engine.isRunning {
            try AVAudioSession.sharedInstance().setCategory(.playback)
            try engine.start()
        }
    }

    func enqueue(_ samples: [Float], chunk: ChunkEvent? = nil, t1: UInt64 = 0) {
        guard enabled, let format, !samples.isEmpty,
              let buffer = AVAudioPCMBuffer(pcmFormat: format, frameCapacity: AVAudioFrameCount(samples.count)),
              let channel = buffer.floatChannelData?[0] else { return }
        buffer.frameLength = AVAudioFrameCount(samples.count)
        samples.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { channel.update(from: base, count: samples.count) }
        }
        do {
            try startIfNeeded()  // already running after prepareForTimedRun(); only a restart lands here
            if let chunk {
                state.lock()
                let generation = self.generation
                state.unlock()
                let duration = Double(samples.count) / 24_000
                node.scheduleBuffer(buffer, completionCallbackType: .dataPlayedBack) { [weak self] _ in
                    let end = Double(Stopwatch.nowNanoseconds() &- t1) / 1e9
                    self?.played(chunk, start: end - duration, generation: generation)
                }
            } else {
                node.scheduleBuffer(buffer)
            }
            if !node.isPlaying { node.play() }
        } catch {
            NSLog("KokoroBench: playback off: %@", "\(error)")
            enabled = false
            state.lock()
            state.broadcast()
            state.unlock()
        }
    }

    private func played(_ chunk: ChunkEvent, start: Double, generation: Int) {
        state.lock()
        // A stopped node also calls back (reset() bumps the generation first): only buffers that really played count.
        if generation == self.generation, chunk.id == runID {
            starts[chunk.index] = start
            state.broadcast()
        }
        state.unlock()
    }

    /// Waits (after the clock stopped) until every chunk of the run has played, at most its audio plus 5 s.
    func playedChunkStarts(runID: String, chunkCount: Int) -> [Double]? {
        state.lock()
        defer { state.unlock() }
        guard enabled, self.runID == runID, expected.count == chunkCount else { return nil }
        let deadline = Date(timeIntervalSinceNow: expected.values.reduce(0, +) + 5)
        while starts.count < chunkCount, enabled {
            if !state.wait(until: deadline) { break }
        }
        guard starts.count == chunkCount else { return nil }
        return (0..<chunkCount).compactMap { starts[$0] }
    }
}
