"""Baselines (ANN, iso-work SNN) and the SATA_Sim ICASSP accounting (``Systolic(mode="inference")``)."""

import pytest
from flax import nnx

from hwsnn.hardware import preset
from hwsnn.hardware.baselines import ANN, IsoWorkSNN
from hwsnn.hardware.platforms import IMC, Systolic
from hwsnn.hardware.platforms.systolic import layer_cycles
from hwsnn.layers import SNN, Flatten, SpikingConv, SpikingDense
from hwsnn.structure import Activity


def conv_net(timesteps):
    layers = [
        SpikingConv(3, 64, 3, rngs=nnx.Rngs(0)),
        SpikingConv(64, 128, 3, rngs=nnx.Rngs(1)),
        Flatten(),
        SpikingDense(8 * 8 * 128, 10, rngs=nnx.Rngs(2)),
    ]
    return SNN(layers, (8, 8, 3), timesteps, spiking_input=True).workload


def test_iso_work_snn_is_the_same_network_at_its_timesteps_and_density():
    workload = conv_net(4)
    baseline = IsoWorkSNN(timesteps=20, density=0.5)
    at = workload.at_timesteps(20)
    assert [layer.timesteps for layer in at] == [20, 20, 20] and at[1].synapse_shape == workload[1].synapse_shape
    spec = preset("systolic-sata")
    expected = Systolic().cost(spec, at, Activity.from_rates(at, 0.5))
    assert float(baseline.cost(Systolic(), spec, workload).energy_pj.total) == float(expected.energy_pj.total)
    activity = Activity.from_rates(workload, 0.1)
    snn = Systolic().cost(spec, workload, activity)
    assert float(baseline.gain(Systolic(), spec, workload, activity)) == pytest.approx(
        float(expected.energy_pj.total / snn.energy_pj.total), rel=1e-6
    )
    assert float(ANN().cost(Systolic(), spec, workload).energy_pj.total) == float(snn.ann.energy_pj.total)


def test_spikesim_dense_accounting_over_an_iso_work_snn_is_the_ratio_of_timesteps():
    """SpikeSim's dense IMC accounting charges every PE cycle at every step whatever the spikes: the gain over
    the same network at T_b steps is T_b / T (the SpikeSim column of ICASSP 2024 Table II)."""
    workload = conv_net(4)
    activity = Activity.from_rates(workload, 0.1)
    gain = IsoWorkSNN(100, 0.5).gain(IMC(mode="dense"), preset("rram-adc"), workload, activity)
    assert float(gain) == pytest.approx(25.0, rel=1e-6)


def test_per_inference_accounting_charges_one_pass_of_memory_and_one_pass_of_weight_loading():
    """``Systolic(mode="inference")``: GLB dynamic energy and DRAM of a T-step SNN equal one step's, and each
    layer runs T + 1 passes of cycles (SATA_Sim's filter cycles once per layer)."""
    spec = preset("systolic-sata")
    dynamic = ("glb_weight_dynamic", "glb_ifmap_dynamic", "glb_ofmap_dynamic", "dram")
    costs = {}
    for steps in (1, 6):
        workload = conv_net(steps)
        costs[steps] = Systolic(mode="inference").cost(spec, workload, Activity.from_rates(workload, 0.2))
    for name in dynamic:
        assert float(costs[6].energy_pj[name]) == pytest.approx(float(costs[1].energy_pj[name]), rel=1e-6), name
    for layer, entry in zip(conv_net(6), costs[6].layers):
        stream, _ = layer_cycles(spec, layer)
        assert float(entry.cycles) == 7 * stream
    per_step = Systolic().cost(spec, conv_net(6), Activity.from_rates(conv_net(6), 0.2))
    assert float(per_step.energy_pj["glb_ifmap_dynamic"]) == pytest.approx(
        6 * float(costs[6].energy_pj["glb_ifmap_dynamic"]), rel=1e-6
    )


@pytest.mark.parametrize(
    "build,message",
    [
        (lambda: IsoWorkSNN(0), r"timesteps: got 0; allowed: an int >= 1"),
        (lambda: IsoWorkSNN(10, density=1.5), r"density: got 1.5; allowed: a number in \[0, 1\]"),
        (lambda: IsoWorkSNN(10, density=True), r"density: got True"),
        (lambda: conv_net(4).at_timesteps(2.5), r"timesteps: got 2.5; allowed: an int >= 1"),
        (lambda: Systolic(mode="per-step"), r"mode: got 'per-step'; allowed: \['timestep', 'inference'\]"),
    ],
)
def test_bad_baselines_and_modes_are_refused(build, message):
    with pytest.raises(ValueError, match=message):
        build()
