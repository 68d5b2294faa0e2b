"""Conformance: every registered stage, readout and neuron model keeps the contracts the rest of hwsnn relies on.

A new stage, readout or neuron is tested here by being registered (as diffrax tests every solver); the
platforms' conformance (each cost preset costed by its platform, with a baseline) is in
``tests/hardware/test_presets.py``.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from hwsnn.hardware.crossbar import PHASES, READOUTS, STAGES, CrossbarSpec, Ideal, analog_matmul, ramped_names
from hwsnn.layers import SpikingDense
from hwsnn.neurons import NEURONS, Neuron

RNG = np.random.default_rng(0)
W = jnp.asarray(RNG.normal(0, 0.1, (100, 12)).astype(np.float32))
X = jnp.asarray((RNG.random((6, 100)) < 0.3).astype(np.float32))
BASE = dict(g_on_siemens=50e-6, g_off_siemens=5e-6, v_read_volt=0.1, weight_bits=4, size=32)


def product(spec, strength=1.0, x=X, w=W):
    scale = jnp.full((1, -(-w.shape[0] // 32), 12), 0.05)  # 100 rows: 4 row tiles of 32
    return analog_matmul(
        x, w, spec, jax.random.key(0), program_key=jax.random.key(1), strength=strength, sa_scale=scale
    )


@pytest.mark.parametrize("name", list(STAGES))
def test_every_stage(name):
    cls = STAGES[name]
    stage = cls()
    assert cls.name == name and cls.phase in PHASES and set(cls.ramped_by()) <= set(ramped_names())
    assert all(leaf.dtype == jnp.float32 and leaf.ndim == 0 for leaf in jax.tree.leaves(stage))
    spec = CrossbarSpec(**BASE).with_stage(stage)
    # the stage at level 0 is the spec without it; removing it by name leaves the rest
    np.testing.assert_allclose(
        np.asarray(product(spec, {name: 0.0})), np.asarray(product(spec.without(name))), atol=1e-6
    )
    assert spec.without(name).stages == ()
    # jitted with the spec as an argument (its arrays traced, its stages structure) equals eager
    jitted = jax.jit(lambda s: product(s))(spec)
    np.testing.assert_allclose(np.asarray(jitted), np.asarray(product(spec)), rtol=1e-5, atol=1e-6)
    # gradients reach the weights and the inputs, finite
    gw, gx = jax.grad(lambda w, x: jnp.sum(product(spec, x=x, w=w) ** 2), argnums=(0, 1))(W, X)
    assert np.isfinite(np.asarray(gw)).all() and np.isfinite(np.asarray(gx)).all() and float(jnp.abs(gw).sum()) > 0


@pytest.mark.parametrize("kind", list(READOUTS))
def test_every_readout(kind):
    cls = READOUTS[kind]
    readout = cls()
    assert cls.kind == kind and cls.phase in PHASES and cls.name in ramped_names()
    spec = CrossbarSpec(**BASE, readout=readout)
    exact = np.asarray(product(CrossbarSpec(**BASE)))
    # at level 0 the readout is an exact one (what the readout ramp starts from)
    np.testing.assert_allclose(np.asarray(product(spec, {"readout": 0.0})), exact, atol=1e-6)
    assert isinstance(spec.without("readout").readout, Ideal)
    # a fixed function of one sample: a sample's output does not depend on its batch-mates
    other = X.at[1:].set(1.0 - X[1:])
    np.testing.assert_array_equal(np.asarray(product(spec, x=other))[0], np.asarray(product(spec))[0])
    gw = jax.grad(lambda w: jnp.sum(product(spec, w=w) ** 2))(W)
    assert np.isfinite(np.asarray(gw)).all() and float(jnp.abs(gw).sum()) > 0
    if readout.bits is not None:  # a quantised readout: on one row tile, each column reads at most 2^bits values
        x = jnp.asarray((RNG.random((64, 32)) < 0.5).astype(np.float32)).at[:, 0].set(1.0)  # every tile driven
        signs = jnp.where(jnp.arange(12) % 2 == 0, 1.0, -1.0)[None, :]  # columns of one sign: sums far from 0
        one_tile = np.asarray(product(spec, x=x, w=jnp.abs(W[:32]) * signs))
        assert max(len(np.unique(column)) for column in one_tile.T) <= 2**readout.bits
        assert len(np.unique(one_tile)) >= 2  # it does read: not a constant


@pytest.mark.parametrize("name", list(NEURONS))
def test_every_neuron_model(name):
    cls = NEURONS[name]
    assert issubclass(cls, Neuron) and not getattr(cls, "__abstractmethods__", None)
    neuron = cls()
    assert neuron.counts.states >= 1 and neuron.counts.ops >= 1
    layer = SpikingDense(20, 7, rngs=nnx.Rngs(0), neuron=neuron)
    x = jnp.asarray((RNG.random((5, 3, 20)) < 0.4).astype(np.float32))
    out = layer(x)
    # one scan over the steps equals stepping the layer one step at a time from its initial state
    state, steps = layer.init_state(3, (7,), jnp.float32), []
    for t in range(5):
        state, y = layer.step(state, x[t])
        steps.append(y)
    np.testing.assert_allclose(np.asarray(out), np.asarray(jnp.stack(steps)), rtol=1e-5, atol=1e-6)
    if cls.spiking:
        assert set(np.unique(np.asarray(out))) <= {0.0, 1.0}
    # its initial values are its parameters; learning one gives it a finite gradient
    for parameter in cls.parameters:
        learner = SpikingDense(20, 7, rngs=nnx.Rngs(0), neuron=cls(learn=(parameter,)))
        graphdef, params, rest = nnx.split(learner, nnx.Param, ...)
        grads = jax.grad(lambda p: jnp.sum(nnx.merge(graphdef, p, rest)(x) ** 2))(params)
        assert all(np.isfinite(np.asarray(g)).all() for g in jax.tree.leaves(grads)), parameter
