"""Figures of a report, drawn from saved metrics only, as PNG bytes. Uses matplotlib's object
API (no pyplot: no global state, no display needed); imported only by the report."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from ..errors import require

BEST, WORST = "#2b8a3e", "#c92a2a"
MAX_WIDTH = 11.5  # inches: figures fit the page at 110 dpi without shrinking
PALETTE = ("#1c7ed6", "#f08c00", "#7048e8", "#0ca678", "#e64980", "#868e96")


def _figure(width: float, height: float) -> Any:
    require("matplotlib", "report")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110)
    fig.set_layout_engine("constrained")
    return fig


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def confusion_grid(title: str, panels: Sequence[tuple[str, dict[str, Any]]]) -> bytes:
    """One row-normalised confusion matrix per backend (``panels``: (backend, metrics of one
    attribute)); cells show the percentage of the true class, classes the backend cannot
    produce are marked on the prediction axis."""
    k = len(panels[0][1]["labels"])
    side = 1.2 + 0.42 * k
    ncols = max(1, min(len(panels), int((MAX_WIDTH - 0.8) // side)))
    nrows = -(-len(panels) // ncols)
    fig = _figure(side * ncols + 0.8, (side + 0.3) * nrows + 0.3)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[len(panels):]:
        ax.set_axis_off()
    for ax, (backend, m) in zip(axes, panels):
        labels = m["labels"]
        rows = [sum(r) for r in m["confusion"]]
        norm = [[c / n if n else 0.0 for c in row] for row, n in zip(m["confusion"], rows)]
        image = ax.imshow(norm, vmin=0, vmax=1, cmap="Blues")
        ax.set_xticks(range(k), [lab + (" *" if lab in m.get("not_producible", ()) else "") for lab in labels],
                      rotation=45, ha="right", fontsize=8)
        ax.set_yticks(range(k), [f"{lab} ({n})" for lab, n in zip(labels, rows)], fontsize=8)
        for i in range(k):
            for j in range(k):
                if norm[i][j] >= 0.005:
                    ax.text(j, i, f"{100 * norm[i][j]:.0f}", ha="center", va="center", fontsize=7,
                            color="white" if norm[i][j] > 0.55 else "black")
        ax.set_title(f"{backend}: acc {100 * m['accuracy']:.1f}%", fontsize=9)
        ax.set_xlabel("predicted", fontsize=8)
        ax.set_ylabel("true (n)", fontsize=8)
    fig.colorbar(image, ax=list(axes[:len(panels)]), shrink=0.8, label="share of true class")
    fig.suptitle(title, fontsize=10)
    return _png(fig)


def group_bars(title: str, panels: Sequence[tuple[str, dict[str, Any]]], order: Sequence[str] = ()) -> bytes:
    """Accuracy per group, one bar colour per backend; each backend's best and worst group are
    outlined (green, red) and its largest gap written in the legend. ``order``: as in
    :func:`reliability`."""
    require("matplotlib", "report")
    from matplotlib.patches import Patch

    groups = sorted({g for _, m in panels for g in m["groups"]}, key=_order)
    width = 0.8 / len(panels)
    fig = _figure(min(MAX_WIDTH, max(5.5, 0.45 * len(groups) * len(panels) + 2)), 3.2 + 0.22 * len(panels))
    ax = fig.subplots()
    handles = []
    for b, (backend, m) in enumerate(panels):
        xs = [i + (b - (len(panels) - 1) / 2) * width for i in range(len(groups))]
        accs = [m["groups"].get(g, {}).get("accuracy", float("nan")) for g in groups]
        eod = m.get("equalized_odds", {}).get("difference", float("nan"))
        label = (f"{backend}: gap {100 * m['max_gap']:.1f} pts ({m.get('best')} vs {m.get('worst')}), "
                 f"EOD {eod:.2f}")
        color = _color(backend, order)
        bars = ax.bar(xs, [100 * a for a in accs], width * 0.92, color=color)
        handles.append(Patch(color=color, label=label))
        for bar, g in zip(bars, groups):
            if g in (m.get("best"), m.get("worst")):
                bar.set_edgecolor(BEST if g == m.get("best") else WORST)
                bar.set_linewidth(2.2)
    ax.set_xticks(range(len(groups)), [f"{g}\n(n={panels[0][1]['groups'].get(g, {}).get('n', 0)})"
                                       for g in groups], fontsize=8)
    low = min(100 * v["accuracy"] for _, m in panels for v in m["groups"].values())
    ax.set_ylim(max(0, low - 15), 100)
    ax.set_ylabel("accuracy %")
    ax.grid(axis="y", alpha=0.3)
    handles += [Patch(facecolor="white", edgecolor=BEST, linewidth=2, label="best group"),
                Patch(facecolor="white", edgecolor=WORST, linewidth=2, label="worst group")]
    fig.legend(handles=handles, fontsize=7, loc="outside lower center", ncols=1, frameon=False)
    ax.set_title(title, fontsize=10)
    return _png(fig)


def _color(backend: str, order: Sequence[str]) -> str:
    return PALETTE[(list(order).index(backend) if backend in order else 0) % len(PALETTE)]


def _order(group: str) -> tuple[int, int, str]:
    """Age groups in age order (by first year), other groups alphabetically."""
    head = group.split("/")[0].split("-")[0].rstrip("+")
    return (0, int(head), group) if head.isdigit() else (1, 0, group)


def reliability(title: str, panels: Sequence[tuple[str, dict[str, Any]]], order: Sequence[str] = ()) -> bytes:
    """Reliability diagram: accuracy against mean confidence per bin, one line per backend
    (marker area ~ samples in the bin); the diagonal is perfect calibration. ``order``: all
    backends of the run, so a backend keeps its colour in every figure."""
    fig = _figure(4.2, 3.8)
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], color="#adb5bd", lw=1, ls="--", label="perfect")
    for backend, m in panels:
        bins = m["calibration"]
        total = sum(x["n"] for x in bins) or 1
        color = _color(backend, order)
        ax.plot([x["confidence"] for x in bins], [x["accuracy"] for x in bins], color=color, lw=1.5,
                label=f"{backend} (ECE {m['ece']:.3f})")
        ax.scatter([x["confidence"] for x in bins], [x["accuracy"] for x in bins],
                   s=[8 + 400 * x["n"] / total for x in bins], color=color, alpha=0.6)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (top probability)")
    ax.set_ylabel("accuracy")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left")
    ax.set_title(title, fontsize=10)
    return _png(fig)
