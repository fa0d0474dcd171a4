"""Several devices, one run: one pytest-xdist worker per device (its kind decides which worker drives what), one
results file and one pytest-benchmark file.

pytest-benchmark disables itself under xdist, and each worker has its own session. So a worker writes its results
under ``results/workers/`` (crash-safe, as always), hands them to the controller through ``config.workeroutput``
at the end, and the controller merges them into ``results/benchmark_results_*.json`` and a pytest-benchmark-format
``results/pytest_benchmark_*.json`` whose stats are the devices' own times.
"""

from __future__ import annotations

import datetime
import json
import platform
from pathlib import Path
from typing import Any

from pytest_kokoro.benchmark.adapter import benchmark_entries
from pytest_kokoro.core.jsonfile import claim_new_path, write_json_atomically
from pytest_kokoro.devices.base import WorkerSetupError
from pytest_kokoro.runner.records import Case, CaseRecord
from pytest_kokoro.runner.results import device_facts

WORKER_OUTPUT_KEY = "kokoro"


def worker_id(config: Any) -> str | None:
    """xdist's worker id ("gw0", ...) in a worker; None in the controller or without xdist."""
    workerinput = getattr(config, "workerinput", None)
    return workerinput.get("workerid") if workerinput else None


def worker_count(config: Any) -> int:
    """How many pytest-xdist workers this run has (1 without xdist)."""
    workerinput = getattr(config, "workerinput", None)
    return int(workerinput.get("workercount", 1)) if workerinput else 1


def worker_number(wid: str) -> int:
    """gw2 -> 2, so that workers merge in numeric order (gw2 before gw10)."""
    try:
        return int(wid.removeprefix("gw"))
    except ValueError:
        raise WorkerSetupError(f"unexpected pytest-xdist worker id {wid!r}") from None


def results_location(config: Any, results_dir: Path, file_name: str) -> tuple[Path, str]:
    """Where this process's ResultsWriter writes: the results folder, or ``workers/`` under it in a worker."""
    wid = worker_id(config)
    if wid is None:
        return Path(results_dir), file_name
    return Path(results_dir) / "workers", file_name.replace(".json", f"_{wid}.json")


def worker_payload(session: Any, kind: str, device_facts: dict[str, Any]) -> str:
    """What a worker sends the controller: its records (in order), its hello, its device kind and facts."""
    return json.dumps({
        "device_label": session.settings.device_label,
        "device_kind": kind,
        "hello": session.hello,
        "faults": session.faults,
        "device_facts": device_facts,
        "records": [{"case": vars(r.case), "nodeid": r.nodeid, "results": r.results}
                    for r in session.records.values()],
    })


class ResultsMerger:
    """The controller's side: collects workers' payloads, writes one results file and one pytest-benchmark file."""

    def __init__(self) -> None:
        self.payloads: dict[str, dict[str, Any]] = {}
        self.written: tuple[Path, Path] | None = None

    def finish(self, session: Any, run: Any) -> None:
        """At the controller's end: the merged files, then the run's HTML report of them (``run.write_report``)."""
        self.written = self.write(run.writer.path, session.config.getoption("benchmark_json", None))
        if self.written:
            run.write_report(session, self.written[0])

    def add(self, wid: str, payload: str) -> None:
        worker_number(wid)
        self.payloads[wid] = json.loads(payload)

    def _in_order(self) -> list[tuple[str, dict[str, Any]]]:
        return sorted(self.payloads.items(), key=lambda item: worker_number(item[0]))

    @property
    def records(self) -> list[CaseRecord]:
        return [CaseRecord(Case(**r["case"]), r["nodeid"], r["results"])
                for _, payload in self._in_order() for r in payload["records"]]

    @property
    def faults(self) -> list[str]:
        return [f for _, payload in self._in_order() for f in payload["faults"]]

    def write(self, results_path: Path, benchmark_json: Path | None = None) -> tuple[Path, Path] | None:
        """The merged results file and pytest-benchmark file (also to ``benchmark_json``, --benchmark-json)."""
        records = self.records
        if not records:
            return None
        results_path = claim_new_path(results_path)
        write_json_atomically(results_path, [result for record in records for result in record.results])
        stamp = results_path.stem.removeprefix("benchmark_results_")
        benchmark_path = results_path.parent / f"pytest_benchmark_{stamp}.json"
        merged = self.benchmark_json(records)
        write_json_atomically(benchmark_path, merged)
        if benchmark_json is not None:
            write_json_atomically(Path(benchmark_json), merged)
        return results_path, benchmark_path

    def benchmark_json(self, records: list[CaseRecord]) -> dict[str, Any]:
        from pytest_benchmark import __version__ as benchmark_version

        from pytest_kokoro.devices.registry import kind

        devices = {wid: device_facts(p["device_label"], p["hello"]) for wid, p in self._in_order()}
        machine_info = {"node": platform.node(), "processor": platform.processor(), "machine": platform.machine(),
                        "python_implementation": platform.python_implementation(),
                        "python_version": platform.python_version(), "system": platform.system(),
                        "release": platform.release(), "kokoro_workers": devices}
        results = [result for record in records for result in record.results]
        for name in dict.fromkeys(p.get("device_kind") for _, p in self._in_order()):
            facts = {t: known for _, p in self._in_order() if p.get("device_kind") == name
                     for t, known in p["device_facts"].items()}
            if name is not None:
                machine_info.update(kind(name).machine_info(facts, results))
        return {
            "machine_info": machine_info,
            "commit_info": {},
            "benchmarks": [entry for record in records for entry in benchmark_entries(record)],
            "datetime": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "version": benchmark_version,
        }
