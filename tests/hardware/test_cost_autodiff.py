"""Cost models: gradients equal central finite differences; one trace under jit; vmap over specs."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from hwsnn.hardware import preset, stack_specs
from hwsnn.hardware.presets import PLATFORMS
from hwsnn.layers import conv_net
from hwsnn.structure import Activity, LayerActivity

CASES = [
    ("naive", "naive-fp32"),
    ("systolic", "systolic-sata"),
    ("imc", "rram-adc"),
    ("imc", "rram-sa"),
    ("event", "event-fpga"),
]


def random_case(seed: int):
    """A random conv workload and a random positive activity a network of it could have (5-95 % of each
    layer's inputs and neurons active per step)."""
    rng = np.random.default_rng(seed)
    channels = tuple(int(c) for c in rng.integers(2, 9, size=2))
    model = conv_net(
        (8, 8, 1),
        channels,
        (int(rng.integers(4, 12)),),
        4,
        int(rng.integers(2, 5)),
        rngs=nnx.Rngs(seed),
        spiking_input=bool(seed % 2),
    )
    layers = tuple(
        LayerActivity(
            jnp.asarray(rng.uniform(0.05, 0.95, layer.input_timesteps) * np.prod(layer.in_shape)),
            jnp.asarray(rng.uniform(0.05, 0.95, layer.timesteps) * layer.neurons),
        )
        for layer in model.workload
    )
    return model.workload, Activity(layers)


def objective(fn, workload):
    def f(spec, activity):
        c = fn(spec, workload, activity)
        total = c.energy_pj.total
        return total if c.latency_ns is None else total + 1e3 * c.latency_ns

    return f


def central_difference(f, x, index, eps):
    flat = x.reshape(-1)
    up = f(flat.at[index].add(eps).reshape(x.shape))
    down = f(flat.at[index].add(-eps).reshape(x.shape))
    return (up - down) / (2 * eps)


@pytest.mark.parametrize("model,preset_name", CASES)
@pytest.mark.parametrize("seed", [0, 1])
def test_gradients_match_finite_differences(model, preset_name, seed):
    with jax.enable_x64(True):
        workload, activity = random_case(seed)
        to64 = lambda tree: jax.tree.map(lambda a: jnp.asarray(a, jnp.float64), tree)
        spec, activity = to64(preset(preset_name)), to64(activity)
        f = objective(PLATFORMS[model]().cost, workload)
        grad_spec, grad_act = jax.grad(f, argnums=(0, 1))(spec, activity)
        checked = 0
        # every continuous spec field
        leaves, treedef = jax.tree.flatten(spec)
        for i, (leaf, g) in enumerate(zip(leaves, jax.tree.leaves(grad_spec))):

            def along(value, i=i):
                new = list(leaves)
                new[i] = value
                return f(jax.tree.unflatten(treedef, new), activity)

            eps = 1e-6 * max(1.0, abs(float(leaf)))
            fd = float(central_difference(along, leaf, 0, eps))
            np.testing.assert_allclose(float(g), fd, rtol=1e-3, atol=1e-6 * abs(float(f(spec, activity))))
            checked += fd != 0.0
        assert checked >= 1  # not vacuous
        # activity entries of every layer
        act_leaves, act_def = jax.tree.flatten(activity)
        for i, (leaf, g) in enumerate(zip(act_leaves, jax.tree.leaves(grad_act))):

            def along(value, i=i):
                new = list(act_leaves)
                new[i] = value
                return f(spec, jax.tree.unflatten(act_def, new))

            for j in range(leaf.size):
                fd = float(central_difference(along, leaf, j, 1e-4))
                np.testing.assert_allclose(
                    float(g.reshape(-1)[j]), fd, rtol=1e-3, atol=1e-7 * abs(float(f(spec, activity)))
                )


@pytest.mark.parametrize("model,preset_name", CASES)
def test_no_retrace_and_vmap_over_specs(model, preset_name):
    workload, activity = random_case(3)
    fn = PLATFORMS[model]().cost
    traced = jax.jit(chex.assert_max_traces(lambda s, a: fn(s, workload, a).energy_pj.total, n=1))
    chex.clear_trace_counter()
    spec = preset(preset_name)
    first = traced(spec, activity)
    second = traced(spec, jax.tree.map(lambda x: x * 0.5, activity))  # new values, same structure: no retrace
    assert float(first) != float(second)
    scales = jnp.linspace(0.5, 2.0, 16)
    stacked = stack_specs([jax.tree.map(lambda leaf: leaf * s, spec) for s in scales])
    swept = jax.vmap(lambda s: fn(s, workload, activity).energy_pj.total)(stacked)
    looped = [float(fn(jax.tree.map(lambda leaf: leaf * s, spec), workload, activity).energy_pj.total) for s in scales]
    np.testing.assert_allclose(np.asarray(swept), looped, rtol=1e-5)
