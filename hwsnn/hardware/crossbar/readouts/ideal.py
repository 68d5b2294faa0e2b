"""The exact readout: an infinitely precise ADC."""

from __future__ import annotations

from hwsnn.hardware.crossbar.stage import Readout


class Ideal(Readout):
    """Each row tile's partial sum passes to the digital periphery exactly (no readout non-ideality)."""

    kind = "ideal"
    exact = True

    def read(self, partial, full_scale, signed, frozen, scale, driven):
        return partial
