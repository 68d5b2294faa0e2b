"""Inference time of the LD-SNN study's per-layer-timestep networks against uniform T (Nallathambi et al.,
ISLPED 2022, report 1.25-3.45x faster inference on real platforms at iso-accuracy).

For each network of ``experiments/ld_snn`` (the MLP 784-256-128-10 on rate-coded input, the conv SNN on
direct input) and each of its variants in ``results/ld_snn/metrics.json`` (uniform T = 2, 4, 8; the
searched T_l; the learned ones), a jitted inference (encoder, network, time-summed output) is timed at
batch 1 and 256. A learned model is frozen to its fixed T_l (:func:`hwsnn.train.search.freeze_timesteps`),
so the steps its mask silences are not computed at all. The weights are the study's trained ones where
its run folders exist (``results/ld_snn/runs``, after ``python -m experiments.ld_snn``), else the
initial ones: dense XLA computation takes the same time whatever the weights' values.

Each of ``--processes`` fresh processes warms every variant up, then, one batch size at a time, times
``--rounds`` rounds, each variant in turn within a round (alternated), each sample the mean over ``--calls``
calls (20x as many at batch 1); a process reports every variant's median, and the report gives each
variant's speed-up over uniform T = 8, per process and as the median over processes. ``--out DIR`` writes
``timing.json`` and ``timing.md`` there.

Run:  python benchmarks/bench_ld_snn.py [--network mlp|conv|both] [--processes 3] [--out results/ld_snn]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
from flax import nnx

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)  # experiments/ (the study's network configs)

from experiments.ld_snn import NETWORKS  # noqa: E402
from hwsnn.allocator import keep_freed_memory  # noqa: E402
from hwsnn.train import Run  # noqa: E402
from hwsnn.train.deploy import restore_run  # noqa: E402
from hwsnn.train.search import freeze_timesteps  # noqa: E402

BATCHES = (1, 256)
REFERENCE = "uniform T=8"


def _folder(runs: str, net: str, variant: str) -> str:
    """The study's run folder of a variant (``experiments.ld_snn.study``'s layout)."""
    if variant == "searched":
        return os.path.join(runs, net, "uniform_T8", "search")
    if variant.startswith("uniform T="):
        return os.path.join(runs, net, f"uniform_T{variant.split('=')[1]}")
    return os.path.join(runs, net, f"learned_w{variant.split('=')[1]}")


def variant_run(net: str, variant: str, timesteps: list[int], runs: str):
    """``(run, state, trained)`` of one variant at fixed per-layer ``timesteps``: the study's trained weights
    (a learned model frozen) if its run folder exists, else the network's initial weights."""
    folder = _folder(runs, net, variant)
    if os.path.exists(os.path.join(folder, "config.json")):
        run, state = restore_run(folder)
        if run.config.model.learn_timesteps:
            run, state = freeze_timesteps(run, state)
        if list(run.model.layer_timesteps) != timesteps:
            raise ValueError(f"{folder}: timesteps {run.model.layer_timesteps}; the study's metrics say {timesteps}.")
        return run, state, True
    run = Run(NETWORKS[net].replace(model={"layer_timesteps": tuple(timesteps)}))
    return run, run.state, False


def inference(run: Run, state, batch: int):
    """A jitted ``infer() -> [B, classes]`` over ``batch`` test images: encode, run, sum over time."""
    graphdef, encode, steps = run.graphdef, run.encode, run.model.timesteps
    images = jnp.asarray(run.inputs(run.data.x_test[:batch]))
    key = jax.random.key(0)

    @jax.jit
    def forward(params, constants, images, key):
        model = nnx.merge(graphdef, params, constants)
        out, _ = model(encode(images, steps, key), key=jax.random.fold_in(key, 1))
        return jnp.sum(out, axis=0)

    return lambda: forward(state.params, state.constants, images, key)


def measure(net: str, metrics: dict, runs: str, rounds: int, calls: int) -> dict:
    """Median seconds per inference call of every variant at every batch size. Each batch size is timed on its
    own, its variants alternated round by round (a small batch right after a large one would pay for the large
    one's freed memory); a sample at batch 1 is the mean of 20x more calls than at the largest batch."""
    calls_of, trained = {}, {}
    for variant, record in metrics[net].items():
        run, state, trained[variant] = variant_run(net, variant, record["timesteps"], runs)
        for batch in BATCHES:
            calls_of[variant, batch] = inference(run, state, batch)
    for call in calls_of.values():
        jax.block_until_ready(call())
    seconds = {}
    for batch in BATCHES:
        keys = [key for key in calls_of if key[1] == batch]
        repeat = calls * (20 if batch == 1 else 1)
        times = {key: [] for key in keys}
        for _ in range(rounds):
            for key in keys:
                start = time.perf_counter()
                for _ in range(repeat):
                    out = calls_of[key]()
                jax.block_until_ready(out)
                times[key].append((time.perf_counter() - start) / repeat)
        seconds.update({f"{variant}@{b}": statistics.median(t) for (variant, b), t in times.items()})
    return {"trained_weights": trained, "seconds": seconds}


def report(net: str, metrics: dict, processes: list[dict]) -> dict:
    """Per variant and batch: each process's time, the median time, and the speed-up over uniform T = 8."""
    rows = {}
    for variant, record in metrics[net].items():
        for batch in BATCHES:
            key = f"{variant}@{batch}"
            seconds = [p["seconds"][key] for p in processes]
            speedups = [p["seconds"][f"{REFERENCE}@{batch}"] / p["seconds"][key] for p in processes]
            rows[key] = {
                "variant": variant,
                "batch": batch,
                "timesteps": record["timesteps"],
                "test_accuracy": record["test_accuracy"],
                "synaptic_updates_reduction": record["synaptic_updates_reduction"],
                "seconds_per_process": seconds,
                "median_ms": 1e3 * statistics.median(seconds),
                "speedup_per_process": speedups,
                "speedup": statistics.median(speedups),
            }
    return rows


def markdown(result: dict) -> str:
    """Every variant at every batch size (time, speed-up per process), then the speed-ups side by side."""
    lines = [
        "| network | variant | T_l | test acc. | syn. updates red. | batch | median ms "
        "| speed-up vs T=8 (per process) |",
        "|" + "---|" * 8,
    ]
    for net, rows in result["networks"].items():
        for r in rows.values():
            lines.append(
                f"| {net} | {r['variant']} | {','.join(map(str, r['timesteps']))} | {100 * r['test_accuracy']:.1f} % | "
                f"{r['synaptic_updates_reduction']:.2f}x | {r['batch']} | {r['median_ms']:.3f} | {r['speedup']:.2f}x "
                f"({', '.join(f'{s:.2f}' for s in r['speedup_per_process'])}) |"
            )
    lines += [
        "",
        "| network | variant | T_l | syn. updates red. | batch 1 | batch 256 |",
        "|---|---|---|---|---|---|",
    ]
    for net, rows in result["networks"].items():
        for variant in dict.fromkeys(r["variant"] for r in rows.values()):
            one, many = rows[f"{variant}@1"], rows[f"{variant}@{BATCHES[-1]}"]
            lines.append(
                f"| {net} | {variant} | {','.join(map(str, one['timesteps']))} | "
                f"{one['synaptic_updates_reduction']:.2f}x | {one['speedup']:.2f}x | {many['speedup']:.2f}x |"
            )
    lines.append(
        f"\n{result['device']}; {result['processes']} fresh processes, each the median of {result['rounds']} "
        f"alternated rounds of {result['calls']} calls ({20 * result['calls']} at batch 1). Weights: "
        + ("the study's trained ones." if result["trained_weights"] else "initial (no run folders found).")
        + " Paper: 1.25-3.45x faster inference at iso-accuracy."
    )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--network", choices=("mlp", "conv", "both"), default="both")
    parser.add_argument("--metrics", default=os.path.join(ROOT, "results", "ld_snn", "metrics.json"))
    parser.add_argument("--runs", default=os.path.join(ROOT, "results", "ld_snn", "runs"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=5)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--out", default=None, help="write timing.json and timing.md into this folder")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    with open(args.metrics) as handle:
        metrics = json.load(handle)
    nets = ("mlp", "conv") if args.network == "both" else (args.network,)
    if args.child:  # one measurement in this process, as JSON on stdout
        keep_freed_memory()  # as the hwsnn command does (hwsnn.allocator)
        print(json.dumps(measure(nets[0], metrics, args.runs, args.rounds, args.calls)))
        return
    result = {
        "device": f"{jax.devices()[0].device_kind} ({jax.default_backend()}), jax {jax.__version__}",
        "processes": args.processes,
        "rounds": args.rounds,
        "calls": args.calls,
        "networks": {},
    }
    trained = []
    for net in nets:
        command = [sys.executable, os.path.abspath(__file__), "--child", "--network", net, "--metrics", args.metrics]
        command += ["--runs", args.runs, "--rounds", str(args.rounds), "--calls", str(args.calls)]
        processes = [
            json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout.splitlines()[-1])
            for _ in range(args.processes)
        ]
        trained += [all(p["trained_weights"].values()) for p in processes]
        result["networks"][net] = report(net, metrics, processes)
    result["trained_weights"] = all(trained)
    text = markdown(result)
    print(text)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "timing.json"), "w") as handle:
            json.dump(result, handle, indent=2)
        with open(os.path.join(args.out, "timing.md"), "w") as handle:
            handle.write(text)


if __name__ == "__main__":
    main()
