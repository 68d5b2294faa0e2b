"""Per-layer and learned timesteps in the SNN: LD-SNN counts by hand, learned masks equal the
resampled model (outputs and every cost model), and timestep gradients against finite differences."""

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

import hwsnn.layers.container as container
from hwsnn.hardware.cost import neurons_evaluated, synaptic_updates
from hwsnn.hardware.presets import PLATFORMS, preset
from hwsnn.layers import SNN, SpikingDense, mlp
from hwsnn.neurons import LIF, step_mask
from hwsnn.train.losses import ce_count

# 4 inputs, spikes per step: {0}, {}, {0, 1}, {0, 1, 2, 3}
X = jnp.asarray([[1, 0, 0, 0], [0, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 1]], jnp.float32)[:, None, :]


def hand_network(timesteps):
    """4 -> 3 -> 2, every weight 2, no bias, beta 0 (no memory), threshold 1, subtract reset."""
    layers = [
        SpikingDense(4, 3, rngs=nnx.Rngs(0), bias=False, neuron=LIF(beta=0.0)),
        SpikingDense(3, 2, rngs=nnx.Rngs(1), bias=False, neuron=LIF(beta=0.0)),
    ]
    for layer in layers:
        layer.kernel[...] = jnp.full(layer.kernel[...].shape, 2.0)
    return SNN(layers, (4,), timesteps, spiking_input=True)


def test_ld_snn_counts_by_hand():
    model = hand_network((4, 2))
    out, activity = model(X)
    # layer 1: currents 2, 0, 4, 8 per neuron; v = I - r theta with r = H(v[t-1] - 1):
    # 2 (spike), 0 - 1 = -1, 4 (spike), 8 - 1 = 7 (spike) -> each of 3 neurons spikes at t = 0, 2, 3
    np.testing.assert_array_equal(np.asarray(activity[0].output_spikes), [3, 0, 3, 3])
    # resampled 4 -> 2: groups {0, 1}, {2, 3}: per neuron 1 then 2 spikes (one graded event each step)
    np.testing.assert_array_equal(np.asarray(activity[1].input_events), [3, 3])
    # synaptic updates: 7 input events x fan-out 3 + 6 events x fan-out 2 = 33
    assert float(synaptic_updates(model.workload, activity)) == 33.0
    # neurons evaluated: 3 x 4 + 2 x 2 = 16
    assert float(neurons_evaluated(model.workload, activity)) == 16.0
    assert [(layer.input_timesteps, layer.timesteps) for layer in model.workload] == [(4, 4), (2, 2)]
    assert out.shape == (2, 1, 2)


def test_timesteps_are_validated():
    with pytest.raises(
        ValueError,
        match="timesteps: got \\(4, 2, 2\\); allowed: an int >= 1, or one int >= 1 per synaptic layer \\(2\\)",
    ):
        hand_network((4, 2, 2))
    with pytest.raises(ValueError, match="timesteps: got \\(4, 0\\)"):
        hand_network((4, 0))
    layers = [SpikingDense(4, 3, rngs=nnx.Rngs(0)), SpikingDense(3, 2, rngs=nnx.Rngs(1))]
    with pytest.raises(ValueError, match="execution: got 'time' with timesteps \\(4, 2\\)"):
        SNN(layers, (4,), (4, 2), execution="time")


def learned_and_static(counts, maxima=(6, 6, 6)):
    learned = mlp(
        [12, 10, 8, 4], maxima, rngs=nnx.Rngs(0), spiking_input=True, learn_timesteps=True, neuron=LIF(beta=0.8)
    )
    learned.step_counts[...] = jnp.asarray(counts, jnp.float32)
    static = mlp(
        [12, 10, 8, 4], tuple(int(round(c)) for c in counts), rngs=nnx.Rngs(0), spiking_input=True, neuron=LIF(beta=0.8)
    )
    return learned, static


X_RATE = jnp.asarray((np.random.default_rng(0).random((6, 16, 12)) < 0.5).astype(np.float32))


def test_learned_masks_equal_the_resampled_model_and_its_costs():
    learned, static = learned_and_static((4.2, 2.9, 5.0))
    assert learned.active_timesteps() == (4, 3, 5) == static.layer_timesteps
    out_l, act_l = learned(X_RATE)
    out_s, act_s = static(X_RATE[:4])  # the static model's encoder runs T_1 = 4 steps
    np.testing.assert_allclose(np.asarray(out_l[:5]), np.asarray(out_s), atol=1e-6)
    assert float(jnp.abs(out_l[5:]).sum()) == 0.0
    specs = {
        "naive": preset("naive-fp32"),
        "systolic": preset("systolic-sata"),
        "imc": preset("rram-adc"),
        "event": preset("event-fpga"),
        "event-serial": dataclasses.replace(preset("event-fpga"), pipelined=False),
    }
    for name, spec in specs.items():
        learned_cost = PLATFORMS[name.split("-")[0]]().cost(spec, learned.workload, act_l)
        static_cost = PLATFORMS[name.split("-")[0]]().cost(spec, static.workload, act_s)
        assert float(learned_cost.energy_pj.total) == pytest.approx(float(static_cost.energy_pj.total), rel=1e-5), name
        if static_cost.latency_ns is not None:
            assert float(learned_cost.latency_ns) == pytest.approx(float(static_cost.latency_ns), rel=1e-5), name
    assert float(neurons_evaluated(learned.workload, act_l)) == 10 * 4 + 8 * 3 + 4 * 5


@pytest.mark.parametrize("cost_model", ["naive", "systolic", "imc", "event"])
def test_timestep_gradients_agree_in_sign_with_finite_differences(cost_model, monkeypatch):
    """d/dtau of task + lambda E / E_ANN (straight-through) against central differences of the
    relaxed objective (soft masks in the forward pass), for every layer's tau."""
    labels = jnp.asarray(np.random.default_rng(1).integers(0, 4, 16))
    spec = {
        "naive": preset("naive-fp32"),
        "systolic": preset("systolic-sata"),
        "imc": preset("rram-adc"),
        "event": preset("event-fpga"),
    }[cost_model]
    learned, _ = learned_and_static((4.2, 2.9, 5.1))
    graphdef, counts_state, rest = nnx.split(learned, nnx.PathContains("step_counts"), ...)

    def objective(counts):
        model = nnx.merge(graphdef, jax.tree.map(lambda _: counts, counts_state), rest)
        out, activity = model(X_RATE)
        cost = PLATFORMS[cost_model]().cost(spec, model.workload, activity)
        return ce_count(out, labels) + 2.0 * cost.energy_pj.total / cost.ann.energy_pj.total

    tau = jnp.asarray([4.2, 2.9, 5.1])
    grad = np.asarray(jax.grad(objective)(tau))
    monkeypatch.setattr(container, "step_mask", functools.partial(step_mask, relaxed=True))
    h = 0.05
    for layer in range(3):
        e = jnp.zeros(3).at[layer].set(h)
        numeric = (float(objective(tau + e)) - float(objective(tau - e))) / (2 * h)
        assert np.sign(grad[layer]) == np.sign(numeric), (layer, grad, numeric)


def test_pipeline_with_per_layer_timesteps_by_hand():
    from hwsnn.hardware.platforms.event import pipelined_cycles

    # compress 4 -> 2: layer 2's step 0 waits for layer 1's step 1 (F = 2), step 1 for step 3 (F = 4)
    assert float(pipelined_cycles([jnp.ones(4), jnp.full(2, 10.0)])) == 22.0  # 2 + 10, max(12, 4) + 10
    # expand 2 -> 4 (F_1 = 5, 10): steps 0, 1 wait for step 0; steps 2, 3 for step 1 -> 6, 7, 11, 12
    assert float(pipelined_cycles([jnp.full(2, 5.0), jnp.ones(4)])) == 12.0
    # equal T: F_l[t] = max(F_l[t-1], F_{l-1}[t]) + c_l[t]
    assert float(pipelined_cycles([jnp.asarray([3.0, 1.0]), jnp.asarray([1.0, 1.0])])) == 5.0
