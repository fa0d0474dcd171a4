/// Playback as a listener hears it, replayed from the chunk events (docs/results.md "Playback keys").
///
/// The Swift twin of `playback_metrics` in pytest_kokoro's core metrics; both are checked against
/// spec/playback_examples.json. An ideal player starts with the first chunk the moment it is ready; chunk i plays
/// when it is ready (`t[i]`, seconds since T1) and the chunk before it has ended, and lasts
/// `samples[i] / sampleRate` seconds. A chunk that is ready only after the one before it ended leaves a gap: a stall.
public struct Playback: Equatable {
    /// When each chunk starts playing, seconds since T1.
    public var starts: [Double]
    /// When each chunk ends, seconds since T1.
    public var ends: [Double]
    /// The sum of the gaps.
    public var stallTime: Double
    /// How many gaps there are.
    public var stallCount: Int
    /// The earliest start that never stalls: max over i of (t[i] − the audio before chunk i). The time a player
    /// must wait (buffer) after T1 to play the whole text without a gap; never less than time_to_first_audio.
    public var gaplessStartTime: Double

    /// Replays chunks ready at `times` (seconds since T1, in order) with `samples` samples each.
    /// Returns nil when there is nothing to play (no chunks, or a count mismatch).
    public static func replay(times: [Double], samples: [Int], sampleRate: Int) -> Playback? {
        guard !times.isEmpty, times.count == samples.count, sampleRate > 0 else { return nil }
        var starts: [Double] = []
        var ends: [Double] = []
        var stallTime = 0.0
        var stallCount = 0
        var gaplessStart = -Double.infinity
        var audioBefore = 0.0
        for (i, t) in times.enumerated() {
            let duration = Double(samples[i]) / Double(sampleRate)
            var start = t
            if let previousEnd = ends.last {
                if t > previousEnd {
                    stallTime += t - previousEnd
                    stallCount += 1
                } else {
                    start = previousEnd
                }
            }
            starts.append(start)
            ends.append(start + duration)
            gaplessStart = max(gaplessStart, t - audioBefore)
            audioBefore += duration
        }
        return Playback(starts: starts, ends: ends, stallTime: stallTime, stallCount: stallCount,
                        gaplessStartTime: gaplessStart)
    }

    /// The result keys, in the order of spec/result_keys.json.
    public var resultPairs: [(String, JSONValue)] {
        [("playback_stall_time", .double(stallTime)), ("stall_count", .int(stallCount)),
         ("gapless_start_time", .double(gaplessStartTime))]
    }
}
