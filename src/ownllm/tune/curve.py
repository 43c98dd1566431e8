"""The loss curve as a PNG: one look tells whether a run learned, diverged or stalled."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def draw_loss_curve(history: list[dict], path: Path, title: str) -> Path:
    fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
    stages = sorted({point["stage"] for point in history})
    for stage in stages:
        points = [p for p in history if p["stage"] == stage]
        label = f"stage {stage + 1}: {points[0]['method']}" if points else f"stage {stage + 1}"
        ax.plot([p["global_step"] for p in points], [p["loss"] for p in points], marker=".", label=label)
        anchored = [p for p in points if "kl_to_base" in p]
        if anchored:  # how far the run drifted from the base on the general requests it is held to
            ax.plot([p["global_step"] for p in anchored], [p["kl_to_base"] for p in anchored], linestyle="--",
                    label=f"stage {stage + 1}: KL to base on replay")
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("training loss (per trained token)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if history:
        ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
