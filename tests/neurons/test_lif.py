"""LIF dynamics: equality with snnTorch Leaky, closed forms and gradient safety."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import snntorch
import torch

from hwsnn.neurons import atan, fast_sigmoid, integrate_and_fire, lif, sigmoid


def snntorch_leaky(currents: np.ndarray, beta, threshold, reset: str):
    """Run snnTorch's Leaky step by step; returns (spikes, membranes) as numpy."""
    neuron = snntorch.Leaky(beta=torch.as_tensor(beta), threshold=torch.as_tensor(threshold), reset_mechanism=reset)
    mem = neuron.reset_mem()
    spikes, mems = [], []
    for current in torch.from_numpy(currents):
        spk, mem = neuron(current, mem)
        spikes.append(spk.detach().numpy())
        mems.append(mem.detach().numpy())
    return np.stack(spikes), np.stack(mems)


@pytest.mark.parametrize("reset", ["subtract", "zero", "none"])
@pytest.mark.parametrize("per_neuron", [False, True])
def test_matches_snntorch_leaky(reset, per_neuron):
    rng = np.random.default_rng(1)
    currents = rng.normal(0.4, 0.8, size=(60, 8, 16)).astype(np.float32)
    beta = rng.uniform(0.5, 1.0, size=16).astype(np.float32) if per_neuron else np.float32(0.9)
    threshold = rng.uniform(0.5, 1.5, size=16).astype(np.float32) if per_neuron else np.float32(1.0)
    ref_spikes, ref_mem = snntorch_leaky(currents, beta, threshold, reset)
    spikes, mem = lif(jnp.asarray(currents), beta, threshold, reset=reset)
    assert ref_spikes.sum() > 100  # the comparison exercises many spikes and resets
    np.testing.assert_array_equal(np.asarray(spikes), ref_spikes)
    np.testing.assert_allclose(np.asarray(mem), ref_mem, atol=1e-5, rtol=0)


def test_beta_is_clipped_like_snntorch():
    currents = np.full((5, 1, 1), 0.3, np.float32)
    for beta in (1.7, -0.2):
        _, ref_mem = snntorch_leaky(currents, np.float32(beta), np.float32(1.0), "subtract")
        _, mem = lif(jnp.asarray(currents), beta)
        np.testing.assert_allclose(np.asarray(mem), ref_mem, atol=1e-6)


def test_free_decay_is_beta_to_the_t():
    currents = jnp.zeros((10, 1, 1)).at[0].set(0.5)  # one sub-threshold pulse
    _, v = lif(currents, 0.8)
    np.testing.assert_allclose(np.asarray(v[:, 0, 0]), 0.5 * 0.8 ** np.arange(10), rtol=1e-6)


def test_hand_computed_spike_train():
    # beta = 0.5, theta = 1, constant input 0.6, subtract reset (computed by hand):
    # v: 0.6, 0.9, 1.05 (spike), 0.6*... -> 0.525+0.6-1 = 0.125, 0.6625, 0.93125, 1.065625 (spike), 0.1328125
    currents = jnp.full((8, 1, 1), 0.6)
    spikes, v = lif(currents, 0.5)
    np.testing.assert_array_equal(np.asarray(spikes[:, 0, 0]), [0, 0, 1, 0, 0, 0, 1, 0])
    np.testing.assert_allclose(
        np.asarray(v[:, 0, 0]), [0.6, 0.9, 1.05, 0.125, 0.6625, 0.93125, 1.065625, 0.1328125], rtol=1e-6
    )


def test_zero_reset_keeps_the_input_of_the_reset_step():
    currents = jnp.asarray([1.5, 0.2, 0.2]).reshape(3, 1, 1)
    spikes, v = lif(currents, 0.9, reset="zero")
    np.testing.assert_allclose(np.asarray(v[:, 0, 0]), [1.5, 0.2, 0.38], rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(spikes[:, 0, 0]), [1, 0, 0])


def test_integrate_and_fire_counts_threshold_crossings():
    # no leak: with input 0.3 and theta 1, spikes fire whenever the running sum passes a new integer
    currents = jnp.full((20, 1, 1), 0.3)
    spikes, _ = integrate_and_fire(currents)
    expected = np.floor(0.3 * np.arange(1, 21) + 1e-6) - np.floor(0.3 * np.arange(0, 20) + 1e-6)
    np.testing.assert_array_equal(np.asarray(spikes[:, 0, 0]), expected)


def test_strict_threshold_no_spike_at_equality():
    spikes, _ = lif(jnp.ones((1, 1, 1)), 0.9, 1.0)
    assert float(spikes.sum()) == 0.0


@pytest.mark.parametrize("surrogate", [atan(), fast_sigmoid(), sigmoid()])
def test_gradients_finite_for_huge_inputs(surrogate):
    currents = jnp.asarray([1e30, -1e30, 3.0, 0.0]).reshape(4, 1, 1) * jnp.ones((4, 2, 3))

    def total(c, beta, theta):
        spikes, v = lif(c, beta, theta, surrogate=surrogate)
        return jnp.sum(spikes) + jnp.sum(jnp.tanh(v))

    grads = jax.grad(total, argnums=(0, 1, 2))(currents, jnp.asarray(0.9), jnp.asarray(1.0))
    for g in grads:
        assert np.all(np.isfinite(np.asarray(g)))


def test_learnable_beta_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    currents = jnp.asarray(rng.normal(0.3, 0.5, size=(12, 4, 3)).astype(np.float32))

    def mean_membrane(beta):
        return jnp.mean(lif(currents, beta, reset="none")[1])

    beta = jnp.asarray([0.7, 0.8, 0.9])
    grad = jax.grad(mean_membrane)(beta)
    eps = 1e-3
    for i in range(3):
        fd = (mean_membrane(beta.at[i].add(eps)) - mean_membrane(beta.at[i].add(-eps))) / (2 * eps)
        np.testing.assert_allclose(float(grad[i]), float(fd), rtol=2e-2)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="reset"):
        lif(jnp.ones((2, 1, 3)), 0.9, reset="hard")
    with pytest.raises(ValueError, match="beta"):
        lif(jnp.ones((2, 1, 3)), jnp.ones(4))
    with pytest.raises(ValueError, match="v0"):
        lif(jnp.ones((2, 1, 3)), 0.9, v0=jnp.zeros(3))
