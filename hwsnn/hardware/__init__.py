"""Hardware models: platforms (spec, cost model, preset specs), crossbars in the loop, the static Workload,
and the one registry of named chips."""

from hwsnn.hardware import cost, crossbar, platforms
from hwsnn.hardware.platforms import stack_specs
from hwsnn.hardware.presets import PRESETS, Preset, crossbar_preset, hardware_preset, preset, register
from hwsnn.structure import LayerWorkload, Workload

__all__ = [
    "LayerWorkload",
    "PRESETS",
    "Preset",
    "Workload",
    "cost",
    "crossbar",
    "crossbar_preset",
    "hardware_preset",
    "platforms",
    "preset",
    "register",
    "stack_specs",
]
