"""Crossbar specs of the chips a network trains and is evaluated on (each cites its source); the registry
that names them is :mod:`hwsnn.hardware.presets`."""

from __future__ import annotations

from hwsnn.hardware.crossbar.physics import Resummed
from hwsnn.hardware.crossbar.readouts import ADC, SenseAmplifier
from hwsnn.hardware.crossbar.spec import CrossbarSpec
from hwsnn.hardware.crossbar.stages import IRDrop, ProgrammingNoise, ReadNoise

RRAM_G_ON_SIEMENS = 1.0 / 19.139e3
"""SpikeSim NICE-like RRAM: the LSB cell of 19.139 kOhm (SpikeSim, Moitra et al., TCAD 2023)."""


def rram_programming_noise() -> ProgrammingNoise:
    """CrossSim's RRAM fit ``sigma_G = max(-0.009107 G + 4.782321 uS, 0)`` (Milo et al.), here in its linear
    form about ``u = G / g_on``: ``(4.782 - 0.009107 x 52.25 uS u)`` uS (the fit covers 50-225 uS;
    extrapolated below)."""
    return ProgrammingNoise(sigma_0=4.782321e-6, sigma_1=-0.009107 * RRAM_G_ON_SIEMENS)


def _rram(readout, name: str, stages=None) -> CrossbarSpec:
    """SpikeSim NICE-like RRAM cells (g_on 1/19.139 kOhm, OFF 200 kOhm, 0.1 V spike read, 4-bit weights,
    64 x 64 crossbars) with CrossSim's programming noise and 1 Ohm per wire segment (ignoring it errs by
    about 8 % on random 64 x 64 arrays of 20-200 kOhm cells: ``tests/hardware/test_crossbar.py``'s setting)."""
    stages = (rram_programming_noise(), IRDrop(r_wire_ohm=1.0, solver=Resummed())) if stages is None else stages
    return CrossbarSpec(
        g_on_siemens=RRAM_G_ON_SIEMENS,
        g_off_siemens=1.0 / 200e3,
        v_read_volt=0.1,
        weight_bits=4,
        size=64,
        stages=stages,
        readout=readout,
        name=name,
    )


def crossbar_spikesim_rram(adc_bits: int = 4) -> CrossbarSpec:
    """The SpikeSim-like RRAM crossbar read by a ``adc_bits``-bit ADC whose full scale is 1/8 of the
    worst-case column current (all 64 rows on at g_on). At full range a 4-bit ADC rounds nearly every
    partial sum of 30 %-active spike inputs to zero (correlation with x @ w undefined); at 1/8 the
    correlation is 0.94, at 1/16 0.97 (measured on random N(0, 0.1) weights, 150 x 70, in
    ``tests/hardware/test_analog.py``'s setting)."""
    return _rram(ADC(bits=adc_bits, range=0.125), "spikesim-rram-adc")


def crossbar_rram_sa() -> CrossbarSpec:
    """The SpikeSim-like RRAM crossbar read by a 1-bit sense amplifier per column (ADC-less IMC,
    Apolinario et al. TETC 2023): the partial sum of each crossbar is binarised against zero
    (differential pair), with a frozen per-column offset of 1 % of full scale."""
    return _rram(SenseAmplifier(offset_sigma=0.01), "spikesim-rram-sa")


def crossbar_rram_sa_offset_free() -> CrossbarSpec:
    """:func:`crossbar_rram_sa` with offset-free sense amplifiers (offset-cancelled, or trimmed after
    fabrication); programming noise and IR drop kept."""
    return crossbar_rram_sa().without("sa_offset").replace(name="spikesim-rram-sa-offset-free")


def crossbar_rram_sa_ideal_devices() -> CrossbarSpec:
    """:func:`crossbar_rram_sa` with ideal devices: no programming noise, no sense-amplifier offsets; the
    4-bit weights, IR drop and the 1-bit readout kept (what the readout alone costs)."""
    return crossbar_rram_sa().without("programming_noise", "sa_offset").replace(name="spikesim-rram-sa-ideal-devices")


def crossbar_aihwkit_pcm() -> CrossbarSpec:
    """aihwkit-like PCM (``PCMLikeNoiseModel``): g_max 25 uS, programming noise
    (0.26348 + 1.9650 u - 1.1731 u^2) uS with u = G / g_max, 4 % relative read noise, 8-bit weights and
    an 8-bit ADC over the full range; no wire resistance."""
    return CrossbarSpec(
        g_on_siemens=25e-6,
        g_off_siemens=0.0,
        v_read_volt=0.2,
        weight_bits=8,
        stages=(ProgrammingNoise(sigma_0=0.26348e-6, sigma_1=1.9650e-6, sigma_2=-1.1731e-6), ReadNoise(sigma=0.04)),
        readout=ADC(bits=8),
        name="aihwkit-pcm",
    )
