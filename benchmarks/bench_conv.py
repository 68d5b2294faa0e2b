"""Per-shape convolution timings behind ``hwsnn.compile.CPU_COMPILER_OPTIONS`` and
``hwsnn.layers.ops.convolution``: the forward pass, the weight gradient and the input gradient of one
convolution, alternated in one process, as

  XLA default   lax.conv_general_dilated compiled with XLA's defaults (YNNPACK convolutions on CPU);
  XLA options   the same compiled with hwsnn's compiler options (XLA's Eigen convolutions);
  hwsnn         hwsnn.layers.ops.conv2d with those options: per pass, XLA's convolution or banded row
                matmuls (ops.row_matmul_passes; the column "banded" says which passes take them);
  all banded    the forward pass and input gradient as banded row matmuls for every shape (the data
                behind ops.row_matmul_passes' rule).

Run:  python benchmarks/bench_conv.py [--rounds 7]

Shapes (N = T x B images of 20 % spikes): the two layers of bench_train_step.py's case (c), the main
job's two layers (its first reads the direct-coded images once per sample, B = 64), a DVS first layer
(two polarity channels), a CIFAR first layer, two small late VALID layers and a ResNet-like 3x3 layer
over 128 channels. Each figure is the median over rounds of one jitted call (ms); the last two columns
are the speed-ups on forward + both gradients of XLA options and of hwsnn over XLA default.
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
from hwsnn.structure import conv_geometry

SHAPES = {  # name: (N, H, W, C_in, kernel, C_out, padding)
    "case (c) L1 28x28x1 5x5 -> 12": (256, 28, 28, 1, 5, 12, "VALID"),
    "case (c) L2 12x12x12 5x5 -> 32": (256, 12, 12, 12, 5, 32, "VALID"),
    "main job L1 28x28x1 3x3 -> 16": (64, 28, 28, 1, 3, 16, "SAME"),
    "main job L2 14x14x16 3x3 -> 32": (256, 14, 14, 16, 3, 32, "SAME"),
    "DVS L1 34x34x2 3x3 -> 16": (256, 34, 34, 2, 3, 16, "SAME"),
    "CIFAR L1 32x32x3 3x3 -> 64": (128, 32, 32, 3, 3, 64, "SAME"),
    "late 7x7x64 5x5 -> 64": (128, 7, 7, 64, 5, 64, "VALID"),
    "late 8x8x32 3x3 -> 32": (256, 8, 8, 32, 3, 32, "VALID"),
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
    options = compiler_options()
    builds = {"XLA default": ({}, False), "XLA options": (options, False), "hwsnn": (options, True)}
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}; ms per call, {' / '.join(PASSES)}")
    print(
        f"{'shape':34s} "
        + " ".join(f"{name:>20s}" for name in builds)
        + f" {'all banded':>12s}  banded (fwd, dx)  speed-ups"
    )
    for name, (n, h, w, c, k, co, padding) in SHAPES.items():
        x = jnp.asarray((rng.random((n, h, w, c)) < 0.2).astype(np.float32))
        kernel = jnp.asarray(rng.normal(0, 0.1, (k, k, c, co)).astype(np.float32))
        pads = (conv_geometry(h, k, 1, padding)[1], conv_geometry(w, k, 1, padding)[1])
        convs = {
            False: lambda x, kernel: jax.lax.conv_general_dilated(
                x, kernel, (1, 1), pads, dimension_numbers=("NHWC", "HWIO", "NHWC")
            ),
            True: lambda x, kernel: ops.conv2d(x, kernel, None, 1, padding),
        }
        dy = jnp.asarray(rng.normal(size=convs[False](x, kernel).shape).astype(np.float32))
        passes = lambda conv: {
            "forward": (conv, (x, kernel)),
            "weight grad": (lambda x, kernel, dy: jax.vjp(lambda q: conv(x, q), kernel)[1](dy)[0], (x, kernel, dy)),
            "input grad": (lambda x, kernel, dy: jax.vjp(lambda v: conv(v, kernel), x)[1](dy)[0], (x, kernel, dy)),
        }
        padded = jnp.pad(x, ((0, 0),) + pads + ((0, 0),))
        compiled = {
            (build, p): (jax.jit(fn, compiler_options=build_options), inputs)
            for build, (build_options, ours) in builds.items()
            for p, (fn, inputs) in passes(convs[ours]).items()
        }
        compiled[("all banded", "forward")] = (jax.jit(ops._banded_forward, compiler_options=options), (padded, kernel))
        compiled[("all banded", "input grad")] = (
            jax.jit(lambda dy, kernel: ops._banded_input_grad(dy, kernel, padded.shape), compiler_options=options),
            (dy, kernel),
        )
        for fn, inputs in compiled.values():
            jax.block_until_ready(fn(*inputs))  # compile
        times = {key: [] for key in compiled}
        for _ in range(args.rounds):  # alternated
            for key, (fn, inputs) in compiled.items():
                times[key].append(timed(fn, *inputs))
        ms = {key: 1e3 * statistics.median(v) for key, v in times.items()}
        cells = [" / ".join(f"{ms[(build, p)]:.1f}" for p in PASSES) for build in builds]
        total = {build: sum(ms[(build, p)] for p in PASSES) for build in builds}
        banded = ops.row_matmul_passes(x.shape, kernel.shape, 1, pads)
        forced = f"{ms[('all banded', 'forward')]:.1f} / {ms[('all banded', 'input grad')]:.1f}"
        print(
            f"{name:34s} " + " ".join(f"{cell:>20s}" for cell in cells) + f" {forced:>12s}  {str(banded):>16s}"
            f"  {total['XLA default'] / total['XLA options']:.2f}x {total['XLA default'] / total['hwsnn']:.2f}x"
        )


if __name__ == "__main__":
    main()
