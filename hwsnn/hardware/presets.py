"""The one table of hardware cost presets: each names its spec, its cost model and that model's mode.

``hwsnn cost``, energy-aware training (the config's ``energy.preset``) and
:func:`hwsnn.hardware.report.cost_on_presets` all read :data:`PRESETS`; nothing is inferred from a
preset's name. Add a preset by adding one entry (README, "Extending hwsnn").
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from hwsnn.hardware.cost import Cost, event, imc, naive, systolic
from hwsnn.hardware.cost.imc import MODES as IMC_MODES
from hwsnn.hardware.specs import (
    event_fpga, imc_spikesim_65nm_adc4, imc_spikesim_65nm_sa, naive_fp32_45nm, naive_int8_45nm, systolic_sata_28nm,
    systolic_sata_tsweep_28nm,
)
from hwsnn.structure import Activity, Workload


@dataclasses.dataclass(frozen=True)
class HardwarePreset:
    """A named hardware configuration to cost a model on.

    Attributes:
      spec: builds the spec (a preset function of :mod:`hwsnn.hardware.specs`, cited there).
      model: the cost model, ``(spec, workload, activity, **options) -> Cost``.
      model_name: the cost model's name ("naive", "systolic", "imc", "event").
      options: the model's keyword options, e.g. ``{"mode": "event"}`` for IMC.
    """

    spec: Callable[[], Any]
    model: Callable[..., Cost]
    model_name: str
    options: tuple[tuple[str, Any], ...] = ()

    def cost(self, workload: Workload, activity: Activity, spec=None, **overrides) -> Cost:
        """The cost of one inference on this preset (``spec`` replaces the preset's, e.g. a traced copy;
        ``overrides`` replace options, e.g. ``mode="dense"``)."""
        unknown = sorted(set(overrides) - {name for name, _ in self.options})
        if unknown:
            raise ValueError(f"options: got {unknown} for a {self.model_name} preset; allowed: {[n for n, _ in self.options]}.")
        return self.model(self.spec() if spec is None else spec, workload, activity, **{**dict(self.options), **overrides})

    def applicable(self, **changes) -> dict:
        """The ``changes`` this preset has options for (``None`` values left out): e.g. ``mode`` for the
        IMC presets, nothing for the others, so one override can be passed to every preset."""
        own = {name for name, _ in self.options}
        return {name: value for name, value in changes.items() if name in own and value is not None}


PRESETS: dict[str, HardwarePreset] = {
    "naive-fp32": HardwarePreset(naive_fp32_45nm, naive, "naive"),
    "naive-int8": HardwarePreset(naive_int8_45nm, naive, "naive"),
    "systolic-sata": HardwarePreset(systolic_sata_28nm, systolic, "systolic"),
    "systolic-sata-tsweep": HardwarePreset(systolic_sata_tsweep_28nm, systolic, "systolic"),
    "imc-adc": HardwarePreset(imc_spikesim_65nm_adc4, imc, "imc", (("mode", "event"),)),
    "imc-sa": HardwarePreset(imc_spikesim_65nm_sa, imc, "imc", (("mode", "event"),)),
    "event-fpga": HardwarePreset(event_fpga, event, "event"),
}

REFERENCE_PRESETS = {"naive": "naive-fp32", "systolic": "systolic-sata", "imc": "imc-adc", "event": "event-fpga"}
"""The preset each cost model is costed on when only the model is named (the config's ``energy.model``)."""


def hardware_preset(name: str) -> HardwarePreset:
    """The :class:`HardwarePreset` called ``name`` (one of :data:`PRESETS`)."""
    if name not in PRESETS:
        raise ValueError(f"preset: got {name!r}; allowed: {sorted(PRESETS)}.")
    return PRESETS[name]


def preset(name: str):
    """The spec of the preset called ``name`` (one of :data:`PRESETS`)."""
    return hardware_preset(name).spec()


def check_imc_mode(mode: str | None) -> None:
    """Raise ``ValueError`` unless ``mode`` is ``None`` (each preset's own) or an IMC accounting mode."""
    if mode is not None and mode not in IMC_MODES:
        raise ValueError(f"imc_mode: got {mode!r}; allowed: None (the preset's) or one of {list(IMC_MODES)}.")
