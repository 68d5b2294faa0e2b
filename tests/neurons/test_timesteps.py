"""Timestep resampling (count-preserving, hand-computed cases) and learned step masks."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hwsnn.neurons import resample, resample_matrix, step_count, step_mask


def test_compress_sums_contiguous_groups():
    x = jnp.arange(8.0)  # 8 -> 3: steps {0,1,2}, {3,4,5}, {6,7} (floor(i * 3 / 8))
    np.testing.assert_array_equal(np.asarray(resample(x, 3)), [0 + 1 + 2, 3 + 4 + 5, 6 + 7])
    np.testing.assert_array_equal(np.asarray(resample(jnp.array([1.0, 0.0, 1.0, 1.0]), 2)), [1.0, 2.0])


def test_expand_places_each_step_at_the_start_of_its_span():
    np.testing.assert_array_equal(np.asarray(resample(jnp.array([1.0, 1.0]), 4)), [1, 0, 1, 0])
    # 3 -> 5: targets floor(i * 5 / 3) = 0, 1, 3
    np.testing.assert_array_equal(np.asarray(resample(jnp.array([1.0, 2.0, 3.0]), 5)), [1, 2, 0, 3, 0])


@pytest.mark.parametrize("t_in, t_out", [(8, 3), (8, 8), (5, 9), (16, 1), (1, 6), (7, 4)])
def test_counts_are_preserved(t_in, t_out):
    spikes = jnp.asarray((np.random.default_rng(t_in * 10 + t_out).random((t_in, 3, 5)) < 0.4).astype(np.float32))
    out = resample(spikes, t_out)
    assert out.shape == (t_out, 3, 5)
    np.testing.assert_array_equal(np.asarray(jnp.sum(out, axis=0)), np.asarray(jnp.sum(spikes, axis=0)))
    # every input step goes to exactly one output step
    np.testing.assert_array_equal(np.asarray(jnp.sum(resample_matrix(t_in, t_out), axis=0)), np.ones(t_in))


def test_traced_counts_use_the_same_rule_inside_padded_arrays():
    # counts 6 -> 4 inside arrays of 8 steps: columns 6, 7 (beyond the input's count) map nowhere
    padded = np.asarray(resample_matrix(jnp.asarray(6.0), jnp.asarray(4.0), 8, 8))
    np.testing.assert_array_equal(padded[:4, :6], np.asarray(resample_matrix(6, 4)))
    assert padded[4:].sum() == 0 and padded[:, 6:].sum() == 0
    jitted = jax.jit(lambda a, b: resample_matrix(a, b, 8, 8))(jnp.asarray(6.0), jnp.asarray(4.0))
    np.testing.assert_array_equal(np.asarray(jitted), padded)


def test_resample_rejects_bad_arguments():
    with pytest.raises(ValueError, match="t_out: got 0; allowed: an int >= 1"):
        resample(jnp.ones((4, 2)), 0)
    with pytest.raises(ValueError, match="t_out: got 2.5"):
        resample(jnp.ones((4, 2)), 2.5)
    with pytest.raises(ValueError, match="spikes: shape"):
        resample(jnp.ones(()), 2)


def test_step_mask_forward_and_gradient():
    tau = jnp.asarray(2.7)  # round -> 3 active steps of 5
    np.testing.assert_array_equal(np.asarray(step_mask(tau, 5)), [1, 1, 1, 0, 0])
    assert float(step_count(tau, 5)) == 3.0
    # clipped: at least one step, at most the length
    np.testing.assert_array_equal(np.asarray(step_mask(jnp.asarray(-3.0), 4)), [1, 0, 0, 0])
    np.testing.assert_array_equal(np.asarray(step_mask(jnp.asarray(9.0), 4)), [1, 1, 1, 1])
    # backward: d/dtau sum(mask) = sum_t sigmoid'((tau - t - 1/2) / T) / T, T = 0.5
    grad = float(jax.grad(lambda t: jnp.sum(step_mask(t, 5)))(tau))
    z = (2.7 - np.arange(5) - 0.5) / 0.5
    expected = np.sum(np.exp(-z) / (1 + np.exp(-z)) ** 2 / 0.5)
    assert grad == pytest.approx(expected, rel=1e-5)
    np.testing.assert_allclose(np.asarray(step_mask(tau, 5, relaxed=True)), 1 / (1 + np.exp(-z)), rtol=1e-6)
