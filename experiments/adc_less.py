"""The ADC-less IMC study (Apolinario et al., TETC 2023) on MNIST-5k, over seeds.

For each seed of ``SEEDS``, the main job's conv SNN (8 epochs) is trained (a) ideally, (c) on
sense-amplifier (SA) crossbars from the first step, (d) with the recipe :func:`recipe`
(progressive hardware awareness with learned SA gains), and with each ablation of
:data:`ABLATIONS` (the recipe with one part removed or changed). (b) deploys each ideal run's
weights on the 4-bit-ADC and on the SA crossbars (SA scales calibrated once on training images:
:func:`hwsnn.train.deploy.deploy`). Every crossbar figure is deployed as hardware users measure it:
``DRAWS`` independent programming draws per trained network (device-to-device variation,
sense-amplifier offsets; ``hwsnn evaluate --draws``), reported as mean, spread and worst case, and
the accuracy of a variant is the mean over seeds of those per-seed means. The recipe's chips are also
read a day and a year after programming, with conductance drift added to every crossbar
(:class:`~hwsnn.hardware.crossbar.Drift`: aihwkit's PCM power law, as if these cells drifted as PCM
does), with global drift compensation and, for the year, without it (:data:`DRIFT_ROWS`).

The cost side (:func:`readout_sweep`) costs the recipe network's activity on the IMC model with an
ADC of 4, 6 and 8 bits (SAR with Walden or Schreier scaling, and flash; one ADC per 8 columns)
against a sense amplifier per column, with the component breakdown, beside the paper's 2-7x
energy and 8.9-24.6x latency. Writes ``results/adc_less/{metrics.json, table.md, accuracy.png,
readout_sweep.png}``; finished runs in ``results/adc_less/runs`` are reused.

Run:  python -m experiments.adc_less
"""

from __future__ import annotations

import argparse
import os
import statistics

from experiments import write_results
from hwsnn.hardware import cost
from hwsnn.hardware.platforms import imc
from hwsnn.hardware.platforms.imc import pe_cycle_ns
from hwsnn.hardware.platforms.imc_readouts import ADC_SCALINGS
from hwsnn.train import TrainConfig, TrainingConfig, train_and_evaluate
from hwsnn.train.deploy import deploy

BASE = TrainConfig(
    training=TrainingConfig(epochs=8, learning_rate=2e-3)
)  # the study as run, before 5e-3 became the default
SEEDS = (0, 1, 2)
DRAWS = 5
DAY_S, YEAR_S = 86400.0, 365.25 * 86400.0
DRIFT_ROWS = {
    (DAY_S, True): "recipe, 1 day of drift, compensated",
    (YEAR_S, True): "recipe, 1 year of drift, compensated",
    (YEAR_S, False): "recipe, 1 year of drift, uncompensated",
}
"""The recipe's chips read after drift: (seconds after programming, global drift compensation) -> row."""


WEIGHT_CLIP = 2.0
"""The recipe's weight range: the weight programmed at the top conductance level is 2 RMS weights of
its layer (``hardware.weight_clip``). Measured on seed 0 (5 chips each): 1.5 / 2 / 2.5 / 3 RMS gave
91.1 / 91.5 / 90.0 / 90.1 % with silent tiles still read, against 82.1 % at the largest |w|."""


def recipe(base: TrainConfig) -> TrainConfig:
    """Progressive SA-aware training: the ``rram-sa`` crossbars with every non-ideality ramped in
    together over the first half of training, a learned per-column gain over the calibrated SA
    scales (``hardware.learn_scale``), and weights mapped onto the conductance range with a clip at
    :data:`WEIGHT_CLIP` RMS weights (``hardware.weight_clip``), so that each active row drives a
    larger share of a column's current against programming noise and SA offsets."""
    steps = base.training.epochs * (4000 // base.training.batch_size)  # MNIST-5k: 4,000 training images
    return base.replace(
        hardware={
            "preset": "rram-sa",
            "start": 0.0,
            "ramp_steps": steps // 2,
            "learn_scale": True,
            "weight_clip": WEIGHT_CLIP,
        }
    )


ABLATIONS = {
    "no learned gain": lambda c: c.replace(hardware={"learn_scale": False}),
    "no weight clip": lambda c: c.replace(hardware={"weight_clip": None}),
    "offset-free SAs": lambda c: c.replace(hardware={"preset": "rram-sa-offset-free"}),
    "ideal devices": lambda c: c.replace(hardware={"preset": "rram-sa-ideal-devices"}),
}
"""The recipe with one part removed, and on crossbars with fewer non-idealities (:func:`recipe`):
without the SA offsets, and without programming noise as well (the 1-bit readout alone)."""


def variants(base: TrainConfig, ablations=ABLATIONS) -> dict[str, TrainConfig]:
    """Every trained variant's config (seed 0; :func:`study` sets the seed): the ideal network, SA from
    the first step, the recipe and its ablations, and the ideal network and the recipe again at twice
    the training budget (both given the same epochs)."""
    found = {"ideal": base, "sa_from_start": recipe(base).replace(hardware={"ramp_steps": 0}), "recipe": recipe(base)}
    found.update({f"recipe, {name}": change(recipe(base)) for name, change in ablations.items()})
    longer = base.replace(training={"epochs": 2 * base.training.epochs})
    found.update({longer_name("ideal", longer): longer, longer_name("recipe", longer): recipe(longer)})
    return found


def longer_name(variant: str, config: TrainConfig) -> str:
    """The name of ``variant`` at the budget of ``config``."""
    return f"{variant}, {config.training.epochs} epochs"


def _summary(values: list[float]) -> dict:
    return {"per_seed": values, "mean": statistics.fmean(values), "spread": max(values) - min(values)}


def study(
    out_dir: str,
    base: TrainConfig = BASE,
    seeds=SEEDS,
    draws: int = DRAWS,
    samples: int = 1000,
    progress: bool = True,
    ablations=ABLATIONS,
) -> dict:
    """Train every variant (with ``ablations``) for every seed (reusing finished runs), deploy the
    crossbar ones on ``draws`` programming draws, cost the recipe network; write the results."""
    os.makedirs(out_dir, exist_ok=True)
    runs = os.path.join(out_dir, "runs")
    accuracy, deployed, drifted = {}, {}, {key: [] for key in DRIFT_ROWS}
    for name, config in variants(base, ablations).items():
        per_seed, chips = [], []
        for seed in seeds:
            workdir = os.path.join(runs, name.replace(", ", "_").replace(" ", "_"), f"seed{seed}")
            summary = train_and_evaluate(config.replace(training={"seed": seed}), workdir, progress=progress)
            if config.hardware.preset is None:
                per_seed.append(summary["test_accuracy"])
                continue
            run, state, _ = deploy(workdir)
            chips.append(run.evaluate_draws(state, draws))
            per_seed.append(chips[-1]["mean"])
            if name == "recipe":
                times = sorted({time_s for time_s, _ in DRIFT_ROWS})
                for row in run.evaluate_drift(state, times, draws):
                    if (row["time_s"], row["compensated"]) in DRIFT_ROWS:
                        drifted[row["time_s"], row["compensated"]].append(row)
            if name == "recipe" and seed == seeds[0]:
                activity = run.mean_activity(state, "test", samples)
                workload = run.model.workload
        accuracy[name] = _summary(per_seed)
        if chips:
            deployed[name] = chips
        if name == "ideal":  # (b): the ideal weights deployed without retraining
            for preset, label in (("rram-adc", "ideal weights on 4-bit ADC"), ("rram-sa", "ideal weights on SA")):
                chips = []
                for seed in seeds:
                    run, state, _ = deploy(os.path.join(runs, "ideal", f"seed{seed}"), preset)
                    chips.append(run.evaluate_draws(state, draws))
                accuracy[label], deployed[label] = _summary([c["mean"] for c in chips]), chips
    for key, chips in drifted.items():
        accuracy[DRIFT_ROWS[key]], deployed[DRIFT_ROWS[key]] = _summary([c["mean"] for c in chips]), chips
    result = {
        "seeds": list(seeds),
        "draws": draws,
        "accuracy": accuracy,
        "deployed": deployed,
        "readout_sweep": readout_sweep(workload, activity),
    }
    write_results(out_dir, result, markdown_table(result))
    plot_accuracy(result, os.path.join(out_dir, "accuracy.png"))
    plot_readout_sweep(result["readout_sweep"], os.path.join(out_dir, "readout_sweep.png"))
    return result


SWEEP_BITS = (4, 6, 8)
SWEEP_SCALINGS = tuple(cls() for cls in ADC_SCALINGS.values())
PAPER_ENERGY, PAPER_LATENCY = (
    (2.0, 7.0),
    (8.9, 24.6),
)  # HP-ADC over SA, Apolinario et al. TETC 2023


def readout_sweep(workload, activity) -> list[dict]:
    """The IMC cost model's ADC-over-SA energy and latency ratios for one network's activity (event
    mode), the ADC at 4, 6 and 8 bits with each scaling of :data:`~hwsnn.hardware.platforms.imc_readouts.ADC_SCALINGS`
    (one ADC per 8 columns, serialised), against a 1-bit sense amplifier per column. Each row holds
    both sides' energy per component (pJ per inference), their PE-cycle times, and the PE-cycle time
    outside the readout ``F`` at which this ADC would give the paper's lower and upper latency ratio
    ``R = (F + c t_ADC) / (F + t_SA)``, i.e. ``F = (c t_ADC - R t_SA) / (R - 1)`` (negative: out of reach)."""
    sa_spec = imc.imc_spikesim_65nm_sa()
    sa = cost.imc(sa_spec, workload, activity)
    rows = []
    for scaling in SWEEP_SCALINGS:
        for bits in SWEEP_BITS:
            spec = imc.imc_spikesim_65nm_adc(bits, scaling)
            adc = cost.imc(spec, workload, activity)
            readout_ns = float(spec.readout.cycle_ns(spec))
            rows.append(
                {
                    "scaling": scaling.name,
                    "bits": bits,
                    "energy_ratio": float(adc.energy_pj.total / sa.energy_pj.total),
                    "latency_ratio": float(adc.latency_ns / sa.latency_ns),
                    "adc_energy_pj": {k: float(v) for k, v in adc.energy_pj.components.items()},
                    "sa_energy_pj": {k: float(v) for k, v in sa.energy_pj.components.items()},
                    "pe_cycle_ns": {
                        "adc": float(pe_cycle_ns(spec)),
                        "sa": float(pe_cycle_ns(sa_spec)),
                        "outside_readout": float(spec.pe_fixed_ns),
                        "adc_readout": readout_ns,
                    },
                    "outside_readout_ns_for_paper_latency": [
                        (readout_ns - r * float(sa_spec.sa_ns)) / (r - 1) for r in PAPER_LATENCY
                    ],
                }
            )
    return rows


LABELS = {
    "ideal": "(a) ideal",
    "ideal weights on 4-bit ADC": "(b) ideal weights on 4-bit ADC",
    "ideal weights on SA": "(b) ideal weights on 1-bit SA",
    "sa_from_start": "(c) recipe without the ramp (SA from step 0)",
    "recipe": "(d) recipe: progressive SA-aware",
    **{row: f"(d) {row}" for row in DRIFT_ROWS.values()},
    **{f"recipe, {name}": f"(d) recipe, {name}" for name in ABLATIONS},
}


def labels(accuracy: dict) -> dict[str, str]:
    """Table labels of the variants in ``accuracy``, in table order: :data:`LABELS`, then the ones trained
    at twice the budget, "(e) ..."."""
    found = {key: text for key, text in LABELS.items() if key in accuracy}
    found.update(
        {
            key: f"(e) {key.replace('recipe', 'recipe: progressive SA-aware')}"
            for key in accuracy
            if key.endswith(" epochs")
        }
    )
    return found


def _percent(values) -> str:
    return ", ".join(f"{100 * v:.1f}" for v in values)


def markdown_table(result: dict) -> str:
    """Accuracies over seeds (deployed ones over draws), then the readout sweep."""
    lines = [
        f"| variant | accuracy, mean over {len(result['seeds'])} seeds | spread | per seed (%) | worst chip |",
        "|---|---|---|---|---|",
    ]
    for key, label in labels(result["accuracy"]).items():
        entry = result["accuracy"][key]
        chips = result["deployed"].get(key)
        worst = "" if chips is None else f"{100 * min(c['worst'] for c in chips):.1f} %"
        lines.append(
            f"| {label} | {100 * entry['mean']:.1f} % | {100 * entry['spread']:.1f} | "
            f"{_percent(entry['per_seed'])} | {worst} |"
        )
    lines += [
        "",
        f"Crossbar figures: each trained network deployed on {result['draws']} programming draws (chips); per seed "
        "the mean over its chips, worst chip over all seeds.",
        "",
        "| ADC | bits | energy ADC/SA | latency ADC/SA | readout share of ADC energy | F for paper latency (ns) |",
        "|---|---|---|---|---|---|",
    ]
    for row in result["readout_sweep"]:
        adc = row["adc_energy_pj"]
        share = adc["readout"] / sum(adc.values())
        low, high = row["outside_readout_ns_for_paper_latency"]
        lines.append(
            f"| {row['scaling']} | {row['bits']} | {row['energy_ratio']:.2f}x | {row['latency_ratio']:.2f}x | "
            f"{100 * share:.0f} % | {low:.1f} / {high:.1f} |"
        )
    lines += [
        "",
        f"Paper: energy {PAPER_ENERGY[0]:g}-{PAPER_ENERGY[1]:g}x, latency {PAPER_LATENCY[0]:g}-{PAPER_LATENCY[1]:g}x. "
        "F: the PE-cycle time outside the readout at which the ADC design would be 8.9x / 24.6x slower "
        f"(SpikeSim's: {result['readout_sweep'][0]['pe_cycle_ns']['outside_readout']:g} ns).",
    ]
    return "\n".join(lines) + "\n"


def plot_accuracy(result: dict, path: str) -> None:
    """Mean accuracy per variant (bars) with each seed's figure (dots)."""
    from matplotlib.figure import Figure

    names = labels(result["accuracy"])
    keys = list(names)
    fig = Figure(figsize=(8.5, 0.45 * len(keys) + 1.2))
    ax = fig.subplots()
    means = [100 * result["accuracy"][k]["mean"] for k in keys]
    ax.barh(range(len(keys)), means, color="#9ecae1")
    for row, key in enumerate(keys):
        seeds = [100 * v for v in result["accuracy"][key]["per_seed"]]
        ax.plot(seeds, [row] * len(seeds), "o", color="#08519c", markersize=4)
        ax.text(101, row, f"{means[row]:.1f} %", va="center", fontsize=8)
    ax.set_yticks(range(len(keys)), [names[k] for k in keys], fontsize=8)
    ax.set(
        xlabel=f"test accuracy (%); bars: mean over {len(result['seeds'])} seeds, dots: seeds",
        xlim=(0, 110),
        title=f"MNIST-5k on RRAM crossbars\n(crossbar figures: mean over {result['draws']} programming draws "
        "per network)",
    )
    ax.spines[["top", "right"]].set_visible(False)
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def plot_readout_sweep(rows: list[dict], path: str) -> None:
    """ADC/SA energy and latency ratios against ADC bits per scaling, the paper's ranges shaded, and the
    energy per component of the ADC designs (Walden SAR) and the SA design."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13.5, 3.9))
    energy_ax, latency_ax, parts_ax = fig.subplots(1, 3)
    for scaling in SWEEP_SCALINGS:
        chosen = [r for r in rows if r["scaling"] == scaling.name]
        bits = [r["bits"] for r in chosen]
        energy_ax.plot(bits, [r["energy_ratio"] for r in chosen], "o-", label=scaling.name)
        latency_ax.plot(bits, [r["latency_ratio"] for r in chosen], "o-", label=scaling.name)
    for ax, band, name in ((energy_ax, PAPER_ENERGY, "energy"), (latency_ax, PAPER_LATENCY, "latency")):
        ax.axhspan(*band, color="0.85", label="paper")
        ax.set(xlabel="ADC bits", ylabel=f"ADC / SA {name}", yscale="log", xticks=list(SWEEP_BITS))
        ax.legend(fontsize=8)
    walden = [r for r in rows if r["scaling"] == "walden"]
    designs = [(f"ADC {r['bits']} b", r["adc_energy_pj"]) for r in walden] + [("SA", walden[0]["sa_energy_pj"])]
    components = list(designs[0][1])
    colours = dict(
        zip(
            components,
            [
                "#1f77b4",
                "#ff7f0e",
                "#2ca02c",
                "#d62728",
                "#9467bd",
                "#8c564b",
                "#e377c2",
                "#7f7f7f",
                "#bcbd22",
                "#17becf",
            ],
        )
    )
    bottom = [0.0] * len(designs)
    for component in components:
        values = [parts.get(component, 0.0) / 1e6 for _, parts in designs]
        parts_ax.bar([name for name, _ in designs], values, bottom=bottom, color=colours[component], label=component)
        bottom = [b + v for b, v in zip(bottom, values)]
    parts_ax.set(ylabel="energy per inference (uJ)", title="by component (SAR, Walden)")
    parts_ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="results/adc_less")
    parser.add_argument("--epochs", type=int, default=BASE.training.epochs)
    parser.add_argument("--draws", type=int, default=DRAWS)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args()
    result = study(
        args.out, BASE.replace(training={"epochs": args.epochs}), draws=args.draws, progress=not args.no_progress
    )
    print(markdown_table(result))


if __name__ == "__main__":
    main()
