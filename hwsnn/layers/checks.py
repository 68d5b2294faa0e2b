"""Argument checks shared by the layers: each returns the value or raises ``ValueError`` naming the
argument, what was given and what is allowed."""

from __future__ import annotations


def positive_int(value, name: str) -> int:
    """``value`` if it is an int >= 1 (bools refused)."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name}: got {value!r}; allowed: an int >= 1.")
    return value


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
