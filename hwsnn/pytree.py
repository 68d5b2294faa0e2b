"""Records: frozen, keyword-built dataclasses that are JAX pytrees and validate only when built.

A subclass of :class:`Record` becomes a frozen, keyword-only dataclass and a pytree. Fields made with
:func:`static` are part of the tree's structure (sizes, bit widths, choices: hashable, known under
``jit``); every other field is a child (arrays, or other records). ``__post_init__`` validates and
converts the fields when a record is built, by a user or by ``dataclasses.replace`` (so a replaced
record is as checked as a new one), but never when JAX rebuilds one from its leaves: unflattening
bypasses ``__init__``, so traced, batched or stacked leaves pass through untouched (registered
dataclasses would rerun their checks on every unflatten under ``jit``, DESIGN.md section 2).
Records compare by identity: their leaves are arrays.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax

__all__ = ["Option", "Record", "static"]


def static(default: Any = dataclasses.MISSING) -> Any:
    """A field that is part of the pytree's structure (hashable; known under ``jit``)."""
    return dataclasses.field(default=default, metadata=dict(static=True))


class Record:
    """Base of hwsnn's frozen pytree dataclasses (module doc)."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        dataclasses.dataclass(frozen=True, kw_only=True, eq=False)(cls)
        fields = dataclasses.fields(cls)
        children = tuple(f.name for f in fields if not f.metadata.get("static"))
        structure = tuple(f.name for f in fields if f.metadata.get("static"))

        def flatten_with_keys(record):
            return (
                [(jax.tree_util.GetAttrKey(name), getattr(record, name)) for name in children],
                tuple(getattr(record, name) for name in structure),
            )

        def flatten(record):
            return [getattr(record, name) for name in children], tuple(getattr(record, name) for name in structure)

        def unflatten(meta, leaves):
            record = object.__new__(cls)
            for name, value in zip(structure + children, tuple(meta) + tuple(leaves)):
                object.__setattr__(record, name, value)
            return record

        jax.tree_util.register_pytree_with_keys(cls, flatten_with_keys, unflatten, flatten)

    def _set(self, **values) -> None:
        """Store converted field values from ``__post_init__`` (the record is frozen)."""
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def replace(self, **changes):
        """A copy with ``changes`` applied, built (and so validated) like a new one.

        Raises:
          ValueError: a name is not a field.
        """
        names = [f.name for f in dataclasses.fields(self)]
        unknown = sorted(set(changes) - set(names))
        if unknown:
            raise ValueError(f"{type(self).__name__}: unknown fields {unknown}; allowed: {sorted(names)}.")
        return dataclasses.replace(self, **changes)


class Option:
    """A behaviour chosen by passing an instance of a class without fields (a weight encoding, an ADC's
    scaling law): static in a spec, so its instances compare and hash by their class."""

    def __eq__(self, other):
        return type(self) is type(other)

    def __hash__(self):
        return hash(type(self).__qualname__)

    def __repr__(self):
        return f"{type(self).__name__}()"
