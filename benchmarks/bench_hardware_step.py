"""Training-step cost of hardware in the loop: crossbar forward (resummed IR drop, 1-bit sense
amplifiers, programming noise) against the ideal step of the same model, alternated in one run.

Run:  python benchmarks/bench_hardware_step.py [--rounds 7]

Model: LIF MLP 784-256-10 on rate-coded input, T=8, batch 64, Adam; crossbars: the ``rram-sa``
preset (64 x 64 RRAM, 1 Ohm per segment, differential pairs, SA per column). Goal: at most 1.5x.
"""

from __future__ import annotations

import argparse
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from hwsnn.hardware.specs import crossbar_preset
from hwsnn.layers import mlp
from hwsnn.train.losses import ce_count
from hwsnn.train.step import init_state, make_objective, make_train_step

T, B = 8, 64


def runner(hardware):
    model = mlp([784, 256, 10], T, rngs=nnx.Rngs(0), spiking_input=True, beta=0.95, surrogate="fast_sigmoid",
                hardware=hardware)
    optimizer = optax.adam(1e-3)
    graphdef, state = init_state(model, optimizer)
    step = make_train_step(graphdef, optimizer, make_objective(ce_count), lambda x, t, k: x, T, jax.random.PRNGKey(0))
    rng = np.random.default_rng(0)
    x = jnp.asarray((rng.random((T, B, 784)) < 0.2).astype(np.float32))
    y = jnp.asarray(rng.integers(0, 10, B))
    holder = {"state": state}

    def run(n):
        s = holder["state"]
        for _ in range(n):
            s, _ = step(s, x, y)
        jax.block_until_ready(s)
        holder["state"] = s
    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--preset", default="rram-sa")
    args = parser.parse_args()
    runners = {"ideal": runner(None), "crossbar": runner(crossbar_preset(args.preset))}
    for run in runners.values():
        run(2)
    times = {name: [] for name in runners}
    for _ in range(args.rounds):
        for name, run in runners.items():
            start = time.perf_counter()
            run(args.steps)
            times[name].append((time.perf_counter() - start) / args.steps)
    med = {name: statistics.median(t) for name, t in times.items()}
    print(f"median per step: ideal {1e3 * med['ideal']:.1f} ms, crossbar ({args.preset}) {1e3 * med['crossbar']:.1f} ms")
    print(f"crossbar / ideal: {med['crossbar'] / med['ideal']:.2f}x")


if __name__ == "__main__":
    main()
