"""How an IMC processing element reads its crossbars' columns: the cost side of a readout.

A readout is chosen by passing an instance to :func:`~hwsnn.hardware.platforms.imc.imc_spec`:
:class:`SharedADC` (a ``b``-bit ADC shared by ``c`` columns behind a mux, the columns converted one
after another: SpikeSim's and NeuroSim's design) or :class:`SensePerColumn` (a 1-bit sense amplifier on
every column, all read at once: the ADC-less design of Apolinario et al., TETC 2023). Each says, for one
PE cycle of an ``X``-column crossbar with ``k'^2`` active crossbars, its energy (crossbar drive, readout,
mux), its time and its area per PE, from the spec's constants (energies in pJ, times in ns, areas in
um2)::

    SharedADC:      E = c k'^2 E_xbar + X E_ADC(b) + X E_mux,   t = c t_conv(b),   A = (X / c)(A_ADC + A_mux)
    SensePerColumn: E =   k'^2 E_xbar + X E_SA,                 t = t_SA,          A = X A_SA

An ADC's energy per conversion and its conversion time follow an :class:`ADCScaling` from the spec's
reference ADC (``e_adc_pj`` at ``adc_reference_bits``): :class:`Walden` and :class:`Schreier` SAR
converters (``b + 1`` clock steps of ``adc_step_ns``) and :class:`Flash` (one step).

The functional side (what a readout does to the column currents in training) is
:mod:`hwsnn.hardware.crossbar.readouts`.
"""

from __future__ import annotations

import abc
import dataclasses
from typing import TYPE_CHECKING, ClassVar

import jax.numpy as jnp

from hwsnn import checks
from hwsnn.pytree import Option
from hwsnn.typing import Array

if TYPE_CHECKING:
    from hwsnn.hardware.platforms.imc import IMCSpec

__all__ = ["ADC_SCALINGS", "ADCScaling", "Flash", "PEReadout", "Schreier", "SensePerColumn", "SharedADC", "Walden"]


class ADCScaling(Option, abc.ABC):
    """How an ADC's energy per conversion and its conversion time grow with its resolution ``b`` from the
    reference ``b_ref`` (Chen et al., NeuroSim; Walden and Schreier figures of merit)."""

    name: ClassVar[str]

    @abc.abstractmethod
    def energy_pj(self, reference_pj, bits: int, reference_bits: int):
        """Energy per conversion at ``bits`` from ``reference_pj`` at ``reference_bits``."""

    @abc.abstractmethod
    def steps(self, bits: int) -> int:
        """Clock steps (of ``adc_step_ns``) per conversion."""


class Walden(ADCScaling):
    """A SAR converter on the Walden figure of merit: x2 energy per bit, ``b + 1`` steps."""

    name = "walden"

    def energy_pj(self, reference_pj, bits, reference_bits):
        return reference_pj * 2.0 ** (bits - reference_bits)

    def steps(self, bits):
        return bits + 1


class Schreier(ADCScaling):
    """A SAR converter on the Schreier figure of merit (high resolution): x4 energy per bit, ``b + 1`` steps."""

    name = "schreier"

    def energy_pj(self, reference_pj, bits, reference_bits):
        return reference_pj * 4.0 ** (bits - reference_bits)

    def steps(self, bits):
        return bits + 1


class Flash(ADCScaling):
    """A flash converter: ``2^b - 1`` comparators, energy in proportion to their count, one step."""

    name = "flash"

    def energy_pj(self, reference_pj, bits, reference_bits):
        return reference_pj * (2**bits - 1) / (2**reference_bits - 1)

    def steps(self, bits):
        return 1


ADC_SCALINGS: dict[str, type[ADCScaling]] = {cls.name: cls for cls in (Walden, Schreier, Flash)}
"""Every ADC scaling law by name."""


class PEReadout(abc.ABC):
    """The readout of a PE's crossbars (module doc). Frozen and hashable: static in an :class:`IMCSpec`."""

    bits: int
    """Resolution of one column's reading."""

    def check(self, owner: str, crossbar_size: int) -> None:
        """Raise ``ValueError`` if this readout cannot serve a crossbar of ``crossbar_size`` columns."""

    @abc.abstractmethod
    def energy_pj(self, spec: IMCSpec, crossbars: int) -> dict[str, Array]:
        """Energy of one PE cycle's ``crossbar`` drive, ``readout`` and ``mux``, with ``crossbars`` active."""

    @abc.abstractmethod
    def cycle_ns(self, spec: IMCSpec) -> Array:
        """The readout's share of a PE cycle's duration."""

    @abc.abstractmethod
    def area_um2(self, spec: IMCSpec) -> Array:
        """The readout's area per PE."""


@dataclasses.dataclass(frozen=True)
class SharedADC(PEReadout):
    """A ``bits``-bit ADC for every ``columns`` columns, behind a ``columns``:1 mux: the crossbar is driven
    once per conversion round and the ``columns`` conversions run one after another (SpikeSim; NeuroSim).

    Attributes:
      bits: resolution, an int in [1, 16].
      columns: columns per ADC, an int >= 1 that divides the crossbar size.
      scaling: the :class:`ADCScaling` from the spec's reference ADC.
    """

    bits: int = 4
    columns: int = 8
    scaling: ADCScaling = Walden()

    def __post_init__(self):
        checks.int_in("SharedADC", "bits", self.bits, 1, 16)
        checks.int_in("SharedADC", "columns", self.columns, 1)
        checks.instance("SharedADC", "scaling", self.scaling, ADCScaling, " (Walden(), Schreier() or Flash())")

    def check(self, owner, crossbar_size):
        if crossbar_size % self.columns:
            raise ValueError(
                f"{owner}: the readout's columns per ADC must divide crossbar_size {crossbar_size}; got {self.columns}."
            )

    def conversion_pj(self, spec: IMCSpec) -> Array:
        """Energy of one conversion at :attr:`bits`, by :attr:`scaling`."""
        return self.scaling.energy_pj(spec.e_adc_pj, self.bits, spec.adc_reference_bits)

    def conversion_ns(self, spec: IMCSpec) -> Array:
        """Time of one conversion: the scaling's steps times ``adc_step_ns``."""
        return spec.adc_step_ns * self.scaling.steps(self.bits)

    def energy_pj(self, spec, crossbars):
        x, c = spec.crossbar_size, self.columns
        return {
            "crossbar": c * crossbars * spec.e_xbar_pj,
            "readout": c * (x / c) * self.conversion_pj(spec),
            "mux": c * (x / c) * spec.e_mux_pj,
        }

    def cycle_ns(self, spec):
        return self.columns * self.conversion_ns(spec)

    def area_um2(self, spec):
        return (spec.crossbar_size / self.columns) * (spec.a_adc_um2 + spec.a_mux_um2)


@dataclasses.dataclass(frozen=True)
class SensePerColumn(PEReadout):
    """A 1-bit sense amplifier on every column: one decision per column per PE cycle, all columns at once
    (no mux, no serialisation; Apolinario et al., TETC 2023)."""

    bits = 1

    def energy_pj(self, spec, crossbars):
        return {
            "crossbar": crossbars * spec.e_xbar_pj,
            "readout": spec.crossbar_size * spec.e_sa_pj,
            "mux": jnp.zeros_like(spec.e_mux_pj),
        }

    def cycle_ns(self, spec):
        return spec.sa_ns

    def area_um2(self, spec):
        return spec.crossbar_size * spec.a_sa_um2
