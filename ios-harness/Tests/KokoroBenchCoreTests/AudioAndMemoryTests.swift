import Foundation
import XCTest
@testable import KokoroBenchCore

final class AudioAndMemoryTests: XCTestCase {
    func testWAVHeaderBytes16Bit() {
        let d = AudioCollector.wavData([0, 1, -1, 0.5], sampleRate: 24_000, format: .pcm16)
        let b = [UInt8](d)
        XCTAssertEqual(b.count, 44 + 8)
        XCTAssertEqual(Array(b[0..<4]), Array("RIFF".utf8))
        XCTAssertEqual(Array(b[4..<8]), [44, 0, 0, 0])        // 36 + 8 data bytes
        XCTAssertEqual(Array(b[8..<16]), Array("WAVEfmt ".utf8))
        XCTAssertEqual(Array(b[16..<20]), [16, 0, 0, 0])
        XCTAssertEqual(Array(b[20..<24]), [1, 0, 1, 0])       // PCM, mono
        XCTAssertEqual(Array(b[24..<28]), [0xC0, 0x5D, 0, 0]) // 24000
        XCTAssertEqual(Array(b[28..<32]), [0x80, 0xBB, 0, 0]) // 48000 bytes/s
        XCTAssertEqual(Array(b[32..<36]), [2, 0, 16, 0])      // block align 2, 16 bits
        XCTAssertEqual(Array(b[36..<40]), Array("data".utf8))
        XCTAssertEqual(Array(b[40..<44]), [8, 0, 0, 0])
        XCTAssertEqual(Array(b[44...]), [0, 0, 0xFF, 0x7F, 0x01, 0x80, 0x00, 0x40])  // 0, 32767, -32767, 16384
    }

    func testWAVFloatAndClipping() {
        let f = [UInt8](AudioCollector.wavData([0.25], format: .float32))
        XCTAssertEqual(Array(f[20..<22]), [3, 0])             // IEEE float
        XCTAssertEqual(Array(f[34..<36]), [32, 0])
        XCTAssertEqual(Array(f[44...]), [0, 0, 0x80, 0x3E])   // 0.25f little-endian
        let clipped = [UInt8](AudioCollector.wavData([3, -3, .nan]))
        XCTAssertEqual(Array(clipped[44...]), [0xFF, 0x7F, 0x01, 0x80, 0, 0])
    }

    func testCollectorAndBase64() {
        let c = AudioCollector()
        c.append([0.1, 0.2])
        c.append([0.3])
        XCTAssertEqual(c.samples, [0.1, 0.2, 0.3])
        XCTAssertEqual(c.duration, 3.0 / 24_000, accuracy: 1e-12)
        XCTAssertEqual(AudioCollector.f32leBase64([0, 1, -1]), "AAAAAAAAgD8AAIC/", "the example in protocol_examples.json")
        XCTAssertEqual(AudioCollector.decodeF32leBase64("AAAAAAAAgD8AAIC/"), [0, 1, -1])
        XCTAssertNil(AudioCollector.decodeF32leBase64("AAA"))
        XCTAssertEqual(AudioCollector.firstAudibleIndex([0, 0.005, -0.02, 0.5]), 2)
        XCTAssertNil(AudioCollector.firstAudibleIndex([0, 0.001]))
    }

    func testScriptedAudioIsDeterministicBoundedAndNotSilent() throws {
        let e = ScriptedEngine()
        _ = try e.loadVariant("bf16")
        e.config.costPerCharMs = 0; e.config.costPerChunkMs = 0
        let a = try e.synthesize("Hello there.", voice: "af_heart", speed: 1)
        let b = try e.synthesize("Hello there.", voice: "af_heart", speed: 1)
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.count, 12 * 1_440)
        XCTAssertTrue(a.allSatisfy { $0.isFinite && abs($0) <= 1 })
        XCTAssertGreaterThan(a.map { abs($0) }.max() ?? 0, 0.4)
        XCTAssertEqual(try e.synthesize("Hello there.", voice: "af_heart", speed: 2).count, 6 * 1_440, "speed shortens audio")
    }

    func testStopwatchIsMonotonicAndMoves() {
        let w = Stopwatch()
        Thread.sleep(forTimeInterval: 0.02)
        let a = w.elapsed()
        let b = w.elapsed()
        XCTAssertGreaterThanOrEqual(a, 0.019)
        XCTAssertGreaterThanOrEqual(b, a)
    }

    #if os(Linux)
    func testLinuxPeakMemorySeesAnAllocationAndResets() throws {
        let m = MemorySampler()
        XCTAssertEqual(m.source, "VmHWM")
        m.resetPeak()
        let before = m.peakGiB()
        XCTAssertGreaterThan(before, 0)
        // Touch 256 MiB so it is resident; the high-water mark must rise by most of it.
        let count = 256 * 1_048_576
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: count)
        for i in stride(from: 0, to: count, by: 4096) { p[i] = 1 }
        let during = m.peakGiB()
        p.deallocate()
        XCTAssertGreaterThan(during - before, 0.2, "VmHWM did not see 256 MiB")
        m.resetPeak()
        let after = m.peakGiB()
        // clear_refs may be refused in a restricted container; then the peak stays (an upper bound), never lower.
        XCTAssertTrue(after < during - 0.1 || after >= during, "reset gave \(after) from \(during)")
    }
    #endif
}
