"""The studies: each module trains and costs what its paper measured and writes ``results/<study>/``."""

from __future__ import annotations

import json
import os


def write_results(out_dir: str, metrics, table: str) -> None:
    """A study's ``metrics.json`` (``metrics`` as JSON) and ``table.md`` (``table``, rendered from those metrics) in
    ``out_dir``; its figures are drawn beside them by the study."""
    with open(os.path.join(out_dir, "metrics.json"), "w") as handle:
        json.dump(metrics, handle, indent=2)
    with open(os.path.join(out_dir, "table.md"), "w") as handle:
        handle.write(table)
