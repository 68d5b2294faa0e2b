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


def make_objective(task_loss: Callable[[Array, Array], Array], num_classes: int | None = None,
                   rate_weight: float = 0.0, rate_target: float = 0.0) -> Objective:
    """``objective(out, labels, activity, workload) -> (loss, metrics)``.

    ``loss = task_loss(out, labels) + rate_weight * firing_rate_loss(activity, workload, rate_target)``;
    ``metrics`` holds batch sums (loss x B, correct, samples, spikes) so they add across batches.
    """

    def objective(out, labels, activity, workload):
        task = task_loss(out, labels)
        loss = task + rate_weight * firing_rate_loss(activity, workload, rate_target) if rate_weight else task
        batch = labels.shape[0]
        metrics = {
            "loss": loss * batch,
            "correct": jnp.sum(predict(out, num_classes) == labels).astype(jnp.float32),
            "samples": jnp.asarray(batch, jnp.float32),
            "spikes": activity.total_output_spikes() * batch,
        }
        return loss, metrics

    return objective


def make_train_step(graphdef: nnx.GraphDef, optimizer: optax.GradientTransformation, objective: Objective,
                    encode: Callable, timesteps: int, base_key: Array):
    """``train_step(state, x, labels) -> (state, metrics)``, jitted.

    The encoder's key for step ``n`` is ``fold_in(base_key, n)``, so a resumed run draws the
    same input spikes as an uninterrupted one.
    """

    def loss_fn(params, constants, x, labels, key):
        model = nnx.merge(graphdef, params, constants)
        out, activity = model(encode(x, timesteps, key))
        return objective(out, labels, activity, model.workload)

    @jax.jit
    def train_step(state: TrainState, x: Array, labels: Array):
        key = jax.random.fold_in(base_key, state.step)
        (_, metrics), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            state.params, state.constants, x, labels, key)
        updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        return TrainState(params, state.constants, opt_state, state.step + 1), metrics

    return train_step


def make_eval_step(graphdef: nnx.GraphDef, objective: Objective, encode: Callable, timesteps: int, key: Array):
    """``eval_step(params, constants, x, labels) -> metrics`` (batch sums), jitted."""

    @jax.jit
    def eval_step(params, constants, x, labels):
        model = nnx.merge(graphdef, params, constants)
        out, activity = model(encode(x, timesteps, key))
        return objective(out, labels, activity, model.workload)[1]

    return eval_step


def make_activity_step(graphdef: nnx.GraphDef, encode: Callable, timesteps: int, key: Array):
    """``activity_step(params, constants, x) -> Activity`` (batch means), jitted: for costing a model."""

    @jax.jit
    def activity_step(params, constants, x):
        model = nnx.merge(graphdef, params, constants)
        return model(encode(x, timesteps, key))[1]

    return activity_step
