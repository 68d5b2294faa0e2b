"""Conductance drift: programmed cells relax towards lower conductance as a power law of time."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from hwsnn import checks
from hwsnn.hardware.crossbar.stage import Stage
from hwsnn.pytree import static
from hwsnn.typing import Array

NU_MEAN = (-0.0155, 0.0244, 0.049, 0.1)
"""``mu_nu(u) = clip(a ln u + b, low, high)`` as ``(a, b, low, high)``, ``u = G_t / g_on``: aihwkit's PCM
fit (``PCMLikeNoiseModel.generate_drift_coefficients``; Nandakumar et al., ICECS 2019)."""

NU_SPREAD = (-0.0125, -0.0059, 0.008, 0.045)
"""``sigma_nu(u) = clip(a ln u + b, low, high)``, the same source."""

U_FLOOR = 1e-7
"""Smallest relative target conductance the fits are evaluated at (aihwkit's ``_ZERO_CLIP``)."""


def _clipped_log_fit(u, fit):
    slope, offset, low, high = fit
    return jnp.clip(slope * jnp.log(u) + offset, low, high)


class Drift(Stage):
    """Power-law drift of every programmed cell, read ``time_s`` seconds after programming ended
    (aihwkit's PCM inference model, ``PCMLikeNoiseModel.apply_drift_noise_to_conductance``)::

        G(t) = G(t0) ((t + t0) / t0)^(-s nu),        t0 = 20 s
        nu = |mu_nu(u) + spread sigma_nu(u) eps|,    u = max(G_t / g_on, 1e-7),  eps ~ N(0, 1) per cell

    with the level dependence of the exponent's mean and spread fitted on PCM (:data:`NU_MEAN`,
    :data:`NU_SPREAD`: lower conductances drift faster, ``nu`` in 0.049-0.1) and ``s`` the stage's
    level. The exponents are a device property, drawn once per programming key.

    With ``compensated`` (aihwkit's ``GlobalDriftCompensation``), the periphery reads an all-ones input
    right after programming and again at ``t`` and scales every output of the layer by the ratio of
    the two mean absolute outputs, one digital number per layer: this restores a uniformly drifted
    crossbar exactly, and leaves what the spread of ``nu`` scatters.

    Attributes:
      time_s: seconds since programming ended (aihwkit's ``t_inference``), >= 0.
      t0_s: the drift fit's first reading time (s), > 0; aihwkit's 20 s.
      spread: multiple of the fitted ``sigma_nu`` (0: every cell drifts with its level's mean exponent).
      compensated: apply global drift compensation (static).
    """

    name = "drift"
    phase = 0

    time_s: Array = 0.0
    t0_s: Array = 20.0
    spread: Array = 1.0
    compensated: bool = static(True)

    def __post_init__(self):
        self._set(
            time_s=checks.nonnegative("Drift", "time_s", self.time_s),
            t0_s=checks.strictly_positive("Drift", "t0_s", self.t0_s),
            spread=checks.nonnegative("Drift", "spread", self.spread),
        )
        checks.boolean("Drift", "compensated", self.compensated)

    def exponents(self, target: Array, spec, key) -> Array:
        """Each cell's drift exponent ``nu`` for its target conductance ``target`` (S)."""
        u = jnp.maximum(jnp.abs(target / spec.g_on_siemens), U_FLOOR)
        mean, spread = _clipped_log_fit(u, NU_MEAN), _clipped_log_fit(u, NU_SPREAD)
        return jnp.abs(mean + self.spread * spread * jax.random.normal(key, target.shape, target.dtype))

    def program(self, g, target, spec, key, level):
        nu = jax.lax.stop_gradient(self.exponents(target, spec, key))
        return g * ((self.time_s + self.t0_s) / self.t0_s) ** (-(level * nu))

    def output_gain(self, before, after, read_all_ones):
        if not self.compensated:
            return None
        reference = jnp.mean(jnp.abs(read_all_ones(before)))
        now = jnp.mean(jnp.abs(read_all_ones(after)))
        return jax.lax.stop_gradient(reference / jnp.maximum(now, jnp.finfo(now.dtype).tiny))
