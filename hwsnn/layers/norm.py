"""Batch normalisation for SNNs: the currents ``[T, B, ..., C]`` of a synaptic layer, normalised per
channel before its neurons (and before its pooling), and folded into the layer's weights for inference
and costing.

* :class:`TdBN`, threshold-dependent BN (Zheng et al., AAAI 2021): statistics over time, batch and
  positions together; ``y = lambda alpha theta (x - mu) / sqrt(var + eps) + beta``, so the normalised
  currents are scaled to the neurons' threshold ``theta`` (``alpha``: 1, or 1/sqrt(2) before a
  residual addition in their ResNets).
* :class:`BNTT`, BN through time (Kim and Panda, Frontiers in Neuroscience 2021): statistics and a scale
  ``gamma_t`` of their own at every timestep, no shift; ``y_t = gamma_t (x_t - mu_t) / sqrt(var_t + eps)``.

In training (``Context.training``) the batch statistics normalise and the running averages move,
``running = momentum running + (1 - momentum) batch`` (Flax's convention, momentum 0.9, the same as
PyTorch's momentum 0.1; the batch variance kept unbiased, as PyTorch keeps it); in evaluation the
running averages normalise.
:meth:`Norm.fold` turns the evaluation-mode normalisation into the synapse's weights and biases:
``W' = W g``, ``b' = (b - mu) g + beta`` per output channel with ``g = scale / sqrt(var + eps)``.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
from flax import nnx

from hwsnn.checks import fraction, positive, positive_int
from hwsnn.typing import Array


class Norm(nnx.Module):
    """The interface: ``__call__(currents [T, B, ..., C], training) -> currents`` and :meth:`fold`;
    ``per_timestep``: whether the folded weights differ from one timestep to the next."""

    features: int
    per_timestep: bool = False

    @classmethod
    def for_layer(cls, features: int, timesteps: int, threshold: float, before_add: bool = False) -> "Norm":
        """This norm for a layer of ``features`` output channels running ``timesteps`` steps into neurons
        of ``threshold`` (what a model factory knows of each layer); ``before_add``: its output is summed
        with a residual shortcut (the last conv of a block, or the projection)."""
        raise NotImplementedError

    def __call__(self, currents: Array, training: bool) -> Array:
        raise NotImplementedError

    def fold(self, kernel: Array, bias: Array | None) -> tuple[Array, Array]:
        """``(kernel, bias)`` whose synapse computes the normalised currents in evaluation mode;
        the output channel is the kernel's last axis. :class:`BNTT`: one pair per timestep."""
        raise NotImplementedError


def _check_features(currents: Array, features: int) -> None:
    if currents.shape[-1] != features:
        raise ValueError(f"currents: last axis {currents.shape[-1]}; allowed: features = {features}.")


def _unbiased(variance: Array, count: int) -> Array:
    return variance * count / max(count - 1, 1)


class TdBN(Norm):
    """Threshold-dependent batch norm over time (module doc); ``threshold`` is the neurons' ``theta``."""

    def __init__(
        self, features: int, *, threshold: float = 1.0, alpha: float = 1.0, momentum: float = 0.9, eps: float = 1e-5
    ):
        self.features = positive_int(features, "features")
        self.threshold, self.alpha = positive(threshold, "threshold"), positive(alpha, "alpha")
        self.momentum, self.eps = fraction(momentum, "momentum"), positive(eps, "eps")
        self.scale = nnx.Param(jnp.ones((features,)))
        self.shift = nnx.Param(jnp.zeros((features,)))
        self.mean = nnx.BatchStat(jnp.zeros((features,)))
        self.var = nnx.BatchStat(jnp.ones((features,)))

    @classmethod
    def for_layer(cls, features: int, timesteps: int, threshold: float, before_add: bool = False) -> "TdBN":
        """tdBN scaled to the layer's neuron threshold: ``alpha`` 1, or 1/sqrt(2) before a residual
        addition, so the sum of two normalised branches keeps the unit variance (Zheng et al. 2021)."""
        return cls(features, threshold=threshold, alpha=1 / math.sqrt(2) if before_add else 1.0)

    def _gain(self, var: Array) -> Array:
        return self.scale[...] * self.alpha * self.threshold / jnp.sqrt(var + self.eps)

    def __call__(self, currents: Array, training: bool) -> Array:
        """Normalise ``currents [T, B, ..., C]`` per channel over every other axis."""
        _check_features(currents, self.features)
        if training:
            axes = tuple(range(currents.ndim - 1))
            mean, var = jnp.mean(currents, axis=axes), jnp.var(currents, axis=axes)
            count = currents.size // self.features
            self.mean[...] = self.momentum * self.mean[...] + (1 - self.momentum) * mean
            self.var[...] = self.momentum * self.var[...] + (1 - self.momentum) * _unbiased(var, count)
        else:
            mean, var = self.mean[...], self.var[...]
        channel = lambda v: v.reshape((1,) * (currents.ndim - 1) + (self.features,))
        return (currents - channel(mean)) * channel(self._gain(var)) + channel(self.shift[...])

    def fold(self, kernel: Array, bias: Array | None) -> tuple[Array, Array]:
        gain = self._gain(self.var[...])
        bias = jnp.zeros((self.features,)) if bias is None else bias
        return kernel * gain.reshape((1,) * (kernel.ndim - 1) + (self.features,)), (
            bias - self.mean[...]
        ) * gain + self.shift[...]


class BNTT(Norm):
    """Batch norm through time (module doc): statistics and scale per timestep, for ``timesteps`` steps."""

    per_timestep = True

    @classmethod
    def for_layer(cls, features: int, timesteps: int, threshold: float, before_add: bool = False) -> "BNTT":
        """BNTT over the layer's own timesteps (the same before a residual addition)."""
        return cls(features, timesteps)

    def __init__(self, features: int, timesteps: int, *, momentum: float = 0.9, eps: float = 1e-5):
        self.features, self.timesteps = positive_int(features, "features"), positive_int(timesteps, "timesteps")
        self.momentum, self.eps = fraction(momentum, "momentum"), positive(eps, "eps")
        self.scale = nnx.Param(jnp.ones((timesteps, features)))
        self.mean = nnx.BatchStat(jnp.zeros((timesteps, features)))
        self.var = nnx.BatchStat(jnp.ones((timesteps, features)))

    def __call__(self, currents: Array, training: bool) -> Array:
        """Normalise ``currents [T, B, ..., C]`` per timestep and channel over batch and positions."""
        _check_features(currents, self.features)
        if currents.shape[0] != self.timesteps:
            raise ValueError(f"currents: {currents.shape[0]} timesteps; allowed: {self.timesteps} (BNTT's own).")
        if training:
            axes = tuple(range(1, currents.ndim - 1))
            mean, var = jnp.mean(currents, axis=axes), jnp.var(currents, axis=axes)
            count = currents.size // (self.features * self.timesteps)
            self.mean[...] = self.momentum * self.mean[...] + (1 - self.momentum) * mean
            self.var[...] = self.momentum * self.var[...] + (1 - self.momentum) * _unbiased(var, count)
        else:
            mean, var = self.mean[...], self.var[...]
        shape = (currents.shape[0],) + (1,) * (currents.ndim - 2) + (self.features,)
        gain = self.scale[...] / jnp.sqrt(var + self.eps)
        return (currents - mean.reshape(shape)) * gain.reshape(shape)

    def fold(self, kernel: Array, bias: Array | None) -> tuple[Array, Array]:
        """``(kernels [T, ...], biases [T, C])``: one folded pair per timestep."""
        gain = self.scale[...] / jnp.sqrt(self.var[...] + self.eps)  # [T, C]
        bias = jnp.zeros((self.features,)) if bias is None else bias
        return kernel[None] * gain.reshape((self.timesteps,) + (1,) * (kernel.ndim - 1) + (self.features,)), (
            bias[None] - self.mean[...]
        ) * gain


NORMS: dict[str, type[Norm]] = {"tdbn": TdBN, "bntt": BNTT}
"""The batch norms by the names configs use (``model.norm``)."""
