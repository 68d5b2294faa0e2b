"""The LD-SNN study (Nallathambi et al., ISLPED 2022) on MNIST-5k: per-layer timesteps.

For an MLP (784-256-128-10, rate-coded input) and a conv SNN (the main job's network, direct
input), each at uniform T = 8:

* uniform: trained at T = 2, 4 and 8 (the frontier a per-layer choice has to beat);
* searched: :func:`hwsnn.train.search.search_timesteps` from the T = 8 model (greedy per-layer
  cuts, 20 fine-tuning steps per candidate, within half an accuracy point on 500 validation images
  held out of training, so that the test-set loss stays within 1 point; every model here trains on
  the other 3,500);
* learned: trained from scratch with learnable step counts (maxima 8) and an IMC energy term,
  ``task + lambda E_IMC / E_ANN``, for lambda = 0.1, 0.5 and 2.

Every model is costed on its own test-set activity: the LD-SNN counts (synaptic updates and
neurons evaluated, with their reductions against uniform T = 8; paper: 1.67-3.84x and
1.2-2.56x at iso-accuracy), and energy and latency on the systolic (SATA), IMC (SpikeSim-like,
4-bit ADC) and event-driven (FPGA, pipelined) models. Writes ``results/ld_snn/{metrics.json,
table.md, pareto.png}``.

Run:  python -m experiments.ld_snn
"""

from __future__ import annotations

import argparse
import os

from experiments import write_results
from hwsnn.hardware import cost, preset
from hwsnn.hardware.presets import PLATFORMS
from hwsnn.train import DataConfig, ModelConfig, TrainConfig, TrainingConfig, restore_run, train_and_evaluate
from hwsnn.train.loop import timestep_report
from hwsnn.train.search import search_timesteps

NETWORKS = {
    "mlp": TrainConfig(
        data=DataConfig(encoding="rate", validation=500),
        model=ModelConfig(kind="mlp", hidden=(256, 128), timesteps=8),
        training=TrainingConfig(epochs=8, learning_rate=2e-3),
    ),
    "conv": TrainConfig(
        data=DataConfig(validation=500),
        model=ModelConfig(timesteps=8),
        training=TrainingConfig(epochs=8, learning_rate=2e-3),
    ),
}
COST_PRESETS = {"systolic": "systolic-sata", "imc": "rram-adc", "event": "event-fpga"}


def measure(workdir: str, samples: int) -> dict:
    """Test accuracy, timesteps, LD-SNN counts and per-model energy (pJ) and latency (ns) of a run folder."""
    run, state = restore_run(workdir)
    activity = run.mean_activity(state, "test", samples)
    workload = run.model.workload
    timesteps = (
        timestep_report(run, state)["active_timesteps"] if run.model.learn_timesteps else run.model.layer_timesteps
    )
    record = {
        "test_accuracy": run.evaluate(state)["accuracy"],
        "timesteps": list(timesteps),
        "synaptic_updates": float(cost.synaptic_updates(workload, activity)),
        "neurons_evaluated": float(cost.neurons_evaluated(workload, activity)),
    }
    for name, preset_name in COST_PRESETS.items():
        c = PLATFORMS[name]().cost(preset(preset_name), workload, activity)
        record[f"{name}_energy_pj"] = float(c.energy_pj.total)
        record[f"{name}_latency_ns"] = float(c.latency_ns)
    return record


def study(
    out_dir: str,
    networks: dict = NETWORKS,
    uniform=(2, 4, 8),
    weights=(0.1, 0.5, 2.0),
    budget: float = 0.005,
    finetune_steps: int = 20,
    samples: int = 500,
    progress: bool = True,
) -> dict:
    """Train, search and learn per network (finished runs in ``out_dir/runs`` are reused); cost all."""
    os.makedirs(out_dir, exist_ok=True)
    say = print if progress else (lambda *_: None)
    result = {}
    for net, base in networks.items():
        runs = os.path.join(out_dir, "runs", net)
        points = {}
        for t in uniform:
            workdir = os.path.join(runs, f"uniform_T{t}")
            train_and_evaluate(base.replace(model={"timesteps": t}), workdir, progress=progress)
            points[f"uniform T={t}"] = measure(workdir, samples)
        start = os.path.join(runs, f"uniform_T{max(uniform)}")
        if not os.path.exists(os.path.join(start, "search", "search.json")):
            search_timesteps(start, budget=budget, finetune_steps=finetune_steps, samples=samples, progress=say)
        points["searched"] = measure(os.path.join(start, "search"), samples)
        for weight in weights:
            config = base.replace(
                model={"timesteps": max(uniform), "learn_timesteps": True}, energy={"model": "imc", "weight": weight}
            )
            workdir = os.path.join(runs, f"learned_w{weight}")
            train_and_evaluate(config, workdir, progress=progress)
            points[f"learned lambda={weight}"] = measure(workdir, samples)
        reference = points[f"uniform T={max(uniform)}"]
        for record in points.values():
            for count in ("synaptic_updates", "neurons_evaluated"):
                record[f"{count}_reduction"] = reference[count] / record[count]
            record["accuracy_change_points"] = 100 * (record["test_accuracy"] - reference["test_accuracy"])
        result[net] = points
    write_results(out_dir, result, markdown_table(result))
    plot_pareto(result, os.path.join(out_dir, "pareto.png"))
    return result


def markdown_table(result: dict) -> str:
    """One row per network and variant: accuracy, timesteps, count reductions, energy and latency."""
    lines = [
        "| network | variant | T_l | test acc. | d acc. (pts) | syn. updates red. | neurons eval. red. | "
        "systolic uJ | IMC uJ | event uJ | systolic us | IMC us | event us |",
        "|" + "---|" * 13,
    ]
    for net, points in result.items():
        for name, r in points.items():
            lines.append(
                f"| {net} | {name} | {','.join(map(str, r['timesteps']))} | {100 * r['test_accuracy']:.1f} % | "
                f"{r['accuracy_change_points']:+.1f} | {r['synaptic_updates_reduction']:.2f}x | "
                f"{r['neurons_evaluated_reduction']:.2f}x | "
                + " | ".join(f"{r[f'{m}_energy_pj'] / 1e6:.3f}" for m in COST_PRESETS)
                + " | "
                + " | ".join(f"{r[f'{m}_latency_ns'] / 1e3:.1f}" for m in COST_PRESETS)
                + " |"
            )
    lines.append(
        "\nReductions are against uniform T = 8 (paper: 1.67-3.84x synaptic updates, 1.2-2.56x neurons "
        "evaluated, at iso-accuracy)."
    )
    return "\n".join(lines) + "\n"


def plot_pareto(result: dict, path: str) -> None:
    """Accuracy against energy on each cost model: uniform T (line), searched and learned (markers)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 3.6 * len(result)))
    axes = fig.subplots(len(result), len(COST_PRESETS), squeeze=False)
    for row, (net, points) in zip(axes, result.items()):
        for ax, model in zip(row, COST_PRESETS):
            uniform = [(n, r) for n, r in points.items() if n.startswith("uniform")]
            ax.plot(
                [r[f"{model}_energy_pj"] / 1e6 for _, r in uniform],
                [100 * r["test_accuracy"] for _, r in uniform],
                "o-",
                color="gray",
                label="uniform T",
            )
            for n, r in uniform:
                ax.annotate(n.split()[-1], (r[f"{model}_energy_pj"] / 1e6, 100 * r["test_accuracy"]), fontsize=7)
            for n, r in points.items():
                if not n.startswith("uniform"):
                    ax.plot(
                        r[f"{model}_energy_pj"] / 1e6,
                        100 * r["test_accuracy"],
                        "*" if n == "searched" else "s",
                        markersize=10,
                        label=f"{n} ({','.join(map(str, r['timesteps']))})",
                    )
            ax.set(xlabel=f"{model} energy per inference (uJ)", ylabel="test accuracy (%)", title=f"{net}: {model}")
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="results/ld_snn")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args()
    result = study(args.out, progress=not args.no_progress)
    print(markdown_table(result))


if __name__ == "__main__":
    main()
