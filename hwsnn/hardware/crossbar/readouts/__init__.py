"""How a crossbar's partial sums are read, one class per file (:class:`~hwsnn.hardware.crossbar.stage.Readout`)."""

from hwsnn.hardware.crossbar.readouts.adc import ADC
from hwsnn.hardware.crossbar.readouts.ideal import Ideal
from hwsnn.hardware.crossbar.readouts.sense_amplifier import SenseAmplifier

__all__ = ["ADC", "Ideal", "SenseAmplifier"]
