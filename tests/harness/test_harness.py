import json
import subprocess
import sys

import numpy as np
import pytest

from pytest_kokoro.core.metrics import invariant_problems
from pytest_kokoro.core.pace import PACE_PROBES, Pace
from pytest_kokoro.core.protocol import decode_audio, encode
from pytest_kokoro.core.schema import validate_result
from pytest_kokoro.core.sentences import split_text
from pytest_kokoro.harness.server import Harness
from tests.support.scripted_engine import ScriptedEngine


def serve(engine, *requests):
    events = []
    harness = Harness(engine, events.append)
    for request in requests:
        line = request if isinstance(request, bytes) else encode(request)
        if not harness.handle_line(line):
            break
    return events


def run(text, run_id="r1", **extra):
    return {"type": "run", "id": run_id, "text": text, "voice": "jf_alpha", "variant": "int8", **extra}


def test_a_run_streams_chunks_then_a_valid_result():
    engine = ScriptedEngine()
    events = serve(engine, run("Hello there. How are you?", send_audio=True))
    kinds = [e["type"] for e in events]
    assert kinds == ["chunk", "chunk", "audio", "audio", "done"]
    result = events[-1]["result"]
    validate_result(result)
    chunks = [e for e in events if e["type"] == "chunk"]
    assert invariant_problems(result, [c["t"] for c in chunks], [c["samples"] for c in chunks]) == []
    assert result["cold"] is True and result["model_load_time"] >= 0
    assert sum(decode_audio(e).size for e in events if e["type"] == "audio") == result["samples"]
    assert result["playback"] is False, "the host harness plays nothing while it measures"


def test_warmup_and_voice_come_before_the_clock():
    engine = ScriptedEngine()
    serve(engine, run("Hello there."))
    assert engine.calls == ["load int8", "voice jf_alpha", "synthesize Hi.", "synthesize Hello there."]
    engine.calls.clear()
    serve(engine, run("Hello there.", warmup=False))
    assert engine.calls == ["voice jf_alpha", "synthesize Hello there."]


def test_an_adaptive_run_measures_the_pace_once_before_the_clock_and_cuts_with_it():
    engine = ScriptedEngine()  # SIMULATED: no model, so the pace it measures is near zero (a very fast device)
    text = "Hello, this is a benchmark test of the Kokoro text-to-speech system. We are testing quantization."
    events = serve(engine, run(text, split="adaptive"), run(text, "r2", split="adaptive"), run(text, "r3"))
    probes = [f"synthesize {p}" for p in PACE_PROBES]
    assert engine.calls[:5] == ["load int8", "voice jf_alpha", "synthesize Hi.", *probes]
    assert engine.calls.count(probes[0]) == 1, "one pace per variant, voice and speed in a harness process"
    first, second, sentences = [e["result"] for e in events if e["type"] == "done"]
    validate_result(first)
    assert first["adaptive_pace"] == second["adaptive_pace"] and sentences["adaptive_pace"] is None
    chunks = [e["text"] for e in events if e["type"] == "chunk" and e["id"] == "r1"]
    assert chunks == split_text(text, "adaptive", pace=Pace.from_json(first["adaptive_pace"]))
    assert chunks[0] == "Hello," and len(chunks) == 2, "a fast device gets the rest in one chunk"


def test_second_run_is_warm_with_zero_load_time():
    engine = ScriptedEngine()
    harness_events = serve(engine, run("One."), run("Two.", "r2"))
    second = harness_events[-1]["result"]
    assert (second["cold"], second["model_load_time"]) == (False, 0.0)


@pytest.mark.parametrize("text,code", [("", "empty_text"), ("  \n\t", "empty_text"), ("\x00\x1b[0m", "empty_text"),
                                       ("!!! ...", "unspeakable_text")])
def test_bad_text_gets_a_typed_error_and_the_harness_stays_up(text, code):
    events = serve(ScriptedEngine(), run(text), {"type": "ping", "id": "p"})
    assert events[-2]["type"] == "error" and events[-2]["code"] == code and events[-2]["id"] == "r1"
    assert events[-1] == {"type": "pong", "id": "p"}


@pytest.mark.parametrize("field,value,code", [("voice", "nope", "unknown_voice"), ("variant", "int9", "unknown_variant")])
def test_unknown_voice_or_variant(field, value, code):
    events = serve(ScriptedEngine(), {**run("Hi there."), field: value}, {"type": "ping", "id": "p"})
    assert events[0]["code"] == code and value in events[0]["message"]
    assert events[1]["type"] == "pong"


def test_an_engine_crash_mid_run_is_an_error_event_not_a_dead_harness():
    events = serve(ScriptedEngine(fail_on="boom"), run("Fine. Then boom. Never."), {"type": "ping", "id": "p"})
    assert [e["type"] for e in events] == ["chunk", "error", "pong"]
    assert events[1]["code"] == "internal" and "simulated engine failure" in events[1]["message"]


def test_malformed_lines_are_answered_and_served_past():
    events = serve(ScriptedEngine(), b"{nope\n", b'{"type": "ping", "id": "p", "extra": 1}\n', {"type": "ping", "id": "p"})
    assert [e.get("code") for e in events] == ["bad_json", "unknown_field", None]


def test_protocol_mismatch_is_fatal_and_shutdown_says_bye():
    assert serve(ScriptedEngine(), {"type": "hello", "protocol": 2}, {"type": "ping", "id": "p"})[-1]["fatal"] is True
    assert serve(ScriptedEngine(), {"type": "shutdown"}, {"type": "ping", "id": "p"}) == [{"type": "bye"}]


def test_real_harness_end_to_end_on_a_short_text():
    """The real host harness process with the real Kokoro-82M int8 model."""
    requests = [{"type": "hello", "protocol": 1},
                run("Hi there. This is Kokoro.", send_audio=True),
                {"type": "shutdown"}]
    done = subprocess.run([sys.executable, "-m", "pytest_kokoro.harness"], input=b"".join(map(encode, requests)),
                          capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert [e["type"] for e in events] == ["hello", "chunk", "chunk", "audio", "audio", "done", "bye"]
    hello, result = events[0], events[5]["result"]
    assert hello["simulated"] is False and "int8" in hello["variants"] and "jf_alpha" in hello["voices"]
    validate_result(result)
    chunks = [e for e in events if e["type"] == "chunk"]
    assert invariant_problems(result, [c["t"] for c in chunks], [c["samples"] for c in chunks]) == []
    audio = np.concatenate([decode_audio(e) for e in events if e["type"] == "audio"])
    assert audio.size == result["samples"] and np.abs(audio).max() > 0.05
    assert result["variant_sha256"] == "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb"
    assert 0 < result["peak_memory_gb"] < 8 and result["memory_source"] == "VmHWM"


def test_user_model_files_are_variants_and_bad_ones_are_explained(tmp_path):
    """--model VARIANT=PATH: a real file becomes a variant (here the int8 export under another name); a broken or
    missing file gets a message that says what to do, and the harness serves on."""
    from pytest_kokoro.harness.model_files import int8_model_path

    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    requests = [{"type": "hello", "protocol": 1},
                {"type": "load", "variant": "mine"},
                {"type": "load", "variant": "broken"},
                {"type": "load", "variant": "fp16"},
                {"type": "ping", "id": "p"}, {"type": "shutdown"}]
    done = subprocess.run([sys.executable, "-m", "pytest_kokoro.harness", "--model", f"mine={int8_model_path()}",
                           "--model", f"broken={broken}"], input=b"".join(map(encode, requests)),
                          capture_output=True, timeout=300)
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert events[0]["variants"] == ["int8", "broken", "mine"]
    assert events[1]["type"] == "loaded" and events[1]["model_name"] == "kokoro-v1.0.int8.onnx"
    assert events[1]["variant_sha256"] == "6e742170d309016e5891a994e1ce1559c702a2ccd0075e67ef7157974f6406cb"
    assert events[2]["code"] == "missing_file" and "not a loadable ONNX model" in events[2]["message"]
    assert events[3]["code"] == "missing_file" and "--kokoro-model fp16=PATH" in events[3]["message"]
    assert [e["type"] for e in events[4:]] == ["pong", "bye"]
