"""The time-major convolution ``[T, B, H, W, C]`` (one call over T x B images, explicit pads from
``conv_geometry``) against XLA's convolution run step by step with XLA's own padding: values and both
gradients; and the compiler options hwsnn compiles its steps with."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hwsnn.layers import ops
from hwsnn.structure import conv_geometry

RNG = np.random.default_rng(0)


def lax_conv(x, kernel, stride, padding):
    return jax.lax.conv_general_dilated(
        x, kernel, (stride, stride), padding, dimension_numbers=("NHWC", "HWIO", "NHWC")
    )


def assert_equals_xla(conv, x, kernel, bias, stride, padding):
    """``conv(x, kernel)`` of time-major ``x`` equals XLA's convolution run step by step plus ``bias``:
    the value to 1e-5, both gradients (under a random cotangent) to 1e-4 of their largest entry."""
    reference = lambda x, k: (
        jnp.stack([lax_conv(step, k, stride, padding) for step in x]) + bias.reshape(1, 1, 1, 1, -1)
    )
    np.testing.assert_allclose(np.asarray(conv(x, kernel)), np.asarray(reference(x, kernel)), rtol=1e-5, atol=1e-5)
    cotangent = jnp.asarray(RNG.normal(size=reference(x, kernel).shape).astype(np.float32))
    loss = lambda f: lambda x, k: jnp.sum(cotangent * f(x, k))
    for got, want in zip(
        jax.grad(loss(conv), argnums=(0, 1))(x, kernel), jax.grad(loss(reference), argnums=(0, 1))(x, kernel)
    ):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-4 * float(jnp.abs(want).max()))


# (input [N, H, W, C], kernel size, C_out, stride, padding)
SHAPES = [
    ((6, 28, 28, 1), 5, 12, 1, "VALID"),
    ((4, 14, 14, 16), 3, 32, 1, "SAME"),
    ((5, 12, 12, 12), 5, 32, 1, "VALID"),
    ((3, 9, 11, 1), 3, 4, 2, "SAME"),
    ((3, 10, 10, 24), 3, 8, 2, ((2, 0), (1, 1))),
    ((4, 28, 28, 1), 3, 16, 1, "SAME"),
    ((3, 7, 7, 8), 5, 16, 1, ((1, 0), (0, 1))),
]
# which passes of each shape run as banded row matmuls (ops.row_matmul_passes): (forward, input gradient)
BANDED = [(True, False), (False, False), (False, True), (False, False), (False, False), (True, False), (False, True)]


def test_the_banded_row_matmuls_are_chosen_where_they_are_faster():
    # forward with one input channel; input gradient where the banded products are at most 1.25x XLA's:
    # 12x12 VALID 5x5: 8*8*12 = 768 against 12*12*5 = 720; 7x7 padded to 8x8: 4*4*8 = 128 against 245;
    # not 14x14 SAME 3x3: 14*14*16 against 14*14*3
    for (shape, size, outputs, stride, padding), banded in zip(SHAPES, BANDED):
        pads = tuple(
            conv_geometry(n, size, stride, padding if isinstance(padding, str) else padding[axis])[1]
            for axis, n in enumerate(shape[1:3])
        )
        assert ops.row_matmul_passes(shape, (size, size, shape[-1], outputs), stride, pads) == banded


@pytest.mark.parametrize("shape, size, outputs, stride, padding", SHAPES)
def test_convolution_equals_xla(shape, size, outputs, stride, padding):
    x = jnp.asarray((RNG.random((3,) + shape) < 0.2).astype(np.float32))  # T = 3 steps of N images
    kernel = jnp.asarray(RNG.normal(0, 0.2, (size, size, shape[-1], outputs)).astype(np.float32))
    bias = jnp.asarray(RNG.normal(size=outputs).astype(np.float32))
    assert_equals_xla(lambda x, k: ops.conv2d(x, k, bias, stride, padding), x, kernel, bias, stride, padding)


@pytest.mark.parametrize("shape, size, outputs, stride, padding", [SHAPES[2], SHAPES[4]])  # 10 and 7 row tiles
def test_a_conv_layer_on_ideal_crossbars_equals_xla(shape, size, outputs, stride, padding):
    # the crossbar path (receptive-field row tiles, per-tile products on the pair's conductances, read
    # exactly, tiles of 32 rows, the last one short) against XLA's convolution: value and both gradients
    from flax import nnx

    from hwsnn.hardware.crossbar import CrossbarSpec
    from hwsnn.layers import SpikingConv
    from hwsnn.layers.modules import Context

    ideal = CrossbarSpec(g_on_siemens=1 / 19.139e3, g_off_siemens=1 / 200e3, v_read_volt=0.1, weight_bits=None, size=32)
    layer = SpikingConv(shape[-1], outputs, size, rngs=nnx.Rngs(0), stride=stride, padding=padding, hardware=ideal)
    x = jnp.asarray((RNG.random((2,) + shape) < 0.2).astype(np.float32))
    kernel, bias = layer.kernel[...], layer.bias[...]
    context = Context(key=jax.random.key(0))

    graphdef, params, rest = nnx.split(layer, nnx.Param, ...)

    def crossbar(x, k):
        p = jax.tree.map(lambda a: a, params)
        p["kernel"] = nnx.Param(k)
        return nnx.merge(graphdef, p, rest).synapse(x, context)

    assert_equals_xla(crossbar, x, kernel, bias, stride, padding)


def test_the_compiler_options_keep_convolutions_out_of_ynnpack_and_change_no_value():
    # hwsnn.compile: on CPU the convolution takes XLA's own kernels, dots and reductions stay in YNNPACK fusions
    from hwsnn.compile import compiler_options, jit

    x = jnp.asarray((RNG.random((32, 14, 14, 16)) < 0.3).astype(np.float32))  # the main job's second layer
    kernel = jnp.asarray(RNG.normal(0, 0.2, (3, 3, 16, 32)).astype(np.float32))
    dense = jnp.asarray(RNG.normal(size=(6272, 5)).astype(np.float32))
    loss = lambda x, k: jnp.sum(jnp.tanh(ops.conv2d(x, k, None, 1, "SAME").reshape(32, -1) @ dense))
    grad = lambda x, k: jax.grad(loss, argnums=1)(x, k)
    hlo = lambda f: f.lower(x, kernel).compile().as_text()
    assert compiler_options() == {
        "xla_cpu_experimental_ynn_fusion_type": "LIBRARY_FUSION_TYPE_INDIVIDUAL_DOT,LIBRARY_FUSION_TYPE_REDUCE"
    }
    ynn_ops = lambda text: {
        line.split("op_name=")[1].split("/")[-1].split('"')[0]
        for line in text.splitlines()
        if "__ynn_fusion" in line and "op_name=" in line
    }
    default, ours = ynn_ops(hlo(jax.jit(grad))), ynn_ops(hlo(jit(grad)))
    assert "conv_general_dilated" in default and "conv_general_dilated" not in ours
    assert "dot_general" in ours
    want = np.asarray(jax.jit(grad)(x, kernel))  # sums of 6272 products, in another order: float rounding
    np.testing.assert_allclose(np.asarray(jit(grad)(x, kernel)), want, rtol=1e-4, atol=1e-4 * np.abs(want).max())


@pytest.mark.parametrize("steps", [1, 2, 3, 4, 5, 8, 13])
def test_the_gradient_of_a_repeat_is_the_sum_over_its_steps(steps):
    # ops.repeat_over_time sums its gradient by halving (odd counts carry their last slice): the plain sum
    x = jnp.asarray(RNG.normal(size=(1, 3, 4)).astype(np.float32))
    cotangent = RNG.normal(size=(steps, 3, 4)).astype(np.float32)
    grad = jax.grad(lambda x: jnp.sum(jnp.asarray(cotangent) * ops.repeat_over_time(x, steps)))(x)
    np.testing.assert_allclose(
        np.asarray(grad), cotangent.astype(np.float64).sum(axis=0, keepdims=True), rtol=1e-6, atol=1e-6
    )
