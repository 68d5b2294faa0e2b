"""Cost a model on several presets: rows for a table, JSON, and an energy-breakdown figure."""

from __future__ import annotations

import json
import os
import re

from hwsnn.hardware.presets import PRESETS, check_imc_mode, hardware_preset


def component_group(name: str) -> str:
    """A component's group for plots: the name without its gated/ungated/leakage/dynamic suffix."""
    return re.sub(r"_(gated|ungated|leakage|dynamic)$", "", name)


def cost_on_presets(workload, activity, presets=tuple(PRESETS), imc_mode: str | None = None) -> list[dict]:
    """One row per preset of :data:`~hwsnn.hardware.presets.PRESETS`: energies (pJ, total and per
    component, SNN and ANN), latency, area, ratio. ``imc_mode`` overrides the IMC presets' mode."""
    chosen = [hardware_preset(name) for name in presets]  # every name checked before any work
    check_imc_mode(imc_mode)
    rows = []
    for name, entry in zip(presets, chosen):
        model = entry.model_name
        c = entry.cost(workload, activity, **entry.applicable(mode=imc_mode))
        as_float = lambda x: None if x is None else float(x)
        rows.append({
            "preset": name, "model": model,
            "snn_energy_pj": float(c.energy_pj.total), "ann_energy_pj": float(c.ann.energy_pj.total),
            "snn_over_ann": float(c.energy_ratio_to_ann),
            "snn_latency_ns": as_float(c.latency_ns), "ann_latency_ns": as_float(c.ann.latency_ns),
            "area_mm2": as_float(c.area_mm2),
            "snn_components_pj": {k: float(v) for k, v in c.energy_pj.components.items()},
            "ann_components_pj": {k: float(v) for k, v in c.ann.energy_pj.components.items()},
        })
    return rows


def format_table(rows: list[dict]) -> str:
    """A fixed-width text table of the rows of :func:`cost_on_presets`."""
    header = f"{'preset':14s} {'SNN energy (uJ)':>16s} {'ANN energy (uJ)':>16s} {'SNN/ANN':>8s} {'SNN latency (us)':>17s} {'area (mm2)':>11s}"
    lines = [header, "-" * len(header)]
    for r in rows:
        latency = "-" if r["snn_latency_ns"] is None else f"{r['snn_latency_ns'] / 1e3:.2f}"
        area = "-" if r["area_mm2"] is None else f"{r['area_mm2']:.3f}"
        lines.append(f"{r['preset']:14s} {r['snn_energy_pj'] / 1e6:16.4f} {r['ann_energy_pj'] / 1e6:16.4f} "
                     f"{r['snn_over_ann']:8.3f} {latency:>17s} {area:>11s}")
    return "\n".join(lines)


def write_json(rows: list[dict], path: str | os.PathLike) -> None:
    """Write the rows as JSON."""
    with open(path, "w") as handle:
        json.dump(rows, handle, indent=2)


def plot_energy_breakdown(rows: list[dict], path: str | os.PathLike) -> None:
    """Per preset, SNN and ANN energy per inference (uJ) as bars stacked by component group (PNG)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3.2 * len(rows), 5.2))
    axes = fig.subplots(1, len(rows), squeeze=False)[0]
    for ax, row in zip(axes, rows):
        groups: dict[str, list[float]] = {}
        for column, key in enumerate(("snn_components_pj", "ann_components_pj")):
            for name, value in row[key].items():
                groups.setdefault(component_group(name), [0.0, 0.0])[column] += value / 1e6
        bottom = [0.0, 0.0]
        for name, (snn, ann) in sorted(groups.items(), key=lambda item: -sum(item[1])):
            ax.bar(["SNN", "ANN"], [snn, ann], bottom=bottom, label=name)
            bottom = [bottom[0] + snn, bottom[1] + ann]
        ax.set_title(f"{row['preset']}\nSNN/ANN = {row['snn_over_ann']:.2f}", fontsize=9)
        ax.set_ylabel("energy per inference (uJ)")
        ax.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=3, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
