"""A b-bit analog-to-digital converter per column group."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from hwsnn import checks
from hwsnn.hardware.crossbar.stage import Readout
from hwsnn.pytree import static
from hwsnn.typing import Array


class ADC(Readout):
    """A ``bits``-bit ADC: the partial sum clipped to ``[-F, F]`` (differential pair) or ``[0, F]``
    (offset encoding), rounded to the nearest of ``2^(b-1) - 1`` (signed) or ``2^b - 1`` levels, with a
    straight-through gradient inside the range. The full scale ``F`` is ``range`` times the largest
    current a column can carry (all ``X`` rows on at ``g_on``): a fixed function of one sample, as on
    a chip.

    Attributes:
      bits: resolution, 1 to 16 (static).
      range: full scale as a fraction of the largest column current, > 0 (SpikeSim-like RRAM: 1/8, so that
        a 4-bit ADC resolves the partial sums of sparse spike inputs).
    """

    kind = "adc"

    range: Array = 1.0
    bits: int = static(4)

    def __post_init__(self):
        checks.int_in("ADC", "bits", self.bits, 1, 16)
        self._set(range=checks.strictly_positive("ADC", "range", self.range))

    def full_scale_fraction(self):
        return self.range

    def read(self, partial, full_scale, signed, frozen, scale, driven) -> Array:
        levels = float(2 ** (self.bits - 1) - 1 if signed else 2**self.bits - 1)
        low = -1.0 if signed else 0.0
        scaled = jnp.clip(partial / full_scale, low, 1.0) * levels
        return (scaled + jax.lax.stop_gradient(jnp.round(scaled) - scaled)) / levels * full_scale
