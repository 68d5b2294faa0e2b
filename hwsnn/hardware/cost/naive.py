"""The naive estimate used across SNN papers (Horowitz 45 nm energies; REFERENCES.md section 2).

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

import jax.numpy as jnp

from hwsnn.hardware.cost.base import (
    Cost, Energy, LayerCost, check_inputs, check_spec, recurrent_operations, synaptic_operations
)
from hwsnn.hardware.specs import NaiveSpec
from hwsnn.structure import Workload


def naive(spec: NaiveSpec, workload: Workload, activity) -> Cost:
    """Naive energy of the SNN (components "mac", "ac") and of its ANN baseline ("mac", and "ac" for
    residual additions); per layer and per addition (``cost.layers``)."""
    check_spec(spec, NaiveSpec, "naive")
    check_inputs(workload, activity)
    snn, ann = [], []
    for layer, act in zip(workload, activity.layers):
        sops = (synaptic_operations(layer, act) if layer.spiking_input else 0.0) + recurrent_operations(layer, act)
        macs = 0 if layer.spiking_input else layer.macs
        snn.append(LayerCost(layer.name, Energy({"mac": spec.e_mac_pj * macs,
                                                 "ac": spec.e_ac_pj * jnp.asarray(sops, spec.e_ac_pj.dtype)})))
        ann.append(LayerCost(layer.name, Energy({"mac": spec.e_mac_pj * layer.macs})))
    for add, events in zip(workload.adds, activity.adds):  # one accumulate per shortcut spike (module doc)
        charged = float(add.operand == "spikes")
        snn.append(LayerCost(add.name, Energy({"ac": charged * spec.e_ac_pj * jnp.sum(events).astype(spec.e_ac_pj.dtype)})))
        ann.append(LayerCost(add.name, Energy({"ac": charged * spec.e_ac_pj * add.elements})))
    return Cost.of_layers(snn, ann=Cost.of_layers(ann))
