"""The convolution with its own VJP against XLA's: values and both gradients, on each weight-gradient route."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hwsnn.layers import ops

RNG = np.random.default_rng(0)


def lax_conv(x, kernel, stride, padding):
    return jax.lax.conv_general_dilated(x, kernel, (stride, stride), padding, dimension_numbers=("NHWC", "HWIO", "NHWC"))


# (input [N, H, W, C], kernel size, C_out, stride, padding): k^2 C_in of 25 and 9 take the patch matmul
# (<= PATCH_GRADIENT_ROWS), 144, 300 and 216 XLA's gradient
SHAPES = [((6, 28, 28, 1), 5, 12, 1, "VALID"), ((4, 14, 14, 16), 3, 32, 1, "SAME"), ((5, 12, 12, 12), 5, 32, 1, "VALID"),
          ((3, 9, 11, 1), 3, 4, 2, "SAME"), ((3, 10, 10, 24), 3, 8, 2, ((2, 0), (1, 1)))]


@pytest.mark.parametrize("shape, size, outputs, stride, padding", SHAPES)
def test_convolution_equals_xla(shape, size, outputs, stride, padding):
    x = jnp.asarray((RNG.random(shape) < 0.2).astype(np.float32))
    kernel = jnp.asarray(RNG.normal(0, 0.2, (size, size, shape[-1], outputs)).astype(np.float32))
    bias = jnp.asarray(RNG.normal(size=outputs).astype(np.float32))
    mine = lambda x, k: ops.conv2d(x, k, bias, stride, padding)
    reference = lambda x, k: lax_conv(x, k, stride, padding) + bias.reshape(1, 1, 1, -1)
    np.testing.assert_allclose(np.asarray(mine(x, kernel)), np.asarray(reference(x, kernel)), rtol=1e-5, atol=1e-5)
    cotangent = jnp.asarray(RNG.normal(size=reference(x, kernel).shape).astype(np.float32))
    loss = lambda f: (lambda x, k: jnp.sum(cotangent * f(x, k)))
    for got, want in zip(jax.grad(loss(mine), argnums=(0, 1))(x, kernel), jax.grad(loss(reference), argnums=(0, 1))(x, kernel)):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-4 * float(jnp.abs(want).max()))


def test_the_weight_gradient_route_follows_the_unrolled_kernel_height(monkeypatch):
    # the patch route is taken up to PATCH_GRADIENT_ROWS rows: with the patch matmul made to fail, only wider kernels run
    calls = []
    real = ops.patches
    monkeypatch.setattr(ops, "patches", lambda *a: calls.append(a[0].shape) or real(*a))
    for shape, size, outputs, stride, padding in SHAPES:
        kernel = jnp.zeros((size, size, shape[-1], outputs))
        jax.grad(lambda k: jnp.sum(ops.conv2d(jnp.ones(shape), k, None, stride, padding)))(kernel)
    assert [c[-1] for c in calls] == [1, 1]  # C_in of the 5x5x1 and 3x3x1 cases


def test_patches_are_the_receptive_fields():
    # by hand: a 3x3 input with SAME padding, patch of the centre pixel = the whole image, corner = zero-padded
    x = jnp.arange(1.0, 10.0).reshape(1, 3, 3, 1)
    p = np.asarray(ops.patches(x, 3, 1, ((1, 1), (1, 1))))
    np.testing.assert_array_equal(p[4], np.arange(1.0, 10.0))
    np.testing.assert_array_equal(p[0], [0, 0, 0, 0, 1, 2, 0, 4, 5])
