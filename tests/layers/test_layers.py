"""Spiking layers against snnTorch/PyTorch twins and hand computations; Activity gradients."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import snntorch
import torch
from flax import nnx

from hwsnn.layers import SNN, Flatten, Pool, Readout, SpikingConv, SpikingDense, conv_net
from hwsnn.layers.ops import conv2d, events_per_step, patch_row_tiles, pool2d
from hwsnn.neurons import ALIF, LIF, RLIF, Integrator, Synaptic, lif, sigmoid


def run_snntorch(layers_torch, x: np.ndarray, beta: float):
    """Per-step snnTorch reference: each torch layer followed by a Leaky (subtract, atan)."""
    leaks = [snntorch.Leaky(beta=beta) for _ in layers_torch]
    mems = [leak.reset_mem() for leak in leaks]
    outs = []
    with torch.no_grad():
        for xt in torch.from_numpy(x):
            h = xt
            for i, (layer, leak) in enumerate(zip(layers_torch, leaks)):
                h, mems[i] = leak(layer(h), mems[i])
            outs.append(h.numpy())
    return np.stack(outs)


def test_dense_stack_matches_snntorch():
    model = SNN(
        [
            SpikingDense(20, 30, rngs=nnx.Rngs(0), neuron=LIF(beta=0.9)),
            SpikingDense(30, 5, rngs=nnx.Rngs(1), neuron=LIF(beta=0.9)),
        ],
        (20,),
        25,
    )
    torch_layers = []
    for layer in model.layers:
        lin = torch.nn.Linear(layer.in_features, layer.out_features)
        lin.weight.data = torch.from_numpy(np.asarray(layer.kernel[...]).T.copy())
        lin.bias.data = torch.from_numpy(np.asarray(layer.bias[...]).copy())
        torch_layers.append(lin)
    x = (np.random.default_rng(0).random((25, 4, 20)) < 0.4).astype(np.float32) * 2.0
    out, _ = model(jnp.asarray(x))
    ref = run_snntorch(torch_layers, x, 0.9)
    assert ref.sum() > 10
    np.testing.assert_array_equal(np.asarray(out), ref)


def test_conv_pool_layer_matches_pytorch_and_snntorch():
    layer = SpikingConv(2, 4, 3, rngs=nnx.Rngs(0), padding="SAME", pool="max", neuron=LIF(beta=0.8))
    conv = torch.nn.Conv2d(2, 4, 3, padding=1)
    conv.weight.data = torch.from_numpy(np.asarray(layer.kernel[...]).transpose(3, 2, 0, 1).copy())
    conv.bias.data = torch.from_numpy(np.asarray(layer.bias[...]).copy())
    block = torch.nn.Sequential(conv, torch.nn.MaxPool2d(2))
    x = np.random.default_rng(1).random((6, 3, 8, 8, 2)).astype(np.float32) * 3.0
    ours = np.asarray(layer(jnp.asarray(x)))  # [T, B, 4, 4, 4] NHWC
    ref = run_snntorch([lambda h: block(h.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)], x, 0.8)
    assert ref.sum() > 10
    np.testing.assert_array_equal(ours, ref)


@pytest.mark.parametrize(
    "channels, tile_rows, stride, padding, top_left",
    [
        (16, 64, 1, "SAME", (1, 1)),  # whole kernel positions per tile, short last tile
        (5, 16, 2, "SAME", (1, 0)),  # positions straddle tiles; stride-2 SAME pads 9 rows (1, 1), 8 columns (0, 1)
        (20, 8, 1, "VALID", (0, 0)),  # one position spans several tiles
        (3, 7, 2, ((2, 0), (1, 3)), (2, 1)),
    ],
)
def test_patch_row_tiles_are_the_unrolled_convolution(channels, tile_rows, stride, padding, top_left):
    rng = np.random.default_rng(3)
    x = jnp.asarray(rng.normal(size=(2, 3, 9, 8, channels)).astype(np.float32))
    kernel = jnp.asarray(rng.normal(size=(3, 3, channels, 4)).astype(np.float32))
    tiles, (out_h, out_w) = patch_row_tiles(x, 3, stride, padding, tile_rows)
    rows = 9 * channels
    assert [t.shape[0] for t in tiles] == [tile_rows] * (rows // tile_rows) + (
        [rows % tile_rows] if rows % tile_rows else []
    )
    unrolled = np.concatenate([np.asarray(t) for t in tiles], axis=0)  # [k^2 C, P], row (i k + j) C + c
    y = (unrolled.T @ np.asarray(kernel).reshape(rows, 4)).reshape(2, 3, out_h, out_w, 4)
    np.testing.assert_allclose(y, np.asarray(conv2d(x, kernel, None, stride, padding)), rtol=1e-4, atol=1e-4)
    # position-major rows: row (i k + j) C + c of output pixel (0, 0) is the padded input at (i, j), channel c
    first_pixel = unrolled[:, 0].reshape(3, 3, channels)
    padded = np.pad(np.asarray(x)[0, 0], ((top_left[0], 3), (top_left[1], 3), (0, 0)))
    np.testing.assert_array_equal(first_pixel, padded[:3, :3])


def test_pooling_by_hand():
    x = jnp.asarray([[1.0, 0.0, 0.0, 1.0], [1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0], [0.0, 1.0, 1.0, 1.0]])
    x = x.reshape(1, 1, 4, 4, 1)
    np.testing.assert_array_equal(np.asarray(pool2d(x, "sum", 2))[0, 0, :, :, 0], [[3, 1], [1, 4]])
    np.testing.assert_array_equal(np.asarray(pool2d(x, "max", 2))[0, 0, :, :, 0], [[1, 1], [1, 1]])
    np.testing.assert_allclose(np.asarray(Pool("avg")(x))[0, 0, :, :, 0], [[0.75, 0.25], [0.25, 1.0]])
    assert Flatten()(x).shape == (1, 1, 16)


def test_readout_returns_leaky_membrane():
    layer = Readout(3, 2, rngs=nnx.Rngs(0), neuron=Integrator(beta=0.5))
    x = jnp.ones((4, 1, 3))
    current = np.asarray(x[0, 0] @ layer.kernel[...] + layer.bias[...])
    expected = np.stack([current * (1 - 0.5 ** (t + 1)) / 0.5 for t in range(4)])
    np.testing.assert_allclose(np.asarray(layer(x))[:, 0], expected, rtol=1e-5)


def test_activity_counts_events_and_spikes():
    model = SNN([SpikingDense(4, 3, rngs=nnx.Rngs(0), neuron=LIF(beta=0.9))], (4,), 3, spiking_input=True)
    x = jnp.asarray(
        [[[1, 0, 1, 1], [0, 0, 0, 1]], [[0, 0, 0, 0], [1, 1, 1, 1]], [[1, 0, 0, 0], [0, 0, 0, 0]]], jnp.float32
    )
    out, activity = model(x)
    np.testing.assert_allclose(np.asarray(activity[0].input_events), [2.0, 2.0, 0.5])
    np.testing.assert_allclose(np.asarray(activity[0].output_spikes), np.asarray(out.sum(axis=(1, 2)) / 2))


def test_event_count_counts_analog_nonzeros():
    x = jnp.asarray([[[0.3, 0.0], [2.0, -1.0]]])  # T=1, B=2
    np.testing.assert_allclose(np.asarray(events_per_step(x)), [1.5])


def test_activity_gradient_matches_finite_differences_of_relaxed_count():
    """d(spikes of layer l)/d(W_l) equals finite differences of sum_t sig(k (v_t - theta)).

    With a sigmoid surrogate of slope k and resets detached, the surrogate gradient of a layer's
    spike count is exactly the gradient of this relaxed count, holding the layer's input fixed.
    """
    k = 4.0
    model = conv_net((8, 8, 1), (3,), (6,), 4, 5, rngs=nnx.Rngs(0), neuron=LIF(beta=0.8, surrogate=sigmoid(k)))
    x = jnp.asarray(np.random.default_rng(0).random((5, 2, 8, 8, 1)).astype(np.float32) * 2)
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)

    def count_of(layer_index, kernel):
        p = jax.tree.map(lambda a: a, params)
        synaptic = [i for i, layer in enumerate(model.layers) if layer.synaptic]
        p["layers"][synaptic[layer_index]]["kernel"] = nnx.Param(kernel)
        m = nnx.merge(graphdef, p, rest)
        _, activity = m(x)
        return jnp.sum(activity[layer_index].output_spikes)

    outputs, _ = model.layer_outputs(x)
    inputs = [x] + outputs[:-1]
    for layer_index, position in enumerate([0, 2]):  # the conv layer and the hidden dense layer
        layer = model.layers[position]
        layer_input = inputs[position]
        kernel = layer.kernel[...]
        grad = jax.grad(lambda w: count_of(layer_index, w))(kernel)

        def relaxed(w):  # float64, so a tiny step never flips a (hard, detached) reset
            inp, bias = np.asarray(layer_input, np.float64), np.asarray(layer.bias[...], np.float64)
            if isinstance(layer, SpikingConv):
                current = pool2d(conv2d(jnp.asarray(inp), w, jnp.asarray(bias), 1, layer.padding), "max", 2)
            else:
                current = jnp.asarray(inp) @ w + jnp.asarray(bias).reshape(1, 1, -1)
            _, v = lif(current, 0.8, 1.0, surrogate=sigmoid(k))
            return jnp.sum(jax.nn.sigmoid(k * (v - 1.0))) / x.shape[1]

        rng = np.random.default_rng(layer_index)
        checked = 0
        with jax.enable_x64(True):
            kernel64 = jnp.asarray(np.asarray(kernel, np.float64))
            for flat in rng.choice(kernel.size, size=12, replace=False):
                idx = np.unravel_index(flat, kernel.shape)
                eps = 1e-6
                fd = (relaxed(kernel64.at[idx].add(eps)) - relaxed(kernel64.at[idx].add(-eps))) / (2 * eps)
                np.testing.assert_allclose(float(grad[idx]), float(fd), rtol=1e-3, atol=1e-4)
                checked += abs(float(fd)) > 1e-3
        assert checked >= 3  # the check is not vacuous


def test_shape_errors_name_the_argument():
    with pytest.raises(ValueError, match="in_features"):
        SpikingDense(0, 3, rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="pool"):
        SpikingConv(1, 2, 3, rngs=nnx.Rngs(0), pool="median")
    with pytest.raises(ValueError, match="padding"):
        SpikingConv(1, 2, 3, rngs=nnx.Rngs(0), padding="FULL")
    with pytest.raises(ValueError, match="beta"):
        SpikingDense(2, 3, rngs=nnx.Rngs(0), neuron=LIF(beta=1.5))
    model = SNN([SpikingDense(4, 3, rngs=nnx.Rngs(0))], (4,), 3)
    with pytest.raises(ValueError, match="x: shape"):
        model(jnp.ones((2, 1, 4)))
    with pytest.raises(ValueError, match="kernel_size"):
        conv_net((4, 4, 1), (2,), (), 2, 2, rngs=nnx.Rngs(0), kernel_size=7, padding="VALID")


@pytest.mark.parametrize(
    "build, neuron",
    [
        ("mlp", LIF(beta=0.9, surrogate="fast_sigmoid")),
        ("conv", LIF(beta=0.9, surrogate="fast_sigmoid")),
        ("mlp", Synaptic()),
        ("mlp", RLIF()),
        ("mlp", ALIF(gamma=0.5)),
    ],
    ids=["lif-mlp", "lif-conv", "synaptic-mlp", "rlif-mlp", "alif-mlp"],
)
def test_time_major_and_layer_by_layer_agree(build, neuron):
    """Both execution orders give the same outputs, activity and gradients, for every neuron model."""
    if build == "mlp":
        layers = lambda: [
            SpikingDense(12, 16, rngs=nnx.Rngs(0), neuron=neuron),
            Readout(16, 3, rngs=nnx.Rngs(1), neuron=Integrator(beta=0.9)),
        ]
        shape = (12,)
    else:
        layers = lambda: [
            SpikingConv(1, 4, 3, rngs=nnx.Rngs(0), pool="max", neuron=neuron),
            Pool("sum"),
            Flatten(),
            SpikingDense(16, 3, rngs=nnx.Rngs(1), neuron=neuron),
        ]
        shape = (8, 8, 1)
    x = jnp.asarray((np.random.default_rng(2).random((7, 5) + shape) < 0.5).astype(np.float32))
    models = {order: SNN(layers(), shape, 7, spiking_input=True, execution=order) for order in ("layer", "time")}
    results = {}
    for order, model in models.items():
        graphdef, params, rest = nnx.split(model, nnx.Param, ...)

        def loss(p):
            out, activity = nnx.merge(graphdef, p, rest)(x)
            return jnp.sum(out**2) + activity.total_output_spikes(), (out, activity)

        grads, (out, activity) = jax.grad(loss, has_aux=True)(params)
        results[order] = (out, activity, grads)
    (out_l, act_l, grad_l), (out_t, act_t, grad_t) = results["layer"], results["time"]
    np.testing.assert_allclose(np.asarray(out_l), np.asarray(out_t), rtol=1e-5, atol=1e-5)
    assert jax.tree.structure(act_l) == jax.tree.structure(act_t)  # conv: per-event synaptic counts in both
    for a, b in zip(jax.tree.leaves(act_l), jax.tree.leaves(act_t)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6)
    for a, b in zip(jax.tree.leaves(grad_l), jax.tree.leaves(grad_t)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-5)
    assert float(act_l.total_output_spikes()) > 0


@pytest.mark.parametrize("dtype", [jnp.bfloat16, jnp.int32, jnp.float16])
def test_a_model_refuses_inputs_of_another_dtype(dtype):
    model = SNN([SpikingDense(4, 3, rngs=nnx.Rngs(0))], (4,), 2, spiking_input=True)
    with pytest.raises(ValueError, match=rf"x: dtype {jnp.dtype(dtype).name}; allowed: float32"):
        model(jnp.zeros((2, 1, 4), dtype))


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_a_model_refuses_non_finite_inputs_where_it_sees_them(bad):
    model = SNN([SpikingDense(4, 3, rngs=nnx.Rngs(0))], (4,), 2, spiking_input=True)
    x = jnp.zeros((2, 1, 4)).at[1, 0, 2].set(bad)
    with pytest.raises(ValueError, match="x: 1 NaN or infinite values; allowed: finite inputs"):
        model(x)
    out, _ = jax.jit(lambda x: model(x))(jnp.ones((2, 1, 4)))  # under jit the values are unknown: no check
    assert out.shape == (2, 1, 3)


@pytest.mark.parametrize(
    "strength, where", [(5.0, ""), (-1.0, ""), (float("nan"), ""), ({"readout": 1.5}, " for stage 'readout'")]
)
def test_a_model_refuses_a_strength_outside_0_1(strength, where):
    model = SNN([SpikingDense(4, 3, rngs=nnx.Rngs(0))], (4,), 2, spiking_input=True)
    with pytest.raises(ValueError, match=rf"hardware_strength: got .*{where}; allowed: a number in \[0, 1\]"):
        model(jnp.zeros((2, 1, 4)), hardware_strength=strength)


def _conv_batches(fn, *args) -> list[int]:
    """The batch sizes of every XLA convolution in ``fn(*args)``."""

    def walk(jaxpr):
        for eqn in jaxpr.eqns:
            if eqn.primitive.name == "conv_general_dilated":
                yield eqn.invars[0].aval.shape[0]
            for sub in jax.extend.core.jaxprs_in_params(eqn.params):
                yield from walk(sub)

    return list(walk(jax.make_jaxpr(fn)(*args).jaxpr))


@pytest.mark.parametrize("build", ["conv", "mlp", "pool-first", "learned-steps", "crossbar"])
def test_an_input_given_once_equals_the_repeated_input(build):
    """``x [1, B, ...]`` (a direct code) gives the outputs, activity and gradients of the input
    repeated over T; a plain first conv layer then convolves the B images once, not T x B."""
    from hwsnn.hardware.presets import crossbar_preset

    steps, batch = 5, 3
    neuron = LIF(beta=0.9, surrogate="fast_sigmoid")
    if build == "mlp":
        layers, shape = (
            [
                SpikingDense(12, 16, rngs=nnx.Rngs(0), neuron=neuron),
                SpikingDense(16, 3, rngs=nnx.Rngs(1), neuron=neuron),
            ],
            (12,),
        )
    else:
        head = [Pool("max")] if build == "pool-first" else []
        hardware = crossbar_preset("rram-adc") if build == "crossbar" else None
        layers = head + [
            SpikingConv(1, 4, 3, rngs=nnx.Rngs(0), pool="max", neuron=neuron, hardware=hardware),
            Flatten(),
            SpikingDense(64, 3, rngs=nnx.Rngs(1), neuron=neuron),
        ]
        shape = (16, 16, 1) if build == "pool-first" else (8, 8, 1)
    model = SNN(layers, shape, steps, learn_timesteps=build == "learned-steps")
    x_once = jnp.asarray(np.random.default_rng(3).random((1, batch) + shape).astype(np.float32) * 4.0)
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)

    def loss(p, x):
        out, activity = nnx.merge(graphdef, p, rest)(x, key=jax.random.key(4))
        return jnp.sum(
            out * jnp.arange(out.shape[-1]).reshape(1, 1, -1)
        ) + activity.total_output_spikes() + activity.total_input_events(), (out, activity)

    results = [
        jax.grad(loss, has_aux=True)(params, x) for x in (x_once, jnp.broadcast_to(x_once, (steps, batch) + shape))
    ]
    (grads_once, (out_once, act_once)), (grads_rep, (out_rep, act_rep)) = results
    np.testing.assert_allclose(np.asarray(out_once), np.asarray(out_rep), rtol=1e-6, atol=1e-6)
    assert float(act_rep.total_output_spikes()) > 0 and all(
        float(jnp.abs(g).sum()) > 0 for g in jax.tree.leaves(grads_rep)
    )
    assert jax.tree.structure(act_once) == jax.tree.structure(act_rep)
    for a, b in zip(jax.tree.leaves(act_once), jax.tree.leaves(act_rep)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-6)
    for a, b in zip(jax.tree.leaves(grads_once), jax.tree.leaves(grads_rep)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-5)
    if build == "conv":
        with pytest.raises(ValueError, match="x: 2 steps with steps=5"):
            model.layers[0](jnp.ones((2, batch) + shape), steps=steps)
        # the XLA convolutions of the loss and its gradient (one input channel: the forward pass is banded
        # row matmuls, ops.row_matmul_passes; the weight gradient is XLA's) see the B images once
        gradient = lambda x: jax.grad(lambda p: loss(p, x)[0])
        assert set(_conv_batches(gradient(x_once), params)) == {batch}
        assert set(_conv_batches(gradient(jnp.broadcast_to(x_once, (steps, batch) + shape)), params)) == {steps * batch}


def test_max_pooling_passes_the_gradient_to_the_first_maximum_as_pytorch():
    # spike-like inputs tie often; PyTorch's MaxPool2d gives a window's gradient to its first maximum
    rng = np.random.default_rng(5)
    for window, size in ((2, 6), (3, 6), (12, 12)):
        x = (rng.random((2, 3, size, size, 4)) < 0.3).astype(np.float32) * rng.integers(
            1, 3, (2, 3, size, size, 4)
        ).astype(np.float32)
        grad_out = rng.normal(size=(2, 3, size // window, size // window, 4)).astype(np.float32)
        ours = jax.grad(lambda v: jnp.sum(pool2d(v, "max", window) * grad_out))(jnp.asarray(x))
        x_torch = torch.tensor(x.reshape(6, size, size, 4).transpose(0, 3, 1, 2), requires_grad=True)
        pooled = torch.nn.functional.max_pool2d(x_torch, window)
        torch.sum(
            pooled * torch.from_numpy(grad_out.reshape(6, size // window, size // window, 4).transpose(0, 3, 1, 2))
        ).backward()
        np.testing.assert_array_equal(
            np.asarray(pool2d(jnp.asarray(x), "max", window)),
            pooled.detach().numpy().transpose(0, 2, 3, 1).reshape(grad_out.shape),
        )
        np.testing.assert_array_equal(np.asarray(ours), x_torch.grad.numpy().transpose(0, 2, 3, 1).reshape(x.shape))
        assert (x_torch.grad.numpy() == 0).mean() > 0.5  # ties were broken, not split
    # a window's only maximum at its last position, 143 of 12 x 12: past an int8 residual (ops._window_max)
    last = jnp.zeros((1, 24, 12, 1)).at[:, 11, 11].set(1.0).at[:, 23, 11].set(2.0)
    np.testing.assert_array_equal(
        np.asarray(jax.grad(lambda v: jnp.sum(pool2d(v, "max", 12)))(last)), np.asarray(last > 0)
    )
