"""The result schema: kokoro_benchmark.py's 14 keys in its order, then the keys every pytest-kokoro harness adds.

The key lists are read from spec/result_keys.json in tests, so Python, Swift and the docs cannot drift apart.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

REFERENCE_KEYS = (
    "model_name",
    "model_description",
    "text",
    "voice",
    "model_load_time",
    "inference_time",
    "total_time",
    "time_to_first_audio",
    "per_sentence_inference",
    "audio_duration",
    "real_time_factor",
    "samples_per_sec",
    "peak_memory_gb",
    "sample_rate",
)


class ReferenceResult(BaseModel):
    """One object of a kokoro_benchmark.py results file, exactly as that script writes it."""

    model_config = ConfigDict(extra="allow", strict=True, protected_namespaces=())

    model_name: str
    model_description: str
    text: str
    voice: str
    model_load_time: float
    inference_time: float
    total_time: float
    time_to_first_audio: float
    per_sentence_inference: list[float]
    audio_duration: float
    real_time_factor: float
    samples_per_sec: float | None
    peak_memory_gb: float
    sample_rate: int


class AdaptivePace(BaseModel):
    """The device's pace the ``adaptive`` split planned with (core/pace.py), in microseconds."""

    model_config = ConfigDict(extra="forbid", strict=True)

    compute_us_per_chunk: int
    compute_us_per_char: int
    audio_us_per_chunk: int
    audio_us_per_char: int


class HarnessResult(ReferenceResult):
    """A result written by a pytest-kokoro harness: the reference keys, then these, then any the plugin adds."""

    variant: str
    round: int
    cold: bool
    warmup: bool
    speed: float
    split: str
    chunk_count: int
    samples: int
    time_to_first_audible: float | None
    memory_source: str
    engine: str
    engine_version: str
    harness_version: str
    simulated: bool
    platform: str
    device_model: str
    os_version: str
    variant_sha256: str | None
    thermal_state_before: str | None
    thermal_state_after: str | None
    calibration_time: float | None
    # Heat (docs/results.md "Heat"): read right before the calibration workload and T1, and again after the last
    # chunk, outside the timed region; null where the device has no such reading, never a guess.
    calibration_time_after: float | None
    cpu_temperature_c_before: float | None
    cpu_temperature_c_after: float | None
    cpu_frequency_mhz_before: float | None
    cpu_frequency_mhz_after: float | None
    playback: bool
    # Playback as heard (docs/results.md "Playback keys"), replayed from the chunks.
    chunk_samples: list[int]
    playback_stall_time: float
    stall_count: int
    gapless_start_time: float
    cold_time_to_first_audio: float | None
    played_chunk_starts: list[float] | None
    # Only a run split ``adaptive`` measures it (docs/protocol.md "Split strategies"); null on the others.
    adaptive_pace: AdaptivePace | None


HARNESS_EXTRA_KEYS = tuple(k for k in HarnessResult.model_fields if k not in REFERENCE_KEYS)

# The conditions a round ran under, written after the harness keys where a harness knows them (docs/results.md
# "Rounds left out of gates"): build_configuration and excluded_from_gates on every Swift round, the device state
# before/after and MLX's cache limit on the iOS app's. Not required: the host harness writes none of them.
CONDITION_KEYS = (
    "build_configuration",
    "excluded_from_gates",
    "low_power_mode_before",
    "low_power_mode_after",
    "battery_state_before",
    "battery_state_after",
    "foreground_before",
    "foreground_after",
    "mlx_cache_limit_bytes",
)


def _reasons(value: Any) -> list[str]:
    return [str(reason) for reason in value] if isinstance(value, list) else [str(value)] if value else []


def gate_exclusions(result: dict[str, Any]) -> list[str]:
    """Why a round must be left out of gates and baselines ([] when it may gate): the harness's own
    ``excluded_from_gates`` (debug_build, thermal_state_before_serious/_critical, low_power_mode, not_foreground),
    then the plugin's ``heat_flags`` (runner/heat.py), each reason once. The round stays in the results and the
    summary counts it; only gates and baselines skip it."""
    reasons = _reasons(result.get("excluded_from_gates")) + _reasons(result.get("heat_flags"))
    return list(dict.fromkeys(reasons))


def gate_pairs(baseline: list[dict[str, Any]], candidate: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The A/B pairs (baseline round, candidate round), measured back to back, that gates compare: a pair with a
    round left out of gates (``gate_exclusions``) is left out whole."""
    return [(b, c) for b, c in zip(baseline, candidate) if not gate_exclusions(b) and not gate_exclusions(c)]


def exclusion_counts(results: list[dict[str, Any]], reasons=gate_exclusions) -> tuple[int, dict[str, int]]:
    """How many ``results`` have a reason (``reasons``: gate_exclusions, or only the heat flags), and how many
    rounds name each reason."""
    counts: dict[str, int] = {}
    flagged = 0
    for result in results:
        found = reasons(result)
        flagged += bool(found)
        for reason in found:
            counts[reason] = counts.get(reason, 0) + 1
    return flagged, dict(sorted(counts.items()))


class EngineExtras(BaseModel):
    """Keys an engine adds after the harness keys where it has them (docs/results.md): checked when present."""

    model_config = ConfigDict(extra="forbid", strict=True)

    onnxruntime_version: str | None = None
    # The mlx engine: where its weights came from (official folder, user folder, or derived from which file and
    # sha256), and MLX's own allocator peak in GiB, reset per round (the iPhone app reports it too).
    weights_source: str | None = None
    mlx_peak_memory_gb: float | None = None


ENGINE_EXTRA_KEYS = tuple(EngineExtras.model_fields)


# What the host adds to every round after checking its audio (pytest_kokoro/quality, docs/quality.md), after the
# plugin's own keys (device, case, host_wall_time). Null where a check did not run (--kokoro-quality=basic, a
# SIMULATED engine's tone, a text with no English words to listen for).
QUALITY_KEYS = (
    "quality_failures",  # the names of the checks the audio failed, [] when none
    "quality_reasons",  # what each failure found, in words, in the same order
    "quality_peak",
    "quality_level_dbfs",
    "quality_flatness",
    "quality_level_spread_db",
    "quality_dc_offset",
    "quality_leading_silence",
    "quality_phoneme_tokens",
    "quality_duration_ratio",
    "quality_intelligibility",
    "quality_check_time",
)


class ResultsFileError(ValueError):
    """A results file that is not in the kokoro_benchmark.py schema; the message names what is wrong."""


def _float_ok(data: dict[str, Any]) -> dict[str, Any]:
    # JSON has one number type: 9 and 9.0 are the same float to kokoro_benchmark.py. Strict mode would reject
    # an int where a float is declared, so widen ints (not bools) for the float fields only.
    fields = {**HarnessResult.model_fields, **EngineExtras.model_fields}
    floats = {name for name, f in fields.items() if f.annotation in (float, float | None)}
    return {k: float(v) if k in floats and type(v) is int else v for k, v in data.items()}


def key_order_problems(data: dict[str, Any], extra_keys: tuple[str, ...] = ()) -> list[str]:
    """Problems with the order of keys: the 14 reference keys must come first, in order, then ``extra_keys``."""
    keys = list(data)
    expected = list(REFERENCE_KEYS) + list(extra_keys)
    if keys[: len(expected)] != expected:
        return [f"keys must start with {expected}, got {keys[: len(expected)]}"]
    return []


def validate_result(data: dict[str, Any], *, harness: bool = True) -> ReferenceResult:
    """Validate one result object; ``harness=False`` accepts a plain kokoro_benchmark.py object."""
    model = HarnessResult if harness else ReferenceResult
    missing = [k for k in model.model_fields if k not in data]
    if missing:
        raise ResultsFileError(
            f"result for {data.get('model_name', '?')}/{data.get('voice', '?')} is missing keys: {', '.join(missing)}"
            + (
                " (kokoro_benchmark.py wrote files without time_to_first_audio and per_sentence_inference before "
                "August 2025: re-run the benchmark to get them)"
                if {"time_to_first_audio", "per_sentence_inference"} & set(missing)
                else ""
            )
        )
    order = key_order_problems(data, HARNESS_EXTRA_KEYS if harness else ())
    if order:
        raise ResultsFileError(order[0])
    try:
        EngineExtras.model_validate(_float_ok({k: data[k] for k in ENGINE_EXTRA_KEYS if k in data}))
        return model.model_validate(_float_ok(data))
    except ValidationError as error:
        raise ResultsFileError(f"result is not in the results schema: {error}") from error


def load_results_file(path: Path, *, harness: bool = False) -> list[ReferenceResult]:
    """Read a results file (a JSON array of result objects) with a message that says what is wrong, never a crash."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ResultsFileError(f"{path}: cannot read a results file: {error}") from error
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise ResultsFileError(f"{path}: a results file is a JSON array of objects")
    results = []
    for index, item in enumerate(data):
        try:
            results.append(validate_result(item, harness=harness))
        except ResultsFileError as error:
            raise ResultsFileError(f"{path}: result {index}: {error}") from error
    return results


def results_json_schema() -> dict[str, Any]:
    """The JSON Schema of one harness result, as published in docs/results.schema.json."""
    schema = HarnessResult.model_json_schema()
    schema["title"] = "pytest-kokoro result"
    schema["description"] = (
        "One timed round. The first 14 keys are kokoro_benchmark.py's, in its order; harness keys follow; "
        "the plugin may add more after them (device, case)."
    )
    return schema


if __name__ == "__main__":
    print(json.dumps(results_json_schema(), indent=2))
