"""Fuzzing the harness with odd texts: hypothesis profiles and the rules every answer must keep (docs/fuzzing.md).

A fuzzed ``run`` must end in a valid result (schema, invariants against the chunk events, finite audio within
[-1, 1], the shared splitter's chunks) or in a typed, non-fatal error event about the text; the harness must
answer a ping afterwards. A HarnessFault (crash, hang, garbage) always fails.
"""

from __future__ import annotations

import os

import numpy as np
from hypothesis import HealthCheck, settings

from pytest_kokoro.core import protocol
from pytest_kokoro.core.metrics import invariant_problems
from pytest_kokoro.core.schema import ResultsFileError, validate_result
from pytest_kokoro.core.sentences import split_sentences
from pytest_kokoro.devices.client import HarnessError, RunOutcome

PROFILES = {"ci": 25, "nightly": 500}  # profile -> max_examples (through a harness with the real model)
# Examples per fuzz level: what one example costs decides how many a profile affords.
LEVELS = {
    "harness": PROFILES,  # the host harness or a phone: the real model, seconds per text
    "swift_harness": {"ci": 25, "nightly": 5_000},  # the Swift CLI harness, SIMULATED engine: milliseconds per text
    "front_end": {"ci": 100, "nightly": 10_000},  # cleaning, splitting, phonemizing, tokenizing; no model call
    "splitters": {"ci": 200, "nightly": 10_000},  # the Python and Swift splitters on the same texts
}
DEFAULT_PROFILE = "ci"
MAX_EXAMPLES_ENV = "KOKORO_FUZZ_MAX_EXAMPLES"
EVENT_TIMEOUT = 60.0  # seconds the harness may stay silent during one fuzzed run (capped by --kokoro-timeout)

# Error codes that are a right answer to an odd text. Anything else (internal, engine_error, a fatal error,
# an error about the request itself) means the harness mishandled a well-formed request.
TEXT_ERROR_CODES = frozenset({"empty_text", "unspeakable_text", "text_too_long", "no_audio"})
# A harness whose JSON reader refuses lone-surrogate escapes may say so with these, and only for such texts.
SURROGATE_ERROR_CODES = frozenset({"bad_json", "bad_value"})

# Parent: hypothesis's own "default" profile, not whatever profile is active. Under CI (the CI environment variable)
# hypothesis activates its "ci" profile, whose database=None would throw away the failing examples we promise to keep.
for _name, _examples in PROFILES.items():
    settings.register_profile(
        f"kokoro-{_name}", parent=settings.get_profile("default"), max_examples=_examples, deadline=None,
        derandomize=False, print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    )


def profile_settings(name: str | None, level: str = "harness") -> settings:
    """The hypothesis settings of a profile (ci, nightly, or any registered name) at a fuzz level (LEVELS: ci and
    nightly take that level's number of examples), KOKORO_FUZZ_MAX_EXAMPLES applied.

    Precedence: ``name`` (from --kokoro-fuzz-profile), then HYPOTHESIS_PROFILE, then ci.
    """
    name = name or os.environ.get("HYPOTHESIS_PROFILE") or DEFAULT_PROFILE
    try:
        chosen = settings.get_profile(f"kokoro-{name}" if name in PROFILES else name)
    except Exception:  # hypothesis raises InvalidArgument for an unknown profile
        raise ValueError(f"unknown fuzz profile {name!r}: use {' or '.join(PROFILES)} "
                         "(or a hypothesis profile registered in a conftest)") from None
    if name in PROFILES:
        chosen = settings(chosen, max_examples=LEVELS[level][name])
    limit = os.environ.get(MAX_EXAMPLES_ENV)
    if limit:
        if not limit.isdigit() or int(limit) < 1:
            raise ValueError(f"{MAX_EXAMPLES_ENV}={limit!r}: give a positive number of examples")
        chosen = settings(chosen, max_examples=int(limit))
    return chosen


def has_lone_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)


def error_problems(error: HarnessError, text: str) -> list[str]:
    """What is wrong with an error event as the answer to a run of ``text``; [] when it is a right answer."""
    allowed = TEXT_ERROR_CODES | (SURROGATE_ERROR_CODES if has_lone_surrogate(text) else frozenset())
    problems = []
    if error.code not in protocol.ERROR_CODES:
        problems.append(f"untyped error: code {error.code!r} is not a protocol error code")
    elif error.code not in allowed:
        problems.append(f"[{error.code}] is no answer to an odd text ({error.message}); "
                        f"expected one of {sorted(allowed)} or a result")
    if error.fatal:
        problems.append(f"a fatal error for a text: [{error.code}] {error.message}")
    if error.code != "empty_text" and not split_sentences(protocol.as_received(text)) and error.code in TEXT_ERROR_CODES:
        problems.append(f"[{error.code}] for a text that cleans to nothing; expected empty_text")
    return problems


def result_problems(outcome: RunOutcome, text: str) -> list[str]:
    """What is wrong with a run's result, chunk events and audio; [] when it is a valid result."""
    result = outcome.result
    try:
        validate_result(result, harness=True)
    except ResultsFileError as error:
        return [str(error)]
    problems = invariant_problems(result, outcome.chunk_times, outcome.chunk_samples)
    sent = protocol.as_received(text)
    if result["text"] != sent:
        problems.append(f"the result's text {result['text']!r} is not the text sent {sent!r}")
    expected_chunks = split_sentences(sent)
    chunks = [chunk["text"] for chunk in outcome.chunks]
    if chunks != expected_chunks:
        problems.append(f"chunks {chunks!r} are not the shared splitter's {expected_chunks!r}")
    audio = outcome.audio
    if audio is None:
        problems.append("no audio came back although send_audio was true")
    else:
        if audio.size != result["samples"]:
            problems.append(f"{audio.size} audio samples received, the result says {result['samples']}")
        finite = np.isfinite(audio)
        if not finite.all():
            problems.append(f"{int((~finite).sum())} audio samples are NaN or infinite")
        if audio.size and float(np.max(np.abs(np.nan_to_num(audio)))) > 1.0:
            problems.append(f"audio samples reach {float(np.max(np.abs(np.nan_to_num(audio)))):.3f}, outside [-1, 1]")
    return problems
