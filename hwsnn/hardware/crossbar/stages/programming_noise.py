"""Programming noise: each cell lands near its target conductance, once per programming."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from hwsnn import checks
from hwsnn.hardware.crossbar.stage import Stage, scaled
from hwsnn.typing import Array


class ProgrammingNoise(Stage):
    """``G = max(G_t + s sigma(G_t) eps, 0)``, ``eps ~ N(0, 1)`` per cell, drawn once per programming key,
    with ``sigma(G_t) = max(sigma_0 + sigma_1 u + sigma_2 u^2, 0)`` siemens and ``u = G_t / g_on`` (aihwkit's
    PCM polynomial form, ``PCMLikeNoiseModel``; Nandakumar et al., ICECS 2019); ``s`` is the stage's level.

    Attributes:
      sigma_0: constant term (S), >= 0.
      sigma_1: linear term (S); CrossSim's RRAM fit is linear with a negative slope.
      sigma_2: quadratic term (S).
    """

    name = "programming_noise"
    phase = 0

    sigma_0: Array = 0.0
    sigma_1: Array = 0.0
    sigma_2: Array = 0.0

    def __post_init__(self):
        owner = "ProgrammingNoise"
        self._set(
            sigma_0=checks.nonnegative(owner, "sigma_0", self.sigma_0),
            sigma_1=checks.scalar(owner, "sigma_1", self.sigma_1),
            sigma_2=checks.scalar(owner, "sigma_2", self.sigma_2),
        )

    def program(self, g, target, spec, key, level):
        u = target / spec.g_on_siemens
        sigma = jnp.maximum(self.sigma_0 + self.sigma_1 * u + self.sigma_2 * u * u, 0.0)
        return jnp.maximum(g + scaled(sigma, level) * jax.random.normal(key, g.shape, g.dtype), 0.0)
