"""The one registry of hardware presets: each a named chip with the platform that costs it and the
crossbar a network trains and is evaluated on, where it has them.

``hwsnn cost`` (the presets with a platform), ``hwsnn train --hardware.preset`` and ``hwsnn evaluate
--hardware`` (those with a crossbar), energy-aware training (``energy.preset``), the report and
``--help`` all read :data:`PRESETS`; nothing is inferred from a preset's name. The same chip is one
preset: the SpikeSim-like RRAM chips (``rram-adc``, ``rram-sa``) carry both their IMC architecture
(energy, latency, area) and their crossbar (devices, wires, readout), with the same crossbar size and
readout resolution (checked by the tests). Add a preset with :func:`register` (README, "Extending hwsnn").
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from hwsnn.hardware.cost.base import Cost
from hwsnn.hardware.crossbar import CrossbarSpec
from hwsnn.hardware.crossbar.presets import (
    crossbar_aihwkit_pcm,
    crossbar_rram_sa,
    crossbar_rram_sa_ideal_devices,
    crossbar_rram_sa_offset_free,
    crossbar_spikesim_rram,
)
from hwsnn.hardware.platforms import IMC, Event, Naive, Platform, Systolic
from hwsnn.hardware.platforms.event import event_fpga
from hwsnn.hardware.platforms.imc import MODES as IMC_MODES
from hwsnn.hardware.platforms.imc import imc_spikesim_65nm_adc4, imc_spikesim_65nm_sa
from hwsnn.hardware.platforms.naive import naive_fp32_45nm, naive_int8_45nm
from hwsnn.hardware.platforms.systolic import systolic_sata_28nm, systolic_sata_tsweep_28nm
from hwsnn.structure import Activity, Workload


@dataclasses.dataclass(frozen=True)
class Preset:
    """A named chip.

    Attributes:
      name: its name in :data:`PRESETS`.
      platform: the cost model with its options (e.g. ``IMC(mode="event")``), or ``None`` (not costed).
      spec: builds the platform's spec (a preset function of the platform's module, cited there).
      crossbar: builds the :class:`~hwsnn.hardware.crossbar.CrossbarSpec` its synaptic layers run on in
        the loop, or ``None`` (a digital chip).
    """

    name: str
    platform: Platform | None = None
    spec: Callable[[], Any] | None = None
    crossbar: Callable[[], CrossbarSpec] | None = None

    def __post_init__(self):
        if (self.platform is None) != (self.spec is None):
            raise ValueError(
                f"preset {self.name!r}: platform and spec go together; got platform {self.platform!r} and "
                f"spec {self.spec!r}."
            )
        if self.platform is None and self.crossbar is None:
            raise ValueError(f"preset {self.name!r}: got neither a platform nor a crossbar; allowed: either or both.")

    def cost(self, workload: Workload, activity: Activity, spec=None, *, mode: str | None = None) -> Cost:
        """The cost of one inference on this chip (``spec`` replaces the preset's, e.g. a traced copy;
        ``mode`` the platform's accounting mode where it has one, e.g. ``mode="dense"`` for IMC)."""
        if self.platform is None:
            raise ValueError(f"preset: {self.name!r} has no cost platform; allowed: one of {cost_presets()}.")
        return self.platform.in_mode(mode).cost(self.spec() if spec is None else spec, workload, activity)


PRESETS: dict[str, Preset] = {}
"""Every preset by name (:func:`register`)."""


def register(preset: Preset) -> Preset:
    """Add ``preset`` to :data:`PRESETS` (a name may be registered once)."""
    if preset.name in PRESETS:
        raise ValueError(f"preset: {preset.name!r} is registered already; allowed: a new name.")
    PRESETS[preset.name] = preset
    return preset


for _preset in (
    Preset("naive-fp32", Naive(), naive_fp32_45nm),
    Preset("naive-int8", Naive(), naive_int8_45nm),
    Preset("systolic-sata", Systolic(), systolic_sata_28nm),
    Preset("systolic-sata-tsweep", Systolic(), systolic_sata_tsweep_28nm),
    Preset("rram-adc", IMC(mode="event"), imc_spikesim_65nm_adc4, crossbar_spikesim_rram),
    Preset("rram-sa", IMC(mode="event"), imc_spikesim_65nm_sa, crossbar_rram_sa),
    Preset("event-fpga", Event(), event_fpga),
    Preset("rram-sa-offset-free", crossbar=crossbar_rram_sa_offset_free),
    Preset("rram-sa-ideal-devices", crossbar=crossbar_rram_sa_ideal_devices),
    Preset("pcm", crossbar=crossbar_aihwkit_pcm),
):
    register(_preset)

PLATFORMS: dict[str, type[Platform]] = {cls.name: cls for cls in (Naive, Systolic, IMC, Event)}
"""Every platform class by name."""

REFERENCE_PRESETS = {"naive": "naive-fp32", "systolic": "systolic-sata", "imc": "rram-adc", "event": "event-fpga"}
"""The preset each platform is costed on when only the platform is named (the config's ``energy.model``)."""


def cost_presets() -> list[str]:
    """The presets with a cost platform (``hwsnn cost``, ``energy.preset``)."""
    return [name for name, preset in PRESETS.items() if preset.platform is not None]


def crossbar_presets() -> list[str]:
    """The presets with a crossbar (``--hardware.preset``, ``hwsnn evaluate --hardware``)."""
    return [name for name, preset in PRESETS.items() if preset.crossbar is not None]


def hardware_preset(name: str) -> Preset:
    """The :class:`Preset` called ``name`` (one of :data:`PRESETS`)."""
    if name not in PRESETS:
        raise ValueError(f"preset: got {name!r}; allowed: {sorted(PRESETS)}.")
    return PRESETS[name]


def preset(name: str):
    """The platform spec of the cost preset called ``name`` (one of :func:`cost_presets`)."""
    if name not in cost_presets():
        raise ValueError(f"preset: got {name!r}; allowed: {cost_presets()}.")
    return PRESETS[name].spec()


def crossbar_preset(name: str) -> CrossbarSpec:
    """The crossbar spec of the preset called ``name`` (one of :func:`crossbar_presets`)."""
    if name not in crossbar_presets():
        raise ValueError(f"hardware: got {name!r}; allowed: {sorted(crossbar_presets())}.")
    return PRESETS[name].crossbar()


def check_imc_mode(mode: str | None) -> None:
    """Raise ``ValueError`` unless ``mode`` is ``None`` (each preset's own) or an IMC accounting mode."""
    if mode is not None and mode not in IMC_MODES:
        raise ValueError(f"imc_mode: got {mode!r}; allowed: None (the preset's) or one of {list(IMC_MODES)}.")
