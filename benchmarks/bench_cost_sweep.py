"""Design-space sweep: every cost model vmapped over 10,000 specs in one jitted call.

Run:  python benchmarks/bench_cost_sweep.py [--specs 10000]

Each spec is a preset with every continuous field scaled by an independent factor in
[0.5, 1.5]; the workload is the README's conv SNN (28x28x1, 16C3-MP2-32C3-MP2-FC128-FC10, T=4)
with its activity on a random input batch. Prints compile time and the median of 5 timed calls.
"""

from __future__ import annotations

import argparse
import statistics
import time

import jax
import jax.numpy as jnp
from flax import nnx

from hwsnn.hardware import preset
from hwsnn.hardware.presets import PLATFORMS
from hwsnn.layers import conv_net

CASES = [
    ("naive", "naive-fp32"),
    ("systolic", "systolic-sata"),
    ("imc", "rram-adc"),
    ("imc", "rram-sa"),
    ("event", "event-fpga"),
]


def perturbed_stack(spec, count: int, key):
    leaves, treedef = jax.tree.flatten(spec)
    keys = jax.random.split(key, len(leaves))
    scaled = [leaf * jax.random.uniform(k, (count,), minval=0.5, maxval=1.5) for leaf, k in zip(leaves, keys)]
    return jax.tree.unflatten(treedef, scaled)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--specs", type=int, default=10_000)
    args = parser.parse_args()
    model = conv_net((28, 28, 1), (16, 32), (128,), 10, 4, rngs=nnx.Rngs(0), spiking_input=True)
    x = (jax.random.uniform(jax.random.key(0), (4, 32, 28, 28, 1)) < 0.2).astype(jnp.float32)
    _, activity = model(x)
    workload = model.workload
    for name, preset_name in CASES:
        stacked = perturbed_stack(preset(preset_name), args.specs, jax.random.key(1))
        sweep = jax.jit(jax.vmap(lambda s: PLATFORMS[name]().cost(s, workload, activity).energy_pj.total))
        start = time.perf_counter()
        jax.block_until_ready(sweep(stacked))
        compile_s = time.perf_counter() - start
        times = []
        for _ in range(5):
            start = time.perf_counter()
            out = jax.block_until_ready(sweep(stacked))
            times.append(time.perf_counter() - start)
        print(
            f"{name:9s} {preset_name:14s} {args.specs} specs: compile {compile_s:.2f} s, "
            f"call {1e3 * statistics.median(times):.2f} ms, "
            f"energy range {float(out.min()):.3g}-{float(out.max()):.3g} pJ"
        )


if __name__ == "__main__":
    main()
