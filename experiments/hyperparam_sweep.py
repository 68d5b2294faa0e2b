"""The DATE 2024 study (Aliyev & Adegbija): surrogate x beta x threshold against event-driven cost.

The authors' network (githubofaliyev/SNN-DSE) adapted to 28x28x1
MNIST-5k: conv3x3(1->32)-maxpool2-LIF, conv3x3(32->32)-maxpool2-LIF (VALID), FC 800->256-LIF,
FC 256->450-LIF (population code, 45 neurons per class); rate-coded input, T = 18;
mse_count loss (correct 1.0, incorrect 0.0); Adam 2e-3 with cosine decay, batch 32. Each grid
point is trained, then costed on the event-driven FPGA model (latency, FPS/W) with its mean
activity on the test set. Default point: fast_sigmoid (slope 25), beta 0.25, threshold 1.0.
Writes ``results/hyperparam_sweep/{metrics.json, table.md, pareto.png}``.

Run:  python -m experiments.hyperparam_sweep              (about 30 minutes on 2 cores)
"""

from __future__ import annotations

import argparse
import itertools
import os

import numpy as np

from experiments import write_results
from hwsnn.hardware import cost, preset
from hwsnn.train import (
    DataConfig,
    ModelConfig,
    NeuronConfig,
    TrainConfig,
    TrainingConfig,
    restore_run,
    train_and_evaluate,
)

SURROGATES = ("fast_sigmoid", "atan")
BETAS = (0.25, 0.5, 0.75)
THRESHOLDS = (0.5, 1.0, 1.5)
DEFAULT = ("fast_sigmoid", 0.25, 1.0)
DATE_NETWORK = TrainConfig(
    data=DataConfig(encoding="rate"),
    model=ModelConfig(
        kind="conv", channels=(32, 32), kernel_size=3, padding="VALID", hidden=(256,), population=45, timesteps=18
    ),
    neuron=NeuronConfig(beta=0.25, threshold=1.0, surrogate="fast_sigmoid"),
    training=TrainingConfig(loss="mse_count", learning_rate=2e-3, batch_size=32, epochs=3, eval_batch_size=250),
)


def point_name(surrogate: str, beta: float, threshold: float) -> str:
    """The run folder and label of one grid point."""
    return f"{surrogate}_b{beta:g}_th{threshold:g}"


def study(
    out_dir: str,
    base: TrainConfig = DATE_NETWORK,
    surrogates=SURROGATES,
    betas=BETAS,
    thresholds=THRESHOLDS,
    samples: int = 1000,
    progress: bool = True,
) -> dict:
    """Train and cost every grid point (finished runs in ``out_dir/runs`` are reused); write the outputs."""
    os.makedirs(out_dir, exist_ok=True)
    points = []
    for surrogate, beta, threshold in itertools.product(surrogates, betas, thresholds):
        workdir = os.path.join(out_dir, "runs", point_name(surrogate, beta, threshold))
        config = base.replace(neuron={"surrogate": surrogate, "beta": beta, "threshold": threshold})
        points.append(
            {
                "surrogate": surrogate,
                "beta": beta,
                "threshold": threshold,
                **trained_point(config, workdir, samples, progress),
            }
        )
    summary = summarise(points, base)
    write_results(out_dir, {"points": points, "summary": summary}, markdown_table(points, summary))
    plot_pareto(points, summary, os.path.join(out_dir, "pareto.png"))
    return {"points": points, "summary": summary}


def trained_point(config: TrainConfig, workdir: str, samples: int, progress: bool) -> dict:
    """Train ``config`` in ``workdir`` (a finished run is reused) and cost it on the event-driven FPGA model with
    its mean activity on the first ``samples`` test images: accuracy, firing rate, spikes, latency, FPS/W."""
    summary = train_and_evaluate(config, workdir, progress=progress)
    run, state = restore_run(workdir)
    activity = run.mean_activity(state, "test", samples)
    workload = run.model.workload
    spec = preset("event-fpga")
    c = cost.event(spec, workload, activity)
    spikes = float(activity.total_output_spikes())
    neuron_steps = sum(layer.neurons * layer.timesteps for layer in workload)
    return {
        "test_accuracy": summary["test_accuracy"],
        "firing_rate": spikes / neuron_steps,
        "spikes_per_inference": spikes,
        "latency_us": float(c.latency_ns) / 1e3,
        "fps_per_watt": float(cost.fps_per_watt(spec, c)),
    }


def pareto_front(points: list[dict]) -> list[dict]:
    """Points not dominated in (higher accuracy, lower latency), sorted by latency."""
    front = [
        p
        for p in points
        if not any(
            q["test_accuracy"] >= p["test_accuracy"]
            and q["latency_us"] <= p["latency_us"]
            and (q["test_accuracy"] > p["test_accuracy"] or q["latency_us"] < p["latency_us"])
            for q in points
        )
    ]
    return sorted(front, key=lambda p: p["latency_us"])


def summarise(points: list[dict], base: TrainConfig) -> dict:
    """The two answers the study asks for, plus the default point and the Pareto front."""
    default_key = (base.neuron.surrogate, base.neuron.beta, base.neuron.threshold)
    default = next((p for p in points if (p["surrogate"], p["beta"], p["threshold"]) == default_key), points[0])
    close = [p for p in points if p["test_accuracy"] >= default["test_accuracy"] - 0.03]
    best = min(close, key=lambda p: p["latency_us"])
    by_surrogate = {}
    for name in sorted({p["surrogate"] for p in points}):
        group = [p for p in points if p["surrogate"] == name]
        by_surrogate[name] = {
            "mean_firing_rate": float(np.mean([p["firing_rate"] for p in group])),
            "mean_accuracy": float(np.mean([p["test_accuracy"] for p in group])),
        }
    return {
        "default": default,
        "fastest_within_3_points": best,
        "latency_reduction": 1.0 - best["latency_us"] / default["latency_us"],
        "accuracy_cost_points": 100 * (default["test_accuracy"] - best["test_accuracy"]),
        "fps_per_watt_gain": best["fps_per_watt"] / default["fps_per_watt"],
        "by_surrogate": by_surrogate,
        "pareto": [point_name(p["surrogate"], p["beta"], p["threshold"]) for p in pareto_front(points)],
    }


def markdown_table(points: list[dict], summary: dict) -> str:
    """Every grid point, then the answers."""
    lines = [
        "| surrogate | beta | threshold | test acc. | firing rate | latency (us) | FPS/W |",
        "|---|---|---|---|---|---|---|",
    ]
    for p in sorted(points, key=lambda p: (p["surrogate"], p["beta"], p["threshold"])):
        lines.append(
            f"| {p['surrogate']} | {p['beta']:g} | {p['threshold']:g} | {100 * p['test_accuracy']:.1f} % | "
            f"{p['firing_rate']:.4f} | {p['latency_us']:.1f} | {p['fps_per_watt']:.0f} |"
        )
    s = summary
    lines.append("")
    for name, group in s["by_surrogate"].items():
        lines.append(
            f"* {name}: mean firing rate {group['mean_firing_rate']:.4f}, "
            f"mean accuracy {100 * group['mean_accuracy']:.1f} %"
        )
    b = s["fastest_within_3_points"]
    lines.append(
        f"* fastest point within 3 points of the default's accuracy: {b['surrogate']}, beta {b['beta']:g}, "
        f"threshold {b['threshold']:g}: latency -{100 * s['latency_reduction']:.1f} % for "
        f"{s['accuracy_cost_points']:.2f} points of accuracy, FPS/W x{s['fps_per_watt_gain']:.2f}"
    )
    return "\n".join(lines) + "\n"


def plot_pareto(points: list[dict], summary: dict, path: str) -> None:
    """Accuracy against event-driven latency for every point, the Pareto front highlighted."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.5, 4.5))
    ax = fig.subplots()
    for name, marker in zip(sorted({p["surrogate"] for p in points}), "os"):
        group = [p for p in points if p["surrogate"] == name]
        ax.scatter(
            [p["latency_us"] for p in group],
            [100 * p["test_accuracy"] for p in group],
            marker=marker,
            label=name,
            alpha=0.8,
        )
    front = pareto_front(points)
    ax.plot(
        [p["latency_us"] for p in front], [100 * p["test_accuracy"] for p in front], "k--", lw=1, label="Pareto front"
    )
    d = summary["default"]
    ax.scatter([d["latency_us"]], [100 * d["test_accuracy"]], s=160, facecolors="none", edgecolors="r", label="default")
    ax.set(
        xlabel="event-driven latency per inference (us)",
        ylabel="test accuracy (%)",
        title="Surrogate x beta x threshold (MNIST-5k)",
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="results/hyperparam_sweep")
    parser.add_argument("--epochs", type=int, default=DATE_NETWORK.training.epochs)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args()
    result = study(args.out, DATE_NETWORK.replace(training={"epochs": args.epochs}), progress=not args.no_progress)
    print(markdown_table(result["points"], result["summary"]))


if __name__ == "__main__":
    main()
