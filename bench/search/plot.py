"""Fraction-of-optimum curves, one panel per space: median line, interquartile band."""

from __future__ import annotations

import math
from pathlib import Path


def plot_curves(summary: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in summary["rows"] if r["parallel"] == 1]
    spaces = sorted({r["space"] for r in rows})
    cols = min(4, len(spaces))
    fig, axes = plt.subplots(math.ceil(len(spaces) / cols), cols, figsize=(4.2 * cols, 3.4 * math.ceil(len(spaces) / cols)),
                             squeeze=False, sharey=True)
    for ax, space in zip(axes.flat, spaces):
        for r in (r for r in rows if r["space"] == space):
            x = range(1, len(r["median_curve"]) + 1)
            tuneforge = r["method"].startswith("tuneforge:")
            style = ":" if r.get("mode") == "transfer" else "-" if tuneforge else "--"
            line, = ax.plot(x, r["median_curve"], lw=2.0 if tuneforge else 1.0, ls=style,
                            label=r["method"] + (" (transfer)" if r.get("mode") == "transfer" else ""))
            ax.fill_between(x, r["q1_curve"], r["q3_curve"], color=line.get_color(), alpha=0.12)
        ax.set_title(space, fontsize=9)
        ax.set_xlabel("trials")
        ax.set_ylim(0.4, 1.01)
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(spaces):]:
        ax.axis("off")
    axes[0][0].set_ylabel("fraction of optimum")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(6, len(labels)), fontsize=8)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
