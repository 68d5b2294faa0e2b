"""The neuron interface every hwsnn neuron model implements.

A neuron model is a frozen dataclass of hyperparameters (initial values of its parameters, which
of them are learned, its reset rule and surrogate) with pure methods:

* ``init_state(shape, dtype) -> state``: the state pytree before the first step (zeros);
* ``step(params, state, current) -> (state, output)``: one timestep for ``current [B, ...]``;
  ``output`` is the spikes, or the membrane for a non-spiking readout (``spiking = False``);
* ``run(params, currents, state=None) -> (outputs, states)``: the scan of ``step`` over the leading
  time axis of ``currents [T, B, ...]``;
* ``counts``: its :class:`~hwsnn.structure.NeuronCounts` (state variables and operations per
  update), which the systolic and IMC cost models charge per neuron update.

``params`` is a dict of arrays: one entry per name in ``parameters`` (scalar or per-neuron, as the
layer holds them), the entries of ``weights(features, rngs)`` for neurons with their own weights
(recurrent ones), and ``"surrogate"``. :class:`hwsnn.layers.Neurons` holds them as NNX variables,
so a layer takes any neuron object; a new neuron model is one subclass in one file
(README, "Extending hwsnn").
"""

from __future__ import annotations

import abc
import dataclasses
from typing import Any, ClassVar, Literal

import jax
import jax.numpy as jnp
import numpy as np

from hwsnn.neurons.surrogate import Surrogate, atan, surrogate_from_name
from hwsnn.structure import NeuronCounts
from hwsnn.typing import Array

Reset = Literal["subtract", "zero", "none"]
RESETS: tuple[str, ...] = ("subtract", "zero", "none")
"""Reset rules: subtract the threshold, reset to zero, or no reset (snnTorch's ``reset_mechanism``)."""

State = Any


def check_reset(reset: str) -> None:
    """Raise ``ValueError`` unless ``reset`` is one of :data:`RESETS`."""
    if reset not in RESETS:
        raise ValueError(f"reset: got {reset!r}; allowed: {list(RESETS)}.")


def as_surrogate(surrogate) -> Surrogate:
    """A :class:`~hwsnn.neurons.Surrogate` from a surrogate object or a name in ``SURROGATES``."""
    if isinstance(surrogate, Surrogate):
        return surrogate
    if isinstance(surrogate, str):
        return surrogate_from_name(surrogate)
    raise ValueError(
        f"surrogate: got {type(surrogate).__name__}; allowed: a Surrogate (hwsnn.neurons.atan(), ...) "
        "or a surrogate name."
    )


def broadcast_parameter(value, name: str, state_shape: tuple[int, ...], dtype) -> Array:
    """A scalar or per-neuron parameter as an array that broadcasts to ``state_shape`` without rank
    promotion: scalars stay scalars, arrays of the trailing neuron shape are broadcast explicitly."""
    arr = jnp.asarray(value, dtype=dtype)
    if arr.ndim == 0:
        return arr
    neuron_shape = state_shape[len(state_shape) - arr.ndim :]
    if arr.ndim > len(state_shape) or arr.shape != neuron_shape:
        raise ValueError(
            f"{name}: shape {arr.shape} does not match the neuron shape; allowed: a scalar or "
            f"an array of the trailing neuron shape of the state {state_shape}."
        )
    return jnp.broadcast_to(arr, state_shape)


@dataclasses.dataclass(frozen=True)
class Neuron(abc.ABC):
    """Abstract neuron model (module doc). Subclasses are frozen dataclasses that set
    ``parameters`` (names of their array-valued fields), ``counts`` and ``spiking``, and implement
    :meth:`init_state` and :meth:`step`; :meth:`prepare` and :meth:`weights` are optional hooks.

    Common fields: ``learn`` names the parameters that are trained (the others are held fixed);
    ``per_neuron`` gives every neuron (every channel of a conv layer) its own copy of each
    parameter; ``surrogate`` is a :class:`~hwsnn.neurons.Surrogate` or its name.
    """

    parameters: ClassVar[tuple[str, ...]] = ()
    ranges: ClassVar[
        dict[str, str]
    ] = {}  # parameter -> "unit" ([0, 1], clipped in the forward pass), "positive", "nonnegative"
    counts: ClassVar[NeuronCounts]
    spiking: ClassVar[bool] = True
    layer_kinds: ClassVar[tuple[str, ...]] = ("dense", "conv")

    def __post_init__(self):
        fields = {field.name for field in dataclasses.fields(self)}  # the common fields this model declares
        if "reset" in fields:
            check_reset(self.reset)
        if "surrogate" in fields and self.surrogate is not None:
            object.__setattr__(self, "surrogate", as_surrogate(self.surrogate))
        learn = tuple(getattr(self, "learn", ()))
        object.__setattr__(self, "learn", learn)
        unknown = sorted(set(learn) - set(self.parameters))
        if unknown:
            raise ValueError(f"learn: got {list(learn)}; allowed: names among {list(self.parameters)}.")
        for name in self.parameters:
            value = getattr(self, name)
            if value is not None and not isinstance(value, jax.core.Tracer):
                self.check_parameter(name, np.asarray(jax.device_get(value), np.float64))

    def check_parameter(self, name: str, value: np.ndarray) -> None:
        """Raise ``ValueError`` if a concrete initial value is not finite or outside its ``ranges`` entry."""
        if not np.all(np.isfinite(value)):
            raise ValueError(f"{name}: got {value.tolist()!r}; allowed: finite values.")
        kind = self.ranges.get(name)
        if kind == "unit" and (np.any(value < 0.0) or np.any(value > 1.0)):
            raise ValueError(f"{name}: got {value.tolist()!r}; allowed: 0 <= {name} <= 1.")
        if kind == "positive" and np.any(value <= 0.0):
            raise ValueError(f"{name}: got {value.tolist()!r}; allowed: {name} > 0.")
        if kind == "nonnegative" and np.any(value < 0.0):
            raise ValueError(f"{name}: got {value.tolist()!r}; allowed: {name} >= 0.")

    @property
    def firing_threshold(self) -> float:
        """The threshold ``theta`` a layer's batch norm scales its currents to (tdBN): the ``threshold``
        parameter (the mean of a per-neuron one), 1 for models without one (readouts)."""
        if "threshold" not in self.parameters or self.threshold is None:
            return 1.0
        return float(np.mean(np.asarray(jax.device_get(self.threshold), np.float64)))

    # ----------------------------------------------------------------- hooks for layers

    def weights(self, features: int, rngs) -> dict[str, Array]:
        """Trainable arrays this neuron owns beyond its parameters, drawn from ``rngs.params()``
        (an ``nnx.Rngs``; none by default, and then no key is drawn)."""
        return {}

    def check_layer(self, kind: str) -> None:
        """Raise ``ValueError`` if the neuron cannot sit in a ``kind`` ("dense" or "conv") layer."""
        if kind not in self.layer_kinds:
            raise ValueError(
                f"neuron: {type(self).__name__} runs in {list(self.layer_kinds)} layers; got a {kind} layer."
            )

    def recurrent_fan_out(self, features: int) -> int:
        """Synaptic updates per output spike fed back into the layer (0: feed-forward)."""
        return 0

    def stripped(self) -> "Neuron":
        """A hashable copy without array values (parameters and surrogate live in the layer's variables)."""
        changes = {name: None for name in self.parameters}
        if "surrogate" in {field.name for field in dataclasses.fields(self)}:
            changes["surrogate"] = None
        return dataclasses.replace(self, **changes)

    # ----------------------------------------------------------------- dynamics

    def default_params(self) -> dict[str, Array]:
        """``params`` from the initial values (scalars as given), for using a neuron without a layer."""
        params = {name: jnp.asarray(getattr(self, name), jnp.float32) for name in self.parameters}
        if getattr(self, "surrogate", None) is not None:
            params["surrogate"] = self.surrogate
        return params

    def prepare(self, params: dict, state_shape: tuple[int, ...], dtype) -> dict:
        """Parameters as used by :meth:`step`: broadcast to the state; "unit" ones clipped to [0, 1]
        (snnTorch clamps its decays in the forward pass)."""
        out = dict(params)
        for name in self.parameters:
            out[name] = broadcast_parameter(params[name], name, state_shape, dtype)
            if self.ranges.get(name) == "unit":
                out[name] = jnp.clip(out[name], 0.0, 1.0)
        return out

    @abc.abstractmethod
    def init_state(self, shape: tuple[int, ...], dtype) -> State:
        """The state before the first step for neurons of ``shape`` (``[B, ...]``)."""

    @abc.abstractmethod
    def step(self, params: dict, state: State, current: Array) -> tuple[State, Array]:
        """One timestep: ``(new state, output)`` for ``current [B, ...]`` and prepared ``params``."""

    def run(
        self, params: dict, currents: Array, state: State | None = None, *, remat: int | None = None
    ) -> tuple[Array, State]:
        """Scan :meth:`step` over the leading time axis of ``currents [T, B, ...]``: returns
        ``(outputs [T, B, ...], states)``, each state leaf stacked over time (after each step);
        ``remat``: checkpoint the scan in chunks of that many steps (:func:`scan_steps`)."""
        if currents.ndim < 1:
            raise ValueError(f"currents: need a leading time axis; got shape {currents.shape}.")
        shape, dtype = currents.shape[1:], currents.dtype
        prepared = self.prepare(params, shape, dtype)
        state = self.init_state(shape, dtype) if state is None else state

        def body(state, current):
            state, output = self.step(prepared, state, current)
            return state, (output, state)

        _, (outputs, states) = scan_steps(body, state, currents, remat)
        return outputs, states


def check_remat(remat) -> int | None:
    """``remat``: ``None`` or a chunk length (an int >= 1) of :func:`scan_steps`."""
    if remat is not None and (not isinstance(remat, int) or isinstance(remat, bool) or remat < 1):
        raise ValueError(
            f"remat: got {remat!r}; allowed: None (store every step for the backward pass) or an int >= 1 "
            "(steps per checkpointed chunk, e.g. about sqrt(T))."
        )
    return remat


def scan_steps(body, carry, xs, remat: int | None = None):
    """``jax.lax.scan(body, carry, xs)``, or with ``remat = K`` the same scan in chunks of ``K`` steps,
    each chunk under ``jax.checkpoint`` (rematerialised BPTT): the backward pass keeps only the carry
    at every chunk boundary and recomputes the ``K`` steps of a chunk from it when it gets there, so
    it holds ``T / K`` carries and one chunk's intermediates instead of every step's (gradient
    checkpointing, Chen et al. 2016; ``K`` near ``sqrt(T)`` balances the two, at the price of a second
    forward pass). Outputs and gradients equal the plain scan's. A last chunk of ``T mod K`` steps
    runs on its own."""
    if remat is None:
        return jax.lax.scan(body, carry, xs)
    length = jax.tree.leaves(xs)[0].shape[0]
    whole = length - length % remat
    chunk = jax.checkpoint(lambda c, x: jax.lax.scan(body, c, x))
    parts = []
    if whole:
        head = jax.tree.map(lambda a: a[:whole].reshape((whole // remat, remat) + a.shape[1:]), xs)
        carry, ys = jax.lax.scan(chunk, carry, head)
        parts.append(jax.tree.map(lambda a: a.reshape((whole,) + a.shape[2:]), ys))
    if whole < length:
        carry, ys = chunk(carry, jax.tree.map(lambda a: a[whole:], xs))
        parts.append(ys)
    return carry, parts[0] if len(parts) == 1 else jax.tree.map(lambda a, b: jnp.concatenate([a, b]), *parts)


def detached_reset(v_prev: Array, threshold: Array) -> Array:
    """``r = H(v_prev - theta)`` with no gradient (snnTorch's detached ``mem_reset``)."""
    return jax.lax.stop_gradient((v_prev - threshold > 0).astype(v_prev.dtype))


def apply_reset(u: Array, r: Array, threshold: Array, reset: str) -> Array:
    """The membrane after the reset ``r`` of a pre-reset value ``u``: ``u - r theta`` (subtract),
    ``u - r u`` (zero: the whole membrane cleared, snnTorch's Synaptic and RLeaky) or ``u`` (none)."""
    if reset == "subtract":
        return u - r * threshold
    if reset == "zero":
        return u - r * u
    return u


def default_surrogate() -> Surrogate:
    """``atan(alpha=2)``, snnTorch's default surrogate."""
    return atan()
