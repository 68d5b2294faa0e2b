"""``jax.jit`` with the XLA options hwsnn compiles its own steps with.

On CPU, XLA 0.10 hands convolutions to YNNPACK ("YNN fusions") by default. For the spiking
convolutions hwsnn trains (one to tens of channels, 5x5 and 3x3 kernels, batches of T x B images)
YNNPACK's weight gradient is 2 to 5 times slower than XLA's own (Eigen) convolution and its forward
pass up to 2.5 times (``python benchmarks/bench_conv.py``: forward + both gradients 1.1 to 1.8 times
faster on the benchmark networks' layers, 1.16 times on a 128-channel ResNet layer, never slower).
Removing the convolution from YNN's fusion types keeps YNNPACK for dots and reductions. The option is
per compiled function (``jax.jit(..., compiler_options=...)``), so it changes nothing else in the
process; on other backends no option is passed.
"""

from __future__ import annotations

from typing import Callable

import jax

CPU_COMPILER_OPTIONS: dict[str, str] = {
    "xla_cpu_experimental_ynn_fusion_type": "LIBRARY_FUSION_TYPE_INDIVIDUAL_DOT,LIBRARY_FUSION_TYPE_REDUCE"
}
"""XLA debug options for CPU compilations: YNNPACK fuses dots and reductions as by default in jaxlib
0.10, but not convolutions, which take XLA's Eigen kernels (a compile option replaces the whole list;
jaxlib 0.10's default list is these two plus ``LIBRARY_FUSION_TYPE_INDIVIDUAL_CONVOLUTION``)."""


def compiler_options() -> dict[str, str]:
    """:data:`CPU_COMPILER_OPTIONS` when the default backend is the CPU, else none."""
    return dict(CPU_COMPILER_OPTIONS) if jax.default_backend() == "cpu" else {}


def jit(fn: Callable, **kwargs) -> Callable:
    """``jax.jit(fn, **kwargs)`` with :func:`compiler_options` (use it for your own loops over hwsnn models)."""
    return jax.jit(fn, compiler_options=compiler_options(), **kwargs)
