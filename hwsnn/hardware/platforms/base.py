"""The platform interface: a class of hardware, its spec type and its cost model, compared with a baseline.

A :class:`Platform` costs one inference of a network (its static
:class:`~hwsnn.structure.Workload` and batch-mean :class:`~hwsnn.structure.Activity`) on a spec of its
``spec_type``; its cost always carries the reference the platform compares the SNN with
(:attr:`Cost.ann <hwsnn.hardware.cost.base.Cost>`: the same network as an ANN on the same hardware, one
pass with multi-bit activations), so an energy ratio is defined for every platform. A subclass implements
:meth:`Platform.snn` and :meth:`Platform.baseline`; one without a baseline is abstract and cannot be
built. Each platform lives in one file of :mod:`hwsnn.hardware.platforms` with its spec, the spec's
validated constructor and its presets (:mod:`hwsnn.hardware.presets`).

All costs are pure ``jnp``: jittable (the workload is static), differentiable with respect to the
activity and every array field of the spec, and vmappable over stacked specs (:func:`stack_specs`).
"""

from __future__ import annotations

import abc
import dataclasses
from typing import Any, ClassVar

import jax
import jax.numpy as jnp

from hwsnn.hardware.cost.base import Cost, check_inputs, check_spec
from hwsnn.structure import Workload


def stack_specs(specs) -> Any:
    """Stack specs of identical static structure along a new leading axis (for ``vmap``).

    Raises:
      ValueError: the specs differ in type or static fields.
    """
    specs = list(specs)
    if not specs:
        raise ValueError("specs: got an empty sequence; allowed: at least one spec.")
    structure = jax.tree.structure(specs[0])
    for index, spec in enumerate(specs[1:], 1):
        if jax.tree.structure(spec) != structure:
            raise ValueError(
                f"specs: spec {index} differs in type or static fields from spec 0; allowed: identical structure."
            )
    return jax.tree.map(lambda *leaves: jnp.stack(leaves), *specs)


@dataclasses.dataclass(frozen=True)
class Platform(abc.ABC):
    """A class of hardware and its cost model (module doc). Platforms are small frozen values: options
    such as an accounting ``mode`` are fields, so a platform with its options is one object."""

    name: ClassVar[str]
    spec_type: ClassVar[type]
    modes: ClassVar[tuple[str, ...]] = ()
    """Its accounting modes (:meth:`in_mode`); none for most platforms."""

    def cost(self, spec, workload: Workload, activity) -> Cost:
        """What one inference of the SNN costs on ``spec``, with the baseline's cost as ``cost.ann``.

        Raises:
          ValueError: ``spec`` is not this platform's spec type, or the activity does not match the workload.
        """
        check_spec(spec, self.spec_type, self.name)
        check_inputs(workload, activity)
        return dataclasses.replace(self.snn(spec, workload, activity), ann=self.baseline(spec, workload))

    @abc.abstractmethod
    def snn(self, spec, workload: Workload, activity) -> Cost:
        """The SNN's cost (energy per component, latency and area where the model has them, per layer)."""

    @abc.abstractmethod
    def baseline(self, spec, workload: Workload) -> Cost:
        """The reference the platform compares the SNN with: the same network run as an ANN on the same hardware."""

    def in_mode(self, mode: str | None) -> "Platform":
        """This platform in accounting ``mode`` (``None``: as it is).

        Raises:
          ValueError: a mode for a platform without modes, or one it does not have.
        """
        if mode is None:
            return self
        if mode not in self.modes:
            raise ValueError(
                f"mode: got {mode!r} for the {self.name} platform; allowed: "
                + (f"None or one of {list(self.modes)}." if self.modes else "None (it has no accounting modes).")
            )
        return dataclasses.replace(self, mode=mode)
