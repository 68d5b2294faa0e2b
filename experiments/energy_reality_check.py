"""The ICASSP 2024 study (Bhattacharjee et al., "Are SNNs truly energy-efficient?"), on MNIST-5k.

One conv SNN architecture (the README's main job: 16C3-MP2-32C3-MP2-FC128-FC10, direct-coded)
is trained at T in {1, 2, 4, 8, 16}; each trained network is costed by the naive estimate
(Horowitz fp32 and int8), the SATA-like systolic array and the SpikeSim-like IMC crossbars
(event and dense accounting), each against the same architecture run as an ANN on the same
hardware class. Writes ``results/energy_reality_check/{metrics.json, table.md,
energy_ratio.png, breakdown_T<T>.png}``.

Run:  python -m experiments.energy_reality_check            (about 10 minutes on 2 cores)
"""

from __future__ import annotations

import argparse
import os

import numpy as np

from experiments import write_results
from hwsnn.hardware.report import cost_on_presets, plot_energy_breakdown
from hwsnn.train import TrainConfig, TrainingConfig, restore_run, train_and_evaluate

TIMESTEPS = (1, 2, 4, 8, 16)
PRESETS = ("naive-fp32", "naive-int8", "systolic-sata", "rram-adc")
COLUMNS = ("naive-fp32", "naive-int8", "systolic-sata", "rram-adc", "rram-adc dense")


def study(
    out_dir: str, base: TrainConfig, timesteps=TIMESTEPS, samples: int = 1000, progress: bool = True
) -> list[dict]:
    """Train ``base`` at each T (reusing finished runs in ``out_dir/runs``), cost it, write the outputs."""
    os.makedirs(out_dir, exist_ok=True)
    records = []
    for steps in timesteps:
        workdir = os.path.join(out_dir, "runs", f"T{steps}")
        summary = train_and_evaluate(base.replace(model={"timesteps": steps}), workdir, progress=progress)
        run, state = restore_run(workdir)
        activity = run.mean_activity(state, "test", samples)
        workload = run.model.workload
        rows = cost_on_presets(workload, activity, PRESETS, imc_mode="event")
        rows += [
            dict(r, preset="rram-adc dense")
            for r in cost_on_presets(workload, activity, ("rram-adc",), imc_mode="dense")
        ]
        records.append(
            {
                "timesteps": steps,
                "test_accuracy": summary["test_accuracy"],
                "firing_rates": [float(r) for r in np.asarray(activity.firing_rates(workload))],
                "snn_over_ann": {r["preset"]: r["snn_over_ann"] for r in rows},
                "costs": rows,
            }
        )
    write_results(out_dir, records, markdown_table(records))
    plot_ratios(records, os.path.join(out_dir, "energy_ratio.png"))
    middle = records[len(records) // 2]
    plot_energy_breakdown(
        [r for r in middle["costs"] if r["preset"] != "rram-adc dense"],
        os.path.join(out_dir, f"breakdown_T{middle['timesteps']}.png"),
    )
    return records


def markdown_table(records: list[dict]) -> str:
    """SNN/ANN energy per model and T, with test accuracy and mean firing rate."""
    head = "| T | test acc. | mean firing rate | " + " | ".join(f"SNN/ANN {c}" for c in COLUMNS) + " |\n"
    head += "|---" * (3 + len(COLUMNS)) + "|\n"
    lines = [
        f"| {r['timesteps']} | {100 * r['test_accuracy']:.1f} % | {np.mean(r['firing_rates']):.3f} | "
        + " | ".join(f"{r['snn_over_ann'][c]:.3f}" for c in COLUMNS)
        + " |"
        for r in records
    ]
    return head + "\n".join(lines) + "\n"


def plot_ratios(records: list[dict], path: str) -> None:
    """SNN/ANN energy ratio against T per cost model (log scale), and accuracy against T."""
    from matplotlib.figure import Figure

    steps = [r["timesteps"] for r in records]
    fig = Figure(figsize=(10, 4))
    ax_ratio, ax_acc = fig.subplots(1, 2)
    for column, marker in zip(COLUMNS, "os^dv"):
        ax_ratio.plot(steps, [r["snn_over_ann"][column] for r in records], marker=marker, label=column)
    ax_ratio.axhline(1.0, color="k", lw=0.8, ls="--")
    ax_ratio.set(
        xscale="log",
        yscale="log",
        xlabel="timesteps T",
        ylabel="SNN energy / ANN energy",
        title="Below the dashed line the SNN saves energy",
    )
    ax_ratio.set_xticks(steps, [str(s) for s in steps])
    ax_ratio.legend(fontsize=8)
    ax_acc.plot(steps, [100 * r["test_accuracy"] for r in records], marker="o")
    ax_acc.set(xscale="log", xlabel="timesteps T", ylabel="test accuracy (%)", title="MNIST-5k accuracy")
    ax_acc.set_xticks(steps, [str(s) for s in steps])
    for ax in (ax_ratio, ax_acc):
        ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="results/energy_reality_check")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--timesteps", default=",".join(map(str, TIMESTEPS)))
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args()
    steps = tuple(int(t) for t in args.timesteps.split(","))
    records = study(
        args.out,
        TrainConfig(training=TrainingConfig(epochs=args.epochs, learning_rate=2e-3)),
        steps,
        progress=not args.no_progress,
    )
    print(markdown_table(records))


if __name__ == "__main__":
    main()
