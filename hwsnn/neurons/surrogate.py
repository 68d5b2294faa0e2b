"""Surrogate spike functions: Heaviside forward, smooth derivative backward.

Every factory returns a :class:`Surrogate`, a pytree whose shape parameter (slope, alpha or
width) is an array leaf, so it can be traced under ``jit``, swept with ``vmap`` and passed
through a loss. Calling it on ``x = v - theta`` returns ``H(x)`` (strict ``x > 0``, as
snnTorch) and, in the backward pass, ``g * dS/dx`` with the formulas of snnTorch's surrogate module
section 6 (snnTorch ``snntorch/surrogate.py``):

=================  ===========================================================
fast_sigmoid(k)    dS/dx = 1 / (k |x| + 1)^2                 (Zenke & Ganguli 2018)
atan(alpha)        dS/dx = (alpha / 2) / (1 + (pi/2 * alpha * x)^2)   (Fang et al. 2021)
sigmoid(k)         dS/dx = k * sig(k x) * (1 - sig(k x)), evaluated as
                   k e / (1 + e)^2 with e = exp(-|k x|), which never overflows
                   (snnTorch 1.0.0's form is NaN below about x = -3.5)
triangle(w)        dS/dx = max(0, 1 - |x| / w) / w   (unit area, support |x| < w)
straight_through   dS/dx = scale (1 by default)
=================  ===========================================================

All derivatives are finite for every finite ``x``. The surrogate's forward pass does not
depend on its parameter, so the parameter's cotangent is zero.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from hwsnn.typing import Array

Derivative = Callable[[Array, Array], Array]


@functools.partial(jax.custom_vjp, nondiff_argnums=(0,))
def _heaviside(derivative: Derivative, x: Array, param: Array) -> Array:
    return (x > 0).astype(x.dtype)


def _heaviside_fwd(derivative, x, param):
    return _heaviside(derivative, x, param), (x, param)


def _heaviside_bwd(derivative, residuals, g):
    x, param = residuals
    return g * derivative(x, param).astype(g.dtype), jnp.zeros_like(param)


_heaviside.defvjp(_heaviside_fwd, _heaviside_bwd)


def _fast_sigmoid_derivative(x: Array, slope: Array) -> Array:
    return 1.0 / jnp.square(slope * jnp.abs(x) + 1.0)


def _atan_derivative(x: Array, alpha: Array) -> Array:
    return (alpha / 2.0) / (1.0 + jnp.square(math.pi / 2.0 * alpha * x))


def _sigmoid_derivative(x: Array, slope: Array) -> Array:
    e = jnp.exp(-jnp.abs(slope * x))
    return slope * e / jnp.square(1.0 + e)


def _triangle_derivative(x: Array, width: Array) -> Array:
    return jnp.maximum(0.0, 1.0 - jnp.abs(x) / width) / width


def _straight_through_derivative(x: Array, scale: Array) -> Array:
    return jnp.broadcast_to(scale, x.shape)


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class Surrogate:
    """A spike function ``S(x) = H(x)`` with a surrogate derivative.

    Attributes:
      name: the factory's name (static).
      derivative: ``dS/dx(x, param)`` (static).
      param: the shape parameter (array leaf: traced, sweepable).
    """

    name: str = dataclasses.field(metadata=dict(static=True))
    derivative: Derivative = dataclasses.field(metadata=dict(static=True))
    param: Array

    def __call__(self, x: Array) -> Array:
        """``H(x)`` forward (strict ``x > 0``), ``dS/dx`` backward."""
        return _heaviside(self.derivative, x, jnp.asarray(self.param, x.dtype))

    def grad(self, x: Array) -> Array:
        """The surrogate derivative ``dS/dx`` evaluated at ``x``."""
        return self.derivative(x, jnp.asarray(self.param, x.dtype))


def _positive_param(value, argument: str, factory: str) -> Array:
    """Return ``value`` as a float32 array, rejecting concrete values that are not > 0."""
    arr = jnp.asarray(value, dtype=jnp.float32)
    if not isinstance(arr, jax.core.Tracer):  # check concrete values on the host (never staged)
        host = np.asarray(arr)
        if host.ndim != 0:
            raise ValueError(f"{factory}: {argument} must be a scalar; got shape {host.shape}.")
        if not np.isfinite(host) or host <= 0.0:
            raise ValueError(f"{factory}: {argument} must be a finite number > 0; got {float(host)!r}.")
    return arr


def fast_sigmoid(slope=25.0) -> Surrogate:
    """Fast-sigmoid surrogate: ``dS/dx = 1 / (slope |x| + 1)^2`` (snnTorch default slope 25)."""
    return Surrogate("fast_sigmoid", _fast_sigmoid_derivative, _positive_param(slope, "slope", "fast_sigmoid"))


def atan(alpha=2.0) -> Surrogate:
    """Arctangent surrogate: ``dS/dx = (alpha/2) / (1 + (pi/2 alpha x)^2)`` (snnTorch default)."""
    return Surrogate("atan", _atan_derivative, _positive_param(alpha, "alpha", "atan"))


def sigmoid(slope=25.0) -> Surrogate:
    """Sigmoid surrogate: ``dS/dx = slope sig(slope x)(1 - sig(slope x))``, overflow-free."""
    return Surrogate("sigmoid", _sigmoid_derivative, _positive_param(slope, "slope", "sigmoid"))


def triangle(width=1.0) -> Surrogate:
    """Triangle surrogate of unit area: ``dS/dx = max(0, 1 - |x|/width) / width``."""
    return Surrogate("triangle", _triangle_derivative, _positive_param(width, "width", "triangle"))


def straight_through(scale=1.0) -> Surrogate:
    """Straight-through estimator: ``dS/dx = scale`` everywhere (1 by default)."""
    return Surrogate(
        "straight_through", _straight_through_derivative, _positive_param(scale, "scale", "straight_through")
    )


SURROGATES: dict[str, Callable[..., Surrogate]] = {
    "fast_sigmoid": fast_sigmoid,
    "atan": atan,
    "sigmoid": sigmoid,
    "triangle": triangle,
    "straight_through": straight_through,
}


def surrogate_from_name(name: str, param=None) -> Surrogate:
    """Build a surrogate by name (as written in configs); ``param=None`` takes its default.

    Raises:
      ValueError: ``name`` is not one of :data:`SURROGATES`.
    """
    if name not in SURROGATES:
        raise ValueError(f"surrogate: got {name!r}; allowed: {sorted(SURROGATES)}.")
    factory = SURROGATES[name]
    return factory() if param is None else factory(param)
