"""The ADC-less IMC study (Apolinario et al., TETC 2023) on MNIST-5k.

A conv SNN is (a) trained ideally; (b) the same weights are evaluated on crossbars with a
4-bit ADC per 8 columns and with a 1-bit sense amplifier per column, without retraining;
(c) trained on SA crossbars from the start; (d) trained with progressive hardware awareness
(every non-ideality ramped from 0 to 1 over the first half of training; at 0 the weights are
quantised and the readout exact); (e) the same ramp staged: device noise, then IR drop, then
the readout from exact partial sums to 1-bit decisions, each over a sixth of training. The IMC cost model then costs
the SA-trained network's activity on the ADC and on the SA preset (energy and latency ratios,
to set beside the paper's 2-7x energy and 8.9-24.6x latency). Writes
``results/adc_less/{metrics.json, table.md, accuracy.png}``.

Run:  python -m experiments.adc_less
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os

from hwsnn.hardware import cost, preset
from hwsnn.train import TrainConfig, TrainingConfig, restore_run, train_and_evaluate
from hwsnn.train.loop import Run

BASE = TrainConfig(training=TrainingConfig(epochs=8))


def evaluate_on(config: TrainConfig, params, hardware: str) -> float:
    """Test accuracy of ``params`` (trained elsewhere) on the ``hardware`` crossbar preset."""
    run = Run(config.replace(hardware={"preset": hardware}))
    return run.evaluate(dataclasses.replace(run.state, params=params))["accuracy"]


def study(out_dir: str, base: TrainConfig = BASE, samples: int = 1000, progress: bool = True) -> dict:
    """Run (a)-(e) and the ADC-vs-SA costing; reuse finished runs in ``out_dir/runs``."""
    os.makedirs(out_dir, exist_ok=True)
    runs = os.path.join(out_dir, "runs")
    steps = base.training.epochs * (4000 // base.training.batch_size)
    variants = {
        "ideal": base,
        "sa_from_start": base.replace(hardware={"preset": "rram-sa"}),
        "sa_progressive": base.replace(hardware={"preset": "rram-sa", "start": 0.0, "ramp_steps": steps // 2}),
        "sa_staged": base.replace(hardware={"preset": "rram-sa", "start": 0.0, "ramp_steps": steps // 2,
                                            "ramp_order": "staged"}),
    }
    accuracy = {}
    for name, config in variants.items():
        accuracy[name] = train_and_evaluate(config, os.path.join(runs, name), progress=progress)["test_accuracy"]
    ideal_run, ideal_state = restore_run(os.path.join(runs, "ideal"))
    accuracy["ideal_weights_on_adc"] = evaluate_on(base, ideal_state.params, "rram-adc")
    accuracy["ideal_weights_on_sa"] = evaluate_on(base, ideal_state.params, "rram-sa")
    sa_run, sa_state = restore_run(os.path.join(runs, "sa_progressive"))
    activity = sa_run.mean_activity(sa_state, "test", samples)
    adc = cost.imc(preset("imc-adc"), sa_run.model.workload, activity)
    sa = cost.imc(preset("imc-sa"), sa_run.model.workload, activity)
    result = {
        "accuracy": accuracy,
        "imc_energy_pj": {"adc": float(adc.energy_pj.total), "sa": float(sa.energy_pj.total)},
        "imc_latency_ns": {"adc": float(adc.latency_ns), "sa": float(sa.latency_ns)},
        "energy_ratio_adc_over_sa": float(adc.energy_pj.total / sa.energy_pj.total),
        "latency_ratio_adc_over_sa": float(adc.latency_ns / sa.latency_ns),
    }
    with open(os.path.join(out_dir, "metrics.json"), "w") as handle:
        json.dump(result, handle, indent=2)
    with open(os.path.join(out_dir, "table.md"), "w") as handle:
        handle.write(markdown_table(result))
    plot_accuracy(result, os.path.join(out_dir, "accuracy.png"))
    return result


LABELS = {"ideal": "(a) ideal", "ideal_weights_on_adc": "(b) ideal weights, 4-bit ADC",
          "ideal_weights_on_sa": "(b) ideal weights, 1-bit SA", "sa_from_start": "(c) SA-aware from start",
          "sa_progressive": "(d) SA-aware, progressive", "sa_staged": "(e) SA-aware, staged (noise, IR, readout)"}


def markdown_table(result: dict) -> str:
    """Accuracies, then the IMC energy and latency of ADC against SA readout."""
    lines = ["| variant | test accuracy |", "|---|---|"]
    lines += [f"| {LABELS[k]} | {100 * result['accuracy'][k]:.1f} % |" for k in LABELS]
    lines += ["", f"IMC cost of the SA-trained network's activity: ADC/SA energy {result['energy_ratio_adc_over_sa']:.2f}x, "
                  f"latency {result['latency_ratio_adc_over_sa']:.2f}x (paper: 2-7x and 8.9-24.6x)."]
    return "\n".join(lines) + "\n"


def plot_accuracy(result: dict, path: str) -> None:
    """Bar chart of the accuracies."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.5, 3.9))
    ax = fig.subplots()
    keys = list(LABELS)
    ax.barh([LABELS[k] for k in keys], [100 * result["accuracy"][k] for k in keys])
    ax.set(xlabel="test accuracy (%)", xlim=(0, 100), title="MNIST-5k on RRAM crossbars")
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="results/adc_less")
    parser.add_argument("--epochs", type=int, default=BASE.training.epochs)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args()
    result = study(args.out, BASE.replace(training={"epochs": args.epochs}), progress=not args.no_progress)
    print(markdown_table(result))


if __name__ == "__main__":
    main()
