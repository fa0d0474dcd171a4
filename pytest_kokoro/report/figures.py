"""The report's figures, drawn by matplotlib and returned as SVG text to inline in the page (no files, no network)."""

from __future__ import annotations

import io
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


def comparison(groups: dict[str, dict[str, list[dict[str, Any]]]], metrics) -> str:
    """The compared metrics' medians (TTFA and RTF), variants (in the order given) on the x axis, one bar per device
    side by side (min-max as error bars). ``metrics``: rows of core/metric_table.py."""
    variants = list(groups)
    devices = sorted({d for by_device in groups.values() for d in by_device}, key=device_sort_key)
    figure, axes = plt.subplots(1, len(metrics), figsize=(4 * len(metrics), 2.8), squeeze=False)
    axes = axes[0]
    width = 0.8 / max(1, len(devices))
    for ax, key, label in ((ax, m.key, _label(m)) for ax, m in zip(axes, metrics)):
        for index, device in enumerate(devices):
            xs, medians, low, high = [], [], [], []
            for position, variant in enumerate(variants):
                rounds = groups[variant].get(device)
                if not rounds:
                    continue
                values = [float(r[key]) for r in rounds if r.get(key) is not None]
                if not values:
                    continue
                median = statistics.median(values)
                xs.append(position + (index - (len(devices) - 1) / 2) * width)
                medians.append(median)
                low.append(median - min(values))
                high.append(max(values) - median)
            ax.bar(xs, medians, width, yerr=[low, high], capsize=3, label=device)
        ax.set_xticks(range(len(variants)), variants, rotation=30 if len(variants) > 3 else 0,
                      ha="right" if len(variants) > 3 else "center")
        ax.set_ylabel(label)
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(title="device", fontsize="small")
    return svg(figure)


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
    """The compared metrics' medians per results file (x: the files in time order), one line per case and device;
    a point is (file index, one median per metric)."""
    figure, axes = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 3.2), squeeze=False)
    axes = axes[0]
    for name, points in sorted(series.items()):
        xs = [p[0] for p in points]
        for column, ax in enumerate(axes, start=1):
            ax.plot(xs, [p[column] for p in points], marker="o", label=name)
    for ax, label in ((ax, f"median {_label(m)}") for ax, m in zip(axes, metrics)):
        ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right", fontsize="small")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[-1].legend(fontsize="x-small", loc="best")
    return svg(figure)
