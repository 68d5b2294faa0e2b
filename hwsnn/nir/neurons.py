"""hwsnn neuron models <-> NIR neuron nodes, discretised with the forward-Euler step ``dt``.

NIR (Pedersen et al., "Neuromorphic intermediate representation", Nature Communications 15, 8122,
2024; ``nir`` 1.0 node docstrings) states neurons in continuous time. One Euler step of length
``dt`` gives hwsnn's discrete models::

    LIF      tau dv/dt = (v_leak - v) + R I         ->  v[t] = beta v[t-1] + g I[t],
                                                        beta = 1 - dt / tau,  g = R dt / tau
    IF       dv/dt = R I                            ->  v[t] = v[t-1] + g I[t],   g = R dt
    CubaLIF  tau_syn di/dt = -i + w_in S            ->  i[t] = alpha i[t-1] + g_syn S[t],
             tau_mem dv/dt = (v_leak - v) + R i         v[t] = beta v[t-1] + g_mem i[t],
                                                        alpha = 1 - dt / tau_syn, g_syn = w_in dt / tau_syn,
                                                        beta = 1 - dt / tau_mem,  g_mem = R dt / tau_mem
    LI       as LIF without threshold               ->  hwsnn's Integrator (membrane readout)

A neuron fires when ``v > v_threshold`` and its membrane is set to ``v_reset`` at once. hwsnn's
zero reset is exactly that for ``v_reset = 0`` (``LIF``/``IF(reset="zero")``: the reset shows in
the next step's update, the spikes are the same; ``Synaptic(reset="zero", reset_delay=False)``).
NIR 1.0 has no subtractive reset: a subtract-reset or no-reset spiking neuron is refused on export.

Export writes unit input gains (``R = tau / dt``, ``w_in = tau_syn / dt``; IF: ``R = 1 / dt``),
snnTorch's convention (its ``export_nir``, ``dt = 1e-4``). On import the gains ``g`` are folded into
the preceding synapse's weights and bias (exact: the neuron equations are linear in the input), so
a graph with any ``R`` and ``w_in`` loads exactly; a gain within ``1e-6`` of 1 (the rounding of
``tau / dt`` stored in float32, as snnTorch writes it) is taken as 1 and leaves the weights
untouched. Export writes float64 time constants, so hwsnn -> NIR -> hwsnn returns the same numbers.
``v_leak != 0`` and ``v_reset != 0`` are refused
(hwsnn neurons rest and reset at 0).

NIR parameters have one value per neuron (shape ``(C, H, W)`` after a conv); hwsnn holds a scalar or
one value per feature (per channel in conv layers). Export broadcasts, import refuses values that
vary across the positions of one channel.
"""

from __future__ import annotations

import nir
import numpy as np

from hwsnn.neurons import IF, LIF, Integrator, Neuron, Synaptic


def _values(neurons, name: str) -> np.ndarray:
    """A layer's parameter ``name`` as used in its forward pass (unit ranges clipped), scalar or ``[C]``."""
    value = np.asarray(getattr(neurons, name)[...], np.float64)
    return np.clip(value, 0.0, 1.0) if neurons.model.ranges.get(name) == "unit" else value


def _per_neuron(value: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A scalar or per-channel ``[C]`` value over NIR's neuron shape ``(C, ...)`` (channel first)."""
    value = np.asarray(value, np.float64)
    if value.ndim:
        value = value.reshape((-1,) + (1,) * (len(shape) - 1))
    return np.broadcast_to(value, shape).astype(np.float64)


def _time_constant(decay: np.ndarray, name: str, where: str, dt: float) -> np.ndarray:
    """``tau = dt / (1 - decay)``; a decay of 1 has no finite time constant."""
    if np.any(decay >= 1.0):
        raise ValueError(
            f"{where}: {name} = 1 has no NIR time constant (tau = dt / (1 - {name})); "
            f"allowed: {name} < 1, or IF neurons for no leak."
        )
    return dt / (1.0 - decay)


def to_nir(neurons, shape: tuple[int, ...], dt: float, where: str) -> nir.NIRNode:
    """The NIR node of a layer's :class:`~hwsnn.layers.neurons.Neurons` over NIR neuron ``shape``
    (module doc); ``where`` names the layer in errors."""
    model = neurons.model
    kind = type(model).__name__
    if isinstance(model, Integrator):
        tau = _time_constant(_values(neurons, "beta"), "beta", where, dt)
        return nir.LI(tau=_per_neuron(tau, shape), r=_per_neuron(tau / dt, shape), v_leak=_per_neuron(0.0, shape))
    if type(model) not in (LIF, IF, Synaptic):
        raise ValueError(
            f"{where}: neuron {kind} has no NIR 1.0 node; allowed: LIF, IF, Synaptic (CubaLIF), Integrator (LI)."
        )
    if model.reset != "zero":
        raise ValueError(
            f"{where}: {kind}(reset={model.reset!r}); allowed: reset='zero' (NIR 1.0 neurons reset "
            "to v_reset and have no subtractive reset)."
        )
    threshold = _per_neuron(_values(neurons, "threshold"), shape)
    zeros = _per_neuron(0.0, shape)
    if isinstance(model, IF):
        return nir.IF(r=_per_neuron(1.0 / dt, shape), v_threshold=threshold, v_reset=zeros)
    if isinstance(model, LIF):
        tau = _time_constant(_values(neurons, "beta"), "beta", where, dt)
        return nir.LIF(
            tau=_per_neuron(tau, shape),
            r=_per_neuron(tau / dt, shape),
            v_leak=zeros,
            v_threshold=threshold,
            v_reset=zeros,
        )
    if model.reset_delay:
        raise ValueError(
            f"{where}: Synaptic(reset='zero', reset_delay=True) clears the membrane one step late; "
            "allowed: reset_delay=False (NIR's CubaLIF resets the step it fires)."
        )
    tau_syn = _time_constant(_values(neurons, "alpha"), "alpha", where, dt)
    tau_mem = _time_constant(_values(neurons, "beta"), "beta", where, dt)
    return nir.CubaLIF(
        tau_syn=_per_neuron(tau_syn, shape),
        tau_mem=_per_neuron(tau_mem, shape),
        r=_per_neuron(tau_mem / dt, shape),
        v_leak=zeros,
        v_threshold=threshold,
        v_reset=zeros,
        w_in=_per_neuron(tau_syn / dt, shape),
    )


NEURON_NODES = (nir.LIF, nir.IF, nir.CubaLIF, nir.LI)
"""The NIR node types :func:`from_nir` reads."""


GAIN_TOLERANCE = 1e-6
"""Input gains this close to 1 are read as 1 (module doc)."""


def _gain(value, name: str, where: str) -> np.ndarray:
    gain = _per_channel(value, name, where)
    return np.float32(1.0) if np.allclose(gain, 1.0, rtol=0.0, atol=GAIN_TOLERANCE) else gain


def _per_channel(value, name: str, where: str) -> np.ndarray:
    """A NIR per-neuron value ``(C, ...)`` as hwsnn holds it: a scalar when uniform, else one value
    per channel, refused if it varies across one channel's positions."""
    value = np.asarray(value, np.float64)
    if value.ndim == 0 or np.all(value == value.flat[0]):
        return np.float32(value.flat[0] if value.ndim else value)
    flat = value.reshape(value.shape[0], -1)
    if not np.all(flat == flat[:, :1]):
        raise ValueError(
            f"{where}: {name} varies across the positions of one channel; allowed: one value per "
            "channel (hwsnn conv layers hold per-channel neuron parameters)."
        )
    return flat[:, 0].astype(np.float32)


def _zero(node, names: tuple[str, ...], where: str) -> None:
    for name in names:
        if not np.all(np.asarray(getattr(node, name)) == 0):
            raise ValueError(
                f"{where}: {name} = {np.unique(getattr(node, name)).tolist()}; allowed: 0 "
                "(hwsnn neurons rest and reset at 0)."
            )


def _decay(tau, name: str, where: str, dt: float) -> np.ndarray:
    tau = np.asarray(tau, np.float64)
    if np.any(tau < dt):
        raise ValueError(
            f"{where}: {name} = {np.unique(tau).tolist()} is shorter than dt = {dt}; allowed: "
            f"{name} >= dt (the Euler decay 1 - dt / {name} must lie in [0, 1])."
        )
    return 1.0 - dt / tau


def from_nir(node: nir.NIRNode, dt: float, where: str, surrogate) -> tuple[Neuron, np.ndarray]:
    """``(neuron, gain)`` for a NIR neuron node: the hwsnn model and the input gain (scalar or per
    channel) to fold into the preceding synapse (module doc)."""
    if isinstance(node, nir.LI):
        _zero(node, ("v_leak",), where)
        beta, gain = _decay(node.tau, "tau", where, dt), np.asarray(node.r) * dt / np.asarray(node.tau)
        return Integrator(beta=_per_channel(beta, "beta", where)), _gain(gain, "r dt / tau", where)
    _zero(node, ("v_reset",) + (() if isinstance(node, nir.IF) else ("v_leak",)), where)
    threshold = _per_channel(node.v_threshold, "v_threshold", where)
    if isinstance(node, nir.IF):
        gain = _gain(np.asarray(node.r) * dt, "r dt", where)
        return IF(threshold=threshold, reset="zero", surrogate=surrogate), gain
    if isinstance(node, nir.LIF):
        beta, gain = _decay(node.tau, "tau", where, dt), np.asarray(node.r) * dt / np.asarray(node.tau)
        return (
            LIF(beta=_per_channel(beta, "beta", where), threshold=threshold, reset="zero", surrogate=surrogate),
            _gain(gain, "r dt / tau", where),
        )
    alpha = _decay(node.tau_syn, "tau_syn", where, dt)
    beta = _decay(node.tau_mem, "tau_mem", where, dt)
    gain = (np.asarray(node.w_in) * dt / np.asarray(node.tau_syn)) * (
        np.asarray(node.r) * dt / np.asarray(node.tau_mem)
    )
    neuron = Synaptic(
        alpha=_per_channel(alpha, "alpha", where),
        beta=_per_channel(beta, "beta", where),
        threshold=threshold,
        reset="zero",
        reset_delay=False,
        surrogate=surrogate,
    )
    return neuron, _gain(gain, "input gain", where)
