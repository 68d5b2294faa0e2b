"""Cost a model on several presets: rows for a table (totals and per layer), JSON, and energy-breakdown figures."""

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
            "layers": [{
                "layer": snn.name, "snn_energy_pj": float(snn.energy_pj.total), "ann_energy_pj": float(ann.energy_pj.total),
                "snn_components_pj": {k: float(v) for k, v in snn.energy_pj.components.items()},
                "cycles": as_float(snn.cycles), "units": snn.units, "snn_latency_ns": as_float(snn.latency_ns),
            } for snn, ann in zip(c.layers, c.ann.layers)],
        })
    return rows


def format_table(rows: list[dict]) -> str:
    """A fixed-width text table of the rows of :func:`cost_on_presets`."""
    width = max([len("preset"), *(len(r["preset"]) for r in rows)])
    header = f"{'preset':{width}s} {'SNN energy (uJ)':>16s} {'ANN energy (uJ)':>16s} {'SNN/ANN':>8s} {'SNN latency (us)':>17s} {'area (mm2)':>11s}"
    lines = [header, "-" * len(header)]
    for r in rows:
        latency = "-" if r["snn_latency_ns"] is None else f"{r['snn_latency_ns'] / 1e3:.2f}"
        area = "-" if r["area_mm2"] is None else f"{r['area_mm2']:.3f}"
        lines.append(f"{r['preset']:{width}s} {r['snn_energy_pj'] / 1e6:16.4f} {r['ann_energy_pj'] / 1e6:16.4f} "
                     f"{r['snn_over_ann']:8.3f} {latency:>17s} {area:>11s}")
    return "\n".join(lines)


def format_layer_table(rows: list[dict]) -> str:
    """Per preset, a fixed-width table of each layer's share: energy (uJ and % of the SNN's), its ANN
    counterpart, cycles (PE cycles on IMC), units (IMC: PEs) and stage latency."""
    lines = []
    for r in rows:
        width = max([len(r["preset"]) + len(" by layer"), *(len(layer["layer"]) for layer in r["layers"])])
        header = (f"{r['preset'] + ' by layer':{width}s} {'SNN (uJ)':>10s} {'share':>6s} {'ANN (uJ)':>10s} "
                  f"{'cycles':>12s} {'units':>6s} {'stage (us)':>11s}")
        lines += ["", header, "-" * len(header)]
        for layer in r["layers"]:
            cycles = "-" if layer["cycles"] is None else f"{layer['cycles']:.0f}"
            units = "-" if layer["units"] is None else str(layer["units"])
            stage = "-" if layer["snn_latency_ns"] is None else f"{layer['snn_latency_ns'] / 1e3:.2f}"
            lines.append(f"{layer['layer']:{width}s} {layer['snn_energy_pj'] / 1e6:10.4f} "
                         f"{100 * layer['snn_energy_pj'] / r['snn_energy_pj']:5.1f}% {layer['ann_energy_pj'] / 1e6:10.4f} "
                         f"{cycles:>12s} {units:>6s} {stage:>11s}")
    return "\n".join(lines[1:])


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


def plot_layer_breakdown(rows: list[dict], path: str | os.PathLike) -> None:
    """Per preset, each layer's SNN energy per inference (uJ) as a bar stacked by component group (PNG)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3.4 * len(rows), 5.2))
    axes = fig.subplots(1, len(rows), squeeze=False)[0]
    for ax, row in zip(axes, rows):
        names = [layer["layer"] for layer in row["layers"]]
        groups: dict[str, list[float]] = {}
        for index, layer in enumerate(row["layers"]):
            for name, value in layer["snn_components_pj"].items():
                groups.setdefault(component_group(name), [0.0] * len(names))[index] += value / 1e6
        bottom = [0.0] * len(names)
        for name, values in sorted(groups.items(), key=lambda item: -sum(item[1])):
            ax.bar(names, values, bottom=bottom, label=name)
            bottom = [b + v for b, v in zip(bottom, values)]
        ax.set_title(f"{row['preset']}: SNN energy by layer", fontsize=9)
        ax.set_ylabel("energy per inference (uJ)")
        ax.tick_params(axis="x", labelrotation=45, labelsize=7)
        ax.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=3, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
