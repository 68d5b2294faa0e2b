"""Pure train and evaluation steps: one jitted function each, traced once per shape.

The model is split into a static ``graphdef``, trainable ``params`` (``nnx.Param``) and
``constants`` (every other variable); the steps merge them inside the trace, so nothing
mutable crosses ``jax.jit`` (DESIGN.md section 2).
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import jax
import jax.numpy as jnp
import optax
from flax import nnx

from hwsnn import checks
from hwsnn.compile import jit
from hwsnn.hardware.crossbar import PHASES, ramped_names
from hwsnn.train.losses import firing_rate_loss, predict
from hwsnn.typing import Array


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class TrainState:
    """Everything that changes during training, as one pytree (what a checkpoint holds)."""

    params: nnx.State
    constants: nnx.State
    opt_state: optax.OptState
    step: Array


def init_state(model: nnx.Module, optimizer: optax.GradientTransformation) -> tuple[nnx.GraphDef, TrainState]:
    """Split ``model`` and initialise the optimizer; returns ``(graphdef, state)``."""
    graphdef, params, constants = nnx.split(model, nnx.Param, ...)
    return graphdef, TrainState(params, constants, optimizer.init(params), jnp.zeros((), jnp.int32))


Objective = Callable[..., tuple[Array, dict[str, Array]]]


def make_objective(
    task_loss: Callable[[Array, Array], Array],
    num_classes: int | None = None,
    rate_weight: float = 0.0,
    rate_target: float = 0.0,
    energy=None,
    energy_weight: float = 0.0,
) -> Objective:
    """``objective(out, labels, activity, workload) -> (loss, metrics)``.

    ``loss = task_loss(out, labels) + rate_weight * firing_rate_loss(activity, workload, rate_target)
    + energy_weight * E / E_ANN`` with ``energy(workload, activity) -> Cost`` (for example a
    :class:`~hwsnn.hardware.presets.HardwarePreset`'s ``cost``): the SNN's energy on that
    hardware relative to the same network run as an ANN there (``cost.ann``; dimensionless, so one
    weight means the same on every model). ``metrics`` holds batch sums (loss x B, correct,
    samples, spikes, and ``energy_ratio`` with an energy term) so they add across batches.
    """
    if energy_weight and energy is None:
        raise ValueError(
            f"energy_weight: got {energy_weight!r} without a cost model; allowed: 0, or energy=cost function."
        )

    def objective(out, labels, activity, workload):
        loss = task_loss(out, labels)
        if rate_weight:
            loss = loss + rate_weight * firing_rate_loss(activity, workload, rate_target)
        batch = labels.shape[0]
        metrics = {
            "correct": jnp.sum(predict(out, num_classes) == labels).astype(jnp.float32),
            "samples": jnp.asarray(batch, jnp.float32),
            "spikes": activity.total_output_spikes() * batch,
        }
        if energy is not None:
            cost = energy(workload, activity)
            ratio = cost.energy_pj.total / cost.ann.energy_pj.total
            loss = loss + energy_weight * ratio if energy_weight else loss
            metrics["energy_ratio"] = ratio * batch
        metrics["loss"] = loss * batch
        return loss, metrics

    return objective


RAMP_ORDERS = ("together", "staged")
"""Ramp orders: "together" ramps every stage and readout at once; "staged" ramps them one phase after
another (:data:`~hwsnn.hardware.crossbar.PHASES`, each stage's and readout's own ``phase``): device noise
first, then the wires (IR drop), then the readout (high-precision to the spec's ADC or sense amplifier),
so the network meets the harshest change last."""


def ramp_groups(order="together") -> tuple[tuple[str, ...], ...]:
    """The groups of ramped names (:func:`~hwsnn.hardware.crossbar.ramped_names`) that ``order`` ramps
    one after another: a name in :data:`RAMP_ORDERS`, or a sequence of groups of ramped names.

    Raises:
      ValueError: an unknown order, or groups that are empty, repeat a name or name an unknown one.
    """
    names = ramped_names()
    if isinstance(order, str):
        if order not in RAMP_ORDERS:
            raise ValueError(f"order: got {order!r}; allowed: {list(RAMP_ORDERS)} or groups of stage names.")
        if order == "together":
            return (tuple(names),)
        return tuple(
            tuple(name for name, phase in names.items() if phase == p)
            for p in sorted(PHASES)
            if any(phase == p for phase in names.values())
        )
    groups = tuple(tuple(group) for group in order)
    named = [name for group in groups for name in group]
    if not groups or not all(groups) or any(name not in names for name in named) or len(set(named)) != len(named):
        raise ValueError(
            f"order: got {order!r}; allowed: a name in {list(RAMP_ORDERS)} or non-empty groups of "
            f"distinct stage names from {list(names)}."
        )
    return groups


def hardware_ramp(start: float, ramp_steps: int, order="together") -> Callable[[Array], dict | float]:
    """Progressive hardware awareness: the crossbars' per-stage strength (a mapping of ramped names
    to levels, :data:`~hwsnn.hardware.crossbar.HardwareStrength`) at a training step.

    ``order`` is a name in :data:`RAMP_ORDERS` or a sequence of groups of ramped names (:func:`ramp_groups`): with ``G``
    groups, group ``k`` ramps from ``start`` to 1 over steps ``[k, k + 1] x ramp_steps / G``
    (``start + (1 - start) min(max(progress, 0), 1)``); stages in no group stay at full strength.
    ``ramp_steps = 0`` applies the full hardware from the first step (a static 1: no blending is traced).
    """
    if not 0.0 <= start <= 1.0:
        raise ValueError(f"start: got {start!r}; allowed: 0 <= start <= 1.")
    checks.int_at_least(ramp_steps, "ramp_steps", 0)
    groups = ramp_groups(order)
    if ramp_steps == 0:
        return lambda step: 1.0
    length = ramp_steps / len(groups)

    def ramp(step):
        progress = step.astype(jnp.float32)
        levels = [
            start + (1.0 - start) * jnp.clip((progress - k * length) / length, 0.0, 1.0) for k in range(len(groups))
        ]
        return {stage: levels[k] for k, group in enumerate(groups) for stage in group}

    return ramp


def _forward(graphdef, params, constants, encode, timesteps, x, key, strength, training=False, calibrate=False):
    """Merge the model and run it: the encoder draws from ``key``, crossbars and dropout from
    ``fold_in(key, 1)``. Returns ``(out, activity, workload, constants)``; in training the constants
    carry batch norm's moved running statistics, in training and calibration the sense amplifiers'
    moved scales."""
    model = nnx.merge(graphdef, params, constants, copy=True)  # fresh variables: mutable under jax.grad (flax#5050)
    out, activity = model(
        encode(x, timesteps, key),
        key=jax.random.fold_in(key, 1),
        hardware_strength=strength,
        training=training,
        calibrate=calibrate,
    )
    return out, activity, model.workload, nnx.split(model, nnx.Param, ...)[2]


def make_train_step(
    graphdef: nnx.GraphDef,
    optimizer: optax.GradientTransformation,
    objective: Objective,
    encode: Callable,
    timesteps: int,
    base_key: Array,
    hardware_strength: Callable | None = None,
):
    """``train_step(state, x, labels) -> (state, metrics)``, jitted. A step whose loss or gradients are
    not finite leaves the state as it was (but for the step count) and sets ``metrics["nonfinite_steps"]``
    to 1 (the training loop stops on it).

    The key of step ``n`` is ``fold_in(base_key, n)``, so a resumed run draws the same input
    spikes and crossbar noise (a new programming draw per step, as aihwkit's hardware-aware
    training) as an uninterrupted one. ``hardware_strength(step)`` (default: 1) sets the
    crossbar strength; see :func:`hardware_ramp`.
    """
    schedule = hardware_ramp(1.0, 0) if hardware_strength is None else hardware_strength

    def loss_fn(params, constants, x, labels, key, strength):
        out, activity, workload, constants = _forward(
            graphdef, params, constants, encode, timesteps, x, key, strength, training=True
        )
        loss, metrics = objective(out, labels, activity, workload)
        return loss, (metrics, constants)

    @jit
    def train_step(state: TrainState, x: Array, labels: Array):
        key = jax.random.fold_in(base_key, state.step)
        (loss, (metrics, constants)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            state.params, state.constants, x, labels, key, schedule(state.step)
        )
        updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        # a step whose loss or gradients are not finite changes nothing; it is counted, and the loop stops
        finite = jnp.isfinite(loss) & jnp.all(jnp.asarray([jnp.all(jnp.isfinite(g)) for g in jax.tree.leaves(grads)]))
        kept = jax.tree.map(
            lambda new, old: jnp.where(finite, new, old),
            (params, constants, opt_state),
            (state.params, state.constants, state.opt_state),
        )
        metrics = {**metrics, "nonfinite_steps": 1.0 - finite.astype(jnp.float32)}
        return TrainState(*kept, state.step + 1), metrics

    return train_step


def make_eval_step(graphdef: nnx.GraphDef, objective: Objective, encode: Callable, timesteps: int):
    """``eval_step(params, constants, x, labels, key) -> metrics`` (batch sums), jitted; crossbars at
    full strength, programmed (and their sense amplifiers' offsets drawn) from ``key``: one chip per
    key, so every batch of one evaluation passes the same key."""

    @jit
    def eval_step(params, constants, x, labels, key):
        out, activity, workload, _ = _forward(graphdef, params, constants, encode, timesteps, x, key, 1.0)
        return objective(out, labels, activity, workload)[1]

    return eval_step


def make_calibration_step(graphdef: nnx.GraphDef, encode: Callable, timesteps: int, key: Array):
    """``calibration_step(params, constants, x) -> constants``, jitted: one calibration pass at full
    strength with the evaluation's programming draw, moving the sense amplifiers' scales by the
    batch (:class:`~hwsnn.layers.readout_scale.ReadoutScale`); nothing else changes."""

    @jit
    def calibration_step(params, constants, x):
        return _forward(graphdef, params, constants, encode, timesteps, x, key, 1.0, calibrate=True)[3]

    return calibration_step


def make_activity_step(graphdef: nnx.GraphDef, encode: Callable, timesteps: int, key: Array):
    """``activity_step(params, constants, x) -> Activity`` (batch means), jitted: for costing a model."""

    @jit
    def activity_step(params, constants, x):
        return _forward(graphdef, params, constants, encode, timesteps, x, key, 1.0)[1]

    return activity_step
