import Foundation

/// Accumulates a run's PCM and writes it as a mono WAV by hand (no AVFoundation, so it works on Linux too).
public final class AudioCollector {
    public private(set) var samples: [Float] = []
    public let sampleRate: Int

    public init(sampleRate: Int = 24_000) { self.sampleRate = sampleRate }

    public func append(_ chunk: [Float]) { samples.append(contentsOf: chunk) }
    public func reset() { samples.removeAll(keepingCapacity: true) }

    public var duration: Double { Double(samples.count) / Double(sampleRate) }

    public enum Format { case pcm16, float32 }

    /// RIFF/WAVE bytes: 16-bit PCM (format 1, clipped to [-1, 1]) or 32-bit float (format 3).
    public static func wavData(_ samples: [Float], sampleRate: Int = 24_000, format: Format = .pcm16) -> Data {
        let bytesPerSample = format == .pcm16 ? 2 : 4
        let dataSize = samples.count * bytesPerSample
        var d = Data()
        d.reserveCapacity(44 + dataSize)
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
        d.append(contentsOf: Array("RIFF".utf8)); u32(UInt32(36 + dataSize))
        d.append(contentsOf: Array("WAVE".utf8))
        d.append(contentsOf: Array("fmt ".utf8)); u32(16)
        u16(format == .pcm16 ? 1 : 3)                       // audio format: PCM or IEEE float
        u16(1)                                              // mono
        u32(UInt32(sampleRate))
        u32(UInt32(sampleRate * bytesPerSample))            // byte rate
        u16(UInt16(bytesPerSample))                         // block align
        u16(UInt16(bytesPerSample * 8))                     // bits per sample
        d.append(contentsOf: Array("data".utf8)); u32(UInt32(dataSize))
        for x in samples {
            switch format {
            case .pcm16:
                let clipped = x.isFinite ? max(-1, min(1, x)) : 0
                u16(UInt16(bitPattern: Int16((clipped * 32767).rounded())))
            case .float32:
                u32(x.bitPattern)
            }
        }
        return d
    }

    public func wavData(format: Format = .pcm16) -> Data {
        AudioCollector.wavData(samples, sampleRate: sampleRate, format: format)
    }

    public func writeWAV(to url: URL, format: Format = .pcm16) throws {
        try wavData(format: format).write(to: url, options: .atomic)
    }

    /// Little-endian float32 PCM, base64: the `f32le-base64` encoding of the `audio` event.
    public static func f32leBase64(_ samples: [Float]) -> String {
        var d = Data(capacity: samples.count * 4)
        for x in samples { withUnsafeBytes(of: x.bitPattern.littleEndian) { d.append(contentsOf: $0) } }
        return d.base64EncodedString()
    }

    /// The inverse of `f32leBase64`; nil when the data is not base64 of whole float32 values.
    public static func decodeF32leBase64(_ text: String) -> [Float]? {
        guard let d = Data(base64Encoded: text), d.count % 4 == 0 else { return nil }
        var out: [Float] = []
        out.reserveCapacity(d.count / 4)
        var i = d.startIndex
        while i < d.endIndex {
            let b = UInt32(d[i]) | UInt32(d[i + 1]) << 8 | UInt32(d[i + 2]) << 16 | UInt32(d[i + 3]) << 24
            out.append(Float(bitPattern: b))
            i += 4
        }
        return out
    }

    /// Index of the first sample with |x| >= threshold (the first audible sample), nil when there is none.
    public static func firstAudibleIndex(_ samples: [Float], threshold: Float = 0.01) -> Int? {
        samples.firstIndex(where: { abs($0) >= threshold })
    }
}

/// The audio of each timed run of an on-screen run, kept apart: "Run All Variants" makes one run per variant
/// (VariantsRunner: chunk ids "<request id>-<variant>"), and each gets its own WAV named after its own variant,
/// never one file holding all four named after the picker's variant.
public final class RunAudio {
    private var order: [String] = []
    private var collectors: [String: AudioCollector] = [:]

    public init() {}

    /// Call from the runner's chunk handler.
    public func append(_ chunk: ChunkEvent, _ samples: [Float]) {
        if collectors[chunk.id] == nil {
            collectors[chunk.id] = AudioCollector()
            order.append(chunk.id)
        }
        collectors[chunk.id]?.append(samples)
    }

    /// Each result with its run's audio. Runs and results pair up in order: every finished run gave one result, and
    /// a run that failed (its chunks so far, no result) can only be the last.
    public func pairs(with results: [BenchmarkResult]) -> [(result: BenchmarkResult, audio: AudioCollector)] {
        zip(results, order).compactMap { result, id in collectors[id].map { (result, $0) } }
    }
}
