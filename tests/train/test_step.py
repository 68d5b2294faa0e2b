"""The pure train step: one trace, deterministic, learns, firing-rate regulariser by hand."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from hwsnn.data import load_dataset
from hwsnn.encoding import encoder_from_name
from hwsnn.layers import mlp
from hwsnn.neurons import LIF
from hwsnn.structure import Activity, LayerActivity
from hwsnn.train.losses import ce_count, firing_rate_loss
from hwsnn.train.step import init_state, make_objective, make_train_step


def make(seed=0):
    data = load_dataset("digits")
    model = mlp([64, 32, 10], 4, rngs=nnx.Rngs(seed), spiking_input=True, neuron=LIF(beta=0.9))
    optimizer = optax.adam(1e-2)
    graphdef, state = init_state(model, optimizer)
    traced_objective = chex.assert_max_traces(make_objective(ce_count, rate_weight=0.1), n=1)
    step = make_train_step(
        graphdef, optimizer, traced_objective, encoder_from_name("rate"), 4, jax.random.PRNGKey(seed)
    )
    x = data.x_train.reshape(-1, 64)
    return step, state, x, data.y_train


def run(steps=30, seed=0):
    chex.clear_trace_counter()
    step, state, x, y = make(seed)
    losses = []
    for i in range(steps):
        idx = np.arange(i * 32, (i + 1) * 32) % len(y)
        state, metrics = step(state, jnp.asarray(x[idx]), jnp.asarray(y[idx]))
        losses.append(float(metrics["loss"]) / 32)
    return state, losses


def test_step_traces_once_learns_and_is_deterministic():
    state_a, losses_a = run()  # assert_max_traces(n=1) raises on a second trace
    state_b, losses_b = run()
    assert losses_a == losses_b
    chex.assert_trees_all_equal(state_a.params, state_b.params)
    assert np.mean(losses_a[-5:]) < 0.7 * np.mean(losses_a[:5])
    assert int(state_a.step) == 30


def test_firing_rate_loss_by_hand():
    from hwsnn.layers import SNN, SpikingDense

    model = SNN([SpikingDense(4, 2, rngs=nnx.Rngs(0)), SpikingDense(2, 5, rngs=nnx.Rngs(0))], (4,), 10)
    activity = Activity(
        (
            LayerActivity(jnp.zeros(10), jnp.full(10, 1.0)),  # 10 spikes / (2 x 10) = 0.5
            LayerActivity(jnp.zeros(10), jnp.full(10, 0.5)),
        )
    )  # 5 spikes / (5 x 10) = 0.1
    value = firing_rate_loss(activity, model.workload, target=0.1)
    assert abs(float(value) - ((0.5 - 0.1) ** 2 + 0.0) / 2) < 1e-7
