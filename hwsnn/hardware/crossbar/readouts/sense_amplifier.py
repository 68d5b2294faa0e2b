"""A 1-bit sense amplifier per column: the ADC-less readout."""

from __future__ import annotations

from typing import ClassVar

import jax
import jax.numpy as jnp

from hwsnn import checks
from hwsnn.hardware.crossbar.stage import Readout, scaled
from hwsnn.hardware.crossbar.weights import DifferentialPair
from hwsnn.neurons.surrogate import atan
from hwsnn.typing import Array


def _computed_once(x: Array) -> Array:
    """``x`` itself, as an array that XLA computes once instead of fusing it into each consumer: the
    maximum over ``x`` and ``-inf``, a reduction, which XLA does not duplicate into its consumers
    (``jax.lax.optimization_barrier`` is removed before fusion on CPU). For a small draw that meets
    large arrays: XLA-CPU fused the inverse-CDF polynomial of the sense amplifiers' offsets (one per
    column) into every readout, recomputing it for each of the ``P`` inputs of every row tile, forward
    and backward. Computed once, the MLP's crossbar step went from 11.7-11.9 to 10.9-11.1 ms (three
    alternated pairs of ``benchmarks/bench_hardware_step.py --model mlp --processes 1``)."""
    return jnp.max(jnp.stack([x, jnp.full_like(x, -jnp.inf)]), axis=0)


def _concrete_zero(value) -> bool:
    return not isinstance(value, jax.core.Tracer) and float(value) == 0.0


class SenseAmplifier(Readout):
    """A 1-bit decision per column and row tile, ``sign(dI - reference - offset)``, worth ``+-a`` (ADC-less
    IMC, Apolinario et al., TETC 2023): ``a`` a fixed digital scale per column, calibrated and optionally
    learned (``sa_scale``, :class:`~hwsnn.layers.readout_scale.ReadoutScale`). Compares a differential
    pair's currents, so it needs the differential encoding.

    A tile none of whose rows is driven for an input (its partial sum is exactly 0) is not read and adds
    0: the row drivers know which rows they drive, and a comparator with no input would only report the
    sign of its own offset (with ``x > 0`` and no offset, a spurious ``-a`` on every column of every silent
    tile; with offsets, a chip-specific bias). Backward: arctan surrogate of ``(dI - threshold) / a`` (peak
    slope 2 per unit of ``dI``), also for a tile that was not read (straight-through: driving one of its
    rows would make it read, so a layer whose inputs are silent still gets a gradient to wake it); the
    scale's own gradient is what it multiplies, ``+-1`` or 0 (exact: the output is linear in it), its
    place in the surrogate's width held constant.

    Attributes:
      reference: the comparison level, in units of the full-scale current (the largest a column carries).
      offset_sigma: standard deviation of each comparator's frozen offset, in the same unit (drawn once per
        chip: ``"sa_offset"`` in a strength mapping scales it, ramped with the device noise).
    """

    kind = "sense_amplifier"
    needs_scale: ClassVar[bool] = True

    reference: Array = 0.0
    offset_sigma: Array = 0.0

    def __post_init__(self):
        self._set(
            reference=checks.scalar("SenseAmplifier", "reference", self.reference),
            offset_sigma=checks.nonnegative("SenseAmplifier", "offset_sigma", self.offset_sigma),
        )

    @classmethod
    def ramped_by(cls):
        return {cls.name: cls.phase, "sa_offset": 0}

    def without(self, name):
        return self.replace(offset_sigma=0.0) if name == "sa_offset" else super().without(name)

    @property
    def bits(self) -> int:
        """One bit per decision."""
        return 1

    def check(self, spec):
        if not isinstance(spec.encoding, DifferentialPair):
            raise ValueError(
                f"CrossbarSpec: a SenseAmplifier compares a differential pair's currents, so encoding must be "
                f"DifferentialPair(); got {spec.encoding!r}."
            )

    def frozen(self, key, shape, dtype, full_scale, strength):
        if _concrete_zero(self.offset_sigma):
            return None
        draw = _computed_once(jax.random.normal(key, shape, dtype))
        return scaled(self.offset_sigma * full_scale, strength["sa_offset"]) * draw

    def read(self, partial, full_scale, signed, frozen, scale, driven):
        reference = self.reference * full_scale
        threshold = reference if frozen is None else reference + frozen
        width = jax.lax.stop_gradient(jnp.maximum(scale, jnp.finfo(partial.dtype).tiny))  # a never-driven column: 0 out
        vote = 2.0 * atan(2.0)((partial - threshold) / width) - 1.0
        vote = vote - jax.lax.stop_gradient(vote * ~driven[:, None])  # 0 where not read; gradient as if read
        return scale * vote
