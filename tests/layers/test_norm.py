"""Batch norm for SNNs (tdBN, BNTT) against its closed forms, folding, and dropout with explicit keys."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from hwsnn.layers import BNTT, SNN, Dropout, Flatten, SpikingConv, SpikingDense, TdBN, conv_net, ops
from hwsnn.train.losses import ce_count
from hwsnn.train.step import init_state, make_objective, make_train_step

X = jnp.asarray((np.random.default_rng(0).random((3, 6, 8, 8, 2)) < 0.4).astype(np.float32))


def test_tdbn_normalises_over_time_batch_and_positions():
    norm = TdBN(4, threshold=0.5, alpha=1 / np.sqrt(2))
    currents = jnp.asarray(np.random.default_rng(1).normal(2.0, 3.0, (3, 6, 5, 5, 4)).astype(np.float32))
    y = norm(currents, training=True)
    flat = np.asarray(y).reshape(-1, 4)
    np.testing.assert_allclose(flat.mean(0), 0.0, atol=1e-5)  # beta = 0
    np.testing.assert_allclose(
        flat.std(0),
        0.5
        / np.sqrt(2)
        * np.sqrt(
            np.var(np.asarray(currents).reshape(-1, 4), 0) / (np.var(np.asarray(currents).reshape(-1, 4), 0) + 1e-5)
        ),
        rtol=1e-4,
    )
    raw = np.asarray(currents).reshape(-1, 4)
    np.testing.assert_allclose(norm.mean[...], 0.1 * raw.mean(0), rtol=1e-5)  # from 0, momentum 0.9
    np.testing.assert_allclose(norm.var[...], 0.9 + 0.1 * raw.var(0, ddof=1), rtol=1e-5)  # from 1, unbiased
    before = np.asarray(norm.mean[...])
    evaluated = norm(currents, training=False)  # evaluation: the running statistics, which do not move
    np.testing.assert_allclose(norm.mean[...], before)
    np.testing.assert_allclose(
        evaluated,
        (np.asarray(currents) - before) * 0.5 / np.sqrt(2) / np.sqrt(np.asarray(norm.var[...]) + 1e-5),
        rtol=1e-5,
        atol=1e-5,
    )


def test_bntt_keeps_statistics_and_a_scale_per_timestep():
    norm = BNTT(4, 3)
    currents = (
        jnp.asarray(np.random.default_rng(2).normal(0.0, 1.0, (3, 6, 5, 5, 4)).astype(np.float32))
        * jnp.asarray([1.0, 2.0, 4.0])[:, None, None, None, None]
    )
    y = np.asarray(norm(currents, training=True))
    for t in range(3):
        np.testing.assert_allclose(y[t].reshape(-1, 4).mean(0), 0.0, atol=1e-5)
        np.testing.assert_allclose(y[t].reshape(-1, 4).std(0), 1.0, rtol=1e-3)
        np.testing.assert_allclose(
            norm.var[...][t], 0.9 + 0.1 * np.asarray(currents[t]).reshape(-1, 4).var(0, ddof=1), rtol=1e-5
        )
    with pytest.raises(ValueError, match="currents: 2 timesteps; allowed: 3 \\(BNTT's own\\)"):
        norm(currents[:2], training=True)


def trained_norms(norm_conv, norm_dense):
    model = SNN(
        [
            SpikingConv(2, 4, 3, rngs=nnx.Rngs(0), norm=norm_conv, pool="avg"),
            Flatten(),
            SpikingDense(64, 3, rngs=nnx.Rngs(1), norm=norm_dense),
        ],
        (8, 8, 2),
        3,
        spiking_input=True,
    )
    for _ in range(3):  # move the running statistics away from their initial values
        model(X * 3.0, training=True)
    return model


def test_folded_tdbn_equals_unfolded_at_inference():
    model = trained_norms(TdBN(4, threshold=1.0), TdBN(3, alpha=0.7))
    folded = model.fold_norms()
    assert all(layer.norm is None for layer in folded.layers if layer.synaptic)
    for layer, twin, x in (
        (model.layers[0], folded.layers[0], X),
        (model.layers[2], folded.layers[2], model.layer_outputs(X)[0][1]),
    ):
        np.testing.assert_allclose(twin.synapse(x), layer.synapse(x), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(folded(X)[0], model(X)[0], atol=1e-5)
    assert folded.workload[0].biases == 4 and folded.workload == model.workload  # BN costs as the folded bias


def test_folded_bntt_gives_one_kernel_per_timestep():
    model = trained_norms(BNTT(4, 3), None)
    layer = model.layers[0]
    kernels, biases = layer.norm.fold(layer.kernel[...], layer.bias[...])
    assert kernels.shape == (3, 3, 3, 2, 4) and biases.shape == (3, 4)
    unpooled = layer.norm(ops.conv2d(X, layer.kernel[...], layer.bias[...], 1, layer.padding), training=False)
    for t in range(3):
        np.testing.assert_allclose(
            ops.conv2d(X[t : t + 1], kernels[t], biases[t], 1, layer.padding)[0], unpooled[t], rtol=1e-5, atol=1e-5
        )
    with pytest.raises(ValueError, match="norm: got BNTT, whose folded weights differ per timestep"):
        model.fold_norms()


def test_the_train_step_moves_the_running_statistics():
    model = SNN(
        [SpikingConv(2, 4, 3, rngs=nnx.Rngs(0), norm=TdBN(4)), Flatten(), SpikingDense(256, 3, rngs=nnx.Rngs(1))],
        (8, 8, 2),
        3,
        spiking_input=True,
    )
    optimizer = optax.adam(1e-2)
    graphdef, state = init_state(model, optimizer)
    step = make_train_step(graphdef, optimizer, make_objective(ce_count), lambda x, t, k: x, 3, jax.random.key(0))
    moved, _ = step(state, X, jnp.zeros(6, jnp.int32))
    conv = model.layers[0]
    expected = 0.1 * np.asarray(
        jnp.mean(ops.conv2d(X, conv.kernel[...], conv.bias[...], 1, conv.padding), axis=(0, 1, 2, 3))
    )
    np.testing.assert_allclose(
        nnx.merge(graphdef, moved.params, moved.constants).layers[0].norm.mean[...], expected, rtol=1e-5
    )


def test_time_major_execution_is_refused_with_batch_norm_and_bad_norms_are_named():
    with pytest.raises(ValueError, match="execution: got 'time' for a model with batch norm"):
        SNN([SpikingDense(4, 3, rngs=nnx.Rngs(0), norm=TdBN(3))], (4,), 2, execution="time")
    assert SNN([SpikingDense(4, 3, rngs=nnx.Rngs(0), norm=TdBN(3))], (4,), 2).resolved_execution == "layer"
    with pytest.raises(
        ValueError, match="norm: got TdBN of 5 features; allowed: None or a Norm \\(TdBN, BNTT\\) of the layer's 3"
    ):
        SpikingDense(4, 3, rngs=nnx.Rngs(0), norm=TdBN(5))
    with pytest.raises(ValueError, match="momentum: got 1.0; allowed: a number in \\[0, 1\\)"):
        TdBN(3, momentum=1.0)


def test_dropout_drops_the_same_neurons_at_every_timestep_and_only_in_training():
    layer = Dropout(0.25)
    x = jnp.ones((4, 64, 100))
    model = SNN(
        [Dropout(0.25), SpikingDense(100, 3, rngs=nnx.Rngs(0))], (100,), 4, spiking_input=True, execution="layer"
    )
    twin = SNN([Dropout(0.25), SpikingDense(100, 3, rngs=nnx.Rngs(0))], (100,), 4, spiking_input=True, execution="time")
    key = jax.random.key(3)
    dropped = model.layer_outputs(x, key=key, training=True)[0][0]
    np.testing.assert_array_equal(dropped, twin.layer_outputs(x, key=key, training=True)[0][0])  # both orders
    np.testing.assert_allclose(np.unique(np.asarray(dropped)), [0.0, 1 / 0.75], rtol=1e-6)
    assert bool(jnp.all(dropped == dropped[:1]))  # one mask for every timestep
    assert float(jnp.mean(dropped == 0)) == pytest.approx(0.25, abs=0.02)
    np.testing.assert_array_equal(model.layer_outputs(x, key=key)[0][0], x)  # inference: unchanged
    with pytest.raises(ValueError, match="key: Dropout in training needs a jax.random key"):
        model(x, training=True)
    with pytest.raises(ValueError, match="rate: got 1.0; allowed: a number in \\[0, 1\\)"):
        Dropout(1.0)
    assert layer.output_shape((5, 7)) == (5, 7)


def test_a_batch_norm_network_trains_checkpoints_its_statistics_and_evaluates_the_same(tmp_path):
    from hwsnn.train import restore_run, train_and_evaluate
    from hwsnn.train.config import DataConfig, ModelConfig, TrainConfig, TrainingConfig

    config = TrainConfig(
        data=DataConfig(dataset="digits"),
        model=ModelConfig(kind="conv", channels=(8,), hidden=(32,), timesteps=3, norm="tdbn"),
        training=TrainingConfig(epochs=2, batch_size=32, learning_rate=1e-2, eval_batch_size=200),
    )
    summary = train_and_evaluate(config, tmp_path / "bn", progress=False)
    records = [json.loads(line) for line in (tmp_path / "bn" / "metrics.jsonl").read_text().splitlines()]
    assert records[-1]["train_loss"] < 0.7 * records[0]["train_loss"] and summary["test_accuracy"] > 0.8
    run, state = restore_run(tmp_path / "bn")
    model = nnx.merge(run.graphdef, state.params, state.constants)
    assert float(jnp.max(jnp.abs(model.layers[0].norm.mean[...]))) > 0  # the moved statistics were saved
    assert run.evaluate(state)["accuracy"] == pytest.approx(summary["test_accuracy"])
    assert [type(layer.norm).__name__ for layer in model.layers if layer.synaptic] == ["TdBN", "TdBN", "NoneType"]
    bntt = conv_net((8, 8, 1), (4,), (8,), 3, (2, 3, 4), rngs=nnx.Rngs(0), norm=BNTT)
    assert [layer.norm.timesteps for layer in bntt.layers if layer.synaptic and layer.norm is not None] == [2, 3]
    with pytest.raises(ValueError, match="norm: got 'tdbn'; allowed: None or a Norm class"):
        conv_net((8, 8, 1), (4,), (), 3, 2, rngs=nnx.Rngs(0), norm="tdbn")


def test_factories_scale_tdbn_to_each_neurons_threshold():
    from hwsnn.neurons import LIF, Integrator

    model = conv_net((8, 8, 2), (3,), (4,), 2, 2, rngs=nnx.Rngs(0), neuron=LIF(threshold=0.5), norm=TdBN)
    assert [layer.norm.threshold for layer in model.layers if layer.synaptic and layer.norm is not None] == [0.5, 0.5]
    assert LIF(threshold=jnp.asarray([0.5, 1.5])).firing_threshold == 1.0  # per-neuron: the mean
    assert Integrator().firing_threshold == 1.0  # no threshold
