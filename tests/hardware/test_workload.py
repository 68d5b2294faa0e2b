"""Workload of a conv net, counted by hand."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from hwsnn.layers import conv_net


def test_conv_net_workload_by_hand():
    # 28x28x1 -conv5 VALID(12)-> 24x24x12 -max2-> 12x12x12 -conv5 VALID(32)-> 8x8x32 -max2-> 4x4x32 -> 512 -> 10
    model = conv_net((28, 28, 1), (12, 32), (), 10, 6, rngs=nnx.Rngs(0), kernel_size=5, padding="VALID")
    first, second, head = model.workload.layers
    assert (first.kind, first.synapse_shape, first.out_shape) == ("conv", (24, 24, 12), (12, 12, 12))
    assert first.fan_in == 25 and first.weights == 300 and first.biases == 12
    assert first.neurons == 12 * 12 * 12
    assert first.macs == 24 * 24 * 12 * 25
    # each axis: 24 outputs x 5 taps = 120 (input, output) pairs; 120^2 x 12 channels / 784 inputs
    assert first.connections == 120 * 120 * 12
    assert abs(first.fan_out_per_event - 120 * 120 * 12 / 784) < 1e-9
    assert second.synapse_shape == (8, 8, 32) and second.out_shape == (4, 4, 32)
    assert second.fan_in == 25 * 12 and second.weights == 25 * 12 * 32 and second.macs == 8 * 8 * 32 * 300
    assert second.connections == (8 * 5) ** 2 * 12 * 32
    assert (head.kind, head.fan_in, head.fan_out_per_event, head.weights, head.neurons) == (
        "dense",
        512,
        10.0,
        5120,
        10,
    )
    assert all(layer.timesteps == 6 for layer in model.workload)
    assert model.workload.macs == first.macs + second.macs + head.macs
    assert not first.spiking_input and second.spiking_input


def test_same_padding_and_stride_fan_out_by_hand():
    # 5x5 input, 3x3 kernel, stride 2, SAME: out 3, total pad (3-1)*2+3-5 = 2 -> (1, 1)
    # output windows on one axis cover inputs [-1..1], [1..3], [3..5] -> real inputs 2 + 3 + 2 = 7
    model = conv_net((5, 5, 2), (), (), 3, 1, rngs=nnx.Rngs(0))  # dense-only baseline for comparison
    from hwsnn.layers import SNN, SpikingConv

    layer = SpikingConv(2, 4, 3, rngs=nnx.Rngs(0), stride=2, padding="SAME")
    workload = SNN([layer], (5, 5, 2), 2).workload[0]
    assert workload.synapse_shape == (3, 3, 4) and workload.padding == ((1, 1), (1, 1))
    assert workload.connections == 7 * 7 * 2 * 4
    assert abs(workload.fan_out_per_event - 7 * 7 * 4 / 25) < 1e-12
    assert model.workload[0].fan_in == 50


def _updates_by_hand(spikes, kernel, stride, pads, out_hw, out_channels):
    """Per-event count: for each spike, the (output position, filter) pairs whose window holds it."""
    total = 0
    for h, w, _ in zip(*np.nonzero(spikes)):
        rows = sum(1 for o in range(out_hw[0]) if o * stride - pads[0][0] <= h < o * stride - pads[0][0] + kernel)
        columns = sum(1 for o in range(out_hw[1]) if o * stride - pads[1][0] <= w < o * stride - pads[1][0] + kernel)
        total += rows * columns * out_channels
    return total


@pytest.mark.parametrize("kernel, stride, padding", [(3, 1, "SAME"), (5, 1, "SAME"), (3, 2, "SAME"), (3, 1, "VALID")])
def test_conv_counts_each_event_with_its_real_fan_out(kernel, stride, padding):
    from hwsnn.hardware import cost
    from hwsnn.layers import SNN, SpikingConv, ops

    layer = SpikingConv(2, 3, kernel, rngs=nnx.Rngs(0), stride=stride, padding=padding)
    model = SNN([layer], (7, 7, 2), 2, spiking_input=True)
    spikes = (np.random.default_rng(kernel + stride).random((2, 4, 7, 7, 2)) < 0.3).astype(np.float32)
    _, activity = model(jnp.asarray(spikes))
    workload = model.workload[0]
    out_hw = workload.synapse_shape[:2]
    by_hand = [
        sum(_updates_by_hand(spikes[t, b], kernel, stride, workload.padding, out_hw, 3) for b in range(4)) / 4
        for t in range(2)
    ]
    np.testing.assert_allclose(activity[0].synaptic_updates, by_hand, rtol=1e-6)
    # the same count as NeuroBench and SpikingJelly take it: the spikes convolved with an all-ones kernel
    ones = jnp.ones((kernel, kernel, 2, 3))
    np.testing.assert_allclose(
        float(jnp.sum(ops.conv2d(jnp.asarray(spikes), ones, None, stride, layer.padding))) / 4, sum(by_hand), rtol=1e-6
    )
    assert float(cost.synaptic_updates(model.workload, activity)) == pytest.approx(sum(by_hand), rel=1e-6)


def test_a_centre_spike_reaches_every_tap_and_a_corner_spike_a_quarter():
    from hwsnn.hardware import cost
    from hwsnn.layers import SNN, SpikingConv

    model = SNN([SpikingConv(1, 4, 3, rngs=nnx.Rngs(0))], (6, 6, 1), 1, spiking_input=True)
    mean = model.workload[0].fan_out_per_event  # (4 x 3 + 2 x 2)^2 / 36 x 4 = 28.44 updates per event on average
    assert mean == pytest.approx(16 * 16 * 4 / 36)
    for position, expected in (((2, 3), 9 * 4), ((0, 0), 4 * 4), ((0, 3), 6 * 4)):
        x = np.zeros((1, 1, 6, 6, 1), np.float32)
        x[(0, 0) + position] = 1.0
        _, activity = model(jnp.asarray(x))
        assert float(cost.synaptic_updates(model.workload, activity)) == expected, position
    # the gradient of the count by each input is that input's fan-out (the map, straight-through)
    grad = jax.grad(lambda x: cost.synaptic_updates(model.workload, model(x)[1]))(jnp.zeros((1, 2, 6, 6, 1)))
    np.testing.assert_allclose(grad[0, 0, :, :, 0], model.workload[0].fan_out_map()[:, :, 0] / 2)


def test_activity_from_published_rates_costs_a_network_without_running_it():
    from hwsnn.hardware import cost, preset
    from hwsnn.layers import ZOO
    from hwsnn.structure import Activity

    workload = ZOO["vgg9"](50, rngs=nnx.Rngs(0), spiking_input=True).workload
    activity = Activity.from_rates(
        workload, 1 - 0.9
    )  # S-BP's VGG9: T = 50, sparsity 0.9 (SATA_Sim, RuokaiYin/SATA_Sim ``inference-energy-cal/workloads/icassp/``)
    # uniformly placed events: updates = sum_l r T connections_l, the naive estimate's T r FLOPs
    updates = sum(0.1 * 50 * layer.connections for layer in workload)
    assert float(cost.synaptic_updates(workload, activity)) == pytest.approx(updates, rel=1e-6)
    naive = cost.naive(preset("naive-fp32"), workload, activity)
    assert float(naive.energy_pj.total) == pytest.approx(0.9 * updates, rel=1e-6)  # E_AC = 0.9 pJ (Horowitz)
    # each layer's output spikes are the next layer's input events; the last keeps its input rate
    np.testing.assert_allclose(activity.firing_rates(workload), [0.1] * 9, rtol=1e-6)
    assert float(activity[3].input_events[0]) == pytest.approx(0.1 * 8 * 8 * 128)
    np.testing.assert_allclose(activity[3].channel_events[0], [0.1 * 64] * 128, rtol=1e-6)
    per_layer = Activity.from_rates(workload, jnp.linspace(1.0, 0.2, 9), output_rates=0.05)
    assert float(per_layer[0].input_events[0]) == pytest.approx(32 * 32 * 3)
    np.testing.assert_allclose(per_layer.firing_rates(workload), [0.05] * 9, rtol=1e-6)
    # differentiable in the rates: d E_naive / d r = E_AC T sum_l connections_l
    grad = jax.grad(
        lambda r: cost.naive(preset("naive-fp32"), workload, Activity.from_rates(workload, r)).energy_pj.total
    )
    assert float(grad(0.1)) == pytest.approx(0.9 * 50 * sum(layer.connections for layer in workload), rel=1e-5)
    with pytest.raises(ValueError, match="input_rates: got \\[1.5"):
        Activity.from_rates(workload, [1.5] + [0.1] * 8)
    with pytest.raises(
        ValueError, match="output_rates: shape \\(2,\\); allowed: one number, or one per synaptic layer \\(9,\\)"
    ):
        Activity.from_rates(workload, 0.1, output_rates=[0.1, 0.2])
