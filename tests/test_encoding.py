"""Encoders: spike statistics, exact spike times, determinism and argument errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hwsnn.encoding import direct, encoder_from_name, latency, latency_times, rate


def test_rate_firing_probability_matches_intensity():
    x = jnp.asarray([0.0, 0.1, 0.5, 0.9, 1.0])
    spikes = rate(jnp.broadcast_to(x[None], (400, 5)), 100, jax.random.key(0))
    freq = np.asarray(spikes.mean(axis=(0, 1)))
    n = 100 * 400
    sigma = np.sqrt(np.asarray(x) * (1 - np.asarray(x)) / n)
    assert np.all(np.abs(freq - np.asarray(x)) <= 5 * sigma + 1e-9)
    assert freq[0] == 0.0 and freq[-1] == 1.0


def test_rate_gain_and_offset():
    spikes = rate(jnp.full((2000,), 0.2), 50, jax.random.key(1), gain=2.0, offset=0.1)
    assert abs(float(spikes.mean()) - 0.5) < 0.01


def test_rate_same_key_same_spikes():
    x = jnp.linspace(0, 1, 30)
    a = rate(x, 10, jax.random.key(3))
    b = rate(x, 10, jax.random.key(3))
    c = rate(x, 10, jax.random.key(4))
    assert bool(jnp.all(a == b)) and not bool(jnp.all(a == c))


def test_latency_linear_exact_steps():
    # normalize: tau = (T-1)/(1-thr) = 4/0.99; t = tau (1-x): 0.02 -> 3.96 -> 4; 0.5 -> 2.02 -> 2; 1 -> 0
    spikes = latency(jnp.asarray([0.02, 0.5, 1.0]), 5, method="linear")
    assert spikes.shape == (5, 3)
    np.testing.assert_array_equal(np.argmax(np.asarray(spikes), axis=0), [4, 2, 0])
    np.testing.assert_array_equal(np.asarray(spikes.sum(0)), [1, 1, 1])


def test_latency_log_times_closed_form():
    t = latency_times(jnp.asarray([0.02, 0.5, 1.0]), 5, method="log")
    tau = 4 / np.log(2.0)
    np.testing.assert_allclose(
        np.asarray(t), tau * np.log(np.asarray([0.02, 0.5, 1.0]) / (np.asarray([0.02, 0.5, 1.0]) - 0.01)), rtol=1e-5
    )
    assert float(t[0]) == pytest.approx(4.0, rel=1e-5)


def test_latency_below_threshold_last_step_or_never():
    x = jnp.asarray([0.005, 0.8])
    np.testing.assert_array_equal(np.asarray(latency(x, 6)[:, 0]), [0, 0, 0, 0, 0, 1])
    np.testing.assert_array_equal(np.asarray(latency(x, 6, clip=True)[:, 0]), np.zeros(6))


def test_direct_gives_the_input_once_for_every_step():
    x = jnp.arange(6.0).reshape(2, 3)
    d = direct(x, 4)
    assert d.shape == (1, 2, 3)  # the model repeats a time axis of 1 over its T steps
    np.testing.assert_array_equal(np.asarray(jnp.broadcast_to(d, (4, 2, 3))[3]), np.asarray(x))


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="num_steps"):
        rate(jnp.ones(3), 0, jax.random.key(0))
    with pytest.raises(ValueError, match="method"):
        latency(jnp.ones(3), 4, method="exp")
    with pytest.raises(ValueError, match="threshold"):
        latency(jnp.ones(3), 4, threshold=1.5)
    with pytest.raises(ValueError, match="encoding"):
        encoder_from_name("delta")
