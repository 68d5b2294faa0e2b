"""Per-shape convolution timings behind ``hwsnn.layers.ops.PATCH_GRADIENT_ROWS``: the weight gradient of
XLA's convolution against one patch matmul ``patches(x)^T dy``, and both forwards, alternated in one process.

Run:  python benchmarks/bench_conv.py [--rounds 7]

Shapes (N = T x B images of 20 % spikes): the first two layers of bench_train_step.py's case (c) and of the
main job's conv SNN, and a ResNet-like 3x3 layer over 128 channels. Each figure is the median over rounds
of one jitted call (ms).
"""

from __future__ import annotations

import argparse
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np

from hwsnn.layers import ops

SHAPES = {  # name: (N, H, W, C_in, kernel, C_out, padding)
    "case (c) L1 28x28x1 5x5 -> 12": (256, 28, 28, 1, 5, 12, "VALID"),
    "case (c) L2 12x12x12 5x5 -> 32": (256, 12, 12, 12, 5, 32, "VALID"),
    "main job L1 28x28x1 3x3 -> 16": (256, 28, 28, 1, 3, 16, "SAME"),
    "main job L2 14x14x16 3x3 -> 32": (256, 14, 14, 16, 3, 32, "SAME"),
    "ResNet-like 16x16x128 3x3 -> 128": (32, 16, 16, 128, 3, 128, "SAME"),
}


def timed(fn, *args, rounds: int) -> float:
    jax.block_until_ready(fn(*args))
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"{'shape':36s} {'k^2 C':>6s} {'fwd lax':>8s} {'fwd patch':>9s} {'dK lax':>8s} {'dK patch':>9s}  route")
    for name, (n, h, w, c, k, co, padding) in SHAPES.items():
        x = jnp.asarray((rng.random((n, h, w, c)) < 0.2).astype(np.float32))
        kernel = jnp.asarray(rng.normal(0, 0.1, (k, k, c, co)).astype(np.float32))
        pads = tuple(ops.conv_geometry(size, k, 1, padding)[1] for size in (h, w))
        conv = lambda x, kernel: ops._lax_convolution(x, kernel, 1, pads)
        dy = jnp.ones(conv(x, kernel).shape, jnp.float32)
        lax_forward = jax.jit(conv)
        patch_forward = jax.jit(lambda x, kernel: (ops.patches(x, k, 1, pads) @ kernel.reshape(-1, co)).reshape(dy.shape))
        lax_grad = jax.jit(lambda x, kernel, dy: jax.vjp(lambda q: conv(x, q), kernel)[1](dy)[0])
        patch_grad = jax.jit(lambda x, dy: ops.patches(x, k, 1, pads).T @ dy.reshape(-1, co))
        figures = {key: [] for key in ("fl", "fp", "gl", "gp")}
        for _ in range(3):  # alternated blocks
            figures["fl"].append(timed(lax_forward, x, kernel, rounds=args.rounds))
            figures["fp"].append(timed(patch_forward, x, kernel, rounds=args.rounds))
            figures["gl"].append(timed(lax_grad, x, kernel, dy, rounds=args.rounds))
            figures["gp"].append(timed(patch_grad, x, dy, rounds=args.rounds))
        m = {key: statistics.median(v) for key, v in figures.items()}
        route = "patch" if k * k * c <= ops.PATCH_GRADIENT_ROWS else "lax"
        print(f"{name:36s} {k * k * c:6d} {m['fl']:8.2f} {m['fp']:9.2f} {m['gl']:8.2f} {m['gp']:9.2f}  {route}")


if __name__ == "__main__":
    main()
