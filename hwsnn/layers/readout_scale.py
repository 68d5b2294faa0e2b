"""The digital scale of a crossbar layer's sense amplifiers: fixed numbers a chip stores, set by
calibration over training data and optionally refined by gradient.

A 1-bit sense amplifier reports only the sign of its column's partial sum; the digital periphery
adds ``+-a`` for it, ``a`` one fixed number per slice, row tile and column (the sub-arrays' 1-bit
results are summed with a fixed or learned scale: Chen et al., NeuroSim; Walden and Schreier figures of merit).
:class:`ReadoutScale`
holds those numbers in units of the full-scale current::

    a = max(c, c_min) exp(g),     c_min = 1 / (f X)

``c`` (``nnx.BatchStat``) is calibrated: each column's mean ``|partial sum|`` over the samples of
the passes that measure it (training passes and calibration passes, ``Context.training`` or
``Context.calibrate``), a debiased moving average, ``c <- c + w (m - c)`` with
``w = max(1 / n, 1 - momentum)`` for the ``n``-th measured batch: the plain mean of the first
``1 / (1 - momentum)`` batches, then an exponential moving average (momentum 0.9, as batch norm).
``c_min`` is one cell's largest current (one active row at ``g_on``, in units of the full-scale
current ``f X v_read (g_on - g_off)``, ``f`` the readout's full-scale fraction): a column whose rows
were silent in calibration measures ``c = 0``, and a zero scale would block every gradient through it for
good (the network stays silent from the first step; measured in ``experiments/adc_less``), so no scale is set below
the resolution of one active input. ``g`` (``nnx.Param``, 0 at first) is a log gain per column; it
has a gradient only with ``learn_gain=True`` (``model.set_attributes(learn_gain=True)``, which
``hardware.learn_scale`` does), otherwise it is held constant, so a frozen gain costs no backward
pass over the partial sums. Both go into the checkpoint, and evaluation reads them unchanged, so a
sample's output never depends on the rest of its batch.

A measuring pass reads with the scales it has just moved (the measurement is of the partial sums,
which come before the readout), so one pass calibrates every layer in turn, each on the outputs of
the calibrated layers before it; an evaluation pass reads the stored scales.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from hwsnn.checks import fraction
from hwsnn.hardware.crossbar import readout_scale_shape
from hwsnn.typing import Array


class ReadoutScale(nnx.Module):
    """Sense-amplifier scales ``[slices, row tiles, columns]`` of one crossbar layer (module doc)."""

    def __init__(self, spec, fan_in: int, fan_out: int, *, momentum: float = 0.9, learn_gain: bool = False):
        shape = readout_scale_shape(spec, fan_in, fan_out)
        self.momentum = fraction(momentum, "momentum")
        self.learn_gain = bool(learn_gain)
        self.floor = 1.0 / (float(spec.readout.full_scale_fraction()) * spec.size)  # c_min: one cell at g_on
        self.calibrated = nnx.BatchStat(jnp.zeros(shape))
        self.batches = nnx.BatchStat(jnp.zeros((), jnp.int32))  # measured batches
        self.log_gain = nnx.Param(jnp.zeros(shape))

    def value(self) -> Array:
        """``a = max(c, c_min) exp(g)``: the scales the readout uses, in units of the full-scale current."""
        gain = self.log_gain[...] if self.learn_gain else jax.lax.stop_gradient(self.log_gain[...])
        return jnp.maximum(self.calibrated[...], self.floor) * jnp.exp(gain)

    def measured(self, magnitudes: Array) -> Array:
        """Move the calibrated part towards one batch's mean ``|partial sum|`` per column
        (:attr:`~hwsnn.hardware.crossbar.AnalogProduct.partial_magnitudes`) and return the new
        :meth:`value` (what the measuring pass reads with)."""
        count = self.batches[...] + 1
        weight = jnp.maximum(1.0 / count, 1.0 - self.momentum)
        self.calibrated[...] = self.calibrated[...] + weight * (magnitudes - self.calibrated[...])
        self.batches[...] = count
        return self.value()


def uncalibrated(model: nnx.Module) -> list[str]:
    """Paths of the :class:`ReadoutScale` modules in ``model`` that have measured no batch (their
    decisions would all be worth 0): calibrate or train before evaluating."""
    return [
        "/".join(str(part) for part in path)
        for path, module in nnx.iter_graph(model)
        if isinstance(module, ReadoutScale) and int(module.batches[...]) == 0
    ]
