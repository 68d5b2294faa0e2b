"""Hardware models. Today: the static :class:`Workload` of a model (cost models and the crossbar follow)."""

from hwsnn.hardware.workload import LayerWorkload, Workload

__all__ = ["LayerWorkload", "Workload"]
