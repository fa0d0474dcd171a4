"""python -m pytest_kokoro.report RESULTS.json... -o report.html: one self-contained HTML report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pytest_kokoro.report.rounds import ReportInputError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pytest_kokoro.report",
                                     description="Write one self-contained HTML report of pytest-kokoro results files.")
    parser.add_argument("results", nargs="*", type=Path, help="results files (results/benchmark_results_*.json)")
    parser.add_argument("-o", "--output", type=Path, required=True, help="the HTML file to write")
    args = parser.parse_args(argv)
    try:
        from pytest_kokoro.report.html import write_report
    except ImportError as error:
        print(f"pytest_kokoro.report: {error.name} is not installed: pip install 'pytest-kokoro[report]'",
              file=sys.stderr)
        return 2
    try:
        written = write_report(args.results, args.output)
    except ReportInputError as error:
        print(f"pytest_kokoro.report: {error}; no report written", file=sys.stderr)
        return 2
    print(f"report: {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
