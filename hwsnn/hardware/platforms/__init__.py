"""Hardware platforms, one per file: each holds its spec, the spec's validated constructor, its cost
model (a :class:`~hwsnn.hardware.platforms.base.Platform`, whose baseline is abstract) and its preset
specs. The registry of named chips is :mod:`hwsnn.hardware.presets`."""

from hwsnn.hardware.platforms.base import Platform, stack_specs
from hwsnn.hardware.platforms.event import Event
from hwsnn.hardware.platforms.imc import IMC
from hwsnn.hardware.platforms.naive import Naive
from hwsnn.hardware.platforms.systolic import Systolic

__all__ = ["Event", "IMC", "Naive", "Platform", "Systolic", "stack_specs"]
