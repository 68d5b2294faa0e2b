"""Per-epoch metrics as JSON lines, and the training-curve figure."""

from __future__ import annotations

import json
import os
import warnings
from typing import Any


def write_jsonl(path: str | os.PathLike, records: list[dict[str, Any]]) -> None:
    """Write ``records`` as JSON lines, atomically: to a temporary file beside ``path``, then renamed
    over it, so a kill at any point leaves the old file or the new one, never half of one. Strict JSON: a
    NaN or infinity raises ``ValueError`` and nothing is written."""
    write_atomically(path, "".join(json.dumps(record, allow_nan=False) + "\n" for record in records))


def append_jsonl(path: str | os.PathLike, record: dict[str, Any]) -> None:
    """Append one JSON object as a line to ``path`` (atomically: :func:`write_jsonl`)."""
    write_jsonl(path, (read_jsonl(path) if os.path.exists(path) else []) + [record])


def write_atomically(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and an atomic rename."""
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def read_jsonl(path: str | os.PathLike) -> list[dict[str, Any]]:
    """All records of a JSON-lines file, in order. A last line cut short (a file written by a process
    killed mid-line) is dropped with a warning.

    Raises:
      ValueError: a line before the last is not a JSON object, naming the file and the line.
    """
    with open(path) as handle:
        text = handle.read()
    lines = text.split("\n")
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError(f"a JSON {type(record).__name__}, not an object")
        except ValueError as error:
            if number == len(lines) and not text.endswith("\n"):
                warnings.warn(
                    f"{path}, line {number}: dropped a partial last line (a write cut short): {line[:80]!r}",
                    stacklevel=2,
                )
                break
            raise ValueError(
                f"{path}, line {number}: not a metrics record ({error}); allowed: one JSON object per line."
            ) from None
        records.append(record)
    return records


def plot_training_curve(records: list[dict[str, Any]], path: str | os.PathLike) -> None:
    """Train and test loss and accuracy per epoch, as a PNG (no pyplot: leaves the backend alone)."""
    from matplotlib.figure import Figure

    epochs = [r["epoch"] for r in records]
    fig = Figure(figsize=(9, 3.5))
    ax_loss, ax_acc = fig.subplots(1, 2)
    ax_loss.plot(epochs, [r["train_loss"] for r in records], marker="o", label="train")
    ax_loss.plot(epochs, [r["test_loss"] for r in records], marker="s", label="test")
    ax_loss.set(xlabel="epoch", ylabel="loss", title="Loss")
    ax_loss.legend()
    ax_acc.plot(epochs, [100 * r["train_accuracy"] for r in records], marker="o", label="train")
    ax_acc.plot(epochs, [100 * r["test_accuracy"] for r in records], marker="s", label="test")
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)", title="Accuracy")
    ax_acc.legend()
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
