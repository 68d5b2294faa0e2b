"""Differentiable hardware costs: the :class:`Cost` record, the operation counts every platform shares, and
each platform's cost as a function ``(spec, workload, activity) -> Cost`` (:mod:`hwsnn.hardware.platforms`).

All are pure ``jnp`` functions: jittable (the workload is static), differentiable with respect
to the activity and every array field of the spec, and vmappable over stacked specs.
"""

from hwsnn.hardware.cost.base import Cost, Energy, LayerCost, neurons_evaluated, synaptic_operations, synaptic_updates
from hwsnn.hardware.platforms.event import event, fps_per_watt
from hwsnn.hardware.platforms.imc import imc
from hwsnn.hardware.platforms.naive import naive
from hwsnn.hardware.platforms.systolic import systolic

__all__ = [
    "Cost",
    "Energy",
    "LayerCost",
    "event",
    "fps_per_watt",
    "imc",
    "naive",
    "neurons_evaluated",
    "synaptic_operations",
    "synaptic_updates",
    "systolic",
]
