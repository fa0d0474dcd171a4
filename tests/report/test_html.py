"""The HTML report as users make it: the command line on real results files, and the page in a real browser."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.report import browser

DATA = Path(__file__).parent / "data"
OLDER = DATA / "benchmark_results_20261124_120000.json"  # docs/results.md's real round, before the playback keys
CURRENT = sorted(DATA.glob("benchmark_results_20261125_*.json"))[-1]  # a real host run with all four strategies


def report(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "pytest_kokoro.report", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "report.html"
    done = report(OLDER, CURRENT, "-o", out)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"report: {out}"
    return out


def test_the_page_holds_every_section_for_every_case(page):
    html = page.read_text()
    rounds = json.loads(CURRENT.read_text())
    cases = {r["case"] for r in rounds}
    assert {r["split"] for r in rounds} == {"sentences", "clauses", "adaptive", "whole"}
    summary = html.split('id="summary-table"', 1)[1].split("</table>", 1)[0]
    for case in cases:
        assert f"<td>{case}</td>" in summary
    # One comparison per text and voice (variants and splits on its axis); one timeline per case and device; the trend over the two files.
    assert html.count('class="comparison-figure"') == len({(r["text"], r["voice"]) for r in rounds})
    assert html.count('class="timeline-figure"') == len(cases)
    assert html.count('class="heat-table"') == len(cases) + 1  # the older file's case has its heat, no timeline
    assert 'class="trend-figure"' in html


def test_the_heat_of_every_round_is_beside_its_timeline_and_hot_rounds_are_marked(tmp_path):
    """docs/results.md "Heat": the calibration workload before and after each round, the readings a device has
    (none of this VM's: no temperature column), the plugin's heat_flags marked."""
    rounds = [r for r in json.loads(CURRENT.read_text()) if r["case"] == "int8-jf_alpha-default"]
    for index, r in enumerate(rounds):
        r.update(calibration_time=0.02 + 0.01 * index, calibration_time_after=0.025, cpu_temperature_c_before=None,
                 cpu_temperature_c_after=None, heat_flags=["calibration_hot"] if index == 2 else [])
    path = tmp_path / "benchmark_results_20261205_120000.json"
    path.write_text(json.dumps(rounds))
    assert report(path, "-o", tmp_path / "r.html").returncode == 0
    html = (tmp_path / "r.html").read_text()
    table = html.split('class="heat-table"', 1)[1].split("</table>", 1)[0]
    assert "1 hot round(s), marked" in table and "CPU °C" not in table
    rows = table.split("<tbody>", 1)[1].split("<tr")[1:]
    assert len(rows) == len(rounds) == 3
    assert ">20.0</td><td>25.0</td>" in rows[0] and 'class="hot"' not in rows[0]
    assert rows[2].startswith(' class="hot"') and ">40.0</td><td>25.0</td>" in rows[2] and "calibration_hot" in rows[2]


def test_rounds_of_different_runs_are_never_pooled(page):
    # Both files hold the host's int8-jf_alpha-default case (1 round, then 3): two rows, each named by its run,
    # never one row of 4 rounds.
    summary = page.read_text().split('id="summary-table"', 1)[1].split("</table>", 1)[0]
    rows = [row for row in summary.split("<tr")[1:] if "<td>int8-jf_alpha-default</td>" in row]
    assert len(rows) == 2, rows
    assert "host · run 2026-11-24 12:00:00" in rows[0] and "<td>1<" in rows[0]
    assert "host · run 2026-11-25 16:45:28" in rows[1] and "<td>3<" in rows[1]


def test_a_file_from_before_the_playback_keys_loads_and_says_what_it_lacks(tmp_path):
    out = tmp_path / "old.html"
    done = report(OLDER, "-o", out)
    assert done.returncode == 0, done.stderr
    html = out.read_text()
    assert "no round with chunk_samples" in html and 'class="timeline-figure"' not in html
    # One round of one variant on one device: the table, not a page-wide figure of one bar.
    assert 'id="summary-table"' in html and 'class="comparison-table"' in html
    assert 'class="comparison-figure"' not in html and 'class="note single-bar"' in html
    # One variant on one device: the summary opens the page, no comparison comes before it.
    assert html.index('id="summary"') < html.index('id="comparison"')


def test_the_page_is_self_contained(page):
    html = page.read_text()
    assert "<script" not in html
    assert not re.search(r"""(?:src|href)\s*=\s*["'](?!#)""", html), "the page refers to something outside it"
    assert "<link" not in html and "@import" not in html


def test_bad_input_gets_a_message_a_nonzero_exit_and_no_report(tmp_path):
    out = tmp_path / "report.html"
    empty = tmp_path / "benchmark_results_empty.json"
    empty.write_text("")
    truncated = tmp_path / "benchmark_results_truncated.json"
    truncated.write_text(CURRENT.read_text()[:500])
    no_rounds = tmp_path / "benchmark_results_none.json"
    no_rounds.write_text("[]")
    old = json.loads(OLDER.read_text())[0]
    # kokoro_benchmark.py wrote neither key before August 2025.
    before_ttfa = {k: v for k, v in old.items() if k not in ("time_to_first_audio", "per_sentence_inference")}
    too_old = tmp_path / "benchmark_results_20250301_000000.json"
    too_old.write_text(json.dumps([before_ttfa]))
    for args, message in [
        ([], "no results files given"),
        ([empty], "the file is empty"),
        ([truncated], "not JSON"),
        ([no_rounds], "the file holds no rounds"),
        ([CURRENT, too_old], "round 0: result for kokoro-v1.0.int8.onnx/jf_alpha is missing keys: time_to_first_audio"),
        ([tmp_path / "results" / "*.json"], "cannot read it"),
    ]:
        done = report(*args, "-o", out)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert message in done.stderr and "no report written" in done.stderr, done.stderr
        assert not out.exists() and not list(tmp_path.glob(".report.html.*")), "a partial report was left"


def test_a_failed_report_keeps_the_previous_one(tmp_path):
    out = tmp_path / "report.html"
    assert report(CURRENT, "-o", out).returncode == 0
    before = out.read_text()
    (tmp_path / "bad.json").write_text("{")
    assert report(tmp_path / "bad.json", "-o", out).returncode == 2
    assert out.read_text() == before


needs_chromium = pytest.mark.skipif(browser.chromium() is None,
                                    reason=f"no headless Chromium here: {browser.INSTALL} (.ci/run installs it)")


@needs_chromium
def test_chromium_renders_the_tables_and_figures_without_console_errors(page):
    rendered = browser.render(page)
    assert rendered.console == []
    dom = rendered.dom
    assert 'id="summary-table"' in dom and 'class="comparison-table"' in dom
    figures = re.findall(r'<figure class="(\w+)-figure"><svg', dom)
    assert {"comparison", "timeline", "trend"} <= set(figures)
    # The SVGs are parsed as SVG, not shown as text: the DOM keeps their drawing elements.
    assert dom.count("<path") > 50


@needs_chromium
def test_the_console_check_sees_errors(tmp_path):
    # The check above must be able to fail: a page with a console error and a failed fetch is caught.
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><body><img src="http://example.invalid/x.png">'
                   '<script>console.error("boom"); missingFunction();</script></body></html>')
    console = browser.render(bad).console
    assert any("boom" in line for line in console)
    assert any("missingFunction is not defined" in line for line in console)


def test_derived_mlx_weights_get_rows_of_their_own():
    """Variants derived from the int8 model (host mlx engine) never share a row with the official weights'."""
    from pytest_kokoro.report.rounds import with_report_keys

    base = {"model_name": "Kokoro-82M-bf16-derived", "voice": "jf_alpha", "variant": "bf16",
            "per_sentence_inference": [1.0], "sample_rate": 24000}
    derived = with_report_keys({**base, "weights_source": "derived from kokoro-v1.0.int8.onnx (sha256 6e74…)"})
    official = with_report_keys({**base, "weights_source": "official mlx-community/Kokoro-82M-bf16 (…)"})
    assert (derived["variant"], official["variant"]) == ("bf16 (derived)", "bf16")
