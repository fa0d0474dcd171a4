"""The benchmark suite: one test per variant × voice × text (pytest-kokoro builds the matrix from its options).

Each test runs the case's timed rounds on the selected device (--device=host by default) and fails if a result
breaks field parity with kokoro_benchmark.py, the timing invariants, or the audio guards.
"""


def test_streaming_tts(kokoro_benchmark, kokoro_case):
    record = kokoro_benchmark(kokoro_case)
    assert record.results, "no round was measured"
    assert all(r["chunk_count"] == record.results[0]["chunk_count"] for r in record.results), \
        "the same text was cut into different chunk counts across rounds"
