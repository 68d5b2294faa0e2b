"""Crossbars in the loop: a spec of cells, stages and a readout, the physics, and ``x @ w`` composed from them.

* :mod:`~hwsnn.hardware.crossbar.physics`: column currents with wire resistance and the IR-drop solvers
  (:class:`Resummed`, :class:`Relaxation`, :class:`Exact`).
* :mod:`~hwsnn.hardware.crossbar.stage`: the :class:`Stage` and :class:`Readout` interfaces, their
  registries and the strength a ramp sets.
* :mod:`~hwsnn.hardware.crossbar.stages`: :class:`ProgrammingNoise`, :class:`StuckAt`, :class:`IRDrop`,
  :class:`ReadNoise`, :class:`Drift`; :mod:`~hwsnn.hardware.crossbar.readouts`: :class:`Ideal`,
  :class:`ADC`, :class:`SenseAmplifier`.
* :mod:`~hwsnn.hardware.crossbar.spec`: :class:`CrossbarSpec`; :mod:`~hwsnn.hardware.crossbar.weights`:
  quantisation, encodings, bit slices; :mod:`~hwsnn.hardware.crossbar.matmul`: :func:`analog_matmul`.
"""

from hwsnn.hardware.crossbar.matmul import (
    AnalogProduct,
    analog_matmul,
    analog_matmul_tiles,
    readout_scale_shape,
    split_row_tiles,
)
from hwsnn.hardware.crossbar.physics import (
    Exact,
    IRDropSolver,
    Relaxation,
    Resummed,
    check_relaxation,
    column_currents,
    effective_conductance,
    exact_currents,
    relaxation_currents,
    resummed_conductance,
)
from hwsnn.hardware.crossbar.readouts import ADC, Ideal, SenseAmplifier
from hwsnn.hardware.crossbar.spec import CrossbarSpec
from hwsnn.hardware.crossbar.stage import (
    PHASES,
    READOUTS,
    STAGES,
    Component,
    HardwareStrength,
    Readout,
    Stage,
    as_strength,
    check_strength,
    ramped_names,
)
from hwsnn.hardware.crossbar.stages import Drift, IRDrop, ProgrammingNoise, ReadNoise, StuckAt
from hwsnn.hardware.crossbar.weights import DifferentialPair, Encoding, Offset, bit_slices, quantize_weights

__all__ = [
    "ADC",
    "AnalogProduct",
    "Component",
    "CrossbarSpec",
    "Drift",
    "DifferentialPair",
    "Encoding",
    "Exact",
    "HardwareStrength",
    "IRDrop",
    "IRDropSolver",
    "Ideal",
    "PHASES",
    "ProgrammingNoise",
    "READOUTS",
    "Offset",
    "ReadNoise",
    "Readout",
    "Relaxation",
    "Resummed",
    "STAGES",
    "SenseAmplifier",
    "Stage",
    "StuckAt",
    "analog_matmul",
    "analog_matmul_tiles",
    "as_strength",
    "bit_slices",
    "check_relaxation",
    "check_strength",
    "column_currents",
    "effective_conductance",
    "exact_currents",
    "quantize_weights",
    "ramped_names",
    "readout_scale_shape",
    "relaxation_currents",
    "resummed_conductance",
    "split_row_tiles",
]
