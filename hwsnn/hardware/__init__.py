"""Hardware models: specs and presets, the static Workload, and differentiable cost models."""

from hwsnn.hardware import cost, specs
from hwsnn.hardware.presets import PRESETS, HardwarePreset, hardware_preset, preset
from hwsnn.hardware.specs import stack_specs
from hwsnn.structure import LayerWorkload, Workload

__all__ = ["HardwarePreset", "LayerWorkload", "PRESETS", "hardware_preset", "Workload", "cost", "preset", "specs", "stack_specs"]
