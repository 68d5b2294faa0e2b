"""Flax NNX layers over the pure math of :mod:`hwsnn.neurons` and :mod:`hwsnn.layers.ops`.

Every layer implements one small interface (:class:`Layer`): ``__call__(x, context)`` runs it over
all timesteps of ``x [T, B, ...]``, ``step(state, x_t, context)`` runs one timestep ``[B, ...]``
(the same math, used when the :class:`~hwsnn.layers.SNN` runs all layers inside one scan over
time), ``init_state`` gives the state of ``step``, and ``output_shape`` the per-sample shape. A
:class:`Context` carries what a forward pass hands to every layer: the random key, the
hardware strength and whether it trains (batch statistics, dropout).

A spiking layer (:class:`SynapticLayer`) is a synapse (dense or conv, optionally followed by
pooling) and a population of any :class:`~hwsnn.neurons.Neuron` model: the synaptic operation runs
once over all ``T x B`` samples, then the neurons scan over ``T``. Weights are initialised as
PyTorch's ``nn.Linear``/``nn.Conv2d`` defaults (uniform in ``+-1/sqrt(fan_in)`` for kernel and
bias), so an snnTorch model and its hwsnn twin start alike.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
from flax import nnx

from hwsnn.checks import fraction, positive_int
from hwsnn.hardware.crossbar import CrossbarSpec, HardwareStrength, analog_matmul_tiles, split_row_tiles
from hwsnn.layers import ops
from hwsnn.layers.neurons import Neurons
from hwsnn.layers.norm import Norm
from hwsnn.layers.readout_scale import ReadoutScale
from hwsnn.neurons import LIF, Integrator, Neuron
from hwsnn.structure import LayerWorkload, conv_workload, dense_workload
from hwsnn.typing import Array, Key


class Context(NamedTuple):
    """What a forward pass hands to every layer.

    Attributes:
      key: a ``jax.random`` key (required by layers on crossbars: programming and read noise), or ``None``.
      strength: the crossbars' non-ideality strength, a number in [0, 1] or a mapping of stage names
        to numbers (:data:`~hwsnn.hardware.crossbar.HardwareStrength`; progressive hardware awareness).
      training: a training pass (a Python bool): batch norm normalises with the batch's statistics and
        moves its running ones, dropout drops, crossbar sense amplifiers measure their scales; else all
        act as at inference.
      calibrate: a calibration pass (a Python bool): crossbar sense amplifiers measure their scales
        (:class:`~hwsnn.layers.readout_scale.ReadoutScale`), everything else acts as at inference.
    """

    key: Key | None = None
    strength: HardwareStrength | float = 1.0  # read at every call, as the layer's spec
    training: bool = False  # batch norm on batch statistics (moving the running ones), dropout on
    calibrate: bool = False  # sense-amplifier scales measured, nothing else moves

    @property
    def measures(self) -> bool:
        """Whether crossbar readouts measure their scales in this pass (training or calibration)."""
        return self.training or self.calibrate

    def for_layer(self, index: int) -> "Context":
        """The context of layer ``index``: its own key, ``fold_in(key, index)``."""
        return self if self.key is None else self._replace(key=jax.random.fold_in(self.key, index))


class Layer(nnx.Module):
    """The layer interface (module doc). ``synaptic`` layers also give a :meth:`workload`."""

    synaptic: bool = False
    hardware: CrossbarSpec | None = None  # set by layers whose synapses run on crossbars
    readout_scale: ReadoutScale | None = None  # set by layers on sense-amplifier crossbars
    norm: Norm | None = None  # set by layers that normalise their currents over whole time axes

    def __call__(self, x: Array, context: Context = Context()) -> Array:
        """All timesteps: ``[T, B, ...] -> [T, B, ...]``."""
        raise NotImplementedError

    def step(self, state, x_t: Array, context: Context = Context()):
        """One timestep: ``(state, y_t)`` for ``x_t [B, ...]``."""
        raise NotImplementedError

    def init_state(self, batch: int, out_shape: tuple[int, ...], dtype):
        """The state of :meth:`step` before the first timestep (stateless layers: ``None``)."""
        return None

    def output_shape(self, in_shape: tuple[int, ...]) -> tuple[int, ...]:
        """Per-sample output shape for a per-sample ``in_shape``."""
        raise NotImplementedError

    def fold_norm(self) -> "Layer":
        """A copy with any batch norm folded into the weights (a layer without one: an equal copy)."""
        return nnx.clone(self)


def _hardware(spec: CrossbarSpec | None):
    """Store a crossbar spec on a layer (its arrays become layer constants), or ``None``."""
    if spec is None:
        return None
    if not isinstance(spec, CrossbarSpec):
        raise ValueError(
            f"hardware: got {type(spec).__name__}; allowed: None or a CrossbarSpec (hwsnn.hardware.crossbar)."
        )
    return nnx.data(spec)


def _readout_scale(spec: CrossbarSpec | None, fan_in: int, fan_out: int) -> ReadoutScale | None:
    """The sense-amplifier scales of a layer on ``spec`` (``None`` off crossbars or for other readouts)."""
    return ReadoutScale(spec, fan_in, fan_out) if spec is not None and spec.readout.needs_scale else None


def _norm(norm, features: int):
    """Check a layer's batch norm (``None``, or a :class:`~hwsnn.layers.norm.Norm` of ``features``)."""
    if norm is not None and (not isinstance(norm, Norm) or norm.features != features):
        got = (
            type(norm).__name__ if not isinstance(norm, Norm) else f"{type(norm).__name__} of {norm.features} features"
        )
        raise ValueError(
            f"norm: got {got}; allowed: None or a Norm (TdBN, BNTT) of the layer's {features} output channels."
        )
    return norm


def _hardware_key(key):
    """The key a crossbar layer draws its noise from (required)."""
    if key is None:
        raise ValueError("key: a layer with hardware=CrossbarSpec needs a jax.random key (model(x, key=...)).")
    return key


def _uniform(key: jax.Array, shape: tuple[int, ...], fan_in: int) -> Array:
    bound = 1.0 / math.sqrt(fan_in)
    return jax.random.uniform(key, shape, jnp.float32, -bound, bound)


class SynapticLayer(Layer):
    """A synapse followed by a :class:`~hwsnn.layers.neurons.Neurons` population (module doc).
    Subclasses implement :meth:`synapse` and :meth:`workload`."""

    synaptic = True

    @property
    def spiking_output(self) -> bool:
        """Whether the layer outputs spikes (else membranes: a readout)."""
        return self.neurons.spiking

    def synapse(self, x: Array, context: Context = Context()) -> Array:
        """Synaptic currents for inputs ``x [..., in]`` (any leading axes)."""
        raise NotImplementedError

    def __call__(
        self, x: Array, context: Context = Context(), added: Array | None = None, *, steps: int | None = None
    ) -> Array:
        """``[T, B, ...]`` -> spikes (or membranes, for a non-spiking neuron) ``[T, B, ...]``; ``added``
        (a residual shortcut, same shape as the currents) joins the synaptic currents before the neurons.

        ``steps``: ``x`` is one step ``[1, B, ...]`` standing for the same input at each of ``steps``
        steps (a direct code). A time-invariant synapse (no crossbar, whose every read draws its own
        noise, and no batch norm) then computes its currents once and repeats them, exactly what it
        would compute for the repeated input at a ``steps``-th of the cost; other synapses read the
        repeated input."""
        if steps is None:
            currents = self.synapse(x, context)
        elif x.shape[0] != 1:
            raise ValueError(f"x: {x.shape[0]} steps with steps={steps}; allowed: one step [1, B, ...] to repeat.")
        elif self.hardware is None and self.norm is None:
            currents = ops.repeat_over_time(self.synapse(x, context), steps)
        else:
            currents = self.synapse(ops.repeat_over_time(x, steps), context)
        return self.neurons(currents if added is None else currents + added)[0]

    def step(self, state, x_t: Array, context: Context = Context()):
        """One timestep: ``(neuron state, output)`` for ``x_t [B, ...]``."""
        return self.neurons.step(state, self.synapse(x_t, context))

    def init_state(self, batch: int, out_shape: tuple[int, ...], dtype):
        return self.neurons.init_state((batch,) + tuple(out_shape), dtype)

    def fold_norm(self) -> "SynapticLayer":
        """A copy of this layer with its batch norm folded into kernel and bias (evaluation mode:
        :meth:`~hwsnn.layers.norm.Norm.fold`) and no norm: the same currents at inference, the weights
        hardware stores. A norm whose folded weights change per timestep (BNTT) is refused: read them
        from ``layer.norm.fold`` instead."""
        if self.norm is None:
            return nnx.clone(self)
        if self.norm.per_timestep:
            raise ValueError(
                f"norm: got {type(self.norm).__name__}, whose folded weights differ per timestep; "
                "allowed: a time-invariant norm (TdBN), or layer.norm.fold(kernel, bias) per step."
            )
        kernel, bias = self.norm.fold(self.kernel[...], None if self.bias is None else self.bias[...])
        folded = nnx.clone(self)
        folded.kernel, folded.bias, folded.norm = nnx.Param(kernel), nnx.Param(bias), None
        return folded

    def _on_crossbars(self, row_tiles: list[Array], kernel: Array, context: Context) -> Array:
        """``x @ kernel`` ``[P, M]`` on the layer's crossbars for inputs split into crossbar row tiles;
        a training or calibration pass moves the sense-amplifier scales by this batch's partial sums
        and reads with the moved ones."""
        scale = self.readout_scale
        sa_scale = None if scale is None else scale.measured if context.measures else scale.value()
        return analog_matmul_tiles(
            row_tiles, kernel, self.hardware, _hardware_key(context.key), strength=context.strength, sa_scale=sa_scale
        ).y

    def _normalised(self, currents: Array, context: Context) -> Array:
        """``currents`` through the layer's batch norm, if it has one."""
        return currents if self.norm is None else self.norm(currents, context.training)

    def _neuron_structure(self) -> dict:
        """The workload fields the neuron model decides."""
        return {
            "neuron": self.neurons.model.counts,
            "recurrent_fan_out": self.neurons.model.recurrent_fan_out(self.neurons.features),
        }


class SpikingDense(SynapticLayer):
    """Fully connected synapses ``[T, B, F_in] -> [T, B, F_out]`` followed by ``neuron`` (LIF by default)."""

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        rngs: nnx.Rngs,
        neuron: Neuron | None = None,
        bias: bool = True,
        hardware: CrossbarSpec | None = None,
        norm: Norm | None = None,
    ):
        self.hardware = _hardware(hardware)
        self.norm = _norm(norm, out_features)
        self.in_features = positive_int(in_features, "in_features")
        self.out_features = positive_int(out_features, "out_features")
        key_w, key_b = rngs.params(), rngs.params()
        self.kernel = nnx.Param(_uniform(key_w, (in_features, out_features), in_features))
        self.bias = nnx.Param(_uniform(key_b, (out_features,), in_features)) if bias else None
        self.neurons = Neurons(LIF() if neuron is None else neuron, out_features, kind="dense", rngs=rngs)
        self.readout_scale = _readout_scale(hardware, in_features, out_features)

    def synapse(self, x: Array, context: Context = Context()) -> Array:
        """Synaptic currents ``x @ kernel + bias`` for ``x [T, B, F_in]`` (the product on crossbars
        when the layer has ``hardware``; the bias is added digitally), then the layer's ``norm``."""
        if x.shape[-1] != self.in_features:
            raise ValueError(f"x: last axis {x.shape[-1]}; allowed: in_features = {self.in_features}.")
        if self.hardware is None:
            y = jnp.dot(x, self.kernel[...])
        else:
            tiles = split_row_tiles(x.reshape(-1, self.in_features).T, self.hardware.size)
            y = self._on_crossbars(tiles, self.kernel[...], context).reshape(x.shape[:-1] + (self.out_features,))
        return self._normalised(ops.add_bias(y, None if self.bias is None else self.bias[...]), context)

    def output_shape(self, in_shape: tuple[int, ...]) -> tuple[int, ...]:
        """Per-sample output shape ``(F_out,)``."""
        return (self.out_features,)

    def workload(self, name: str, in_shape, input_timesteps: int, timesteps: int, spiking_input: bool) -> LayerWorkload:
        """This layer's :class:`~hwsnn.structure.LayerWorkload` for a per-sample ``in_shape``."""
        if tuple(in_shape) != (self.in_features,):
            raise ValueError(f"{name}: input shape {tuple(in_shape)}; allowed: ({self.in_features},).")
        return dense_workload(
            name,
            self.in_features,
            self.out_features,
            bias=self.bias is not None or self.norm is not None,
            input_timesteps=input_timesteps,
            timesteps=timesteps,
            spiking_input=spiking_input,
            spiking_output=self.spiking_output,
            **self._neuron_structure(),
        )


def Readout(
    in_features: int,
    out_features: int,
    *,
    rngs: nnx.Rngs,
    neuron: Neuron | None = None,
    hardware: CrossbarSpec | None = None,
) -> SpikingDense:
    """Membrane readout: dense synapses into non-firing leaky integrators (``neuron``, by default
    :class:`~hwsnn.neurons.Integrator` with beta 0.95); returns the membranes ``[T, B, C]``."""
    return SpikingDense(
        in_features, out_features, rngs=rngs, neuron=Integrator() if neuron is None else neuron, hardware=hardware
    )


class SpikingConv(SynapticLayer):
    """2-D convolution (NHWC) ``[T, B, H, W, C_in]``, optional pooling, then ``neuron`` (LIF by default)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        *,
        rngs: nnx.Rngs,
        neuron: Neuron | None = None,
        stride: int = 1,
        padding="SAME",
        pool: str | None = None,
        pool_window: int = 2,
        bias: bool = True,
        hardware: CrossbarSpec | None = None,
        norm: Norm | None = None,
    ):
        self.hardware = _hardware(hardware)
        self.norm = _norm(norm, out_channels)
        self.in_channels = positive_int(in_channels, "in_channels")
        self.out_channels = positive_int(out_channels, "out_channels")
        self.kernel_size = positive_int(kernel_size, "kernel_size")
        self.stride = positive_int(stride, "stride")
        self.padding = ops.conv_padding(padding)
        if pool is not None and pool not in ops.POOLS:
            raise ValueError(f"pool: got {pool!r}; allowed: None or one of {list(ops.POOLS)}.")
        self.pool = pool
        self.pool_window = positive_int(pool_window, "pool_window")
        fan_in = kernel_size * kernel_size * in_channels
        key_w, key_b = rngs.params(), rngs.params()
        self.kernel = nnx.Param(_uniform(key_w, (kernel_size, kernel_size, in_channels, out_channels), fan_in))
        self.bias = nnx.Param(_uniform(key_b, (out_channels,), fan_in)) if bias else None
        self.neurons = Neurons(LIF() if neuron is None else neuron, out_channels, kind="conv", rngs=rngs)
        self.readout_scale = _readout_scale(hardware, fan_in, out_channels)

    def synapse(self, x: Array, context: Context = Context()) -> Array:
        """Convolution, the layer's ``norm`` and pooling of ``x [T, B, H, W, C_in]`` -> currents
        ``[T, B, H', W', C_out]``.

        With ``hardware`` the kernel is unrolled onto crossbars as SpikeSim maps it: each output
        pixel's receptive field (``k^2 C_in`` inputs) drives the rows, one column per output channel.
        """
        if x.ndim < 4 or x.shape[-1] != self.in_channels:
            raise ValueError(f"x: shape {x.shape}; allowed: [T, B, H, W, {self.in_channels}] (NHWC, time-major).")
        bias = None if self.bias is None else self.bias[...]
        # max(y + b) = max(y) + b per channel, to the bit (rounding is monotone): with max pooling and no
        # norm between them, the bias joins the pooled currents (a window's worth fewer additions and
        # bias-gradient terms)
        pooled_bias = self.norm is None and self.pool == "max"
        early_bias = None if pooled_bias else bias
        if self.hardware is None:
            currents = ops.conv2d(x, self.kernel[...], early_bias, self.stride, self.padding)
        else:
            tiles, (out_h, out_w) = ops.patch_row_tiles(
                x, self.kernel_size, self.stride, self.padding, self.hardware.size
            )
            kernel = self.kernel[...].reshape(-1, self.out_channels)  # rows: (i, j, c), position-major
            products = self._on_crossbars(tiles, kernel, context)
            currents = ops.add_bias(products.reshape(x.shape[:-3] + (out_h, out_w, self.out_channels)), early_bias)
        currents = self._normalised(currents, context)
        if self.pool is not None:
            currents = ops.pool2d(currents, self.pool, self.pool_window)
        return ops.add_bias(currents, bias) if pooled_bias else currents

    def output_shape(self, in_shape: tuple[int, ...]) -> tuple[int, ...]:
        """Per-sample neuron shape after convolution and pooling (geometry of :func:`conv_workload`)."""
        return self.workload("conv", in_shape, 1, 1, True).out_shape

    def workload(self, name: str, in_shape, input_timesteps: int, timesteps: int, spiking_input: bool) -> LayerWorkload:
        """This layer's :class:`~hwsnn.structure.LayerWorkload` for a per-sample ``in_shape``."""
        if len(in_shape) != 3 or in_shape[-1] != self.in_channels:
            raise ValueError(f"{name}: input shape {tuple(in_shape)}; allowed: (H, W, {self.in_channels}).")
        return conv_workload(
            name,
            tuple(in_shape),
            self.out_channels,
            self.kernel_size,
            self.stride,
            self.padding,
            bias=self.bias is not None or self.norm is not None,
            pool=self.pool,
            pool_window=self.pool_window,
            input_timesteps=input_timesteps,
            timesteps=timesteps,
            spiking_input=spiking_input,
            spiking_output=self.spiking_output,
            **self._neuron_structure(),
        )


class Pool(Layer):
    """Max, average or sum pooling of ``[T, B, H, W, C]`` over non-overlapping ``window``-wide squares."""

    def __init__(self, kind: str, window: int = 2):
        if kind not in ops.POOLS:
            raise ValueError(f"kind: got {kind!r}; allowed: {list(ops.POOLS)}.")
        self.kind = kind
        self.window = positive_int(window, "window")

    def __call__(self, x: Array, context: Context = Context()) -> Array:
        """Pool ``[T, B, H, W, C]`` -> ``[T, B, H // w, W // w, C]``."""
        return ops.pool2d(x, self.kind, self.window)

    def step(self, state, x_t: Array, context: Context = Context()):
        """One timestep (stateless): pool ``x_t [B, H, W, C]``."""
        return state, ops.pool2d(x_t, self.kind, self.window)

    def output_shape(self, in_shape: tuple[int, ...]) -> tuple[int, ...]:
        """``(H // w, W // w, C)``."""
        height, width, channels = in_shape
        if self.window > min(height, width):
            raise ValueError(
                f"window: got {self.window} for a {height}x{width} map; allowed: at most {min(height, width)}."
            )
        return (height // self.window, width // self.window, channels)


class Flatten(Layer):
    """``[T, B, ...] -> [T, B, prod(...)]``."""

    def __call__(self, x: Array, context: Context = Context()) -> Array:
        """``[T, B, ...] -> [T, B, prod(...)]``."""
        return x.reshape(x.shape[:2] + (-1,))

    def step(self, state, x_t: Array, context: Context = Context()):
        """One timestep (stateless): ``[B, ...] -> [B, prod(...)]``."""
        return state, x_t.reshape(x_t.shape[:1] + (-1,))

    def output_shape(self, in_shape: tuple[int, ...]) -> tuple[int, ...]:
        """``(prod(in_shape),)``."""
        return (math.prod(in_shape),)


class Dropout(Layer):
    """Dropout of ``[T, B, ...]`` (spikes, usually) with explicit keys: in training (``Context.training``)
    each input position of each sample is zeroed with probability ``rate`` and the rest scaled by
    ``1 / (1 - rate)``, one mask for all timesteps (SpikingJelly's ``layer.Dropout`` convention: a
    dropped neuron stays dropped for the whole sample); at inference it passes ``x`` through. The mask
    is drawn from the layer's key (``model(x, key=...)``, required in training)."""

    def __init__(self, rate: float):
        self.rate = fraction(rate, "rate")

    def _mask(self, shape: tuple[int, ...], dtype, context: Context) -> Array:
        if context.key is None:
            raise ValueError("key: Dropout in training needs a jax.random key (model(x, key=..., training=True)).")
        keep = jax.random.bernoulli(context.key, 1.0 - self.rate, shape)
        return keep.astype(dtype) / (1.0 - self.rate)

    def __call__(self, x: Array, context: Context = Context()) -> Array:
        """``x [T, B, ...]`` times one mask ``[B, ...]`` in training; ``x`` at inference."""
        if not context.training or self.rate == 0.0:
            return x
        return x * self._mask(x.shape[1:], x.dtype, context)[None]

    def step(self, state, x_t: Array, context: Context = Context()):
        """One timestep (stateless): the same mask at every step (drawn from the same key)."""
        if not context.training or self.rate == 0.0:
            return state, x_t
        return state, x_t * self._mask(x_t.shape, x_t.dtype, context)

    def output_shape(self, in_shape: tuple[int, ...]) -> tuple[int, ...]:
        """The input shape."""
        return tuple(in_shape)
