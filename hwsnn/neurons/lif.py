"""Leaky integrate-and-fire dynamics, matching snnTorch ``Leaky`` defaults exactly.

For inputs ``I[t]`` (any trailing shape) and ``v[-1] = v0`` (zeros by default)::

    r[t] = H(v[t-1] - theta)                      reset signal, no gradient (detached)
    v[t] = beta * v[t-1] + I[t] - r[t] * theta     reset="subtract" (snnTorch default)
    v[t] = beta * (1 - r[t]) * v[t-1] + I[t]       reset="zero" (the input at the reset step is kept)
    v[t] = beta * v[t-1] + I[t]                    reset="none"
    s[t] = H(v[t] - theta)                         strict >, surrogate gradient backward

``v`` is returned before the reset (the reset shows at the next step, snnTorch's
``reset_delay=True``); ``beta`` is clipped to ``[0, 1]``. Source: snnTorch
``snntorch/_neurons/leaky.py`` and ``neurons.py`` (snnTorch 1.0; Bellec et al., NeurIPS 2018 for ALIF). The
integrate-and-fire neuron is ``beta = 1`` (:class:`IF`).

Cost counts (:class:`~hwsnn.structure.NeuronCounts`): one state (``v``) and 4 operations per update
(multiply, add, subtract, compare); IF drops the multiply (3).
"""

from __future__ import annotations

import abc
import dataclasses
from typing import ClassVar

import jax

from hwsnn.neurons.base import RESETS, Neuron, Reset, check_reset, default_surrogate, detached_reset
from hwsnn.neurons.surrogate import Surrogate
from hwsnn.structure import LIF_COUNTS, NeuronCounts
from hwsnn.typing import Array, Currents, Membrane, Spikes

__all__ = ["IF", "LIF", "RESETS", "ThresholdMembrane", "integrate_and_fire", "lif", "lif_step"]


def lif_step(
    v_prev: Array, current: Array, beta: Array, threshold: Array, reset: Reset, surrogate: Surrogate
) -> tuple[Array, Array]:
    """One LIF update; returns ``(spike, v)`` with ``v`` before its reset (equations above).

    ``beta`` and ``threshold`` must already broadcast to ``v_prev`` without rank promotion
    (scalars, or arrays of ``v_prev``'s shape); :meth:`LIF.prepare` prepares them.
    """
    r = detached_reset(v_prev, threshold)
    if reset == "subtract":
        v = beta * v_prev + current - r * threshold
    elif reset == "zero":
        v = beta * (1.0 - r) * v_prev + current
    else:
        v = beta * v_prev + current
    return surrogate(v - threshold), v


@dataclasses.dataclass(frozen=True)
class ThresholdMembrane(Neuron):
    """The update :class:`LIF` and :class:`IF` share (module doc): one membrane, leaked by :meth:`leak`,
    integrating its current and firing past its threshold. Abstract: each model says its leak."""

    def init_state(self, shape, dtype):
        return jax.numpy.zeros(shape, dtype)

    @abc.abstractmethod
    def leak(self, params: dict, dtype) -> Array:
        """The membrane's decay per step, ``beta`` (broadcastable to the state)."""

    def step(self, params, v_prev, current):
        spike, v = lif_step(
            v_prev, current, self.leak(params, v_prev.dtype), params["threshold"], self.reset, params["surrogate"]
        )
        return v, spike


@dataclasses.dataclass(frozen=True)
class LIF(ThresholdMembrane):
    """Leaky integrate-and-fire neurons (module doc); state: the membrane ``v``.

    Args:
      beta: decay per step, scalar or per-neuron array, clipped to [0, 1] in the forward pass.
      threshold: firing threshold theta (> 0), scalar or per-neuron array.
      reset: "subtract" (default), "zero" or "none".
      surrogate: spike function with surrogate gradient, or its name (``atan(2)`` by default).
      learn: parameters to train, e.g. ``("beta", "threshold")``.
      per_neuron: one beta and threshold per neuron (per channel in conv layers).
    """

    beta: float | Array | None = 0.95
    threshold: float | Array | None = 1.0
    reset: Reset = "subtract"
    surrogate: Surrogate | str | None = dataclasses.field(default_factory=default_surrogate)
    learn: tuple[str, ...] = ()
    per_neuron: bool = False

    parameters: ClassVar[tuple[str, ...]] = ("beta", "threshold")
    ranges: ClassVar[dict[str, str]] = {"beta": "unit", "threshold": "positive"}
    counts: ClassVar[NeuronCounts] = LIF_COUNTS

    def leak(self, params, dtype):
        return params["beta"]


@dataclasses.dataclass(frozen=True)
class IF(ThresholdMembrane):
    """Integrate-and-fire neurons: the :class:`LIF` update with ``beta = 1`` (no leak, no multiply); only
    ``threshold`` is held (and learnable) per layer.

    Args:
      threshold: firing threshold theta (> 0), scalar or per-neuron array.
      reset: "subtract" (default), "zero" or "none".
      surrogate: spike function with surrogate gradient, or its name (``atan(2)`` by default).
      learn: parameters to train: ``()`` or ``("threshold",)``.
      per_neuron: one threshold per neuron (per channel in conv layers).
    """

    threshold: float | Array | None = 1.0
    reset: Reset = "subtract"
    surrogate: Surrogate | str | None = dataclasses.field(default_factory=default_surrogate)
    learn: tuple[str, ...] = ()
    per_neuron: bool = False

    parameters: ClassVar[tuple[str, ...]] = ("threshold",)
    ranges: ClassVar[dict[str, str]] = {"threshold": "positive"}
    counts: ClassVar[NeuronCounts] = NeuronCounts(states=1, ops=3)

    def leak(self, params, dtype):
        return jax.numpy.ones((), dtype)


def lif(
    currents: Currents,
    beta: float | Array,
    threshold: float | Array = 1.0,
    *,
    reset: Reset = "subtract",
    surrogate: Surrogate | None = None,
    v0: Array | None = None,
) -> tuple[Spikes, Membrane]:
    """Run LIF neurons over the leading time axis of ``currents`` ``[T, ...]`` (functional form of :class:`LIF`).

    Args:
      currents: input currents ``[T, B, ...]`` (float).
      beta: decay per step, a scalar or per-neuron array (trailing shape); clipped to [0, 1].
      threshold: firing threshold theta, scalar or per-neuron array.
      reset: "subtract" (default, as snnTorch), "zero" or "none".
      surrogate: spike function with surrogate gradient; ``atan(alpha=2)`` by default.
      v0: initial membrane ``[B, ...]``; zeros by default.

    Returns:
      ``(spikes, v)``, both ``[T, B, ...]``; ``v`` is the membrane before each step's reset.
    """
    check_reset(reset)
    if currents.ndim < 1:
        raise ValueError(f"currents: need a leading time axis; got shape {currents.shape}.")
    if v0 is not None and v0.shape != currents.shape[1:]:
        raise ValueError(f"v0: shape {v0.shape}; allowed: the state shape {currents.shape[1:]}.")
    model = LIF(reset=reset)
    params = {
        "beta": beta,
        "threshold": threshold,
        "surrogate": default_surrogate() if surrogate is None else surrogate,
    }
    return model.run(params, currents, v0)


def integrate_and_fire(
    currents: Currents,
    threshold=1.0,
    *,
    reset: Reset = "subtract",
    surrogate: Surrogate | None = None,
    v0: Array | None = None,
) -> tuple[Spikes, Membrane]:
    """Integrate-and-fire neurons: :func:`lif` with ``beta = 1`` (no leak)."""
    return lif(currents, 1.0, threshold, reset=reset, surrogate=surrogate, v0=v0)
