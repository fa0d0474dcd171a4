import json

import pytest

from pytest_kokoro.core.schema import (
    CONDITION_KEYS,
    HARNESS_EXTRA_KEYS,
    REFERENCE_KEYS,
    ResultsFileError,
    gate_exclusions,
    load_results_file,
    results_json_schema,
    validate_result,
)
from tests.conftest import ROOT, SHARED_FIXTURES, load_spec

KEYS = load_spec("result_keys.json")
DONE = next(e for e in load_spec("protocol_examples.json")["events"] if e["type"] == "done")


def test_key_lists_match_the_shared_spec():
    assert list(REFERENCE_KEYS) == [k["name"] for k in KEYS["reference_keys"]]
    assert list(HARNESS_EXTRA_KEYS) == [k["name"] for k in KEYS["harness_extra_keys"]]
    assert list(CONDITION_KEYS) == [k["name"] for k in KEYS["condition_keys"]]


def test_a_flagged_round_says_why_it_is_left_out_of_gates():
    assert gate_exclusions({"excluded_from_gates": ["debug_build", "low_power_mode"]}) == ["debug_build",
                                                                                         "low_power_mode"]
    assert gate_exclusions({"excluded_from_gates": []}) == []
    assert gate_exclusions({}) == [], "the host harness writes no condition keys: its rounds gate"


def test_reference_results_validate_as_they_are(reference_fixture):
    results = load_results_file(reference_fixture)
    assert [r.model_name for r in results] == [f"mlx-community/Kokoro-82M-{v}" for v in ("bf16", "8bit", "6bit", "4bit")]
    assert all(len(r.per_sentence_inference) == 7 for r in results)


def test_old_reference_file_names_the_missing_keys():
    path = SHARED_FIXTURES / "benchmark_results_20250827_141340.json"
    if not path.is_file():
        pytest.skip("../shared is not beside the checkout")
    with pytest.raises(ResultsFileError) as caught:
        load_results_file(path)
    message = str(caught.value)
    assert "time_to_first_audio" in message and "per_sentence_inference" in message and "re-run" in message


def test_the_protocol_example_result_is_a_valid_harness_result():
    assert validate_result(DONE["result"]).chunk_count == 2


def test_extra_keys_may_follow_but_never_replace():
    result = dict(DONE["result"], device="host")
    validate_result(result)
    reordered = {"device": "host", **DONE["result"]}
    with pytest.raises(ResultsFileError, match="keys must start with"):
        validate_result(reordered)


@pytest.mark.parametrize("key,value", [("sample_rate", "24000"), ("per_sentence_inference", [0.1, "x"]),
                                       ("cold", 1), ("inference_time", None)])
def test_wrong_types_are_rejected(key, value):
    with pytest.raises(ResultsFileError):
        validate_result(dict(DONE["result"], **{key: value}))


def test_integers_are_fine_where_numbers_are_expected():
    assert validate_result(dict(DONE["result"], model_load_time=0)).model_load_time == 0.0


def test_not_an_array_and_not_json(tmp_path):
    (tmp_path / "a.json").write_text('{"x": 1}')
    (tmp_path / "b.json").write_text("[{")
    for name in ("a.json", "b.json"):
        with pytest.raises(ResultsFileError):
            load_results_file(tmp_path / name)


def test_published_json_schema_is_current():
    published = json.loads((ROOT / "docs" / "results.schema.json").read_text())
    assert published == results_json_schema(), "regenerate: python -m pytest_kokoro.core.schema > docs/results.schema.json"


def test_docs_results_example_is_valid():
    text = (ROOT / "docs" / "results.md").read_text()
    block = text.split("```json\n", 1)[1].split("```", 1)[0]
    for result in json.loads(block):
        validate_result(result)
