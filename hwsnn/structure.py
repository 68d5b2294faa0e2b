"""The neutral bookkeeping that layers produce and hardware models read: :class:`Workload`,
:class:`Activity` and the per-layer step counts. Layers and hardware both import this module; it
imports neither.

**Workload.** A :class:`Workload` is derived once from layer shapes (never from data) and holds, per
synaptic layer, its kind, shapes, kernel, stride, padding, pooling, fan-in, mean fan-out per
input event, weight count, neuron count and timesteps. It is a frozen, hashable Python value,
so it can be a static argument of ``jit``.

Counting conventions (checked by hand in ``tests/hardware/test_workload.py``):

* ``macs``: dense multiply-accumulates per sample and timestep, the ANN convention
  ``H_out W_out C_out k^2 C_in`` for conv (padded positions included) and ``F_in F_out`` for dense.
* ``connections``: (input, output) pairs that touch a real (unpadded) input. Per spatial axis,
  input index ``i`` reaches ``n_i`` output positions; ``connections = C_in C_out sum_i n_i sum_j n_j``.
  An all-ones input causes exactly ``connections`` synaptic updates.
* ``fan_out_per_event = connections / prod(in_shape)``: synaptic updates per input event, averaged
  over input positions (exact for uniformly placed events). Models record each event's real fan-out
  (:meth:`LayerWorkload.fan_out_map`) in :attr:`LayerActivity.synaptic_updates`.

**Activity.** The per-layer activity of a forward pass (batch-mean spikes and events per timestep):
what the cost models read besides the workload.
"""

from __future__ import annotations

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np

from hwsnn import checks
from hwsnn.typing import PerTimestep

Padding = tuple[tuple[int, int], tuple[int, int]]


def conv_geometry(size: int, kernel: int, stride: int, padding) -> tuple[int, tuple[int, int]]:
    """Output length and ``(pad_before, pad_after)`` of a 1-D convolution axis.

    "SAME": ``out = ceil(size / stride)``, total pad ``max((out - 1) stride + kernel - size, 0)``,
    the extra pixel after (XLA's convention). "VALID": ``out = floor((size - kernel) / stride) + 1``.
    Explicit ``(before, after)``: ``out = floor((size + before + after - kernel) / stride) + 1``.
    """
    if padding == "SAME":
        out = -(-size // stride)
        total = max((out - 1) * stride + kernel - size, 0)
        pads = (total // 2, total - total // 2)
    elif padding == "VALID":
        pads = (0, 0)
    else:
        pads = tuple(padding)
    out = (size + pads[0] + pads[1] - kernel) // stride + 1
    if out < 1:
        raise ValueError(
            f"kernel_size: {kernel} with stride {stride} and padding {pads} leaves no output on an "
            f"axis of size {size}; allowed: a kernel that fits the padded input."
        )
    return out, pads


def outputs_reached(size: int, kernel: int, stride: int, pads: tuple[int, int], out: int) -> tuple[int, ...]:
    """For each real input position ``i`` of a 1-D convolution axis, the number of output positions
    whose window contains ``i`` (at most ``ceil(kernel / stride)``; fewer near a border)."""
    reached = [0] * size
    for o in range(out):
        start = o * stride - pads[0]
        for i in range(max(start, 0), min(start + kernel, size)):
            reached[i] += 1
    return tuple(reached)


@dataclasses.dataclass(frozen=True)
class NeuronCounts:
    """What one neuron update costs, for the hardware models: ``states`` state variables read and
    written per update (membrane, synaptic current, adaptation trace, ...) and ``ops`` arithmetic
    operations (multiplies, adds, subtracts, compares) per update. Each neuron class declares its own
    (:class:`hwsnn.neurons.Neuron`); :data:`LIF_COUNTS` is the reference the cost presets were
    calibrated on."""

    states: int
    ops: int


LIF_COUNTS = NeuronCounts(states=1, ops=4)
"""LIF: one membrane; ``beta v`` (multiply), ``+ I`` (add), ``- r theta`` (subtract), ``v > theta`` (compare)."""


@dataclasses.dataclass(frozen=True)
class LayerWorkload:
    """Static structure of one synaptic layer (see module doc for the counting conventions)."""

    name: str
    kind: str  # "dense" or "conv"
    in_shape: tuple[int, ...]  # per sample: (F,) or (H, W, C)
    synapse_shape: tuple[int, ...]  # synaptic output before pooling
    out_shape: tuple[int, ...]  # neuron shape (after pooling)
    kernel_size: int
    stride: int
    padding: Padding
    pool: str | None
    pool_window: int
    fan_in: int
    fan_out_per_event: float
    weights: int
    biases: int
    neurons: int
    macs: int
    connections: int
    input_timesteps: int
    timesteps: int
    spiking_input: bool
    spiking_output: bool
    neuron: NeuronCounts = LIF_COUNTS
    recurrent_fan_out: int = 0  # synaptic updates per output spike fed back into the layer (all-to-all: neurons)
    shortcut: bool = False  # a residual block's projection shortcut (off the main path)

    @property
    def out_channels(self) -> int:
        """Output channels of the synaptic operation (``F_out`` for dense)."""
        return self.synapse_shape[-1]

    def fan_out_map(self) -> np.ndarray:
        """Synaptic updates one input event causes, by where it falls: ``[F_in]`` (``F_out`` each) for
        dense; ``[H, W, 1]`` for conv, ``n_h(i) n_w(j) C_out`` with ``n`` the output positions whose
        window holds input row ``i`` / column ``j`` (:func:`outputs_reached`). Fewer at a padded border
        than inside; the per-spike count of NeuroBench and SpikingJelly (a convolution of the spikes with
        an all-ones kernel). Its mean over input positions is :attr:`fan_out_per_event`."""
        if self.kind == "dense":
            return np.full(self.in_shape, float(self.out_channels), np.float32)
        (height, width, _), (out_h, out_w, _) = self.in_shape, self.synapse_shape
        rows = outputs_reached(height, self.kernel_size, self.stride, self.padding[0], out_h)
        columns = outputs_reached(width, self.kernel_size, self.stride, self.padding[1], out_w)
        return (np.outer(rows, columns) * self.out_channels).astype(np.float32)[:, :, None]


@dataclasses.dataclass(frozen=True)
class AddWorkload:
    """Static structure of one residual addition (a skip connection's merge).

    ``operand`` is what the shortcut carries and the hardware adds, element by element, at every
    timestep: "spikes" (an identity shortcut, or a SEW projection's spikes: one add per event) or
    "currents" (a spiking-ResNet projection's synaptic currents: one add per nonzero current, and the
    currents are buffered between the projection and the add). ``into`` is where it lands: "currents"
    of synaptic layer ``layer`` before its neurons (spiking ResNet, Hu et al. 2021 / Zheng et al. 2021)
    or that layer's output "spikes" (SEW ResNet, Fang et al. 2021). ``shape``: per-sample shape of the
    added tensors; ``timesteps``: steps it runs."""

    name: str
    shape: tuple[int, ...]
    timesteps: int
    layer: int
    operand: str  # "spikes" or "currents"
    into: str  # "currents" or "spikes"

    @property
    def elements(self) -> int:
        """Added elements per sample and timestep."""
        return math.prod(self.shape)


@dataclasses.dataclass(frozen=True)
class Workload:
    """The static structure of a model: one :class:`LayerWorkload` per synaptic layer, in the order
    the model runs them, and one :class:`AddWorkload` per residual addition (``adds``)."""

    layers: tuple[LayerWorkload, ...]
    adds: tuple[AddWorkload, ...] = ()

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, index: int) -> LayerWorkload:
        return self.layers[index]

    def __iter__(self):
        return iter(self.layers)

    def without_shortcuts(self) -> "Workload":
        """The main path alone: no projection shortcuts and no residual additions. This is how
        SATA_Sim's and SpikeSim's published workload files list a ResNet (SATA_Sim, RuokaiYin/SATA_Sim
        ``inference-energy-cal/workloads/icassp/``), so
        costing it reproduces their accounting; the full workload is hwsnn's."""
        return Workload(tuple(layer for layer in self.layers if not layer.shortcut))

    def at_timesteps(self, timesteps: int) -> "Workload":
        """The same network run for ``timesteps`` steps in every layer and addition (an iso-work SNN
        baseline, :class:`~hwsnn.hardware.baselines.IsoWorkSNN`).

        Raises:
          ValueError: ``timesteps`` is not an int >= 1.
        """
        checks.int_at_least(timesteps, "timesteps", 1)
        return Workload(
            tuple(dataclasses.replace(layer, input_timesteps=timesteps, timesteps=timesteps) for layer in self.layers),
            tuple(dataclasses.replace(add, timesteps=timesteps) for add in self.adds),
        )

    @property
    def weights(self) -> int:
        """Synaptic weights of all layers (biases excluded)."""
        return sum(layer.weights for layer in self.layers)

    @property
    def neurons(self) -> int:
        """Neurons of all layers, ``sum_l N_l``."""
        return sum(layer.neurons for layer in self.layers)

    @property
    def macs(self) -> int:
        """Dense MACs of one ANN pass of the same architecture (per sample)."""
        return sum(layer.macs for layer in self.layers)


def dense_workload(
    name: str,
    in_features: int,
    out_features: int,
    *,
    bias: bool,
    input_timesteps: int,
    timesteps: int,
    spiking_input: bool,
    spiking_output: bool,
    neuron: NeuronCounts = LIF_COUNTS,
    recurrent_fan_out: int = 0,
) -> LayerWorkload:
    """Workload of a fully connected layer ``F_in -> F_out``."""
    return LayerWorkload(
        name=name,
        kind="dense",
        in_shape=(in_features,),
        synapse_shape=(out_features,),
        out_shape=(out_features,),
        kernel_size=1,
        stride=1,
        padding=((0, 0), (0, 0)),
        pool=None,
        pool_window=1,
        fan_in=in_features,
        fan_out_per_event=float(out_features),
        weights=in_features * out_features,
        biases=out_features if bias else 0,
        neurons=out_features,
        macs=in_features * out_features,
        connections=in_features * out_features,
        input_timesteps=input_timesteps,
        timesteps=timesteps,
        spiking_input=spiking_input,
        spiking_output=spiking_output,
        neuron=neuron,
        recurrent_fan_out=recurrent_fan_out,
    )


def conv_workload(
    name: str,
    in_shape: tuple[int, int, int],
    out_channels: int,
    kernel_size: int,
    stride: int,
    padding,
    *,
    bias: bool,
    pool: str | None,
    pool_window: int,
    input_timesteps: int,
    timesteps: int,
    spiking_input: bool,
    spiking_output: bool,
    neuron: NeuronCounts = LIF_COUNTS,
    recurrent_fan_out: int = 0,
) -> LayerWorkload:
    """Workload of a 2-D convolution (NHWC), optionally followed by VALID pooling."""
    height, width, in_channels = in_shape
    out_h, pads_h = conv_geometry(height, kernel_size, stride, padding if isinstance(padding, str) else padding[0])
    out_w, pads_w = conv_geometry(width, kernel_size, stride, padding if isinstance(padding, str) else padding[1])
    reach = sum(outputs_reached(height, kernel_size, stride, pads_h, out_h)) * sum(
        outputs_reached(width, kernel_size, stride, pads_w, out_w)
    )
    connections = in_channels * out_channels * reach
    if pool is None:
        neuron_shape = (out_h, out_w, out_channels)
    else:
        if pool_window > min(out_h, out_w):
            raise ValueError(
                f"pool_window: got {pool_window} for a {out_h}x{out_w} map; allowed: at most {min(out_h, out_w)}."
            )
        neuron_shape = (out_h // pool_window, out_w // pool_window, out_channels)
    return LayerWorkload(
        name=name,
        kind="conv",
        in_shape=tuple(in_shape),
        synapse_shape=(out_h, out_w, out_channels),
        out_shape=neuron_shape,
        kernel_size=kernel_size,
        stride=stride,
        padding=(pads_h, pads_w),
        pool=pool,
        pool_window=pool_window,
        fan_in=kernel_size * kernel_size * in_channels,
        fan_out_per_event=connections / (height * width * in_channels),
        weights=kernel_size * kernel_size * in_channels * out_channels,
        biases=out_channels if bias else 0,
        neurons=math.prod(neuron_shape),
        macs=out_h * out_w * out_channels * kernel_size * kernel_size * in_channels,
        connections=connections,
        input_timesteps=input_timesteps,
        timesteps=timesteps,
        spiking_input=spiking_input,
        spiking_output=spiking_output,
        neuron=neuron,
        recurrent_fan_out=recurrent_fan_out,
    )


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class LayerActivity:
    """Activity of one synaptic layer, batch-mean, per timestep.

    Attributes:
      input_events: ``[T_in]`` nonzero inputs per timestep (events the synapses process).
      output_spikes: ``[T_l]`` output spikes per timestep (zeros for a membrane readout).
      channel_events: ``[T_in, C_in]`` nonzero inputs per timestep and input channel (summed
        over positions), or ``None``. A crossbar row holds one input channel at one kernel
        position, so this is the per-crossbar-row activity the IMC cost model's event mode reads.
      step_mask: ``[T_l]`` which of the layer's steps run (1) or are skipped (0), or ``None`` (all
        run). Set by learned timesteps (:func:`hwsnn.neurons.step_mask`, straight-through gradient);
        every cost model reads the layer's step count from it.
      synaptic_updates: ``[T_in]`` synaptic updates per timestep, each input event counted with its
        real fan-out (:meth:`LayerWorkload.fan_out_map`: fewer outputs at a conv map's border), or
        ``None``: ``input_events x fan_out_per_event``, exact where every event has the same fan-out
        (dense layers) or events are uniformly placed (an activity built from firing rates). Models
        record it for conv layers; :meth:`updates` reads either.

    All are sums of surrogate-carrying spikes, so they are differentiable with respect to the
    weights of this and every earlier layer.
    """

    input_events: PerTimestep
    output_spikes: PerTimestep
    channel_events: jax.Array | None = None
    step_mask: PerTimestep | None = None
    synaptic_updates: PerTimestep | None = None

    def updates(self, layer: LayerWorkload) -> PerTimestep:
        """``[T_in]`` synaptic updates per timestep of ``layer``'s synapses (see ``synaptic_updates``)."""
        if self.synaptic_updates is not None:
            return self.synaptic_updates
        return self.input_events * layer.fan_out_per_event


def layer_steps(layer, act: LayerActivity):
    """The number of steps layer ``layer`` (a :class:`~hwsnn.hardware.LayerWorkload`) runs: ``sum(step_mask)``
    for learned timesteps (differentiable), else the workload's ``T_l``."""
    return layer.timesteps if act.step_mask is None else jnp.sum(act.step_mask)


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class Activity:
    """The activity of every synaptic layer of a model, in order, and of every residual addition
    (``adds``: ``[T]`` batch-mean nonzero shortcut operands added per timestep, straight-through
    counts as :func:`hwsnn.layers.ops.events_per_step`, one per :attr:`Workload.adds`). A plain pytree."""

    layers: tuple[LayerActivity, ...]
    adds: tuple[PerTimestep, ...] = ()

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, index: int) -> LayerActivity:
        return self.layers[index]

    @classmethod
    def from_rates(cls, workload: Workload, input_rates, output_rates=None, add_rates=None) -> "Activity":
        """The activity of ``workload`` at given firing rates, to cost a network without running it.

        ``input_rates``: the fraction of each synaptic layer's inputs that are events at each step (one
        number for every layer, or one per layer; ``1 - s`` for a published input sparsity ``s``; 1 for an
        analog first layer, whose every input is nonzero). ``output_rates``: spikes per neuron per step
        (default: each layer's spikes are the next layer's input, so the next layer's input rate; the
        last layer's own input rate). Per step: ``input_events = r_in prod(in_shape)``, spread evenly over
        input channels; ``output_spikes = r_out N``. Events are taken as uniformly placed
        (``synaptic_updates = None``: ``fan_out_per_event`` per event). ``add_rates``: the fraction of
        each residual addition's operands that are nonzero (one number, or one per add; default: a
        spike operand at the input rate of the layer it adds into, a current operand 1). Differentiable
        in the rates.
        """
        if not isinstance(workload, Workload):
            raise ValueError(f"workload: got {type(workload).__name__}; allowed: a hwsnn Workload (model.workload).")
        count = len(workload)
        inputs = _per_layer_rates(input_rates, count, "input_rates")
        outputs = (
            jnp.concatenate([inputs[1:], inputs[-1:]])
            if output_rates is None
            else _per_layer_rates(output_rates, count, "output_rates")
        )
        layers = []
        for index, layer in enumerate(workload):
            size, channels = math.prod(layer.in_shape), layer.in_shape[-1]
            per_channel = jnp.full((layer.input_timesteps, channels), inputs[index] * size / channels)
            layers.append(
                LayerActivity(
                    jnp.sum(per_channel, axis=1),
                    jnp.full((layer.timesteps,), outputs[index] * layer.neurons),
                    per_channel,
                )
            )
        if add_rates is None:
            adds = jnp.asarray(
                [inputs[add.layer] if add.operand == "spikes" else 1.0 for add in workload.adds], jnp.float32
            )
        else:
            adds = _per_layer_rates(add_rates, len(workload.adds), "add_rates", "residual addition")
        return cls(
            tuple(layers),
            tuple(jnp.full((add.timesteps,), rate * add.elements) for add, rate in zip(workload.adds, adds)),
        )

    def total_add_events(self) -> jax.Array:
        """Total residual-addition operands of all adds over all timesteps (per sample)."""
        return sum((jnp.sum(events) for events in self.adds), jnp.zeros(()))

    def total_input_events(self) -> jax.Array:
        """Total input events of all layers over all timesteps (per sample)."""
        return sum(jnp.sum(layer.input_events) for layer in self.layers)

    def total_output_spikes(self) -> jax.Array:
        """Total output spikes of all layers over all timesteps (per sample)."""
        return sum(jnp.sum(layer.output_spikes) for layer in self.layers)

    def firing_rates(self, workload) -> jax.Array:
        """Per-layer output firing rate: spikes per neuron per timestep, ``[L]``."""
        return jnp.stack(
            [
                jnp.sum(act.output_spikes) / (layer.neurons * layer_steps(layer, act))
                if layer.neurons
                else jnp.zeros((), act.output_spikes.dtype)  # a projection into another layer's neurons
                for act, layer in zip(self.layers, workload.layers, strict=True)
            ]
        )


def _per_layer_rates(rates, count: int, name: str, entry: str = "synaptic layer") -> jax.Array:
    """``rates`` (one number, or one per ``entry``) as a ``[count]`` array; each in [0, 1]."""
    array = jnp.asarray(rates, jnp.float32)
    if array.ndim == 0:
        array = jnp.full((count,), array)
    if array.shape != (count,):
        raise ValueError(f"{name}: shape {array.shape}; allowed: one number, or one per {entry} ({count},).")
    if not isinstance(array, jax.core.Tracer) and not bool(jnp.all((array >= 0) & (array <= 1))):
        raise ValueError(f"{name}: got {np.asarray(array).tolist()}; allowed: rates in [0, 1].")
    return array
