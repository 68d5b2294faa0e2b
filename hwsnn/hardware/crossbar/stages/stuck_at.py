"""Stuck-at faults: cells that stay at the top or bottom of the conductance range whatever is programmed."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from hwsnn import checks
from hwsnn.hardware.crossbar.stage import Stage, scaled
from hwsnn.typing import Array


class StuckAt(Stage):
    """Each cell is stuck at ``g_on`` with probability ``s p_on`` and at ``g_off`` with ``s p_off``
    (independently per cell, fixed per programming key; ``s`` the stage's level), as CrossSim's and
    NeuroSim's stuck-at fault models.

    Attributes:
      p_on: probability that a cell is stuck at ``g_on``.
      p_off: probability that a cell is stuck at ``g_off``; ``p_on + p_off <= 1``.
    """

    name = "stuck_at"
    phase = 0

    p_on: Array = 0.0
    p_off: Array = 0.0

    def __post_init__(self):
        p_on, p_off = (
            checks.probability("StuckAt", "p_on", self.p_on),
            checks.probability("StuckAt", "p_off", self.p_off),
        )
        checks.at_most("StuckAt", "p_on + p_off", p_on + p_off, 1.0, what="<= 1")
        self._set(p_on=p_on, p_off=p_off)

    def program(self, g, target, spec, key, level):
        draw = jax.random.uniform(key, g.shape, g.dtype)
        p_on, p_off = scaled(self.p_on, level), scaled(self.p_off, level)
        g = jnp.where(draw < p_on, spec.g_on_siemens, g)
        return jnp.where((draw >= p_on) & (draw < p_on + p_off), spec.g_off_siemens, g)
