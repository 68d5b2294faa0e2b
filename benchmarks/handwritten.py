"""A hand-written JAX SNN training step, independent of hwsnn: the speed reference.

Time-major: one ``jax.lax.scan`` over T whose body runs every layer for that timestep
(matmul -> LIF with subtract reset -> fast-sigmoid spike). Same math as hwsnn's default
LIF (snnTorch Leaky semantics), written the way a practitioner would write it by hand.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax


@jax.custom_vjp
def spike(x, slope):
    return (x > 0).astype(x.dtype)


def _spike_fwd(x, slope):
    return spike(x, slope), (x, slope)


def _spike_bwd(res, g):
    x, slope = res
    return g / (slope * jnp.abs(x) + 1.0) ** 2, jnp.zeros_like(slope)


spike.defvjp(_spike_fwd, _spike_bwd)


def init_mlp(key, sizes):
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        key, kw, kb = jax.random.split(key, 3)
        bound = 1.0 / fan_in**0.5
        params.append(
            {
                "w": jax.random.uniform(kw, (fan_in, fan_out), minval=-bound, maxval=bound),
                "b": jax.random.uniform(kb, (fan_out,), minval=-bound, maxval=bound),
            }
        )
    return params


def forward(params, x, beta, slope):
    """``x [T, B, F]`` -> output spikes ``[T, B, C]``."""
    batch = x.shape[1]
    v0 = [jnp.zeros((batch, p["w"].shape[1])) for p in params]

    def step(vs, xt):
        h, new = xt, []
        for p, v in zip(params, vs):
            reset = jax.lax.stop_gradient((v > 1.0).astype(v.dtype))
            v = beta * v + h @ p["w"] + p["b"][None, :] - reset
            h = spike(v - 1.0, slope)
            new.append(v)
        return new, h

    _, out = jax.lax.scan(step, v0, x)
    return out


def make_step(optimizer, network=None, beta=0.95, slope=25.0, compiler_options=None):
    """A jitted Adam step on cross-entropy of spike counts for ``network`` (:func:`forward` by default),
    compiled with XLA's defaults or the given ``compiler_options``."""
    network = forward if network is None else network

    def loss_fn(params, x, y):
        counts = network(params, x, beta, jnp.asarray(slope)).sum(0)
        return optax.softmax_cross_entropy_with_integer_labels(counts, y).mean()

    @jax.jit(compiler_options=compiler_options)
    def step(params, opt_state, x, y):
        loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    return step


def init_conv(key):
    """12C5 -> 32C5 -> FC 512->10, PyTorch-default uniform init."""
    shapes = [((5, 5, 1, 12), 25), ((5, 5, 12, 32), 300)]
    params = []
    for shape, fan_in in shapes:
        key, kw, kb = jax.random.split(key, 3)
        bound = 1.0 / fan_in**0.5
        params.append(
            {
                "w": jax.random.uniform(kw, shape, minval=-bound, maxval=bound),
                "b": jax.random.uniform(kb, (shape[-1],), minval=-bound, maxval=bound),
            }
        )
    return params + init_mlp(key, (512, 10))


def _lif_over_time(currents, beta, slope):
    def step(v, c):
        reset = jax.lax.stop_gradient((v > 1.0).astype(v.dtype))
        v = beta * v + c - reset
        return v, spike(v - 1.0, slope)

    return jax.lax.scan(step, jnp.zeros(currents.shape[1:]), currents)[1]


def conv_forward(params, x, beta, slope):
    """``x [T, B, 28, 28, 1]``: conv5 VALID -> maxpool2 -> LIF, twice, then FC -> LIF; layer by layer."""
    steps, batch = x.shape[:2]
    h = x
    for p in params[:2]:
        flat = h.reshape((steps * batch,) + h.shape[2:])
        y = jax.lax.conv_general_dilated(flat, p["w"], (1, 1), "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC"))
        n, hh, ww, c = y.shape
        y = y.reshape(n, hh // 2, 2, ww // 2, 2, c).max(axis=(2, 4)) + p["b"][None, None, None, :]
        h = _lif_over_time(y.reshape((steps, batch) + y.shape[1:]), beta, slope)
    h = h.reshape(steps, batch, -1)
    return _lif_over_time(h @ params[2]["w"] + params[2]["b"][None, None, :], beta, slope)
