"""Differentiable hardware cost models: ``(spec, workload, activity) -> Cost``.

All are pure ``jnp`` functions: jittable (the workload is static), differentiable with respect
to the activity and every array field of the spec, and vmappable over stacked specs.
"""

from hwsnn.hardware.cost.base import Cost, Energy, LayerCost, neurons_evaluated, synaptic_operations, synaptic_updates
from hwsnn.hardware.cost.event import event, fps_per_watt
from hwsnn.hardware.cost.imc import imc
from hwsnn.hardware.cost.naive import naive
from hwsnn.hardware.cost.systolic import systolic

MODELS = {"naive": naive, "systolic": systolic, "imc": imc, "event": event}

__all__ = ["MODELS", "Cost", "Energy", "LayerCost", "event", "fps_per_watt", "imc", "naive", "neurons_evaluated", "synaptic_operations",
           "synaptic_updates", "systolic"]
