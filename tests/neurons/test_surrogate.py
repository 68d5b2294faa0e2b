"""Surrogate gradients against snnTorch's backward passes and their closed forms."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from snntorch import surrogate as snn_surrogate

from hwsnn.neurons import atan, fast_sigmoid, sigmoid, straight_through, surrogate_from_name, triangle


def torch_grad(fn, x: np.ndarray) -> np.ndarray:
    xt = torch.tensor(x, requires_grad=True)
    fn(xt).sum().backward()
    return xt.grad.numpy()


CASES = [
    (fast_sigmoid(25.0), snn_surrogate.fast_sigmoid(slope=25), 6.0),
    (fast_sigmoid(4.0), snn_surrogate.fast_sigmoid(slope=4), 6.0),
    (atan(2.0), snn_surrogate.atan(alpha=2.0), 6.0),
    (atan(5.0), snn_surrogate.atan(alpha=5.0), 6.0),
    # snnTorch's sigmoid overflows to NaN below about x = -3.5: compare where it is finite
    (sigmoid(25.0), snn_surrogate.sigmoid(slope=25), 3.0),
    (straight_through(), snn_surrogate.straight_through_estimator(), 6.0),
]


@pytest.mark.parametrize("ours,theirs,span", CASES)
def test_forward_and_gradient_match_snntorch(ours, theirs, span):
    x = np.linspace(-span, span, 2001, dtype=np.float32)
    np.testing.assert_array_equal(np.asarray(ours(jnp.asarray(x))), (x > 0).astype(np.float32))
    ours_grad = np.asarray(jax.grad(lambda v: jnp.sum(ours(v)))(jnp.asarray(x)))
    np.testing.assert_allclose(ours_grad, torch_grad(theirs, x), atol=1e-6, rtol=1e-6)


def test_sigmoid_is_stable_where_snntorch_is_nan():
    x = np.asarray([-50.0, -5.0, 5.0, 50.0], np.float32)
    grad = np.asarray(jax.grad(lambda v: jnp.sum(sigmoid(25.0)(v)))(jnp.asarray(x)))
    assert np.all(np.isfinite(grad))
    k = 25.0
    exact = k * np.exp(-k * np.abs(x.astype(np.float64))) / (1 + np.exp(-k * np.abs(x.astype(np.float64)))) ** 2
    np.testing.assert_allclose(grad, exact, rtol=1e-5, atol=1e-30)


def test_triangle_closed_form():
    x = jnp.asarray([-2.0, -0.5, 0.0, 0.25, 1.0, 3.0])
    grad = jax.grad(lambda v: jnp.sum(triangle(2.0)(v)))(x)
    np.testing.assert_allclose(np.asarray(grad), [0.0, 0.375, 0.5, 0.4375, 0.25, 0.0], rtol=1e-6)


@pytest.mark.parametrize("name", ["fast_sigmoid", "atan", "sigmoid", "triangle", "straight_through"])
def test_gradients_finite_for_any_finite_input(name):
    s = surrogate_from_name(name)
    x = jnp.asarray([-3e38, -1e30, -1.0, 0.0, 1e-30, 1.0, 1e30, 3e38])
    grad = jax.grad(lambda v: jnp.sum(s(v)))(x)
    assert np.all(np.isfinite(np.asarray(grad)))


def test_slope_is_a_traced_array_sweepable_with_vmap():
    slopes = jnp.asarray([1.0, 2.0, 4.0])
    x = jnp.asarray(0.5)
    grads = jax.vmap(lambda k: jax.grad(lambda v: fast_sigmoid(k)(v))(x))(slopes)
    np.testing.assert_allclose(np.asarray(grads), 1.0 / (np.asarray([1.0, 2.0, 4.0]) * 0.5 + 1.0) ** 2, rtol=1e-6)
    # and through jit, the same compiled function serves every slope
    f = jax.jit(lambda s, v: jax.grad(lambda u: s(u))(v))
    assert float(f(atan(2.0), x)) != float(f(atan(3.0), x))


def test_invalid_parameters_rejected():
    with pytest.raises(ValueError, match="slope"):
        fast_sigmoid(0.0)
    with pytest.raises(ValueError, match="alpha"):
        atan(-1.0)
    with pytest.raises(ValueError, match="width"):
        triangle(float("nan"))
    with pytest.raises(ValueError, match="surrogate"):
        surrogate_from_name("heaviside")
