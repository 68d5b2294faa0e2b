"""The SNN container: runs layers multi-step and returns ``(output, Activity)``."""

from __future__ import annotations

from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from hwsnn.hardware.crossbar import check_strength
from hwsnn.layers.modules import Context, Layer, SynapticLayer
from hwsnn.layers.neurons import Neurons
from hwsnn.layers.ops import events_per_channel, events_per_step, repeat_over_time, weighted_events
from hwsnn.layers.residual import Residual
from hwsnn.neurons.base import check_remat, scan_steps
from hwsnn.neurons.timesteps import resample, resample_matrix, step_count, step_mask
from hwsnn.structure import Activity, LayerActivity, Workload
from hwsnn.typing import Array


class SNN(nnx.Module):
    """A stack of layers run layer by layer over all timesteps.

    Args:
      layers: spiking layers (:class:`SpikingDense`, :class:`SpikingConv`, readouts), structural
        ones (:class:`Pool`, :class:`Flatten`, :class:`Dropout`) and residual blocks
        (:class:`~hwsnn.layers.SpikingResidual`, :class:`~hwsnn.layers.SEWResidual`: a body and a skip
        connection; they need one fixed T and run layer by layer).
      input_shape: per-sample input shape, e.g. ``(28, 28, 1)`` or ``(784,)``.
      timesteps: the number of timesteps: one int for every layer, or one per synaptic layer
        (``T_l``, LD-SNN). The input has ``T_1`` steps; before each later synaptic layer the spikes
        are resampled from ``T_(l-1)`` to ``T_l`` steps (:func:`hwsnn.neurons.resample`, count-preserving).
      learn_timesteps: make each layer's count a parameter ``step_counts`` (``nnx.Param [L]``,
        initialised to ``timesteps``, which become the maxima): layer ``l`` runs its first
        ``round(step_counts[l])`` steps (a hard mask, straight-through gradient:
        :func:`hwsnn.neurons.step_mask`), its input resampled from the previous layer's count; the
        masks go into the activity, so every cost model reads the counts. The first layer's input
        is truncated to its count (an encoder run for that many steps), not compressed.
      spiking_input: whether the input is spikes (rate/latency code) or analog (direct code);
        recorded in the workload, where it decides MAC vs accumulate for the first layer.
      execution: "layer" runs each layer over all timesteps before the next (one batched
        matmul/conv over ``T x B`` per layer, then a scan over T); "time" runs one scan over T
        whose body steps every layer. Both compute the same function and hand every layer the same
        :class:`~hwsnn.layers.Context` (key, hardware strength, training). "auto" (default) picks "time"
        for all-dense models without crossbars or batch norm, where it measured faster in the backward pass on
        CPU (``benchmarks/bench_train_step.py``), and "layer" otherwise. "time" is refused for
        crossbar layers (a crossbar is programmed once per forward pass and reads all timesteps in
        one call: per-step reads would redraw its noise differently), for batch norm (its statistics
        span the time axis) and for per-layer or learned
        timesteps (their resampling and step masks act on whole time axes).
      remat: ``None``, or checkpoint every scan over time (the neurons' in "layer" order, the whole
        step's in "time" order) in chunks of ``remat`` steps: the backward pass keeps the state at
        each chunk boundary and recomputes the chunk's steps (:func:`~hwsnn.neurons.base.scan_steps`),
        for BPTT at long T in memory of about ``T / remat + remat`` steps instead of ``T``
        (``benchmarks/bench_memory.py``). Same outputs and gradients.

    Calling the model: ``model(x, key=None, hardware_strength=1.0, training=False, calibrate=False)``; ``key``
    (required when a layer has ``hardware`` or drops out in training) draws the crossbars'
    programming and read noise and dropout masks, ``hardware_strength`` (a scalar in [0, 1] or a
    :class:`~hwsnn.hardware.crossbar.HardwareStrength`) scales the crossbars' non-idealities
    (progressive hardware awareness), ``training`` puts batch norm on batch statistics (moving its
    running ones) and dropout on, and ``training`` or ``calibrate`` lets sense-amplifier crossbars
    measure their scales (:class:`~hwsnn.layers.readout_scale.ReadoutScale`).

    ``x`` may also be ``[1, B, *input_shape]``: the same input at every step (a direct code,
    :func:`hwsnn.encoding.direct`), repeated over T. A first synaptic layer without crossbar or
    batch norm then computes its synaptic currents once and repeats them (T times less work there,
    the same values); anything else before or in that layer reads the repeated input.

    Calling the model on ``x [T, B, *input_shape]`` returns ``(output, activity)``: the last
    layer's output ``[T, B, ...]`` and an :class:`Activity` with one entry per synaptic layer.
    """

    def __init__(
        self,
        layers: Sequence[nnx.Module],
        input_shape: Sequence[int],
        timesteps: int | Sequence[int],
        *,
        spiking_input: bool = False,
        execution: str = "auto",
        learn_timesteps: bool = False,
        remat: int | None = None,
    ):
        check_remat(remat)
        if execution not in EXECUTIONS:
            raise ValueError(f"execution: got {execution!r}; allowed: {list(EXECUTIONS)}.")
        if not layers:
            raise ValueError("layers: got an empty sequence; allowed: at least one synaptic layer.")
        for index, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise ValueError(
                    f"layers[{index}]: got {type(layer).__name__}; allowed: a hwsnn.layers.Layer "
                    "(SpikingDense, SpikingConv, Pool, Flatten, a residual block, or your own subclass)."
                )
        blocks = [layer for layer in layers if isinstance(layer, Residual)]
        synaptic = sum(
            len(layer.synaptic_layers) if isinstance(layer, Residual) else int(layer.synaptic) for layer in layers
        )
        per_layer = (
            (timesteps,) * synaptic
            if isinstance(timesteps, int) and not isinstance(timesteps, bool)
            else tuple(timesteps)
        )
        if len(per_layer) != synaptic or not all(
            isinstance(t, int) and not isinstance(t, bool) and t >= 1 for t in per_layer
        ):
            raise ValueError(
                f"timesteps: got {timesteps!r}; allowed: an int >= 1, or one int >= 1 per synaptic layer ({synaptic})."
            )
        uniform = len(set(per_layer)) == 1
        if execution == "time" and (learn_timesteps or not uniform):
            raise ValueError(
                f"execution: got 'time' with timesteps {per_layer} and learn_timesteps={learn_timesteps}; "
                "allowed: 'layer' or 'auto' for per-layer or learned timesteps."
            )
        if execution == "time" and any(layer.hardware is not None for layer in layers):
            raise ValueError(
                "execution: got 'time' for a model with crossbar layers (hardware=CrossbarSpec); "
                "allowed: 'layer' or 'auto' (a crossbar reads all its timesteps in one call)."
            )
        if blocks and (learn_timesteps or not uniform):
            raise ValueError(
                f"timesteps: got {per_layer} with learn_timesteps={learn_timesteps} for a model with residual "
                "blocks; allowed: one fixed T (both paths of a block must run the same steps)."
            )
        if execution == "time" and blocks:
            raise ValueError("execution: got 'time' for a model with residual blocks; allowed: 'layer' or 'auto'.")
        if execution == "time" and any(layer.norm is not None for layer in layers):
            raise ValueError(
                "execution: got 'time' for a model with batch norm (norm=TdBN or BNTT); "
                "allowed: 'layer' or 'auto' (its statistics span the time axis)."
            )
        self.layers = nnx.List(list(layers))
        self.input_shape = tuple(int(d) for d in input_shape)
        self.layer_timesteps = per_layer
        self.timesteps = per_layer[0]  # of the input
        self.spiking_input = bool(spiking_input)
        self.execution = execution
        self.learn_timesteps = bool(learn_timesteps)
        self.remat = remat
        for _, module in nnx.iter_graph(self.layers):
            if isinstance(module, Neurons):
                module.remat = remat
        if self.learn_timesteps:
            self.step_counts = nnx.Param(jnp.asarray(per_layer, jnp.float32))
        self.workload  # derive once now: shape errors surface at construction

    def fold_norms(self) -> "SNN":
        """A copy with every synaptic layer's batch norm folded into its weights
        (:meth:`~hwsnn.layers.SynapticLayer.fold_norm`): the network inference hardware runs and the
        cost models read."""
        folded = nnx.clone(self)
        folded.layers = nnx.List([layer.fold_norm() for layer in folded.layers])
        return folded

    @property
    def resolved_execution(self) -> str:
        """The execution order actually used ("layer" or "time")."""
        if self.execution != "auto":
            return self.execution
        all_dense = all(layer.kind == "dense" for layer in self.workload.layers)
        has_hardware = any(
            layer.hardware is not None or layer.norm is not None or isinstance(layer, Residual) for layer in self.layers
        )
        uniform = len(set(self.layer_timesteps)) == 1 and not self.learn_timesteps
        return "time" if all_dense and not has_hardware and uniform else "layer"

    def active_timesteps(self) -> tuple[int, ...]:
        """The steps each synaptic layer runs: its ``T_l``, or ``round(step_counts)`` when learned."""
        if not self.learn_timesteps:
            return self.layer_timesteps
        counts = jax.device_get(self.step_counts[...])
        return tuple(int(step_count(c, t)) for c, t in zip(counts, self.layer_timesteps))

    def layer_shapes(self) -> list[tuple[int, ...]]:
        """Per-sample output shape of every layer."""
        shapes, shape = [], self.input_shape
        for layer in self.layers:
            shape = layer.output_shape(shape)
            shapes.append(shape)
        return shapes

    @property
    def workload(self) -> Workload:
        """The static per-layer :class:`Workload`, derived from shapes: every synaptic layer in the order
        the model runs them (a residual block's shortcut, then its body) and every residual addition."""
        shape, spiking, entries, adds = self.input_shape, self.spiking_input, [], []
        for layer in self.layers:
            if isinstance(layer, Residual):
                block, add, shape = layer.structure(
                    f"add{len(adds)}", shape, self.timesteps, spiking, first=len(entries)
                )
                entries, adds, spiking = entries + block, adds + [add], True
                continue
            if layer.synaptic:
                steps = self.layer_timesteps[len(entries)]
                entries.append(layer.workload(f"layer{len(entries)}", shape, steps, steps, spiking))
                spiking = layer.spiking_output
            shape = layer.output_shape(shape)
        if not entries:
            raise ValueError("layers: no synaptic layer; allowed: at least one dense or conv layer.")
        return Workload(tuple(entries), tuple(adds))

    def check_input(self, x: Array) -> None:
        """Raise ``ValueError`` unless ``x`` is ``[T, B, *input_shape]`` with this model's T, or
        ``[1, B, *input_shape]`` (the same input at every step), float32, and (where its values are known,
        outside ``jit``) finite."""
        expected = (self.timesteps, "B") + self.input_shape
        if (
            x.ndim != len(self.input_shape) + 2
            or x.shape[0] not in (1, self.timesteps)
            or tuple(x.shape[2:]) != self.input_shape
        ):
            raise ValueError(
                f"x: shape {tuple(x.shape)}; allowed: {expected} (time-major), or a time axis of 1 for "
                "the same input at every step."
            )
        if x.dtype != jnp.float32:
            raise ValueError(
                f"x: dtype {x.dtype}; allowed: float32, the parameters' dtype (spikes as 0.0/1.0; cast "
                "with x.astype(jnp.float32))."
            )
        if not isinstance(x, jax.core.Tracer):  # a traced input's values are not known here
            bad = int(np.sum(~np.isfinite(np.asarray(x))))  # numpy: never staged into a surrounding trace
            if bad:
                raise ValueError(
                    f"x: {bad} NaN or infinite values; allowed: finite inputs (a NaN input would give no spike "
                    "and NaN activity)."
                )

    def _enter(self, x: Array, synaptic: int, previous) -> tuple[Array, Array, Array | None, Array | None]:
        """Synaptic layer ``synaptic``'s input at its timesteps, its events per step and channel (before
        the step mask), and with learned timesteps its step mask and step count (``previous``: the
        preceding layer's count, ``None`` at the network input)."""
        length = self.layer_timesteps[synaptic]
        if not self.learn_timesteps:
            x = x if x.shape[0] == length else resample(x, length)
            return x, events_per_channel(x), None, None
        tau = self.step_counts[...][synaptic]
        mask, count = step_mask(tau, length), step_count(tau, length)
        if previous is None:  # the network input: truncated to the first layer's count
            return x * jax.lax.stop_gradient(_along_time(mask, x)), events_per_channel(x), mask, count
        x = jnp.tensordot(resample_matrix(previous, count, x.shape[0], length).astype(x.dtype), x, axes=(1, 0))
        return x, events_per_channel(x), mask, count

    def _fan_out_maps(self) -> list:
        """Each synaptic layer's per-position fan-out (:meth:`~hwsnn.structure.LayerWorkload.fan_out_map`)
        where it varies with position (conv), else ``None`` (dense: every event reaches ``F_out``)."""
        return [layer.fan_out_map() if layer.kind == "conv" else None for layer in self.workload]

    def _layer_by_layer(self, x: Array, context: Context) -> tuple[list[Array], Activity]:
        outputs, count, recorder = [], None, Recorder(self._fan_out_maps())
        once = x.shape[0] != self.timesteps  # [1, B, ...]: one step standing for every step (a direct code)
        for index, layer in enumerate(self.layers):
            layer_context = context.for_layer(index)
            if once and not (isinstance(layer, SynapticLayer) and not self.learn_timesteps):
                x, once = repeat_over_time(x, self.timesteps), False
            if once:  # the first synaptic layer reads the step once (SynapticLayer's ``steps``)
                events = repeat_over_time(events_per_channel(x), self.timesteps)
                x, once = recorder.synaptic(layer, x, layer_context, events=events, steps=self.timesteps), False
            elif layer.synaptic:
                x, events, mask, count = self._enter(x, len(recorder.layers), count)
                x = recorder.synaptic(layer, x, layer_context, events=events, mask=mask)
            elif isinstance(layer, Residual):
                x = layer.run(x, layer_context, recorder)
            else:
                x = layer(x, layer_context)
            outputs.append(x)
        return outputs, recorder.activity()

    def _time_major(self, x: Array, context: Context, keep_all: bool) -> tuple[list[Array], Activity]:
        batch = x.shape[1]
        states = [layer.init_state(batch, shape, x.dtype) for layer, shape in zip(self.layers, self.layer_shapes())]
        contexts = [context.for_layer(index) for index in range(len(self.layers))]
        synaptic_maps = self._fan_out_maps()
        starts = [sum(1 for earlier in self.layers[:index] if earlier.synaptic) for index in range(len(self.layers))]
        fan_outs = [synaptic_maps[start] if layer.synaptic else None for layer, start in zip(self.layers, starts)]

        def body(states, x_t):
            new_states, outputs, events, spikes, updates = [], [], [], [], []
            for layer, state, layer_context, fan_out in zip(self.layers, states, contexts, fan_outs):
                if layer.synaptic:
                    events.append(events_per_channel(x_t[None])[0])
                    updates.append(None if fan_out is None else weighted_events(x_t[None], fan_out)[0])
                state, y_t = layer.step(state, x_t, layer_context)
                if layer.synaptic:
                    spikes.append(_output_spikes(layer, y_t[None])[0])
                new_states.append(state)
                outputs.append(y_t)
                x_t = y_t
            return new_states, (outputs if keep_all else outputs[-1:], events, spikes, updates)

        _, (outputs, events, spikes, updates) = scan_steps(body, states, x, self.remat)
        return outputs, Activity(
            tuple(LayerActivity(jnp.sum(e, axis=1), s, e, None, u) for e, s, u in zip(events, spikes, updates))
        )

    def _run(self, x: Array, key, strength, training, calibrate, keep_all: bool) -> tuple[list[Array], Activity]:
        self.check_input(x)
        check_strength(strength)
        context = Context(key, strength, bool(training), bool(calibrate))
        if self.resolved_execution == "time":
            return self._time_major(repeat_over_time(x, self.timesteps), context, keep_all)
        return self._layer_by_layer(x, context)

    def layer_outputs(
        self, x: Array, *, key=None, hardware_strength=1.0, training: bool = False, calibrate: bool = False
    ) -> tuple[list[Array], Activity]:
        """Every layer's output ``[T, B, ...]`` (for rasters and probes) and the activity."""
        return self._run(x, key, hardware_strength, training, calibrate, keep_all=True)

    def __call__(
        self, x: Array, *, key=None, hardware_strength=1.0, training: bool = False, calibrate: bool = False
    ) -> tuple[Array, Activity]:
        outputs, activity = self._run(x, key, hardware_strength, training, calibrate, keep_all=False)
        return outputs[-1], activity


EXECUTIONS = ("auto", "time", "layer")


class Recorder:
    """Runs the synaptic layers of a layer-by-layer pass (the container's and its residual blocks')
    and records their :class:`LayerActivity` in run order, and each residual addition's operand.

    ``fan_outs``: each synaptic layer's fan-out map, or ``None`` (see ``SNN._fan_out_maps``)."""

    def __init__(self, fan_outs: list):
        self.fan_outs, self.layers, self.adds = fan_outs, [], []

    def _inputs(self, x: Array, events: Array | None) -> tuple[Array, Array | None]:
        fan_out = self.fan_outs[len(self.layers)]
        return (events_per_channel(x) if events is None else events), None if fan_out is None else weighted_events(
            x, fan_out
        )

    def synaptic(
        self,
        layer,
        x: Array,
        context: Context,
        added: Array | None = None,
        *,
        events: Array | None = None,
        mask: Array | None = None,
        steps: int | None = None,
    ) -> Array:
        """Run ``layer`` on ``x`` (``added`` joins its currents before its neurons) and record its
        activity; ``events`` (the input's events per step and channel) and ``mask`` (learned timesteps'
        step mask) come from the container where it resampled or truncated the input; ``steps``: ``x``
        is one step standing for each of that many (:class:`~hwsnn.layers.modules.SynapticLayer`)."""
        events, updates = self._inputs(x, events)
        if steps is None:
            y = layer(x, context, added)
        else:
            y = layer(x, context, added, steps=steps)
            updates = None if updates is None else repeat_over_time(updates, steps)
        spikes = _output_spikes(layer, y)
        if mask is not None:  # counts scale with the mask: smooth in tau for the relaxed objective
            events, spikes, y = events * mask[:, None], spikes * mask, y * _along_time(mask, y)
            updates = None if updates is None else updates * mask
        self.layers.append(LayerActivity(jnp.sum(events, axis=1), spikes, events, mask, updates))
        return y

    def currents(self, layer, x: Array, context: Context) -> Array:
        """A projection's synaptic currents for ``x`` (its neurons do not run), recorded with no spikes."""
        events, updates = self._inputs(x, None)
        self.layers.append(
            LayerActivity(jnp.sum(events, axis=1), jnp.zeros(x.shape[0], x.dtype), events, None, updates)
        )
        return layer.synapse(x, context)

    def add(self, operand: Array) -> None:
        """Record a residual addition of ``operand [T, B, ...]``: its nonzero entries per step."""
        self.adds.append(events_per_step(operand))

    def activity(self) -> Activity:
        """What was recorded, as an :class:`Activity`."""
        return Activity(tuple(self.layers), tuple(self.adds))


def _along_time(mask: Array, x: Array) -> Array:
    """``mask [T]`` shaped to broadcast over ``x [T, B, ...]``."""
    return mask.reshape((-1,) + (1,) * (x.ndim - 1)).astype(x.dtype)


def _output_spikes(layer, y: Array) -> Array:
    """Batch-mean output spikes per timestep of a synaptic layer (zeros for a membrane readout)."""
    return events_per_step(y) if layer.spiking_output else jnp.zeros(y.shape[0], y.dtype)
