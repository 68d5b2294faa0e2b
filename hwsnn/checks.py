"""Argument checks shared by the whole library: each returns the value or raises ``ValueError`` naming
the argument, what was given and what is allowed, before any work is done."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from hwsnn.typing import Array


def int_at_least(value, name: str, low: int) -> int:
    """``value`` if it is an int >= ``low`` (bools refused)."""
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ValueError(f"{name}: got {value!r}; allowed: an int >= {low}.")
    return value


def positive_int(value, name: str) -> int:
    """``value`` if it is an int >= 1 (bools refused)."""
    return int_at_least(value, name, 1)


def fraction(value, name: str) -> float:
    """``value`` as a float if it is a number in [0, 1)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0.0 <= value < 1.0:
        raise ValueError(f"{name}: got {value!r}; allowed: a number in [0, 1).")
    return float(value)


def positive(value, name: str) -> float:
    """``value`` as a float if it is a number > 0."""
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
        raise ValueError(f"{name}: got {value!r}; allowed: a number > 0.")
    return float(value)


# --------------------------------------------------------------------------- fields of hardware records
# Each names its owner (the record's class) and field, and skips values traced under jit or grad: those
# are checked where they are known, at construction from concrete numbers.


def _traced(value) -> bool:
    return isinstance(value, jax.core.Tracer)


def scalar(owner: str, name: str, value) -> Array:
    """``value`` as a float32 scalar array; a concrete value must be finite."""
    arr = jnp.asarray(value, dtype=jnp.float32)
    if not _traced(arr):
        host = np.asarray(arr)
        if host.ndim != 0:
            raise ValueError(f"{owner}: {name} must be a scalar; got shape {host.shape}.")
        if not np.isfinite(host):
            raise ValueError(f"{owner}: {name} must be finite; got {float(host)!r}.")
    return arr


def nonnegative(owner: str, name: str, value) -> Array:
    """A :func:`scalar` >= 0."""
    arr = scalar(owner, name, value)
    if not _traced(arr) and float(arr) < 0:
        raise ValueError(f"{owner}: {name} must be >= 0; got {float(arr)!r}.")
    return arr


def strictly_positive(owner: str, name: str, value) -> Array:
    """A :func:`scalar` > 0."""
    arr = scalar(owner, name, value)
    if not _traced(arr) and float(arr) <= 0:
        raise ValueError(f"{owner}: {name} must be > 0; got {float(arr)!r}.")
    return arr


def at_most(owner: str, name: str, arr: Array, high: float, *, what: str = "") -> Array:
    """``arr`` if it is at most ``high`` (concrete values)."""
    if not _traced(arr) and float(arr) > high:
        raise ValueError(f"{owner}: {name} must be {what or f'<= {high:g}'}; got {float(arr)!r}.")
    return arr


def probability(owner: str, name: str, value) -> Array:
    """A :func:`scalar` in [0, 1]."""
    return at_most(owner, name, nonnegative(owner, name, value), 1.0, what="a probability in [0, 1]")


def int_in(owner: str, name: str, value, low: int, high: int | None = None) -> int:
    """``value`` if it is an int in ``[low, high]`` (bools refused; no ``high``: unbounded)."""
    if not isinstance(value, int) or isinstance(value, bool) or value < low or (high is not None and value > high):
        allowed = f"an int >= {low}" if high is None else f"an int in [{low}, {high}]"
        raise ValueError(f"{owner}: {name} must be {allowed}; got {value!r}.")
    return value


def one_of(owner: str, name: str, value, allowed) -> str:
    """``value`` if it is one of ``allowed``."""
    if value not in allowed:
        raise ValueError(f"{owner}: {name} must be one of {list(allowed)}; got {value!r}.")
    return value


def instance(owner: str, name: str, value, kind: type, hint: str = ""):
    """``value`` if it is a ``kind``."""
    if not isinstance(value, kind):
        raise ValueError(f"{owner}: {name} must be a {kind.__name__}{hint}; got {type(value).__name__}.")
    return value


def boolean(owner: str, name: str, value) -> bool:
    """``value`` if it is a bool."""
    if not isinstance(value, bool):
        raise ValueError(f"{owner}: {name} must be a bool; got {value!r}.")
    return value
