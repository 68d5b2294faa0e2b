"""The non-ideality stages a crossbar spec can hold, one class per file
(:class:`~hwsnn.hardware.crossbar.stage.Stage`)."""

from hwsnn.hardware.crossbar.stages.drift import Drift
from hwsnn.hardware.crossbar.stages.ir_drop import IRDrop
from hwsnn.hardware.crossbar.stages.programming_noise import ProgrammingNoise
from hwsnn.hardware.crossbar.stages.read_noise import ReadNoise
from hwsnn.hardware.crossbar.stages.stuck_at import StuckAt

__all__ = ["Drift", "IRDrop", "ProgrammingNoise", "ReadNoise", "StuckAt"]
