"""The report's figures, drawn by matplotlib and returned as SVG text to inline in the page (no files, no network)."""

from __future__ import annotations

import io
import math
import statistics
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display; set before pyplot is imported
from matplotlib import pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

SYNTHESIS_COLOR = "#4c72b0"
PLAYBACK_COLOR = "#55a868"
STALL_COLOR = "#c44e52"


def svg(figure: Figure) -> str:
    """The figure as an inline <svg> element (without the XML prologue a standalone file has)."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def device_sort_key(device: str) -> tuple[int, str]:
    """Devices in their kinds' own order (devices/registry.py), unknown kinds last."""
    from pytest_kokoro.devices.registry import report_order

    return report_order(device)


def _label(metric) -> str:
    return f"{metric.label} ({metric.unit})" if metric.unit else metric.label


def _reference_line(ax, metric) -> None:
    """The metric table's reference value (RTF 1: real time) across the axes, named in the legend. Where every
    value lies far below it (a fast device), drawing it would flatten the bars: the axis label says so instead."""
    if metric.line is None:
        return
    # A bar container keeps the bar heights it was given as ``datavalues`` (matplotlib 3.11.2 axes/_axes.py:2645).
    values = [float(v) for container in ax.containers for v in getattr(container, "datavalues", [])]
    values += [float(v) for line in ax.get_lines() for v in line.get_ydata()]
    values = [v for v in values if math.isfinite(v)]
    name = f"{metric.label} {metric.line:g}"
    if values and 0 < max(values) < metric.line / 4:
        ax.set_ylabel(f"{ax.get_ylabel()}\n({metric.line:g} = {metric.line_label}: off the scale)")
        return
    ax.axhline(metric.line, color="black", linestyle="--", linewidth=1, label=f"{name}: {metric.line_label}",
               zorder=3)


def _legend_below(figure: Figure, axes, title: str | None = None) -> None:
    """One legend for the whole figure, below the axes, so it never covers a bar or a line. savefig's tight bbox
    takes in the figure's legends (matplotlib 3.11.2 figure.py:1808 get_tightbbox, over get_children)."""
    handles, labels = [], []
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
    if handles:
        figure.legend(handles, labels, title=title, loc="upper center", bbox_to_anchor=(0.5, 0.0),
                      ncol=min(3, len(labels)), fontsize="small", frameon=False)


def comparison(groups: dict[str, dict[str, list[dict[str, Any]]]], metrics, sources: list[str]) -> str:
    return svg(comparison_figure(groups, metrics, sources))


def comparison_figure(groups: dict[str, dict[str, list[dict[str, Any]]]], metrics, sources: list[str]) -> Figure:
    """The compared metrics' medians (TTFA and RTF), variants (in the order given) on the x axis, one bar per
    source (a device of one run) side by side, in the order given (min-max as error bars). ``metrics``: rows of
    core/metric_table.py."""
    variants = list(groups)
    # Width grows with the bars and stops at a page's: a few bars get a compact figure, not a page-wide one.
    per_axes = min(6.5, max(3.2, 1.6 + 0.4 * len(variants) * len(sources)))
    figure, axes = plt.subplots(1, len(metrics), figsize=(per_axes * len(metrics), 2.8), squeeze=False)
    axes = axes[0]
    width = 0.8 / max(1, len(sources))
    for ax, metric in zip(axes, metrics):
        for index, source in enumerate(sources):
            xs, medians, low, high = [], [], [], []
            for position, variant in enumerate(variants):
                values = [float(r[metric.key]) for r in groups[variant].get(source, [])
                          if r.get(metric.key) is not None]
                if not values:
                    continue
                median = statistics.median(values)
                xs.append(position + (index - (len(sources) - 1) / 2) * width)
                medians.append(median)
                low.append(median - min(values))
                high.append(max(values) - median)
            ax.bar(xs, medians, width, yerr=[low, high], capsize=3, label=source,
                   color=f"C{index}", hatch="//" if "SIMULATED" in source else None, edgecolor="white")
        ax.set_ylabel(_label(metric))
        _reference_line(ax, metric)
        ax.set_xticks(range(len(variants)), variants, rotation=30 if len(variants) > 3 else 0,
                      ha="right" if len(variants) > 3 else "center")
        ax.set_xlim(-0.6, len(variants) - 0.4)
        ax.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    _legend_below(figure, axes, title="device; hatched: SIMULATED" if any("SIMULATED" in s for s in sources)
                  else "device")
    return figure


def timeline(result: dict[str, Any], title: str) -> str:
    """One round: when each chunk was synthesized (from the previous chunk's time to its own) against when an
    ideal player plays it; stalls in red. Seconds since T1."""
    playback = result["_playback"]
    per_sentence = result["per_sentence_inference"]
    figure, ax = plt.subplots(figsize=(9, 1.9))
    start = 0.0
    for index, seconds in enumerate(per_sentence):
        ax.broken_barh([(start, seconds)], (1.1, 0.8), facecolors=SYNTHESIS_COLOR, edgecolor="white")
        ax.broken_barh([(playback.starts[index], playback.ends[index] - playback.starts[index])], (0.1, 0.8),
                       facecolors=PLAYBACK_COLOR, edgecolor="white")
        if index and playback.starts[index] > playback.ends[index - 1]:
            gap = playback.starts[index] - playback.ends[index - 1]
            ax.broken_barh([(playback.ends[index - 1], gap)], (0.1, 0.8), facecolors=STALL_COLOR, hatch="//")
        start += seconds
    ax.axvline(playback.gapless_start_time, color="black", linestyle=":", linewidth=1)
    ax.set_yticks([0.5, 1.5], ["playback", "synthesis"])
    ax.set_xlabel("seconds since T1 (dotted: gapless start; red: stall)")
    ax.set_xlim(left=0)
    ax.set_title(title, fontsize="small")
    return svg(figure)


def trend(series: dict[str, list[tuple[float, ...]]], labels: list[str], metrics) -> str:
    return svg(trend_figure(series, labels, metrics))


def trend_figure(series: dict[str, list[tuple[float, ...]]], labels: list[str], metrics) -> Figure:
    """The compared metrics' medians per results file (x: the files in time order), one line per case and device;
    a point is (file index, one median per metric)."""
    figure, axes = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 3.2), squeeze=False)
    axes = axes[0]
    for name, points in sorted(series.items()):
        xs = [p[0] for p in points]
        for column, ax in enumerate(axes, start=1):
            ax.plot(xs, [p[column] for p in points], marker="o", label=name)
    for ax, metric in zip(axes, metrics):
        ax.set_ylabel(f"median {_label(metric)}")
        _reference_line(ax, metric)
        ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right", fontsize="small")
        ax.grid(alpha=0.3)
    figure.tight_layout()
    _legend_below(figure, axes)
    return figure
