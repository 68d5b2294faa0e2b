"""analog_matmul: ideal equals x @ w; each non-ideality alone against its closed form; gradients."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hwsnn.hardware.crossbar import analog_matmul, effective_conductance, exact_currents
from hwsnn.hardware.specs import crossbar_spec

G_ON, G_OFF, V = 1 / 19.139e3, 1 / 200e3, 0.1
SPAN = G_ON - G_OFF
RNG = np.random.default_rng(0)
W = jnp.asarray(RNG.normal(0, 0.1, (150, 70)).astype(np.float32))
X = jnp.asarray((RNG.random((8, 150)) < 0.3).astype(np.float32))


def spec(**kw):
    base = dict(g_on_siemens=G_ON, g_off_siemens=G_OFF, v_read_volt=V, weight_bits=None, readout="ideal", ir_drop="none")
    base.update(kw)
    return crossbar_spec(**base)


@pytest.mark.parametrize("encoding", ["differential", "offset"])
def test_all_ideal_equals_matmul(encoding):
    y = analog_matmul(X, W, spec(encoding=encoding), jax.random.key(0))
    np.testing.assert_allclose(np.asarray(y), np.asarray(X @ W), atol=1e-5)
    # leading axes: [T, B, K]
    xt = X.reshape(2, 4, 150)
    np.testing.assert_allclose(np.asarray(analog_matmul(xt, W, spec(encoding=encoding), jax.random.key(0))),
                               np.asarray(xt @ W), atol=1e-5)


def test_weight_quantisation_closed_form():
    w_max = float(jnp.max(jnp.abs(W)))
    w_q = w_max * np.round(np.asarray(W) / w_max * 7) / 7  # 4 bits: L = 2^3 - 1 = 7
    y = analog_matmul(X, W, spec(weight_bits=4), jax.random.key(0))
    np.testing.assert_allclose(np.asarray(y), np.asarray(X) @ w_q, atol=1e-5)


def one_hot_outputs(s, w, key, program_key=None):
    """Outputs for one-hot inputs: row i of the result is the effective weight row i."""
    eye = jnp.eye(w.shape[0])
    return np.asarray(analog_matmul(eye, w, s, key, program_key=program_key))


def test_programming_variation_statistics():
    sigma = 0.2e-6  # siemens, constant: far from the zero floor
    w = jnp.asarray(RNG.normal(0, 0.1, (64, 512)).astype(np.float32))
    s = spec(prog_sigma_0=sigma)
    y = one_hot_outputs(s, w, jax.random.key(1))
    w_max = float(jnp.max(jnp.abs(w)))
    deviation = y - np.asarray(w)
    # y = w + sigma (eps+ - eps-) w_max / span: Gaussian with std sqrt(2) sigma w_max / span
    expected = np.sqrt(2) * sigma * w_max / SPAN
    assert abs(deviation.mean()) < 4 * expected / np.sqrt(deviation.size)
    assert deviation.std() == pytest.approx(expected, rel=0.03)
    # drawn once per programming key; a new key gives another chip
    again = one_hot_outputs(s, w, jax.random.key(7), program_key=jax.random.key(1))
    other = one_hot_outputs(s, w, jax.random.key(1), program_key=jax.random.key(2))
    np.testing.assert_array_equal(again, y)
    assert np.abs(other - y).max() > expected


def test_stuck_at_fraction():
    w = jnp.asarray(RNG.uniform(0.05, 1.0, (64, 1024)).astype(np.float32) * RNG.choice([-1, 1], (64, 1024)))
    p_on, p_off = 0.1, 0.05
    y = one_hot_outputs(spec(p_stuck_on=p_on, p_stuck_off=p_off), w, jax.random.key(3))
    changed = np.abs(y - np.asarray(w)) > 1e-4
    # the active cell of a pair changes if stuck either way; the idle one (at g_off) only if stuck on
    expected = 1 - (1 - p_on - p_off) * (1 - p_on)
    assert changed.mean() == pytest.approx(expected, abs=4 * np.sqrt(expected * (1 - expected) / changed.size))


def test_adc_step_and_clipping():
    w = W[:64]  # one crossbar of fan-in
    x = jnp.eye(64)[:10]
    w_max = float(jnp.max(jnp.abs(w)))
    for adc_range, bits in ((0.125, 4), (0.01, 4), (0.125, 6)):
        y = np.asarray(analog_matmul(x, w, spec(readout="adc", adc_bits=bits, adc_range=adc_range), jax.random.key(0)))
        full_scale = adc_range * 64 * SPAN * V
        levels = 2 ** (bits - 1) - 1
        current = np.asarray(w[:10]) / w_max * SPAN * V  # one row on: dI = v dG
        expected = np.round(np.clip(current / full_scale, -1, 1) * levels) / levels * full_scale * w_max / (V * SPAN)
        np.testing.assert_allclose(y, expected, atol=1e-6)
    assert np.unique(np.round(np.abs(y) / (full_scale * w_max / (V * SPAN)) * levels, 4)).size <= levels + 1


def test_sense_amplifier_decisions():
    w, x = W[:64], X[:, :64]  # one tile: the output is alpha x sign(partial sum)
    y = np.asarray(analog_matmul(x, w, spec(readout="sa"), jax.random.key(0)))
    partial = np.asarray(x @ w)
    assert np.array_equal(np.sign(y), np.sign(partial))
    # alpha: the mean |partial sum| over batch and columns, in weight units
    np.testing.assert_allclose(np.abs(y), np.abs(partial).mean(), rtol=1e-5)
    # a frozen per-column offset flips the decisions of columns whose partial sums are small
    shifted = np.asarray(analog_matmul(x, w, spec(readout="sa", sa_offset_sigma=0.05), jax.random.key(0)))
    flips = np.sign(shifted) != np.sign(y)
    assert 0 < flips.mean() < 0.5


def test_ir_drop_effective_conductance_equals_exact_solve():
    g = jnp.asarray(1 / RNG.uniform(20e3, 200e3, (64, 64)))
    v = RNG.random((5, 64)) * 0.2
    np.testing.assert_allclose(np.asarray(v @ effective_conductance(g, 2.5, iterations=20, damping=0.6)),
                               exact_currents(v, np.asarray(g), 2.5), rtol=1e-4)


def test_strength_blends_ideal_and_hardware():
    s = spec(readout="sa")
    hardware = analog_matmul(X, W, s, jax.random.key(0))
    np.testing.assert_allclose(np.asarray(analog_matmul(X, W, s, jax.random.key(0), strength=0.0)), np.asarray(X @ W), atol=1e-6)
    half = analog_matmul(X, W, s, jax.random.key(0), strength=0.5)
    np.testing.assert_allclose(np.asarray(half), np.asarray(0.5 * (X @ W + hardware)), atol=1e-5)


def test_gradients_reach_the_weights():
    c = jnp.asarray(RNG.normal(size=(8, 70)).astype(np.float32))
    # quantisation and an ideal readout: straight-through, so the gradient is exactly x^T c
    g = jax.grad(lambda w: jnp.sum(c * analog_matmul(X, w, spec(weight_bits=4), jax.random.key(0))))(W)
    np.testing.assert_allclose(np.asarray(g), np.asarray(X.T @ c), rtol=1e-4, atol=1e-5)
    for readout in ("adc", "sa"):
        s = spec(weight_bits=4, readout=readout, adc_range=0.125, prog_sigma_0=0.2e-6, r_wire_ohm=1.0, ir_drop="relaxation")
        g = jax.grad(lambda w: jnp.sum(c * analog_matmul(X, w, s, jax.random.key(0))))(W)
        assert np.all(np.isfinite(np.asarray(g))) and float(jnp.abs(g).mean()) > 1e-3
        # the surrogate / straight-through gradient points the same way as the ideal one, mostly
        agree = np.mean(np.sign(np.asarray(g)) == np.sign(np.asarray(X.T @ c)))
        assert agree > 0.6


def test_bad_inputs():
    with pytest.raises(ValueError, match="x, w"):
        analog_matmul(jnp.ones((2, 3)), jnp.ones((4, 5)), spec(), jax.random.key(0))
    with pytest.raises(ValueError, match="encoding must be 'differential'"):
        spec(readout="sa", encoding="offset")
    with pytest.raises(ValueError, match="g_off_siemens must be <"):
        spec(g_off_siemens=1e-3)
    with pytest.raises(ValueError, match="p_stuck_on \\+ p_stuck_off"):
        spec(p_stuck_on=0.7, p_stuck_off=0.6)
    with pytest.raises(ValueError, match="does not converge"):
        spec(ir_drop="relaxation", r_wire_ohm=100.0, ir_iterations=5, ir_damping=1.0)
