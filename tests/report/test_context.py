"""What a report shows about where its numbers come from, as users make it (`python -m pytest_kokoro.report`), on
real results files: a host run with two engines (onnxruntime, sherpa-onnx; the real int8 model) and a Swift-CLI run
on the SIMULATED scripted engine (bf16, 8bit), both with `--kokoro-texts=short --kokoro-rounds 2`."""

import json
import re

import pytest

from tests.report import browser
from tests.report.test_html import CURRENT, DATA, report

HOST = DATA / "benchmark_results_20261205_150041.json"
SWIFT = DATA / "benchmark_results_20261205_150206.json"  # SIMULATED


def _section(html, start, end="</table>"):
    return html.split(start, 1)[1].split(end, 1)[0]


@pytest.fixture(scope="module")
def two_devices(tmp_path_factory):
    out = tmp_path_factory.mktemp("two") / "report.html"
    done = report(HOST, SWIFT, "-o", out)
    assert done.returncode == 0, done.stderr
    return out.read_text()


def test_the_page_opens_with_what_produced_the_numbers(two_devices):
    html = two_devices
    assert html.index('id="context-table"') < html.index('id="comparison"') < html.index('id="summary"')
    top = _section(html, 'id="context-table"')
    for path in (HOST, SWIFT):
        for r in json.loads(path.read_text()):
            for value in (r["device_model"], f"{r['platform']} {r['os_version']}", r["engine"], r["engine_version"],
                          r["harness_version"], r["variant"], path.name):
                assert value in top, value
    host = json.loads(HOST.read_text())
    assert {r["onnxruntime_version"] for r in host} <= set(re.findall(r"<td>([\d.]+)</td>", top))
    assert host[0]["variant_sha256"][:16] in top
    # Keys no round of these files has are said to be missing, never made up.
    assert not any("build_configuration" in r or "weights_source" in r for r in host)
    build_row = _section(top, "build configuration</th>", "</tr>")
    assert build_row.count("not recorded") == 3
    # The scripted engine has no onnxruntime: the Swift CLI does not write the key.
    assert "yes: SIMULATED engine, not a measurement" in top and "swift (SIMULATED)" in top


def test_each_comparison_has_its_context_beside_it(two_devices):
    blocks = two_devices.split('<h3>')[1:]
    assert len(blocks) == 2
    measured, simulated = blocks
    # The host's two engines side by side on the real model; the SIMULATED rounds in a comparison of their own,
    # never on the axes of measurements.
    assert "SIMULATED" not in measured.split('<div class="side">')[0]
    assert "host (onnxruntime) TTFA" in measured and "host (sherpa-onnx) RTF" in measured
    assert simulated.startswith("voice jf_alpha: “Hi there. This is Kokoro.”, SIMULATED engine")
    for block in blocks:
        side = _section(block, '<div class="side">')
        assert "engine version" in side and "results file" in side and "weights" in side
        assert 'class="comparison-figure"' in block
    assert "sherpa-onnx 2.0.1" in measured and "scripted" not in _section(measured, '<div class="side">')


def test_the_rtf_axes_carry_the_real_time_line(two_devices):
    measured = two_devices.split('<h3>')[1]
    # matplotlib writes each text of an SVG figure as a comment beside its glyphs.
    assert "RTF 1: real time" in measured
    # The SIMULATED RTFs (about 0.02) lie far below it: the label says where it is instead of flattening the bars.
    assert "1 = real time: off the scale" in two_devices.split('<h3>')[2]


def test_a_round_that_broke_a_rule_is_marked_and_left_out_of_the_medians(tmp_path):
    rounds = json.loads(CURRENT.read_text())
    case = [r for r in rounds if r["case"] == "int8-jf_alpha-default"]
    assert len(case) == 3
    slowest = max(case, key=lambda r: r["time_to_first_audio"])
    for r in rounds:
        r["broken_rules"] = ["round 2: the audio is silent"] if r is slowest else []
    marked = tmp_path / CURRENT.name
    marked.write_text(json.dumps(rounds))
    out = tmp_path / "report.html"
    done = report(marked, "-o", out)
    assert done.returncode == 0, done.stderr
    html = out.read_text()
    assert "1 round(s) broke a result rule" in html
    broken = _section(html, 'id="broken-table"')
    assert "int8-jf_alpha-default" in broken and "round 2: the audio is silent" in broken
    row = [row for row in _section(html, 'id="summary-table"').split("<tr")
           if "<td>int8-jf_alpha-default</td>" in row][0]
    assert 'class="has-broken"' in row and "1 broke a rule, left out" in row
    kept = sorted(r["time_to_first_audio"] for r in case if r is not slowest)
    # The median of the two rounds that kept the rules; the broken round's TTFA is not within the shown spread.
    assert f"{(kept[0] + kept[1]) / 2:.3f}" in row and f"{kept[0]:.3f}–{kept[1]:.3f}" in row


def test_files_written_before_the_check_was_recorded_say_so(tmp_path):
    out = tmp_path / "report.html"
    assert report(CURRENT, "-o", out).returncode == 0
    html = out.read_text()
    assert "written before <code>broken_rules</code>" in html and 'id="broken-table"' not in html


def test_a_trend_needs_a_case_in_two_runs(two_devices):
    # The host and Swift files share no case: a trend would be single points, so there is none.
    assert 'class="trend-figure"' not in two_devices and 'id="trends"' not in two_devices


@pytest.mark.skipif(browser.chromium() is None, reason=f"no headless Chromium here: {browser.INSTALL}")
def test_chromium_renders_the_two_device_page_without_console_errors(tmp_path):
    out = tmp_path / "report.html"
    assert report(HOST, SWIFT, "-o", out).returncode == 0
    rendered = browser.render(out)
    assert rendered.console == []
    assert rendered.dom.count('<figure class="comparison-figure"><svg') == 2


def test_a_comparison_whose_rounds_all_broke_a_rule_says_so(tmp_path):
    rounds = json.loads(CURRENT.read_text())
    for r in rounds:
        r["broken_rules"] = ["the audio is silent"]
    marked = tmp_path / CURRENT.name
    marked.write_text(json.dumps(rounds))
    out = tmp_path / "report.html"
    assert report(marked, "-o", out).returncode == 0
    html = out.read_text()
    assert 'class="comparison-figure"' not in html and "No round kept the rules: no figure." in html
    assert f"{len(rounds)} round(s) broke a result rule" in html
