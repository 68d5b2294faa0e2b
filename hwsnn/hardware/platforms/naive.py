"""The naive estimate used across SNN papers (Horowitz, ISSCC 2014: 45 nm energies per operation).

    E_SNN = E_MAC x MACs(first layer, if its input is analog) + E_AC x sum_l SOPs_l
    SOPs_l = sum_t sum_events fan_out(event)          (= T x r_l x FLOPs_l for uniformly placed events)
             + sum_t s_l[t-1] x N_l                    (recurrent layers: their own spikes fed back)
    E_ANN = E_MAC x sum_l MACs_l
    residual additions (ResNets): E_AC per nonzero shortcut spike and step (SNN), per element (ANN);
    none for a spiking-ResNet projection, whose synaptic operations land in the target membranes

The analog first layer of a direct-coded SNN sees the same input at every step, so its MACs
are counted once. The estimate leaves out memory, LIF updates, leakage and precision.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from hwsnn import checks
from hwsnn.hardware.cost.base import Cost, Energy, LayerCost, recurrent_operations, synaptic_operations
from hwsnn.hardware.platforms.base import Platform
from hwsnn.pytree import static
from hwsnn.structure import Workload
from hwsnn.typing import Array


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class NaiveSpec:
    """Energy per multiply-accumulate and per accumulate, as in SNN papers' estimates."""

    e_mac_pj: Array
    e_ac_pj: Array
    name: str = static("naive")


def naive_spec(*, e_mac_pj, e_ac_pj, name: str = "naive") -> NaiveSpec:
    """A validated :class:`NaiveSpec` (energies >= 0)."""
    return NaiveSpec(
        checks.nonnegative("NaiveSpec", "e_mac_pj", e_mac_pj), checks.nonnegative("NaiveSpec", "e_ac_pj", e_ac_pj), name
    )


def naive_fp32_45nm() -> NaiveSpec:
    """Horowitz ISSCC 2014, 45 nm 0.9 V: FP32 mult 3.7 + add 0.9 = 4.6 pJ per MAC; 0.9 pJ per AC."""
    return naive_spec(e_mac_pj=3.7 + 0.9, e_ac_pj=0.9, name="horowitz-45nm-fp32")


def naive_int8_45nm() -> NaiveSpec:
    """Horowitz ISSCC 2014, 45 nm: INT8 mult 0.2 + add 0.03 = 0.23 pJ per MAC; 0.03 pJ per AC."""
    return naive_spec(e_mac_pj=0.2 + 0.03, e_ac_pj=0.03, name="horowitz-45nm-int8")


@dataclasses.dataclass(frozen=True)
class Naive(Platform):
    """Naive energy (module doc): components "mac" and "ac", per layer and per addition (``cost.layers``)."""

    name = "naive"
    spec_type = NaiveSpec

    def snn(self, spec: NaiveSpec, workload: Workload, activity) -> Cost:
        layers = []
        for layer, act in zip(workload, activity.layers):
            sops = (synaptic_operations(layer, act) if layer.spiking_input else 0.0) + recurrent_operations(layer, act)
            macs = 0 if layer.spiking_input else layer.macs
            layers.append(
                LayerCost(
                    layer.name,
                    Energy({"mac": spec.e_mac_pj * macs, "ac": spec.e_ac_pj * jnp.asarray(sops, spec.e_ac_pj.dtype)}),
                )
            )
        for add, events in zip(workload.adds, activity.adds):  # one accumulate per shortcut spike (module doc)
            charged = float(add.operand == "spikes")
            layers.append(
                LayerCost(add.name, Energy({"ac": charged * spec.e_ac_pj * jnp.sum(events).astype(spec.e_ac_pj.dtype)}))
            )
        return Cost.of_layers(layers)

    def baseline(self, spec: NaiveSpec, workload: Workload) -> Cost:
        layers = [LayerCost(layer.name, Energy({"mac": spec.e_mac_pj * layer.macs})) for layer in workload]
        layers += [
            LayerCost(add.name, Energy({"ac": float(add.operand == "spikes") * spec.e_ac_pj * add.elements}))
            for add in workload.adds
        ]
        return Cost.of_layers(layers)


def naive(spec: NaiveSpec, workload: Workload, activity) -> Cost:
    """``Naive().cost(spec, workload, activity)``: the SNN's naive energy, its ANN's as ``cost.ann``."""
    return Naive().cost(spec, workload, activity)
