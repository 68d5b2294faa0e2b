"""BPTT memory at long T: peak memory of one training step of a LIF MLP 256-1024-10 (batch 32, random
20 % input spikes, Adam, cross-entropy on spike counts) against T, for hwsnn (plain, and with
``SNN(remat=K)``, K = round(sqrt(T))), the hand-written JAX scan and snnTorch.

Run:  python benchmarks/bench_memory.py [--steps 250 1000 4000] [--impls hwsnn hwsnn_remat handwritten_jax snntorch]

Every (implementation, T) runs in its own fresh process: the figure is the process's peak resident memory
(``ru_maxrss``) over its first training step, less its resident memory just before it (model, optimizer
state and data in place): what the step holds at its peak (activations kept for the backward pass,
gradients, temporaries), in MB. For the JAX implementations the first step includes its compilation, so
theirs are upper bounds. Beside it, the median time of the next two steps. (A warm-up step before
measuring hides the step: allocators and XLA's runtime keep the memory freed after it and reuse it.)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time

SIZES, BATCH = (256, 1024, 10), 32
IMPLS = ("hwsnn", "hwsnn_remat", "handwritten_jax", "snntorch")


def resident_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def child(impl: str, steps: int) -> dict:
    import bench_train_step as bench
    import numpy as np

    case = dict(kind="mlp", sizes=SIZES, T=steps, B=BATCH)
    rng = np.random.default_rng(0)
    x = (rng.random((steps, BATCH, SIZES[0])) < 0.2).astype(np.float32)
    y = rng.integers(0, SIZES[-1], BATCH).astype(np.int32)
    if impl == "snntorch":
        run = bench.snntorch_runner(case, x, y)
    elif impl == "handwritten_jax":
        run = bench.handwritten_runner(case, x, y)
    else:
        run = bench.hwsnn_runner(case, x, y, remat=round(math.sqrt(steps)) if impl == "hwsnn_remat" else None)
    before = resident_mb()  # the model, its optimizer state and the data
    run(1)  # the first step (with JAX, its compilation too): the process's high-water mark covers all of it
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3  # kB on Linux
    times = []
    for _ in range(2):
        start = time.perf_counter()
        run(1)
        times.append(time.perf_counter() - start)
    return {"impl": impl, "T": steps, "peak_mb": peak - before, "step_s": statistics.median(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, nargs="+", default=[250, 1000, 4000])
    parser.add_argument("--impls", nargs="+", choices=IMPLS, default=list(IMPLS))
    parser.add_argument("--child", nargs=2, metavar=("IMPL", "T"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]))))
        return
    here = os.path.dirname(os.path.abspath(__file__))
    print(f"LIF MLP {'-'.join(map(str, SIZES))}, batch {BATCH}: peak memory of a training step (MB) / step time (s)")
    print(f"{'T':>6s} " + " ".join(f"{impl:>22s}" for impl in args.impls))
    for steps in args.steps:
        cells = []
        for impl in args.impls:
            out = subprocess.run(
                [sys.executable, os.path.abspath(__file__), "--child", impl, str(steps)],
                cwd=here,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            result = json.loads(out.strip().splitlines()[-1])
            cells.append(f"{result['peak_mb']:9.0f} MB {result['step_s']:7.2f} s")
        print(f"{steps:6d} " + " ".join(f"{cell:>22s}" for cell in cells), flush=True)


if __name__ == "__main__":
    main()
