"""What an SNN's cost is compared with: a :class:`Baseline` costs a reference run of the same workload on
the same platform and spec, and ``E_baseline / E_SNN`` is the SNN's gain.

* :class:`ANN` (hwsnn's default, the ``cost.ann`` of every :meth:`~hwsnn.hardware.platforms.base.Platform.cost`):
  the same network as an ANN on the same hardware class, one pass with multi-bit activations
  (:meth:`~hwsnn.hardware.platforms.base.Platform.baseline`). This asks whether the network should be an SNN.
* :class:`IsoWorkSNN`: the same SNN at ``T_b`` timesteps with spike density ``rho`` at every layer's input,
  on the same platform. This asks what an algorithmic work gained over an earlier SNN of the same network,
  which is how the ICASSP 2024 study (Bhattacharjee et al., "Are SNNs truly energy-efficient? A hardware
  perspective", arXiv 2309.03388) set its Table II: in SATA_Sim's committed runs of that study (repository
  RuokaiYin/SATA_Sim, ``inference-energy-cal/results/<work>/baseline/``, commit b9458de), each work's baseline
  is its own layer list at ``T_b`` timesteps with density 0.5 on the same SATA array, and its SpikeSim column
  is ``T_b / T`` (IMC crossbars do the same work at every step whatever the spikes, so a gain in steps is the
  gain in energy).
"""

from __future__ import annotations

import abc
import dataclasses

from hwsnn import checks
from hwsnn.hardware.cost.base import Cost
from hwsnn.hardware.platforms.base import Platform
from hwsnn.structure import Activity, Workload

__all__ = ["ANN", "Baseline", "IsoWorkSNN"]


class Baseline(abc.ABC):
    """A reference run to compare an SNN's cost with (module doc)."""

    @abc.abstractmethod
    def cost(self, platform: Platform, spec, workload: Workload) -> Cost:
        """The reference's cost on ``platform`` and ``spec``, for the network of ``workload``."""

    def gain(self, platform: Platform, spec, workload: Workload, activity: Activity) -> float:
        """``E_baseline / E_SNN`` for the SNN of ``workload`` running with ``activity``."""
        snn = platform.cost(spec, workload, activity)
        return self.cost(platform, spec, workload).energy_pj.total / snn.energy_pj.total


@dataclasses.dataclass(frozen=True)
class ANN(Baseline):
    """The platform's own ANN of the same network (:meth:`~hwsnn.hardware.platforms.base.Platform.baseline`)."""

    def cost(self, platform, spec, workload):
        return platform.baseline(spec, workload)


@dataclasses.dataclass(frozen=True)
class IsoWorkSNN(Baseline):
    """The same SNN run for ``timesteps`` steps with spike density ``density`` at every layer's input
    (:meth:`~hwsnn.structure.Activity.from_rates`), on the same platform and spec.

    Attributes:
      timesteps: ``T_b``, an int >= 1.
      density: the fraction of inputs that spike at each step, in [0, 1] (0.5 in the ICASSP 2024 runs).
    """

    timesteps: int
    density: float = 0.5

    def __post_init__(self):
        checks.int_at_least(self.timesteps, "timesteps", 1)
        if isinstance(self.density, bool) or not isinstance(self.density, (int, float)) or not 0 <= self.density <= 1:
            raise ValueError(f"density: got {self.density!r}; allowed: a number in [0, 1].")

    def cost(self, platform, spec, workload):
        baseline = workload.at_timesteps(self.timesteps)
        return platform.cost(spec, baseline, Activity.from_rates(baseline, self.density))
