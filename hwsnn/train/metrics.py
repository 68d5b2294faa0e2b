"""Per-epoch metrics as JSON lines, and the training-curve figure."""

from __future__ import annotations

import json
import os
from typing import Any


def append_jsonl(path: str | os.PathLike, record: dict[str, Any]) -> None:
    """Append one JSON object as a line to ``path``."""
    with open(path, "a") as handle:
        handle.write(json.dumps(record) + "\n")


def read_jsonl(path: str | os.PathLike) -> list[dict[str, Any]]:
    """All records of a JSON-lines file, in order."""
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def plot_training_curve(records: list[dict[str, Any]], path: str | os.PathLike) -> None:
    """Train loss and train/test accuracy per epoch, as a PNG (no pyplot: leaves the backend alone)."""
    from matplotlib.figure import Figure

    epochs = [r["epoch"] for r in records]
    fig = Figure(figsize=(9, 3.5))
    ax_loss, ax_acc = fig.subplots(1, 2)
    ax_loss.plot(epochs, [r["train_loss"] for r in records], marker="o")
    ax_loss.set(xlabel="epoch", ylabel="train loss", title="Loss")
    ax_acc.plot(epochs, [100 * r["train_accuracy"] for r in records], marker="o", label="train")
    ax_acc.plot(epochs, [100 * r["test_accuracy"] for r in records], marker="s", label="test")
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)", title="Accuracy")
    ax_acc.legend()
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
