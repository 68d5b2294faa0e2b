"""Cost a model on several presets: rows for a table (totals and per layer), JSON, and energy-breakdown figures."""

from __future__ import annotations

import json
import os
import re

from hwsnn.hardware.platforms import IMC
from hwsnn.hardware.presets import check_imc_mode, cost_presets, hardware_preset


def component_group(name: str) -> str:
    """A component's group for plots: the name without its gated/ungated/leakage/dynamic suffix."""
    return re.sub(r"_(gated|ungated|leakage|dynamic)$", "", name)


def cost_on_presets(workload, activity, presets=None, imc_mode: str | None = None) -> list[dict]:
    """One row per preset (default: every one with a cost platform, :func:`~hwsnn.hardware.presets.cost_presets`):
    energies (pJ, total and per component, SNN and ANN), latency, area, ratio. ``imc_mode`` overrides the IMC
    presets' mode."""
    presets = tuple(cost_presets()) if presets is None else tuple(presets)
    chosen = [hardware_preset(name) for name in presets]  # every name checked before any work
    without = [entry.name for entry in chosen if entry.platform is None]
    if without:
        raise ValueError(f"presets: {without} have no cost platform; allowed: {cost_presets()}.")
    check_imc_mode(imc_mode)
    rows = []
    for name, entry in zip(presets, chosen):
        model = entry.platform.name
        c = entry.cost(workload, activity, mode=imc_mode if isinstance(entry.platform, IMC) else None)
        as_float = lambda x: None if x is None else float(x)
        rows.append(
            {
                "preset": name,
                "model": model,
                "snn_energy_pj": float(c.energy_pj.total),
                "ann_energy_pj": float(c.ann.energy_pj.total),
                "snn_over_ann": float(c.energy_ratio_to_ann),
                "snn_latency_ns": as_float(c.latency_ns),
                "ann_latency_ns": as_float(c.ann.latency_ns),
                "area_mm2": as_float(c.area_mm2),
                "snn_components_pj": {k: float(v) for k, v in c.energy_pj.components.items()},
                "ann_components_pj": {k: float(v) for k, v in c.ann.energy_pj.components.items()},
                "layers": [
                    {
                        "layer": snn.name,
                        "snn_energy_pj": float(snn.energy_pj.total),
                        "ann_energy_pj": float(ann.energy_pj.total),
                        "snn_components_pj": {k: float(v) for k, v in snn.energy_pj.components.items()},
                        "cycles": as_float(snn.cycles),
                        "units": snn.units,
                        "snn_latency_ns": as_float(snn.latency_ns),
                    }
                    for snn, ann in zip(c.layers, c.ann.layers)
                ],
            }
        )
    return rows


def format_table(rows: list[dict]) -> str:
    """A fixed-width text table of the rows of :func:`cost_on_presets`."""
    width = max([len("preset"), *(len(r["preset"]) for r in rows)])
    header = (
        f"{'preset':{width}s} {'SNN energy (uJ)':>16s} {'ANN energy (uJ)':>16s} {'SNN/ANN':>8s} "
        f"{'SNN latency (us)':>17s} {'area (mm2)':>11s}"
    )
    lines = [header, "-" * len(header)]
    for r in rows:
        latency = "-" if r["snn_latency_ns"] is None else f"{r['snn_latency_ns'] / 1e3:.2f}"
        area = "-" if r["area_mm2"] is None else f"{r['area_mm2']:.3f}"
        lines.append(
            f"{r['preset']:{width}s} {r['snn_energy_pj'] / 1e6:16.4f} {r['ann_energy_pj'] / 1e6:16.4f} "
            f"{r['snn_over_ann']:8.3f} {latency:>17s} {area:>11s}"
        )
    return "\n".join(lines)


def format_layer_table(rows: list[dict]) -> str:
    """Per preset, a fixed-width table of each layer's share: energy (uJ and % of the SNN's), its ANN
    counterpart, cycles (PE cycles on IMC), units (IMC: PEs) and stage latency."""
    lines = []
    for r in rows:
        width = max([len(r["preset"]) + len(" by layer"), *(len(layer["layer"]) for layer in r["layers"])])
        header = (
            f"{r['preset'] + ' by layer':{width}s} {'SNN (uJ)':>10s} {'share':>6s} {'ANN (uJ)':>10s} "
            f"{'cycles':>12s} {'units':>6s} {'stage (us)':>11s}"
        )
        lines += ["", header, "-" * len(header)]
        for layer in r["layers"]:
            cycles = "-" if layer["cycles"] is None else f"{layer['cycles']:.0f}"
            units = "-" if layer["units"] is None else str(layer["units"])
            stage = "-" if layer["snn_latency_ns"] is None else f"{layer['snn_latency_ns'] / 1e3:.2f}"
            lines.append(
                f"{layer['layer']:{width}s} {layer['snn_energy_pj'] / 1e6:10.4f} "
                f"{100 * layer['snn_energy_pj'] / r['snn_energy_pj']:5.1f}% {layer['ann_energy_pj'] / 1e6:10.4f} "
                f"{cycles:>12s} {units:>6s} {stage:>11s}"
            )
    return "\n".join(lines[1:])


def write_json(rows: list[dict], path: str | os.PathLike) -> None:
    """Write the rows as JSON."""
    with open(path, "w") as handle:
        json.dump(rows, handle, indent=2)


def plot_energy_breakdown(rows: list[dict], path: str | os.PathLike):
    """Per preset, SNN and ANN energy per inference stacked by component group, as a percentage of the ANN's
    energy on that preset (so the SNN bar's height is the SNN/ANN ratio and every panel shares one axis),
    each bar's total in uJ written on it; one colour per group in every panel. Writes the PNG and returns the
    figure."""
    panels = []
    for row in rows:
        groups: dict[str, list[float]] = {}
        for column, key in enumerate(("snn_components_pj", "ann_components_pj")):
            for name, value in row[key].items():
                groups.setdefault(component_group(name), [0.0, 0.0])[column] += 100 * value / row["ann_energy_pj"]
        totals = [f"{row['snn_energy_pj'] / 1e6:.3g} uJ", f"{row['ann_energy_pj'] / 1e6:.3g} uJ"]
        panels.append((f"{row['preset']}\nSNN/ANN = {row['snn_over_ann']:.2f}", ["SNN", "ANN"], groups, totals))
    return _stacked_panels(panels, path, "energy per inference, % of the ANN's", width=3.2)


def plot_layer_breakdown(rows: list[dict], path: str | os.PathLike):
    """Per preset, each layer's SNN energy per inference stacked by component group, as a percentage of the
    network's SNN energy on that preset, each layer's energy in uJ written on it; coloured as
    :func:`plot_energy_breakdown` (PNG)."""
    panels = []
    for row in rows:
        names = [layer["layer"] for layer in row["layers"]]
        groups: dict[str, list[float]] = {}
        for index, layer in enumerate(row["layers"]):
            for name, value in layer["snn_components_pj"].items():
                groups.setdefault(component_group(name), [0.0] * len(names))[index] += (
                    100 * value / row["snn_energy_pj"]
                )
        totals = [f"{sum(layer['snn_components_pj'].values()) / 1e6:.2g}" for layer in row["layers"]]
        panels.append((f"{row['preset']}: SNN energy by layer (uJ on bars)", names, groups, totals))
    return _stacked_panels(panels, path, "share of the SNN's energy per inference (%)", width=3.4, rotate=True)


def _stacked_panels(
    panels: list[tuple[str, list[str], dict[str, list[float]], list[str]]],
    path,
    ylabel: str,
    *,
    width: float,
    rotate: bool = False,
):
    """One panel per ``(title, bar labels, {group: value per bar}, text per bar)``, bars stacked by group
    (largest at the bottom) on one shared y-axis, each group in the same colour everywhere, the text
    above each bar, one legend for the figure."""
    from matplotlib import colormaps
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    palette = colormaps["tab20"].colors
    colours = {
        name: palette[i % len(palette)]
        for i, name in enumerate(sorted({g for _, _, groups, _ in panels for g in groups}))
    }
    fig = Figure(figsize=(width * len(panels), 5.6))
    axes = fig.subplots(1, len(panels), squeeze=False, sharey=True)[0]
    tallest = max(
        sum(values[i] for values in groups.values()) for _, labels, groups, _ in panels for i in range(len(labels))
    )
    axes[0].set_ylim(0, 1.12 * tallest)  # room for the totals above the bars
    for ax, (title, labels, groups, texts) in zip(axes, panels):
        bottom = [0.0] * len(labels)
        for name, values in sorted(groups.items(), key=lambda item: -sum(item[1])):
            ax.bar(labels, values, bottom=bottom, color=colours[name], label=name)
            bottom = [b + v for b, v in zip(bottom, values)]
        for x, (height, text) in enumerate(zip(bottom, texts)):
            ax.annotate(text, (x, height), ha="center", va="bottom", fontsize=7)
        ax.set_title(title, fontsize=9)
        if rotate:
            ax.tick_params(axis="x", labelrotation=45, labelsize=7)
    axes[0].set_ylabel(ylabel)
    columns = min(6, len(colours))
    fig.legend(
        handles=[Patch(color=c, label=n) for n, c in colours.items()],
        loc="lower center",
        ncol=columns,
        fontsize=9,
        frameon=False,
    )
    fig.tight_layout(rect=(0, 0.04 + 0.05 * -(-len(colours) // columns), 1, 1))
    fig.savefig(path, dpi=120)
    return fig
