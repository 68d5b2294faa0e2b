"""Event-driven (FPGA-style) accelerator, after the DATE 2024 authors' design.

Each layer compresses its input spike frame and iterates over the spike addresses; all its
neurons accumulate in parallel. Cycles of layer ``l`` at timestep ``t``::

    c_l[t] = events_l[t] x (address_cycles + accumulate_cycles x neurons_per_unit) + step_cycles

A recurrent layer also iterates over its own previous-step spikes (``events_l[t] + s_l[t-1]``).
Layers are double-buffered when ``pipelined``: layer ``l`` may start step ``t`` once it has
finished step ``t - 1`` and layer ``l - 1`` has finished step ``t``::

    F_l[t] = max(F_l[t-1], F_{l-1}[t]) + c_l[t],      latency = F_L[T-1]

With per-layer timesteps (``T_l`` steps, or ``n_l`` active steps of a learned mask), step ``k``
of layer ``l`` waits for the last upstream step resampled into it
(:func:`hwsnn.neurons.resample`: step ``i`` feeds ``floor(i n_l / n_{l-1})``), i.e. for
``F_{l-1}[ceil((k + 1) n_{l-1} / n_l) - 1]``; with equal T this is ``F_{l-1}[k]``.

otherwise ``latency = sum_l sum_t c_l[t]``. A residual addition (ResNets) is paid by the engine of the
layer it adds into: one address decode and one accumulate per nonzero shortcut operand,
``a[t] = operands[t] x (address_cycles + accumulate_cycles)`` joins that layer's ``c_l[t]``
(reported as its own entry of ``cost.layers``). A spiking-ResNet projection's currents cost no add:
its input events accumulate their weights straight into the target layer's membranes (its own
stage already pays them). With constant board power ``P``: energy = P x
latency, FPS = 1 / latency, FPS/W = 1 / energy. ANN baseline on the same engine: every input of
every layer is an event (one pass, MACs in place of accumulates).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from hwsnn import checks
from hwsnn.hardware.cost.base import Cost, Energy, LayerCost, input_size, layer_steps, recurrent_events
from hwsnn.hardware.platforms.base import Platform
from hwsnn.pytree import static
from hwsnn.structure import Workload
from hwsnn.typing import Array


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class EventSpec:
    """An event-driven accelerator: each layer iterates over the addresses of its input spikes.

    Per layer and timestep: ``cycles = events x (address_cycles + accumulate_cycles x
    neurons_per_unit) + step_cycles``; the layer's neuron units update all neurons in parallel.
    With ``pipelined`` layers are double-buffered (layer l works on step t while l+1 works on
    t-1). Power is a constant board power.
    """

    clock_mhz: Array
    address_cycles: Array
    accumulate_cycles: Array
    step_cycles: Array
    power_w: Array
    neurons_per_unit: int = static(1)
    pipelined: bool = static(True)
    name: str = static("event")


def event_spec(
    *,
    clock_mhz,
    address_cycles,
    accumulate_cycles,
    step_cycles,
    power_w,
    neurons_per_unit: int = 1,
    pipelined: bool = True,
    name: str = "event",
) -> EventSpec:
    """A validated :class:`EventSpec`."""
    s = "EventSpec"
    if not isinstance(pipelined, bool):
        raise ValueError(f"{s}: pipelined must be a bool; got {pipelined!r}.")
    return EventSpec(
        checks.strictly_positive(s, "clock_mhz", clock_mhz),
        checks.nonnegative(s, "address_cycles", address_cycles),
        checks.nonnegative(s, "accumulate_cycles", accumulate_cycles),
        checks.nonnegative(s, "step_cycles", step_cycles),
        checks.strictly_positive(s, "power_w", power_w),
        checks.int_in(s, "neurons_per_unit", neurons_per_unit, 1),
        pipelined,
        name,
    )


def event_fpga() -> EventSpec:
    """FPGA-style accelerator after the DATE 2024 authors' design (githubofaliyev/SNN-DSE).

    Cycles from their SystemC model ``Software/src/event_control.cpp``: 1 cycle of address
    generation and 4 cycles of accumulation per input spike with one neuron per memory unit,
    and 4 cycles per layer and timestep (spike-count, wait, activation and hand-off states);
    layers are double-buffered. Clock and power: an FPGA SNN accelerator on a Xilinx ZC706 at
    200 MHz drawing 0.477 W (Han et al. 2020, as tabulated in the FPGA-SNN survey in Neural
    Computation); the DATE 2024 paper's own board power is not public.
    """
    return event_spec(
        clock_mhz=200.0, address_cycles=1.0, accumulate_cycles=4.0, step_cycles=4.0, power_w=0.477, name="fpga-event"
    )


def layer_step_cycles(spec: EventSpec, events, step_mask=None) -> object:
    """Cycles of one layer per timestep for ``events`` input spikes (array ``[T]``); the neuron
    update of a step is paid only where ``step_mask`` (learned timesteps) is on."""
    per_event = spec.address_cycles + spec.accumulate_cycles * spec.neurons_per_unit
    return events * per_event + (spec.step_cycles if step_mask is None else spec.step_cycles * step_mask)


def pipelined_cycles(stage_cycles: list, step_counts: list | None = None) -> object:
    """Finish time of the last layer's last step for a double-buffered layer pipeline (module doc).

    ``stage_cycles[l]`` is ``[T_l]``; ``step_counts[l]`` the layer's active steps ``n_l`` (default
    ``T_l``; a traced count only sets which upstream step each step waits for, so it carries no gradient).
    """
    counts = (
        [c.shape[0] for c in stage_cycles] if step_counts is None else [jax.lax.stop_gradient(n) for n in step_counts]
    )
    upstream = None  # F_{l-1}[:]
    for layer, cycles in enumerate(stage_cycles):
        finish, last = [], jnp.zeros((), cycles.dtype)
        for k in range(cycles.shape[0]):
            if upstream is not None:
                waited = jnp.ceil((k + 1) * counts[layer - 1] / counts[layer] - 1e-6).astype(jnp.int32) - 1
                last = jnp.maximum(last, upstream[jnp.clip(waited, 0, upstream.shape[0] - 1)])
            last = last + cycles[k]
            finish.append(last)
        upstream = jnp.stack(finish)
    return upstream[-1]


@dataclasses.dataclass(frozen=True)
class Event(Platform):
    """Latency and energy (component "board") of the SNN and of its ANN baseline (``cost.ann``); per
    layer (``cost.layers``): its busy cycles, their time as its stage latency, and the board energy
    shared out in proportion to the busy cycles (the board draws its power whichever layer works)."""

    name = "event"
    spec_type = EventSpec

    def snn(self, spec: EventSpec, workload: Workload, activity) -> Cost:
        stage = [
            layer_step_cycles(spec, act.input_events + recurrent_events(layer, act), act.step_mask)
            for layer, act in zip(workload, activity.layers)
        ]
        adds = [_add_cycles(spec, add, events) for add, events in zip(workload.adds, activity.adds)]
        steps = [layer_steps(layer, act) for layer, act in zip(workload, activity.layers)]
        return _run(spec, workload, stage, adds, steps)

    def baseline(self, spec: EventSpec, workload: Workload) -> Cost:
        return _ann(spec, workload)


def event(spec: EventSpec, workload: Workload, activity) -> Cost:
    """``Event().cost(spec, workload, activity)``: the SNN on the event engine, its ANN as ``cost.ann``."""
    return Event().cost(spec, workload, activity)


def _add_cycles(spec: EventSpec, add, operands) -> object:
    """``[T]`` cycles of a residual addition of ``operands [T]`` nonzero shortcut entries per step (module doc)."""
    per_operand = spec.address_cycles + spec.accumulate_cycles if add.operand == "spikes" else 0.0
    return operands * per_operand


def _run(spec: EventSpec, workload: Workload, stage: list, adds: list, steps: list | None) -> Cost:
    """The cost of a run whose layers are busy ``stage[l]`` cycles per step and whose residual additions
    ``adds[a]`` cycles per step, each on the engine of the layer it adds into (module doc)."""
    engines = list(stage)
    for add, cycles in zip(workload.adds, adds):
        engines[add.layer] = engines[add.layer] + cycles
    cycles = pipelined_cycles(engines, steps) if spec.pipelined else sum(jnp.sum(c) for c in engines)
    names = [layer.name for layer in workload] + [add.name for add in workload.adds]
    busy = [jnp.sum(c) for c in stage + adds]
    energy = _board_energy(spec, cycles)
    layers = [
        LayerCost(name, Energy({"board": energy * b / sum(busy)}), cycles=b, latency_ns=_ns(spec, b))
        for name, b in zip(names, busy)
    ]
    return Cost.of_layers(layers, latency_ns=_ns(spec, cycles))


def _ns(spec: EventSpec, cycles) -> object:
    return cycles * 1000.0 / spec.clock_mhz


def _board_energy(spec: EventSpec, cycles) -> object:
    return spec.power_w * _ns(spec, cycles) * 1000.0  # W x ns = nJ; x 1000: pJ


def _ann(spec: EventSpec, workload: Workload) -> Cost:
    stage = [
        layer_step_cycles(spec, jnp.full((1,), float(input_size(layer)), spec.power_w.dtype)) for layer in workload
    ]
    adds = [_add_cycles(spec, add, jnp.full((1,), float(add.elements), spec.power_w.dtype)) for add in workload.adds]
    return _run(spec, workload, stage, adds, None)


def fps_per_watt(spec: EventSpec, cost: Cost) -> object:
    """Frames per second per watt: ``(1 / latency) / P = 1 / energy``."""
    return 1e9 / cost.latency_ns / spec.power_w
