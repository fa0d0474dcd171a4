"""The report's figures as matplotlib draws them: the legend beside the axes, never on them; the metric table's
reference line (RTF 1, real time) on its own axes only. Rounds from the real results file in tests/report/data."""

import json
from pathlib import Path

import pytest

from pytest_kokoro.core.metric_table import METRICS
from pytest_kokoro.report import figures

DATA = Path(__file__).parent / "data"
CURRENT = sorted(DATA.glob("benchmark_results_20261125_*.json"))[-1]
COMPARED = [m for m in METRICS if m.compare]


@pytest.fixture(scope="module")
def groups():
    # The real host run's four split strategies as four "variants", with a second device made of the same rounds:
    # many bars, so a legend inside the axes would land on some of them.
    rounds = json.loads(CURRENT.read_text())
    by_split = {}
    for r in rounds:
        by_split.setdefault(r["split"], {"host": [], "other": []})
        by_split[r["split"]]["host"].append(r)
        by_split[r["split"]]["other"].append(r)
    return by_split


def _rendered(figure):
    figure.canvas.draw()
    return figure.canvas.get_renderer()


def test_the_comparison_legend_covers_no_axes(groups):
    figure = figures.comparison_figure(groups, COMPARED, ["host", "other"])
    renderer = _rendered(figure)
    legends = figure.legends + [ax.get_legend() for ax in figure.axes if ax.get_legend()]
    assert legends, "the figure has no legend"
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for ax in figure.axes:
            assert not box.overlaps(ax.get_window_extent(renderer)), "the legend lies on the axes"


def test_the_trend_legend_covers_no_axes(groups):
    series = {f"case {i}": [(0, *[1.0 + i] * len(COMPARED)), (1, *[1.5 + i] * len(COMPARED))] for i in range(6)}
    figure = figures.trend_figure(series, ["run 1", "run 2"], COMPARED)
    renderer = _rendered(figure)
    box = figure.legends[0].get_window_extent(renderer)
    for ax in figure.axes:
        assert not box.overlaps(ax.get_window_extent(renderer))


@pytest.mark.parametrize("draw", [
    lambda groups: figures.comparison_figure(groups, COMPARED, ["host", "other"]),
    lambda groups: figures.trend_figure({"a": [(0, *[1.0] * len(COMPARED)), (1, *[1.5] * len(COMPARED))]},
                                        ["run 1", "run 2"], COMPARED),
])
def test_the_reference_line_is_drawn_on_the_axes_of_the_metric_that_has_one(groups, draw):
    figure = draw(groups)
    assert any(m.line is not None for m in COMPARED), "the metric table lost RTF's real-time line"
    for ax, metric in zip(figure.axes, COMPARED):
        lines = [line for line in ax.get_lines() if metric.line_label and line.get_label().endswith(metric.line_label)]
        if metric.line is None:
            assert not lines
        else:
            assert len(lines) == 1 and list(lines[0].get_ydata()) == [metric.line, metric.line]


def test_a_reference_line_far_above_every_bar_moves_into_the_axis_label(groups):
    # A SIMULATED-fast device (RTF 0.02): a line at 1 would flatten the bars to nothing.
    fast = {split: {source: [{**r, "real_time_factor": r["real_time_factor"] / 200} for r in rounds]
                    for source, rounds in by_source.items()} for split, by_source in groups.items()}
    figure = figures.comparison_figure(fast, COMPARED, ["host", "other"])
    for ax, metric in zip(figure.axes, COMPARED):
        if metric.line is not None:
            assert not [line for line in ax.get_lines() if line.get_label().endswith(metric.line_label)]
            assert "off the scale" in ax.get_ylabel() and ax.get_ylim()[1] < metric.line / 4
