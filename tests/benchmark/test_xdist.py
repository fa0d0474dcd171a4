"""The pytest-xdist merge: workers' payloads become one results file and one pytest-benchmark file."""

import json

from pytest_kokoro.benchmark.xdist import ResultsMerger


def payload(worker: int) -> str:
    case = {"variant": "4bit", "voice": f"voice{worker}", "text_id": "short", "text": "Hi."}
    result = {"round": 0, "inference_time": 1.0, "real_time_factor": 0.5, "time_to_first_audio": 0.1,
              "worker": worker}
    return json.dumps({"device_label": f"iphone:UDID{worker}", "hello": {}, "faults": [f"fault on gw{worker}"],
                       "device_facts": {}, "records": [{"case": case, "nodeid": f"t.py::t[{worker}]",
                                                        "results": [result]}]})


def test_workers_merge_in_numeric_order_and_into_the_benchmark_json_path(tmp_path):
    merger = ResultsMerger()
    for worker in (10, 2, 1):
        merger.add(f"gw{worker}", payload(worker))
    assert [r.case.voice for r in merger.records] == ["voice1", "voice2", "voice10"]
    assert merger.faults == ["fault on gw1", "fault on gw2", "fault on gw10"]
    results_path, benchmark_path = merger.write(tmp_path / "benchmark_results_20261125_120000.json",
                                                tmp_path / "given.json")
    assert [r["worker"] for r in json.loads(results_path.read_text())] == [1, 2, 10]
    assert json.loads((tmp_path / "given.json").read_text()) == json.loads(benchmark_path.read_text())
