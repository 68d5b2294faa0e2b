"""Hardware models: specs and presets, the static Workload, and differentiable cost models."""

from hwsnn.hardware import cost, specs
from hwsnn.hardware.specs import PRESETS, preset, stack_specs
from hwsnn.structure import LayerWorkload, Workload

__all__ = ["LayerWorkload", "PRESETS", "Workload", "cost", "preset", "specs", "stack_specs"]
