"""Conductance drift (aihwkit's PCM law) by hand, its spread, a chip's fixed exponents, and compensation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hwsnn.hardware.crossbar import CrossbarSpec, Drift, analog_matmul

G_MAX = 25e-6
T0 = 20.0


def pcm(weight_bits=8, *stages):
    return CrossbarSpec(g_on_siemens=G_MAX, g_off_siemens=0.0, v_read_volt=0.2, weight_bits=weight_bits, stages=stages)


def mean_exponent(u):
    """aihwkit PCMLikeNoiseModel: mu_nu = clip(-0.0155 ln u + 0.0244, 0.049, 0.1), u = G_target / g_max."""
    return np.clip(-0.0155 * np.log(u) + 0.0244, 0.049, 0.1)


def one_hot(spec, w, key=0):
    return np.asarray(analog_matmul(jnp.eye(w.shape[0]), w, spec, jax.random.key(key)), np.float64)


def test_drift_law_by_hand():
    # one cell per output (g_off = 0: the idle cell of each pair carries nothing); levels 127, 13 and 1 of
    # 127, i.e. u = 1 (exponent clipped at 0.049), 0.102 and 0.0079 (level-dependent): with no spread each
    # output decays as ((t + t0) / t0)^(-mu_nu(u)); compensation off
    w = jnp.asarray([[1.0, 0.1, 0.01, -0.1]])
    u = np.asarray([127, 13, 1, 13]) / 127
    fresh = one_hot(pcm(), w)
    for t in (1.0, 3600.0, 3.15576e7):
        drifted = one_hot(pcm(8, Drift(time_s=t, spread=0.0, compensated=False)), w)
        np.testing.assert_allclose((drifted / fresh)[0], ((t + T0) / T0) ** -mean_exponent(u), rtol=2e-5)
    # time 0 is the first read: nothing has drifted
    np.testing.assert_allclose(one_hot(pcm(8, Drift(time_s=0.0, compensated=False)), w), fresh, rtol=1e-6)


def test_drift_exponents_spread_and_a_chip_keeps_them():
    # 64 x 512 cells at the top level (u = 1): nu ~ |N(0.049, 0.008^2)|, sigma_nu = clip(-0.0125 ln 1 - 0.0059,
    # 0.008, 0.045) = 0.008; the log of each output's decay over log((t + t0) / t0) is its cell's -nu
    w = jnp.ones((64, 512))
    fresh = one_hot(pcm(), w)
    year, day = 3.15576e7, 86400.0
    nu_year = -np.log(one_hot(pcm(8, Drift(time_s=year, compensated=False)), w) / fresh) / np.log((year + T0) / T0)
    assert nu_year.mean() == pytest.approx(0.049, abs=4 * 0.008 / np.sqrt(nu_year.size))
    assert nu_year.std() == pytest.approx(0.008, rel=0.03)
    # the exponents are a device property, drawn once per programming key: the same chip a day later
    nu_day = -np.log(one_hot(pcm(8, Drift(time_s=day, compensated=False)), w) / fresh) / np.log((day + T0) / T0)
    np.testing.assert_allclose(nu_day, nu_year, rtol=2e-3)
    other = -np.log(one_hot(pcm(8, Drift(time_s=year, compensated=False)), w, key=1) / fresh) / np.log((year + T0) / T0)
    assert np.abs(other - nu_year).max() > 0.01


def test_compensation_restores_a_uniformly_drifted_crossbar_exactly():
    # 2-bit weights (levels -1, 0, 1): every programmed cell at g_max, so with no spread every cell drifts by
    # the same factor; the all-ones reference read scales the output back exactly
    rng = np.random.default_rng(0)
    w = jnp.asarray(rng.normal(size=(150, 70)).astype(np.float32))
    x = jnp.asarray((rng.random((8, 150)) < 0.3).astype(np.float32))
    fresh = np.asarray(analog_matmul(x, w, pcm(2), jax.random.key(0)))
    t = 3.15576e7
    off = np.asarray(analog_matmul(x, w, pcm(2, Drift(time_s=t, spread=0.0, compensated=False)), jax.random.key(0)))
    on = np.asarray(analog_matmul(x, w, pcm(2, Drift(time_s=t, spread=0.0)), jax.random.key(0)))
    np.testing.assert_allclose(off, fresh * ((t + T0) / T0) ** -0.049, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(on, fresh, rtol=1e-5, atol=1e-6)
    # with the measured spread, compensation fixes the mean decay and leaves the scatter
    spread_on = np.asarray(analog_matmul(x, w, pcm(2, Drift(time_s=t)), jax.random.key(0)))
    spread_off = np.asarray(analog_matmul(x, w, pcm(2, Drift(time_s=t, compensated=False)), jax.random.key(0)))
    assert np.abs(spread_on - fresh).mean() < 0.35 * np.abs(spread_off - fresh).mean()  # measured: 0.25
    assert np.abs(spread_on - fresh).max() > 1e-4


def test_drift_errors_name_the_field():
    with pytest.raises(ValueError, match=r"Drift: time_s must be >= 0; got -1.0"):
        Drift(time_s=-1.0)
    with pytest.raises(ValueError, match=r"Drift: t0_s must be > 0; got 0.0"):
        Drift(t0_s=0.0)
    with pytest.raises(ValueError, match=r"Drift: compensated must be a bool; got 'yes'"):
        Drift(compensated="yes")
