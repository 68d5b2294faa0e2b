"""Spiking layers on crossbars: ideal crossbars reproduce the exact model; keys; schedules; finite training."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from hwsnn.hardware.crossbar import CrossbarSpec, ramped_names
from hwsnn.hardware.presets import crossbar_preset
from hwsnn.layers import conv_net, mlp
from hwsnn.train.losses import ce_count
from hwsnn.train.step import hardware_ramp, init_state, make_objective, make_train_step

IDEAL = CrossbarSpec(g_on_siemens=5e-5, g_off_siemens=5e-6, v_read_volt=0.1, weight_bits=None, size=16)
X = jnp.asarray((np.random.default_rng(0).random((4, 3, 8, 8, 1)) < 0.5).astype(np.float32))


@pytest.mark.parametrize("kind", ["mlp", "conv"])
def test_ideal_crossbars_reproduce_the_exact_model(kind):
    build = (
        (lambda hw: conv_net((8, 8, 1), (4,), (6,), 3, 4, rngs=nnx.Rngs(0), hardware=hw))
        if kind == "conv"
        else (lambda hw: mlp([64, 20, 3], 4, rngs=nnx.Rngs(0), hardware=hw))
    )
    x = X if kind == "conv" else X.reshape(4, 3, 64)
    exact, hardware = build(None), build(IDEAL)
    assert hardware.resolved_execution == "layer"
    out_e, act_e = exact(x)
    out_h, act_h = hardware(x, key=jax.random.key(0))
    np.testing.assert_array_equal(np.asarray(out_e), np.asarray(out_h))
    for a, b in zip(jax.tree.leaves(act_e), jax.tree.leaves(act_h)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6)


def test_conv_on_crossbars_is_analog_matmul_of_the_unrolled_receptive_fields():
    """SpikeSim's mapping with every non-ideality on: row (i k + j) C + c of the crossbars takes
    channel c at kernel offset (i, j); the layer's tiled path equals analog_matmul on a receptive-field
    matrix unrolled by hand (same key, so the same programming noise and SA offsets)."""
    from hwsnn.hardware.crossbar import analog_matmul
    from hwsnn.layers import Context, SpikingConv

    spec = crossbar_preset("rram-sa")
    layer = SpikingConv(12, 5, 3, rngs=nnx.Rngs(0), hardware=spec)  # 108 rows: a 64-row and a 44-row tile
    x = jnp.asarray((np.random.default_rng(1).random((2, 3, 6, 6, 12)) < 0.3).astype(np.float32))
    key = jax.random.key(4)
    padded = np.pad(np.asarray(x), ((0, 0), (0, 0), (1, 1), (1, 1), (0, 0)))
    fields = np.stack([padded[:, :, i : i + 6, j : j + 6, :] for i in range(3) for j in range(3)], axis=-2)
    unrolled = jnp.asarray(fields.reshape(2, 3, 6, 6, 108))
    layer.readout_scale.calibrated[...] = jnp.asarray(
        np.random.default_rng(2).uniform(0.01, 0.1, (1, 2, 5)), jnp.float32
    )
    expected = analog_matmul(
        unrolled, layer.kernel[...].reshape(108, 5), spec, key, sa_scale=layer.readout_scale.value()
    ) + layer.bias[...].reshape(1, 1, 1, 1, 5)
    np.testing.assert_allclose(np.asarray(layer.synapse(x, Context(key))), np.asarray(expected), rtol=1e-5, atol=1e-5)


def test_hardware_layers_need_a_key():
    model = mlp([64, 3], 4, rngs=nnx.Rngs(0), hardware=IDEAL, spiking_input=True)
    with pytest.raises(ValueError, match="key"):
        model(X.reshape(4, 3, 64))
    with pytest.raises(ValueError, match="hardware"):
        mlp([64, 3], 4, rngs=nnx.Rngs(0), hardware="rram")


def test_hardware_ramp_schedule():
    ramp = hardware_ramp(0.2, 10)
    for step, level in ((0, 0.2), (5, 0.6), (10, 1.0), (50, 1.0)):
        levels = ramp(jnp.asarray(step))
        assert sorted(levels) == sorted(ramped_names())
        np.testing.assert_allclose([float(v) for v in levels.values()], [level] * len(ramped_names()), rtol=1e-6)
    assert hardware_ramp(0.0, 0)(jnp.asarray(3)) == 1.0
    # staged: noise over steps 0-4, IR drop over 4-8, readout over 8-12 (thirds of 12)
    staged = hardware_ramp(0.0, 12, "staged")
    expected = {
        0: (0, 0, 0),
        2: (0.5, 0, 0),
        4: (1, 0, 0),
        6: (1, 0.5, 0),
        11: (1, 1, 0.75),
        12: (1, 1, 1),
        40: (1, 1, 1),
    }
    for step, levels in expected.items():
        got = staged(jnp.asarray(step))
        np.testing.assert_allclose(
            [float(got[s]) for s in ("programming_noise", "ir_drop", "readout")], levels, atol=1e-6
        )
        assert (
            float(got["stuck_at"])
            == float(got["read_noise"])
            == float(got["sa_offset"])
            == float(got["drift"])
            == float(got["programming_noise"])
        )
    custom = hardware_ramp(0.0, 10, [("readout",)])  # one named stage ramped, the others at full strength
    assert float(custom(jnp.asarray(5))["readout"]) == 0.5 and "ir_drop" not in custom(jnp.asarray(5))
    with pytest.raises(ValueError, match="start"):
        hardware_ramp(1.5, 3)
    with pytest.raises(ValueError, match="order: got 'backwards'"):
        hardware_ramp(0.0, 3, "backwards")
    with pytest.raises(ValueError, match="order: got \\[\\('noise',\\)\\]"):
        hardware_ramp(0.0, 3, [("noise",)])


@pytest.mark.parametrize("preset", ["rram-sa", "rram-adc", "pcm"])
def test_training_on_crossbars_keeps_parameters_finite(preset):
    model = mlp([64, 32, 10], 4, rngs=nnx.Rngs(0), hardware=crossbar_preset(preset))
    optimizer = optax.adam(1e-2)
    graphdef, state = init_state(model, optimizer)
    step = make_train_step(
        graphdef,
        optimizer,
        make_objective(ce_count),
        lambda x, t, k: jnp.broadcast_to(x, (t,) + x.shape),
        4,
        jax.random.PRNGKey(0),
        hardware_ramp(0.0, 4),
    )
    rng = np.random.default_rng(1)
    for _ in range(6):
        x = jnp.asarray(rng.random((16, 64)).astype(np.float32))
        state, metrics = step(state, x, jnp.asarray(rng.integers(0, 10, 16)))
    assert all(bool(jnp.all(jnp.isfinite(leaf))) for leaf in jax.tree.leaves(state.params))
    assert np.isfinite(float(metrics["loss"]))


def test_analog_first_layer_stays_digital():
    direct = mlp([64, 20, 3], 4, rngs=nnx.Rngs(0), hardware=IDEAL)
    assert direct.layers[0].hardware is None and direct.layers[1].hardware is not None
    rate = mlp([64, 20, 3], 4, rngs=nnx.Rngs(0), hardware=IDEAL, spiking_input=True)
    assert all(layer.hardware is not None for layer in rate.layers)
    conv = conv_net((8, 8, 1), (4, 4), (6,), 3, 4, rngs=nnx.Rngs(0), kernel_size=3, hardware=IDEAL)
    synaptic = [layer for layer in conv.layers if layer.synaptic]
    assert synaptic[0].hardware is None and all(layer.hardware is not None for layer in synaptic[1:])


def _batch_mates_changed(x):
    """``x [T, B, ...]`` with every sample but the first replaced by others."""
    rng = np.random.default_rng(9)
    return x.at[:, 1:].set(jnp.asarray((rng.random(x[:, 1:].shape) < 0.5).astype(np.float32)))


@pytest.mark.parametrize("preset", ["rram-sa", "rram-adc", "pcm"])
def test_a_samples_output_does_not_depend_on_its_batch(preset):
    """Deployed readouts are fixed functions of one sample: the first sample's membranes (a membrane
    readout, so every crossbar layer's currents reach the output) are bit-identical whatever the
    other samples of its batch are, after a calibration with other data."""
    from hwsnn.neurons import Integrator

    model = mlp(
        [64, 48, 10], 4, rngs=nnx.Rngs(0), hardware=crossbar_preset(preset), spiking_input=True, readout=Integrator()
    )
    x = jnp.asarray((np.random.default_rng(3).random((4, 8, 64)) < 0.3).astype(np.float32))
    key = jax.random.key(1)
    model(_batch_mates_changed(x), key=key, calibrate=True)  # one pass calibrates every layer
    out, _ = model(x, key=key)
    alone, _ = model(_batch_mates_changed(x), key=key)
    np.testing.assert_array_equal(np.asarray(out[:, 0]), np.asarray(alone[:, 0]))
    assert float(jnp.std(out[:, 0])) > 0  # the membranes move: the comparison is not of zeros
    assert not np.array_equal(np.asarray(out[:, 1]), np.asarray(alone[:, 1]))


def test_calibration_averages_the_partial_sums():
    """A calibration pass moves each sense amplifier's scale to its column's mean |partial sum| (units of
    full scale): the plain mean over the first 10 batches, then a moving average with momentum 0.9; the
    scales are batch statistics (checkpointed with the model), the learned gain a parameter."""
    from hwsnn.hardware.crossbar import analog_matmul_tiles, split_row_tiles
    from hwsnn.layers.readout_scale import uncalibrated

    spec = crossbar_preset("rram-sa")
    model = mlp([100, 6], 2, rngs=nnx.Rngs(0), hardware=spec, spiking_input=True)
    layer = model.layers[0]
    assert uncalibrated(model) == ["layers/0/readout_scale"]
    key, rng = jax.random.key(2), np.random.default_rng(4)
    batches = [jnp.asarray((rng.random((2, 5, 100)) < p).astype(np.float32)) for p in (0.1, 0.5, 0.3)]
    measured = []
    for x in batches:
        model(x, key=key, calibrate=True)
        tiles = split_row_tiles(x.reshape(-1, 100).T, spec.size)
        ideal = spec.without("readout")  # the same partial sums, read exactly
        measured.append(
            np.asarray(
                analog_matmul_tiles(tiles, layer.kernel[...], ideal, jax.random.fold_in(key, 0)).partial_magnitudes
            )
        )
    assert uncalibrated(model) == [] and int(layer.readout_scale.batches[...]) == 3
    np.testing.assert_allclose(np.asarray(layer.readout_scale.calibrated[...]), np.mean(measured, axis=0), rtol=1e-5)
    for _ in range(20):  # past 1 / (1 - momentum) batches: c <- c + 0.1 (m - c)
        before = np.asarray(layer.readout_scale.calibrated[...])
        model(batches[0], key=key, calibrate=True)
    np.testing.assert_allclose(
        np.asarray(layer.readout_scale.calibrated[...]), before + 0.1 * (measured[0] - before), rtol=1e-5
    )
    # an evaluation pass moves nothing
    model(batches[1], key=key)
    np.testing.assert_array_equal(
        np.asarray(layer.readout_scale.calibrated[...]), before + 0.1 * (measured[0] - before)
    )
    _, params, stats, _ = nnx.split(model, nnx.Param, nnx.BatchStat, ...)
    assert "log_gain" in str(jax.tree_util.tree_structure(params)) and "calibrated" in str(
        jax.tree_util.tree_structure(stats)
    )


def test_a_silent_input_keeps_the_sense_amplifiers_gradient():
    """A layer whose inputs were silent in calibration measures c = 0; its scales stay at one cell's
    current (1 / (adc_range X) of full scale), so the gradient to its inputs is not blocked (a zero
    scale kept SA-aware training silent from the first step)."""
    from hwsnn.layers import Context, SpikingDense

    spec = crossbar_preset("rram-sa")
    layer = SpikingDense(100, 6, rngs=nnx.Rngs(0), hardware=spec)
    silent = jnp.zeros((2, 4, 100))
    layer.synapse(silent, Context(jax.random.key(0), calibrate=True))
    scale = layer.readout_scale
    np.testing.assert_array_equal(np.asarray(scale.calibrated[...]), 0.0)
    np.testing.assert_allclose(np.asarray(scale.value()), 1.0 / 64, rtol=1e-6)
    scale.log_gain[...] = jnp.full(scale.log_gain.shape, 0.5)
    np.testing.assert_allclose(np.asarray(scale.value()), np.exp(0.5) / 64, rtol=1e-6)
    grad = jax.grad(lambda x: jnp.sum(layer.synapse(x, Context(jax.random.key(0)))))(silent)
    assert float(jnp.abs(grad).mean()) > 1e-3
