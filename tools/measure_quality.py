"""Measure the audio quality checks (docs/quality.md): their cost per second of audio, and how far they separate
good audio from degraded audio, on every host voice reading the project's texts with the real Kokoro-82M int8.

    .venv/bin/python tools/measure_quality.py [--voices jf_alpha,...] [--texts default,paragraph,...]

For each voice and text: synthesizes the text chunk by chunk as the host harness does, runs every check on the
good audio (which must pass: no false failure) and on degraded copies (time-reversed, phase-scrambled, white
noise, twice and half the speed), and prints one line per voice and text and the cost of each check. Texts: the
built-in ones plus an emoji-only and an Arabic text (espeak-ng reads them), and one with numbers.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pytest_kokoro.core.sentences import split_text  # noqa: E402
from pytest_kokoro.core.texts import BUILTIN_TEXTS  # noqa: E402
from pytest_kokoro.harness.onnx_engine import OnnxKokoroEngine  # noqa: E402
from pytest_kokoro.quality.assess import assess_round  # noqa: E402
from pytest_kokoro.quality.checks import check_audio  # noqa: E402
from pytest_kokoro.quality.duration import language_of, token_count  # noqa: E402
from pytest_kokoro.quality.intelligibility import IntelligibilityScorer  # noqa: E402
from tests.quality.corpus import phase_scrambled  # noqa: E402

EXTRA_TEXTS = {"emoji": "😀🎉👍🔥", "arabic": "مرحبا بكم في اختبار النظام",
               "numbers": "Call 555-0199 at 7:45 on 12/03/2024, or pay $3.50."}
RATE = 24000


def degraded(audio, counts):
    rng = np.random.default_rng(0)
    return {
        "reversed": (audio[::-1].copy(), counts[::-1], True),
        "scrambled": (phase_scrambled(audio), counts, False),
        "noise": (rng.normal(0, 0.1, audio.size).astype(np.float32), counts, False),
        "fast": (resample_poly(audio, 1, 2).astype(np.float32), [c // 2 for c in counts], False),
        "slow": (resample_poly(audio, 2, 1).astype(np.float32), [c * 2 for c in counts], False),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--voices", default="jf_alpha,jf_gongitsune,jf_nezumi,jf_tebukuro,jm_kumo")
    parser.add_argument("--texts", default=",".join([*BUILTIN_TEXTS, *EXTRA_TEXTS]))
    parser.add_argument("--fuzz", type=int, default=0, metavar="N",
                        help="instead: N texts of the fuzz corpus (pytest_kokoro/fuzz) through the real harness, "
                             "jf_alpha, every check on each result (none may fail)")
    args = parser.parse_args()
    if args.fuzz:
        return fuzz(args.fuzz)
    texts = {**BUILTIN_TEXTS, **EXTRA_TEXTS}
    engine = OnnxKokoroEngine()
    engine.load("int8")
    scorer = IntelligibilityScorer()
    costs = {"model-free": [], "phonemes": [], "intelligibility": []}
    false_failures = []
    for voice_name in args.voices.split(","):
        voice = engine.voice(voice_name)
        for text_id in args.texts.split(","):
            chunks = split_text(texts[text_id], "sentences")
            pieces = [engine.synthesize("int8", c, voice, voice_name, 1.0) for c in chunks]
            audio, counts = np.concatenate(pieces), [int(p.size) for p in pieces]
            seconds = audio.size / RATE
            started = time.process_time()
            check_audio(audio, RATE, counts)
            costs["model-free"].append((time.process_time() - started) / seconds)
            token_count.cache_clear()
            started = time.process_time()
            [token_count(c, language_of(voice_name)) for c in chunks]
            costs["phonemes"].append((time.process_time() - started) / seconds)
            started = time.process_time()
            good = scorer.score(audio, chunks, counts, RATE)
            costs["intelligibility"].append((time.process_time() - started) / seconds)
            quality = assess_round(audio, chunk_texts=chunks, chunk_samples=counts, voice=voice_name, speed=1.0,
                                   sample_rate=RATE, scorer=scorer)
            if quality.failures:
                false_failures.append((voice_name, text_id, quality.problems))
            row = [f"{voice_name:13s} {text_id:9s} {seconds:5.1f} s good: score {_fmt(good.score)} "
                   f"ratio {quality.keys['quality_duration_ratio'] or 0:.2f} {quality.keys['quality_failures']}"]
            for name, (bad, bad_counts, reversed_chunks) in degraded(audio, counts).items():
                bad_texts = chunks[::-1] if reversed_chunks else chunks
                q = assess_round(bad, chunk_texts=bad_texts, chunk_samples=bad_counts, voice=voice_name, speed=1.0,
                                 sample_rate=RATE, scorer=scorer)
                score = scorer.score(bad, bad_texts, bad_counts, RATE).score
                row.append(f"{name} {_fmt(score)} {','.join(q.keys['quality_failures']) or 'PASSED'}")
            print(" | ".join(row), flush=True)
    print("\ncost, CPU seconds per second of audio (median, max over the texts):")
    for name, values in costs.items():
        print(f"  {name:16s} {statistics.median(values):.4f}  {max(values):.4f}")
    print(f"\nfalse failures on good audio: {len(false_failures)}", *false_failures, sep="\n  ")
    return 1 if false_failures else 0


def fuzz(count: int) -> int:
    """The fuzz corpus through the real host harness, in process, and every check on each result it returns."""
    import json

    from hypothesis import HealthCheck, given, settings

    from pytest_kokoro.core import protocol
    from pytest_kokoro.core.protocol import decode_audio
    from pytest_kokoro.fuzz.texts import fuzz_texts
    from pytest_kokoro.harness.server import Harness

    engine = OnnxKokoroEngine()
    scorer = IntelligibilityScorer()
    seen = {"results": 0, "errors": 0, "failures": []}

    @settings(max_examples=count, database=None, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(text=fuzz_texts())
    def one(text):
        events = []
        harness = Harness(engine, lambda event: events.append(json.loads(protocol.encode(event))))
        harness.handle_line(protocol.encode({"type": "run", "id": "r", "text": text, "voice": "jf_alpha",
                                             "variant": "int8", "warmup": False, "send_audio": True}))
        if events[-1]["type"] != "done":
            seen["errors"] += 1
            return
        chunks = [e for e in events if e["type"] == "chunk"]
        audio = np.concatenate([decode_audio(e) for e in events if e["type"] == "audio"])
        quality = assess_round(audio, chunk_texts=[c["text"] for c in chunks], chunk_samples=[c["samples"] for c in chunks],
                               voice="jf_alpha", speed=1.0, sample_rate=RATE, scorer=scorer)
        seen["results"] += 1
        if quality.failures:
            seen["failures"].append((text[:80], quality.problems))
        print(f"{seen['results']:4d} {audio.size / RATE:6.2f} s {quality.keys['quality_phoneme_tokens']} tokens "
              f"{quality.keys['quality_failures']} {text[:50]!r}", flush=True)

    one()
    print(f"\nfuzz corpus: {seen['results']} results, {seen['errors']} typed errors, "
          f"{len(seen['failures'])} quality failures", *seen["failures"], sep="\n  ")
    return 1 if seen["failures"] else 0


def _fmt(score):
    return "  — " if score is None else f"{score:.2f}"


if __name__ == "__main__":
    sys.exit(main())
