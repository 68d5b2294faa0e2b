"""Workload of a conv net, counted by hand."""

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
    assert (head.kind, head.fan_in, head.fan_out_per_event, head.weights, head.neurons) == ("dense", 512, 10.0, 5120, 10)
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
