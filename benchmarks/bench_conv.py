"""Per-shape convolution timings behind ``hwsnn.compile.CPU_COMPILER_OPTIONS``: the forward pass, the
weight gradient and the input gradient of one convolution, compiled with XLA's defaults (YNNPACK
convolutions on CPU) and with hwsnn's compiler options (XLA's Eigen convolutions), alternated in one
process.

Run:  python benchmarks/bench_conv.py [--rounds 7]

Shapes (N = T x B images of 20 % spikes): the two layers of bench_train_step.py's case (c), the main
job's second layer (its first reads the direct-coded images once per sample, B = 64) and a ResNet-like
3x3 layer over 128 channels. Each figure is the median over rounds of one jitted call (ms); the last
column is the speed-up of hwsnn's options on forward + both gradients.
"""

from __future__ import annotations

import argparse
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np

from hwsnn.compile import compiler_options
from hwsnn.layers import ops

SHAPES = {  # name: (N, H, W, C_in, kernel, C_out, padding)
    "case (c) L1 28x28x1 5x5 -> 12": (256, 28, 28, 1, 5, 12, "VALID"),
    "case (c) L2 12x12x12 5x5 -> 32": (256, 12, 12, 12, 5, 32, "VALID"),
    "main job L1 28x28x1 3x3 -> 16": (64, 28, 28, 1, 3, 16, "SAME"),
    "main job L2 14x14x16 3x3 -> 32": (256, 14, 14, 16, 3, 32, "SAME"),
    "ResNet-like 16x16x128 3x3 -> 128": (32, 16, 16, 128, 3, 128, "SAME"),
}
PASSES = ("forward", "weight grad", "input grad")


def timed(fn, *args) -> float:
    start = time.perf_counter()
    jax.block_until_ready(fn(*args))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    builds = {"XLA default": {}, "hwsnn options": compiler_options()}
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}; ms per call, "
          f"{' / '.join(PASSES)}")
    print(f"{'shape':34s} " + " ".join(f"{name:>22s}" for name in builds) + "  speed-up")
    for name, (n, h, w, c, k, co, padding) in SHAPES.items():
        x = jnp.asarray((rng.random((n, h, w, c)) < 0.2).astype(np.float32))
        kernel = jnp.asarray(rng.normal(0, 0.1, (k, k, c, co)).astype(np.float32))
        conv = lambda x, kernel: ops.conv2d(x, kernel, None, 1, padding)
        dy = jnp.asarray(rng.normal(size=conv(x, kernel).shape).astype(np.float32))
        passes = {"forward": (conv, (x, kernel)),
                  "weight grad": (lambda x, kernel, dy: jax.vjp(lambda q: conv(x, q), kernel)[1](dy)[0], (x, kernel, dy)),
                  "input grad": (lambda x, kernel, dy: jax.vjp(lambda v: conv(v, kernel), x)[1](dy)[0], (x, kernel, dy))}
        compiled = {(build, p): (jax.jit(fn, compiler_options=options), inputs)
                    for build, options in builds.items() for p, (fn, inputs) in passes.items()}
        for fn, inputs in compiled.values():
            jax.block_until_ready(fn(*inputs))  # compile
        times = {key: [] for key in compiled}
        for _ in range(args.rounds):  # alternated
            for key, (fn, inputs) in compiled.items():
                times[key].append(timed(fn, *inputs))
        ms = {key: 1e3 * statistics.median(v) for key, v in times.items()}
        cells = [" / ".join(f"{ms[(build, p)]:.1f}" for p in PASSES) for build in builds]
        speedup = sum(ms[("XLA default", p)] for p in PASSES) / sum(ms[("hwsnn options", p)] for p in PASSES)
        print(f"{name:34s} " + " ".join(f"{cell:>22s}" for cell in cells) + f"  {speedup:7.2f}x")


if __name__ == "__main__":
    main()
