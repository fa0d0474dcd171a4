import AVFoundation

/// Plays chunks as they arrive (24 kHz mono float) with AVAudioEngine, so a listener hears what TTFA means.
/// Playback runs beside the benchmark; it never delays a timestamp (buffers are scheduled, not awaited).
final class ChunkPlayer {
    private let engine = AVAudioEngine()
    private let node = AVAudioPlayerNode()
    private let format = AVAudioFormat(standardFormatWithSampleRate: 24_000, channels: 1)
    var enabled = true

    init() {
        guard let format else { return }
        engine.attach(node)
        engine.connect(node, to: engine.mainMixerNode, format: format)
    }

    func reset() {
        node.stop()
    }

    func enqueue(_ samples: [Float]) {
        guard enabled, let format, !samples.isEmpty,
              let buffer = AVAudioPCMBuffer(pcmFormat: format, frameCapacity: AVAudioFrameCount(samples.count)),
              let channel = buffer.floatChannelData?[0] else { return }
        buffer.frameLength = AVAudioFrameCount(samples.count)
        samples.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { channel.update(from: base, count: samples.count) }
        }
        do {
            if !engine.isRunning {
                try AVAudioSession.sharedInstance().setCategory(.playback)
                try engine.start()
            }
            node.scheduleBuffer(buffer)
            if !node.isPlaying { node.play() }
        } catch {
            NSLog("KokoroBench: playback off: %@", "\(error)")
            enabled = false
        }
    }
}
