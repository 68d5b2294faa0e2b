"""A layer's neuron population: any :class:`~hwsnn.neurons.Neuron` model with its parameters held as NNX variables."""

from __future__ import annotations

import jax.numpy as jnp
from flax import nnx

from hwsnn.neurons.base import Neuron
from hwsnn.neurons.surrogate import Surrogate
from hwsnn.typing import Array


class NeuronConstant(nnx.Variable):
    """A neuron quantity held fixed during training (a parameter not in ``learn``, or a surrogate's slope)."""


class Neurons(nnx.Module):
    """``features`` neurons (channels, in a conv layer) of one model.

    Each name in ``neuron.parameters`` becomes an attribute: an ``nnx.Param`` if it is in
    ``neuron.learn``, else a :class:`NeuronConstant`; a scalar, or one value per neuron when
    ``neuron.per_neuron`` is set or the value is given as a ``[features]`` array. Weights the model
    owns (:meth:`~hwsnn.neurons.Neuron.weights`, e.g. recurrent ones) are ``nnx.Param``. The model
    itself is kept without its arrays (:meth:`~hwsnn.neurons.Neuron.stripped`), as static structure.
    """

    def __init__(self, neuron: Neuron, features: int, *, kind: str, rngs: nnx.Rngs):
        if not isinstance(neuron, Neuron):
            raise ValueError(
                f"neuron: got {type(neuron).__name__}; allowed: a hwsnn.neurons.Neuron "
                "(LIF(), IF(), Synaptic(), RLIF(), ALIF(), Integrator(), or your own subclass)."
            )
        neuron.check_layer(kind)
        self.model = neuron.stripped()
        self.features = features
        self.remat: int | None = None  # set by SNN(remat=K)
        for name in neuron.parameters:
            value = jnp.asarray(getattr(neuron, name), jnp.float32)
            if value.ndim == 0 and neuron.per_neuron:
                value = jnp.full((features,), value)
            elif value.ndim and value.shape != (features,):
                raise ValueError(
                    f"{name}: shape {value.shape}; allowed: a scalar or one value per neuron ({features},)."
                )
            setattr(self, name, (nnx.Param if name in neuron.learn else NeuronConstant)(value))
        weights = neuron.weights(features, rngs)
        self.weight_names = tuple(weights)
        for name, value in weights.items():
            setattr(self, name, nnx.Param(value))
        surrogate: Surrogate | None = getattr(neuron, "surrogate", None)
        self.surrogate_form = None if surrogate is None else (surrogate.name, surrogate.derivative)
        if surrogate is not None:
            self.surrogate_param = NeuronConstant(jnp.asarray(surrogate.param, jnp.float32))

    @property
    def spiking(self) -> bool:
        """Whether the output is spikes (else a membrane: a readout)."""
        return self.model.spiking

    def params(self) -> dict[str, Array]:
        """The ``params`` dict of :meth:`~hwsnn.neurons.Neuron.step` from the current variable values."""
        params = {name: getattr(self, name)[...] for name in self.model.parameters + self.weight_names}
        if self.surrogate_form is not None:
            params["surrogate"] = Surrogate(*self.surrogate_form, self.surrogate_param[...])
        return params

    def init_state(self, shape: tuple[int, ...], dtype):
        """The state before the first step for neurons of ``shape`` (``[B, ...]``)."""
        return self.model.init_state(shape, dtype)

    def step(self, state, current: Array):
        """One timestep: ``(state, output)`` for ``current [B, ...]``."""
        return self.model.step(self.model.prepare(self.params(), current.shape, current.dtype), state, current)

    def __call__(self, currents: Array):
        """``(outputs, states)`` over the leading time axis of ``currents [T, B, ...]``, checkpointed in
        chunks of :attr:`remat` steps where set (:func:`~hwsnn.neurons.base.scan_steps`; ``SNN(remat=K)``)."""
        return self.model.run(self.params(), currents, remat=self.remat)
