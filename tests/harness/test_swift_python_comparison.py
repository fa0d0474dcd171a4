"""The Swift-vs-Python comparison tools of GitHub issue 24: their tables, not their timings (those are measured, with
the commands in docs/performance.md)."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ROOT
from tools.chunk_instructions import cpu_table, intervals, label, summarize
from tools.measure_swift import ARMS, arm_order, chunk_table, drift_table


def result(per_chunk: list[float], samples: list[int]) -> dict:
    total = sum(samples) / 24_000
    return {"per_sentence_inference": per_chunk, "chunk_samples": samples, "real_time_factor": sum(per_chunk) / total}


def test_every_arm_goes_first_equally_often():
    two = ("swift-sherpa", "python-sherpa")
    assert [arm_order(two, r)[0] for r in range(4)] == ["swift-sherpa", "python-sherpa"] * 2
    assert sorted(arm_order(ARMS, r)[0] for r in range(3)) == sorted(ARMS)
    assert all(sorted(arm_order(ARMS, r)) == sorted(ARMS) for r in range(5))


def test_chunk_table_puts_each_chunk_of_swift_beside_python():
    results = {"t": {"swift-sherpa": [result([2.0, 1.1], [100, 50]), result([2.2, 1.3], [100, 50])],
                     "python-sherpa": [result([2.0, 1.0], [100, 50]), result([2.0, 1.0], [100, 50])]}}
    rows = chunk_table(results)
    assert rows[2] == "| t | 0 | [100] | 2.100 | 2.000 | 1.050 |"
    assert rows[3] == "| t | 1 | [50] | 1.200 | 1.000 | 1.200 |"


def test_chunk_table_says_when_the_harnesses_cut_the_text_differently():
    results = {"t": {"swift-sherpa": [result([2.0, 1.0], [100, 50])], "python-sherpa": [result([3.0], [150])]}}
    assert "chunk counts differ: [1, 2]" in chunk_table(results)[2]


def test_drift_table_gives_the_ratio_round_by_round():
    results = {"t": {"swift-sherpa": [result([1.0], [24_000]), result([1.2], [24_000])],
                     "python-sherpa": [result([1.0], [24_000]), result([1.0], [24_000])]}}
    assert drift_table(results)[2] == "| t (Swift / Python RTF) | 1.000 | 1.200 |"


def dump(folder: Path, name: str, trigger: str | None, instructions: int) -> None:
    header = ["# callgrind format", "version: 1", "events: Ir"]
    if trigger:
        header.insert(2, f"desc: Trigger: {trigger}")
    (folder / name).write_text("\n".join([*header, f"summary: {instructions}", "", "fn=(1) main", "0 1"]) + "\n")


def test_callgrind_dumps_become_the_intervals_around_each_engine_call(tmp_path):
    before, after = "--dump-before=SherpaOnnxOfflineTtsGenerateWithConfig", "--dump-after=SherpaOnnxOfflineTtsGenerateWithConfig"
    dump(tmp_path, "cg.out.1-01", before, 100)
    dump(tmp_path, "cg.out.2-01", after, 9_000)
    dump(tmp_path, "cg.out.3-01", before, 7)
    dump(tmp_path, "cg.out.4-01", after, 8_000)
    dump(tmp_path, "cg.out.10-01", before, 5)  # numeric, not text, order: dump 10 comes after dump 4
    dump(tmp_path, "cg.out-01", None, 3)
    dump(tmp_path, "cg.out-02", None, 40_000)
    (tmp_path / "cg.out").write_text("")  # the empty file callgrind leaves for the whole run
    assert [d["threads"] for d in intervals(tmp_path)] == [{1: 100}, {1: 9_000}, {1: 7}, {1: 8_000}, {1: 5},
                                                        {1: 3, 2: 40_000}]
    assert summarize("swift", tmp_path) == [
        "| swift | before the first engine call | 100 | 0 |",
        "| swift | engine call 1 | 9,000 | 0 |",
        "| swift | between engine calls 1 and 2 | 7 | 0 |",
        "| swift | engine call 2 | 8,000 | 0 |",
        "| swift | between engine calls 2 and 3 | 5 | 0 |",
        "| swift | after the last engine call | 3 | 40,000 |",
    ]
    assert label("", 2) == ("after the last engine call", 2)


def test_cpu_table_gives_the_median_gap_between_chunks_and_the_engine_calls():
    rows = cpu_table({"swift": {"between": [100_000, 300_000, 140_000], "engine": [1_400_000_000, 1_500_000_000]},
                      "python": {"between": [450_000], "engine": [1_390_000_000]}})
    assert rows[2] == "| swift | 140 (100-300, 3) | 1450 |"
    assert rows[3] == "| python | 450 (450-450, 1) | 1390 |"


def test_pool_reads_the_committed_quiet_runs_and_gives_one_row_per_text():
    """docs/performance.md's pooled table is what --pool prints from the committed files."""
    from tools.measure_swift import pooled

    files = sorted((ROOT / "tools" / "data" / "swift_python").glob("swift_performance_*.json"))
    table = pooled(files)
    rows = {line.split(" | ")[0].strip("| "): line for line in table.splitlines() if line.startswith("| short") or
            line.startswith("| default")}
    assert set(rows) == {"default", *(f"short_sentences-{i}" for i in range(1, 6))}
    assert rows["short_sentences-4"].split(" | ")[1] == "19"
    docs = (ROOT / "docs" / "performance.md").read_text()
    for text_id, row in rows.items():
        ttfa, rtf = row.split(" | ")[2:4]
        assert ttfa in docs and rtf.rstrip(" |") in docs, (text_id, row)
