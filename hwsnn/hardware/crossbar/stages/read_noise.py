"""Read noise: every read of a cell adds its own relative fluctuation."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from hwsnn import checks
from hwsnn.hardware.crossbar.stage import Stage, scaled
from hwsnn.typing import Array


class ReadNoise(Stage):
    """Independent relative noise per cell and read, ``I_ij (1 + s sigma eps_ij)`` (CrossSim redraws read
    noise on every MVM; aihwkit's PCM model puts it near 4 % at 1 h), summed exactly per column: a
    column's current gains a normal term of standard deviation ``s sigma sqrt(sum_i (v_i G_ij)^2)``
    (``s`` the stage's level).

    Attributes:
      sigma: relative standard deviation per cell read, >= 0.
    """

    name = "read_noise"
    phase = 0

    sigma: Array = 0.0

    def __post_init__(self):
        self._set(sigma=checks.nonnegative("ReadNoise", "sigma", self.sigma))

    def read(self, current, inputs, arrays, spec, key, level):
        contract = lambda a, b: jax.lax.dot_general(a, b, (((0,), (0,)), ((), ())))
        v_read = spec.v_read_volt
        variance = contract(inputs * inputs, (v_read * v_read) * jnp.sum(arrays * arrays, axis=0))
        std = scaled(self.sigma, level) * jnp.sqrt(
            jnp.maximum(variance, jnp.finfo(variance.dtype).tiny)
        )  # finite gradient at 0
        return current + std * jax.random.normal(key, current.shape, current.dtype)
