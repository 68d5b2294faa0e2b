"""Rematerialised BPTT (``SNN(remat=K)``): the same outputs and gradients as the plain scan, in less memory."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from hwsnn.layers import SNN, Flatten, SpikingConv, SpikingDense
from hwsnn.neurons import LIF, Synaptic

RNG = np.random.default_rng(0)


def mlp(remat, execution, neuron=LIF(beta=0.9), width=24):
    rngs = nnx.Rngs(0)
    layers = [SpikingDense(12, width, rngs=rngs, neuron=neuron), SpikingDense(width, 5, rngs=rngs, neuron=neuron)]
    return SNN(layers, (12,), 10, spiking_input=True, execution=execution, remat=remat)


def conv(remat):
    rngs = nnx.Rngs(0)
    layers = [SpikingConv(1, 4, 3, rngs=rngs, pool="max"), Flatten(), SpikingDense(4 * 4 * 4, 5, rngs=rngs)]
    return SNN(layers, (8, 8, 1), 10, spiking_input=True, remat=remat)


def loss_and_grads(model, x):
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)

    def loss(params):
        out, activity = nnx.merge(graphdef, params, rest)(x)
        return jnp.sum(out * jnp.arange(1.0, out.shape[-1] + 1.0).reshape(1, 1, -1)) + jnp.sum(
            activity.layers[0].output_spikes
        )

    return jax.value_and_grad(loss)(params)


@pytest.mark.parametrize(
    "build, shape",
    [
        (lambda r: mlp(r, "time"), (12,)),  # one scan over T for every layer: chunks of 3 over 10 steps, one left over
        (lambda r: mlp(r, "layer"), (12,)),  # each layer's neuron scan checkpointed
        (lambda r: mlp(r, "layer", Synaptic(alpha=0.8, beta=0.9)), (12,)),  # a two-variable state
        (conv, (8, 8, 1)),
    ],
)
@pytest.mark.parametrize("remat", [3, 5, 16])  # 16 > T: one chunk of all 10 steps
def test_remat_gives_the_plain_outputs_and_gradients(build, shape, remat):
    x = jnp.asarray((RNG.random((10, 6) + shape) < 0.4).astype(np.float32))
    plain_loss, plain_grads = loss_and_grads(build(None), x)
    remat_loss, remat_grads = loss_and_grads(build(remat), x)
    assert float(remat_loss) == pytest.approx(float(plain_loss), rel=1e-6)
    assert float(plain_loss) != 0
    for got, want in zip(jax.tree.leaves(remat_grads), jax.tree.leaves(plain_grads)):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-6)


def test_remat_holds_fewer_steps_for_the_backward_pass():
    # XLA's own buffer accounting of the compiled gradient: at T = 400 the plain scan keeps every step's
    # residuals, chunks of 20 keep 20 boundary states and one chunk's
    rngs = nnx.Rngs(0)
    x = jnp.zeros((400, 8, 64))

    def temp_bytes(remat):
        model = SNN(
            [SpikingDense(64, 256, rngs=rngs), SpikingDense(256, 10, rngs=rngs)],
            (64,),
            400,
            spiking_input=True,
            remat=remat,
        )
        graphdef, params, rest = nnx.split(model, nnx.Param, ...)
        grad = jax.jit(jax.grad(lambda p: jnp.sum(nnx.merge(graphdef, p, rest)(x)[0])))
        return grad.lower(params).compile().memory_analysis().temp_size_in_bytes

    plain, chunked = temp_bytes(None), temp_bytes(20)
    assert plain > 400 * 8 * 256 * 4  # at least one [T, B, 256] float32 membrane history
    assert chunked < plain / 4


@pytest.mark.parametrize("remat", [0, -2, 2.5, True, "4"])
def test_remat_refused(remat):
    with pytest.raises(ValueError, match=r"remat: got .*allowed: None .* or an int >= 1"):
        mlp(remat, "auto")


def test_the_config_checkpoints_every_scan():
    # --model.remat K reaches the container and every neuron population, and changes no gradient
    from hwsnn.layers.neurons import Neurons
    from hwsnn.train import TrainConfig
    from hwsnn.train.builders import build_model

    config = TrainConfig().replace(model={"kind": "mlp", "hidden": [16], "timesteps": 7}, data={"encoding": "rate"})
    plain, chunked = build_model(config, (12,), 5), build_model(config.replace(model={"remat": 3}), (12,), 5)
    assert chunked.remat == 3 and {m.remat for _, m in nnx.iter_graph(chunked) if isinstance(m, Neurons)} == {3}
    x = jnp.asarray((RNG.random((7, 4, 12)) < 0.4).astype(np.float32))
    for got, want in zip(jax.tree.leaves(loss_and_grads(chunked, x)), jax.tree.leaves(loss_and_grads(plain, x))):
        np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-6)
