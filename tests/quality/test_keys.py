"""The quality_* keys: one list in core/schema.py, the shared spec, the docs, and what a round really gets."""

import json

from pytest_kokoro.core.metric_table import BY_KEY, HIGHER, gateable
from pytest_kokoro.core.schema import QUALITY_KEYS
from pytest_kokoro.devices.client import RunOutcome
from pytest_kokoro.runner.records import Case, Settings
from pytest_kokoro.runner.results import ResultsWriter
from pytest_kokoro.runner.session import KokoroSession
from tests.conftest import ROOT, load_spec
from tests.quality.corpus import broken_cases


def test_the_quality_keys_match_the_shared_spec_and_the_docs():
    assert list(QUALITY_KEYS) == [k["name"] for k in load_spec("result_keys.json")["quality_keys"]]
    docs = (ROOT / "docs" / "results.md").read_text() + (ROOT / "docs" / "quality.md").read_text()
    assert all(f"`{key}`" in docs for key in QUALITY_KEYS)


def test_intelligibility_is_a_gateable_metric_where_higher_is_better():
    row = BY_KEY["quality_intelligibility"]
    assert row.better == HIGHER and gateable()["intelligibility"] is row


class OneRunClient:
    """Stands in for the harness client: hands back one outcome, as HarnessClient.run does after a run."""

    hello: dict = {}

    def __init__(self, outcome):
        self.outcome = outcome

    def run(self, **request):
        return self.outcome


def outcome_of(speech, audio, chunk_samples, texts):
    chunks = [{"index": i, "text": t, "samples": n, "t": 0.5 * (i + 1)}
              for i, (t, n) in enumerate(zip(texts, chunk_samples))]
    result = {"voice": speech.voice, "speed": 1.0, "sample_rate": 24000, "simulated": False,
              "samples": int(audio.size)}
    return RunOutcome(result, chunks, audio)


def run_one(tmp_path, outcome, quality="full"):
    settings = Settings("host", rounds=1, warmup=False, timeout=10.0, quality=quality)
    session = KokoroSession(settings, make_device=None, writer=ResultsWriter(tmp_path))
    session.harness = lambda: OneRunClient(outcome)
    case = Case("int8", "jf_alpha", "default", "text")
    _, problems = session.run_round(case, 0, "t.py::t[int8-jf_alpha-default]")
    return problems, json.loads(session.writer.path.read_text())[-1]


def test_a_round_with_broken_audio_fails_by_name_and_stays_in_the_results(tmp_path, host_speech):
    noise = next(c for c in broken_cases(host_speech) if c.name == "noise_tail")
    problems, written = run_one(tmp_path, outcome_of(host_speech, noise.audio, noise.chunk_samples,
                                                     noise.chunk_texts))
    assert any(p.startswith("noise_tail: chunk 1:") for p in problems)
    assert written["quality_failures"] == ["noise_tail"] and "noise" in written["quality_reasons"][0]
    keys = list(written)
    assert keys[keys.index("quality_failures"):][:len(QUALITY_KEYS)] == list(QUALITY_KEYS)
    assert any(p.startswith("noise_tail") for p in written["broken_rules"])  # the report marks the round


def test_a_good_round_gets_every_quality_key_and_basic_skips_the_scorer(tmp_path, host_speech):
    outcome = outcome_of(host_speech, host_speech.audio, host_speech.chunk_samples, host_speech.chunk_texts)
    problems, written = run_one(tmp_path, outcome, quality="basic")
    assert not [p for p in problems if p.split(":")[0] in ("noise", "too_short", "too_long", "clipped")]
    assert written["quality_failures"] == [] and written["quality_intelligibility"] is None
    assert written["quality_phoneme_tokens"] == 160 and written["quality_check_time"] > 0


def test_the_gate_learns_intelligibility_and_a_drop_is_the_regression():
    from pytest_kokoro.gates.spec import parse_gate_spec
    from pytest_kokoro.gates.verdicts import compare_unpaired

    assert parse_gate_spec("intelligibility=10%").thresholds["intelligibility"] == 0.10
    worse = compare_unpaired("intelligibility", [1.0, 1.0, 0.95, 1.0, 1.0, 0.95], [0.6, 0.55, 0.6, 0.65, 0.6, 0.55], 0.10)
    better = compare_unpaired("intelligibility", [0.6, 0.55, 0.6, 0.65, 0.6, 0.55], [1.0, 1.0, 0.95, 1.0, 1.0, 0.95], 0.10)
    assert worse.p_regression < 0.01 < better.p_regression


def test_without_pocketsphinx_the_round_is_kept_and_the_message_says_what_to_do(tmp_path, host_speech, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pocketsphinx(name, *args, **kwargs):
        if name == "pocketsphinx":
            raise ImportError("No module named 'pocketsphinx'")  # what Python raises when it is not installed
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pocketsphinx)
    outcome = outcome_of(host_speech, host_speech.audio, host_speech.chunk_samples, host_speech.chunk_texts)
    problems, written = run_one(tmp_path, outcome)
    assert any("pip install 'pytest-kokoro[quality]'" in p and "--kokoro-quality=basic" in p for p in problems)
    assert written["quality_failures"] == [] and written["quality_intelligibility"] is None
