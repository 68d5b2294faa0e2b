"""Flax NNX spiking layers over the pure math of :mod:`hwsnn.neurons` and :mod:`hwsnn.layers.ops`.

A spiking layer is a synapse (dense or conv, optionally followed by pooling) and a LIF
neuron population. It consumes ``[T, B, ...]`` and produces ``[T, B, ...]`` spikes: the
synaptic operation runs once over all ``T x B`` samples, then the neurons scan over ``T``.
Every layer also has ``step(state, x_t) -> (state, y_t)``, the same math for one timestep
``[B, ...]``, which the :class:`~hwsnn.layers.SNN` container uses to run all layers inside a
single scan over time when that is faster; both orders give the same results.

Weights are initialised as PyTorch's ``nn.Linear``/``nn.Conv2d`` defaults (uniform in
``+-1/sqrt(fan_in)`` for kernel and bias), so an snnTorch model and its hwsnn twin start alike.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from flax import nnx

from hwsnn.hardware.crossbar import active_nonidealities, analog_matmul, analog_matmul_tiles
from hwsnn.hardware.specs import CrossbarSpec
from hwsnn.structure import LayerWorkload, conv_workload, dense_workload
from hwsnn.layers import ops
from hwsnn.neurons.lif import check_reset, lif, lif_step, neuron_parameters
from hwsnn.neurons.surrogate import surrogate_from_name
from hwsnn.typing import Array


def _hardware(spec: CrossbarSpec | None):
    """Store a crossbar spec on a layer (its arrays become layer constants), or ``None``."""
    if spec is None:
        return None
    if not isinstance(spec, CrossbarSpec):
        raise ValueError(f"hardware: got {type(spec).__name__}; allowed: None or a CrossbarSpec (hwsnn.hardware.specs).")
    return nnx.data(spec)


def _hardware_key(key):
    """The key a crossbar layer draws its noise from (required)."""
    if key is None:
        raise ValueError("key: a layer with hardware=CrossbarSpec needs a jax.random key (model(x, key=...)).")
    return key


def _matmul(x: Array, kernel: Array, spec: CrossbarSpec | None, nonidealities: tuple[str, ...], key, strength) -> Array:
    """``x @ kernel``: exact, or on the layer's crossbars (``key`` required then)."""
    if spec is None:
        return jnp.dot(x, kernel)
    return analog_matmul(x, kernel, spec, _hardware_key(key), strength=strength, nonidealities=nonidealities)


class NeuronConstant(nnx.Variable):
    """A neuron quantity held fixed during training (beta, threshold or surrogate parameter)."""


def _uniform(key: jax.Array, shape: tuple[int, ...], fan_in: int) -> Array:
    bound = 1.0 / math.sqrt(fan_in)
    return jax.random.uniform(key, shape, jnp.float32, -bound, bound)


def _positive_int(value, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name}: got {value!r}; allowed: an int >= 1.")
    return value


class LIFNeurons(nnx.Module):
    """A LIF population with scalar or per-neuron (per-channel) beta and threshold.

    ``learn_beta`` / ``learn_threshold`` make them ``nnx.Param`` (trained); otherwise they are
    :class:`NeuronConstant`. The surrogate parameter is always a :class:`NeuronConstant`.
    """

    def __init__(
        self,
        channels: int,
        *,
        beta: float = 0.95,
        threshold: float = 1.0,
        reset: str = "subtract",
        surrogate: str = "atan",
        surrogate_param: float | None = None,
        learn_beta: bool = False,
        learn_threshold: bool = False,
        per_neuron: bool = False,
    ):
        check_reset(reset)
        if not 0.0 <= beta <= 1.0:
            raise ValueError(f"beta: got {beta!r}; allowed: 0 <= beta <= 1.")
        if not threshold > 0.0:
            raise ValueError(f"threshold: got {threshold!r}; allowed: threshold > 0.")
        shape = (channels,) if per_neuron else ()
        self.reset = reset
        self.surrogate_name = surrogate
        template = surrogate_from_name(surrogate, surrogate_param)
        self.surrogate_param = NeuronConstant(template.param)
        beta_value = jnp.full(shape, beta, jnp.float32)
        threshold_value = jnp.full(shape, threshold, jnp.float32)
        self.beta = nnx.Param(beta_value) if learn_beta else NeuronConstant(beta_value)
        self.threshold = nnx.Param(threshold_value) if learn_threshold else NeuronConstant(threshold_value)

    def surrogate(self):
        """The :class:`~hwsnn.neurons.Surrogate` with this population's (traced) parameter."""
        return surrogate_from_name(self.surrogate_name, self.surrogate_param[...])

    def __call__(self, currents: Array) -> tuple[Array, Array]:
        """``(spikes, membrane)`` of :func:`hwsnn.neurons.lif` for ``currents [T, B, ...]``."""
        return lif(currents, self.beta[...], self.threshold[...], reset=self.reset, surrogate=self.surrogate())

    def step(self, v_prev: Array, current: Array) -> tuple[Array, Array]:
        """One timestep, ``(spike, v)`` of :func:`hwsnn.neurons.lif_step` for ``current [B, ...]``."""
        beta, threshold = neuron_parameters(self.beta[...], self.threshold[...], v_prev.shape, v_prev.dtype)
        return lif_step(v_prev, current, beta, threshold, self.reset, self.surrogate())


class SpikingDense(nnx.Module):
    """Fully connected synapses ``[T, B, F_in] -> [T, B, F_out]`` followed by LIF neurons.

    With ``fire=False`` the neurons integrate without firing (reset "none") and the layer
    returns its membrane: a leaky-integrator readout.
    """

    synaptic = True

    def __init__(self, in_features: int, out_features: int, *, rngs: nnx.Rngs, bias: bool = True,
                 fire: bool = True, hardware: CrossbarSpec | None = None, **neuron):
        self.hardware = _hardware(hardware)
        self.nonidealities = () if hardware is None else active_nonidealities(hardware)  # static: decided once
        self.in_features = _positive_int(in_features, "in_features")
        self.out_features = _positive_int(out_features, "out_features")
        self.spiking_output = fire
        key_w, key_b = rngs.params(), rngs.params()
        self.kernel = nnx.Param(_uniform(key_w, (in_features, out_features), in_features))
        self.bias = nnx.Param(_uniform(key_b, (out_features,), in_features)) if bias else None
        if not fire:
            neuron = {**neuron, "reset": "none"}
        self.neurons = LIFNeurons(out_features, **neuron)

    def synapse(self, x: Array, key=None, strength=1.0) -> Array:
        """Synaptic currents ``x @ kernel + bias`` for ``x [..., F_in]`` (the product on crossbars
        when the layer has ``hardware``; the bias is added digitally)."""
        if x.shape[-1] != self.in_features:
            raise ValueError(f"x: last axis {x.shape[-1]}; allowed: in_features = {self.in_features}.")
        y = _matmul(x, self.kernel[...], self.hardware, self.nonidealities, key, strength)
        return ops.add_bias(y, None if self.bias is None else self.bias[...])

    def __call__(self, x: Array, key=None, strength=1.0) -> Array:
        """``[T, B, F_in]`` -> spikes (or membranes, ``fire=False``) ``[T, B, F_out]``."""
        spikes, membrane = self.neurons(self.synapse(x, key, strength))
        return spikes if self.spiking_output else membrane

    def step(self, v_prev: Array, x_t: Array) -> tuple[Array, Array]:
        """One timestep: ``(v, spike or v)`` for ``x_t [B, F_in]`` and membrane ``v_prev [B, F_out]``."""
        spike, v = self.neurons.step(v_prev, self.synapse(x_t))
        return v, spike if self.spiking_output else v

    def output_shape(self, in_shape: tuple[int, ...]) -> tuple[int, ...]:
        """Per-sample output shape ``(F_out,)``."""
        return (self.out_features,)

    def workload(self, name: str, in_shape, input_timesteps: int, timesteps: int, spiking_input: bool) -> LayerWorkload:
        """This layer's :class:`~hwsnn.structure.LayerWorkload` for a per-sample ``in_shape``."""
        if tuple(in_shape) != (self.in_features,):
            raise ValueError(f"{name}: input shape {tuple(in_shape)}; allowed: ({self.in_features},).")
        return dense_workload(
            name, self.in_features, self.out_features, bias=self.bias is not None,
            input_timesteps=input_timesteps, timesteps=timesteps, spiking_input=spiking_input,
            spiking_output=self.spiking_output,
        )


def Readout(in_features: int, out_features: int, *, rngs: nnx.Rngs, hardware: CrossbarSpec | None = None, **neuron) -> SpikingDense:
    """Membrane readout: dense synapses into non-firing leaky integrators (returns ``[T, B, C]`` membrane)."""
    return SpikingDense(in_features, out_features, rngs=rngs, fire=False, hardware=hardware, **neuron)


class SpikingConv(nnx.Module):
    """2-D convolution (NHWC) ``[T, B, H, W, C_in]``, optional pooling, then LIF neurons."""

    synaptic = True
    spiking_output = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, *, rngs: nnx.Rngs,
                 stride: int = 1, padding="SAME", pool: str | None = None, pool_window: int = 2,
                 bias: bool = True, hardware: CrossbarSpec | None = None, **neuron):
        self.hardware = _hardware(hardware)
        self.nonidealities = () if hardware is None else active_nonidealities(hardware)  # static: decided once
        self.in_channels = _positive_int(in_channels, "in_channels")
        self.out_channels = _positive_int(out_channels, "out_channels")
        self.kernel_size = _positive_int(kernel_size, "kernel_size")
        self.stride = _positive_int(stride, "stride")
        self.padding = ops.conv_padding(padding)
        if pool is not None and pool not in ops.POOLS:
            raise ValueError(f"pool: got {pool!r}; allowed: None or one of {list(ops.POOLS)}.")
        self.pool = pool
        self.pool_window = _positive_int(pool_window, "pool_window")
        fan_in = kernel_size * kernel_size * in_channels
        key_w, key_b = rngs.params(), rngs.params()
        self.kernel = nnx.Param(_uniform(key_w, (kernel_size, kernel_size, in_channels, out_channels), fan_in))
        self.bias = nnx.Param(_uniform(key_b, (out_channels,), fan_in)) if bias else None
        self.neurons = LIFNeurons(out_channels, **neuron)

    def synapse(self, x: Array, key=None, strength=1.0) -> Array:
        """Convolution (and pooling) of ``x [..., H, W, C_in]`` -> currents ``[..., H', W', C_out]``.

        With ``hardware`` the kernel is unrolled onto crossbars as SpikeSim maps it: each output
        pixel's receptive field (``k^2 C_in`` inputs) drives the rows, one column per output channel.
        """
        if x.ndim < 4 or x.shape[-1] != self.in_channels:
            raise ValueError(
                f"x: shape {x.shape}; allowed: [T, B, H, W, {self.in_channels}] (NHWC, time-major)."
            )
        bias = None if self.bias is None else self.bias[...]
        if self.hardware is None:
            currents = ops.conv2d(x, self.kernel[...], bias, self.stride, self.padding)
        else:
            tiles, (out_h, out_w) = ops.patch_row_tiles(x, self.kernel_size, self.stride, self.padding, self.hardware.size)
            kernel = self.kernel[...].reshape(-1, self.out_channels)  # rows: (i, j, c), position-major
            products = analog_matmul_tiles(tiles, kernel, self.hardware, _hardware_key(key), strength=strength,
                                           nonidealities=self.nonidealities)
            currents = ops.add_bias(products.reshape(x.shape[:-3] + (out_h, out_w, self.out_channels)), bias)
        if self.pool is not None:
            currents = ops.pool2d(currents, self.pool, self.pool_window)
        return currents

    def __call__(self, x: Array, key=None, strength=1.0) -> Array:
        """``[T, B, H, W, C_in]`` -> spikes ``[T, B, H', W', C_out]``."""
        return self.neurons(self.synapse(x, key, strength))[0]

    def step(self, v_prev: Array, x_t: Array) -> tuple[Array, Array]:
        """One timestep: ``(v, spike)`` for ``x_t [B, H, W, C_in]``."""
        spike, v = self.neurons.step(v_prev, self.synapse(x_t))
        return v, spike

    def output_shape(self, in_shape: tuple[int, ...]) -> tuple[int, ...]:
        """Per-sample neuron shape after convolution and pooling (geometry of :func:`conv_workload`)."""
        return self.workload("conv", in_shape, 1, 1, True).out_shape

    def workload(self, name: str, in_shape, input_timesteps: int, timesteps: int, spiking_input: bool) -> LayerWorkload:
        """This layer's :class:`~hwsnn.structure.LayerWorkload` for a per-sample ``in_shape``."""
        if len(in_shape) != 3 or in_shape[-1] != self.in_channels:
            raise ValueError(f"{name}: input shape {tuple(in_shape)}; allowed: (H, W, {self.in_channels}).")
        return conv_workload(
            name, tuple(in_shape), self.out_channels, self.kernel_size, self.stride, self.padding,
            bias=self.bias is not None, pool=self.pool, pool_window=self.pool_window,
            input_timesteps=input_timesteps, timesteps=timesteps, spiking_input=spiking_input,
            spiking_output=True,
        )


class Pool(nnx.Module):
    """Max, average or sum pooling of ``[T, B, H, W, C]`` over non-overlapping ``window``-wide squares."""

    synaptic = False

    def __init__(self, kind: str, window: int = 2):
        if kind not in ops.POOLS:
            raise ValueError(f"kind: got {kind!r}; allowed: {list(ops.POOLS)}.")
        self.kind = kind
        self.window = _positive_int(window, "window")

    def __call__(self, x: Array) -> Array:
        """Pool ``[T, B, H, W, C]`` -> ``[T, B, H // w, W // w, C]``."""
        return ops.pool2d(x, self.kind, self.window)

    def step(self, state, x_t: Array):
        """One timestep (stateless): pool ``x_t [B, H, W, C]``."""
        return state, ops.pool2d(x_t, self.kind, self.window)

    def output_shape(self, in_shape: tuple[int, ...]) -> tuple[int, ...]:
        """``(H // w, W // w, C)``."""
        height, width, channels = in_shape
        if self.window > min(height, width):
            raise ValueError(f"window: got {self.window} for a {height}x{width} map; allowed: at most {min(height, width)}.")
        return (height // self.window, width // self.window, channels)


class Flatten(nnx.Module):
    """``[T, B, ...] -> [T, B, prod(...)]``."""

    synaptic = False

    def __call__(self, x: Array) -> Array:
        """``[T, B, ...] -> [T, B, prod(...)]``."""
        return x.reshape(x.shape[:2] + (-1,))

    def step(self, state, x_t: Array):
        """One timestep (stateless): ``[B, ...] -> [B, prod(...)]``."""
        return state, x_t.reshape(x_t.shape[:1] + (-1,))

    def output_shape(self, in_shape: tuple[int, ...]) -> tuple[int, ...]:
        """``(prod(in_shape),)``."""
        return (math.prod(in_shape),)
