"""The model zoo: layer lists and weight counts equal the published tables (Aliyev et al., DATE 2024; SATA_Sim's
ICASSP workload files)."""

import pytest
from flax import nnx

from hwsnn.layers import ZOO, conv_net


def layer_list(model):
    """Each synaptic layer as SATA_Sim's ICASSP workload files write it: (H, W, C_in, k, filters); FC as
    (F_in, F_out)."""
    return [
        (*layer.in_shape, layer.kernel_size, layer.out_channels)
        if layer.kind == "conv"
        else (layer.fan_in, layer.out_channels)
        for layer in model.workload
    ]


def test_vgg9_is_the_icassp_layer_list():
    model = ZOO["vgg9"](2, rngs=nnx.Rngs(0))
    assert layer_list(model) == [
        (32, 32, 3, 3, 64),
        (32, 32, 64, 3, 64),
        (16, 16, 64, 3, 128),
        (8, 8, 128, 3, 128),
        (4, 4, 128, 3, 256),
        (4, 4, 256, 3, 256),
        (4, 4, 256, 3, 256),
        (1024, 1024),
        (1024, 512),
    ]
    workload = model.workload
    assert workload.weights == 3_307_200
    assert sum(layer.weights for layer in workload if layer.kind == "conv") == 1_734_336
    with_classifier = ZOO["vgg9"](2, rngs=nnx.Rngs(0), outputs=10).workload
    assert with_classifier.weights == 3_307_200 + 512 * 10 and with_classifier[-1].out_shape == (10,)


def test_conv5_fc2_is_the_icassp_layer_list():
    model = ZOO["conv5_fc2"](2, rngs=nnx.Rngs(0))
    assert layer_list(model) == [
        (32, 32, 3, 3, 128),
        (32, 32, 128, 3, 256),
        (16, 16, 256, 3, 512),
        (8, 8, 512, 3, 1024),
        (4, 4, 1024, 3, 512),
        (8192, 1024),
        (1024, 512),
    ]
    # 9 (3 128 + 128 256 + 256 512 + 512 1024 + 1024 512) + 8192 1024 + 1024 512
    assert (
        model.workload.weights
        == 9 * (3 * 128 + 128 * 256 + 256 * 512 + 512 * 1024 + 1024 * 512) + 8192 * 1024 + 1024 * 512
        == 19_828_096
    )


def test_vgg16_date2024_and_the_main_job_network_by_hand():
    vgg16 = ZOO["vgg16"](2, rngs=nnx.Rngs(0)).workload
    widths = (3, 64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512)
    assert len(vgg16) == 16 and vgg16[12].in_shape == (2, 2, 512) and vgg16[13].fan_in == 512
    assert vgg16.weights == 9 * sum(a * b for a, b in zip(widths, widths[1:])) + 512 * 4096 + 4096 * 4096 + 4096 * 10
    assert 9 * sum(a * b for a, b in zip(widths, widths[1:])) == 14_710_464  # the conv part of configuration D
    date = ZOO["date2024"](rngs=nnx.Rngs(0))
    assert layer_list(date) == [(32, 32, 3, 3, 32), (15, 15, 32, 3, 32), (1152, 256), (256, 450)]
    assert date.layer_timesteps == (18,) * 4 and date.workload.weights == 864 + 9216 + 294_912 + 115_200
    main = ZOO["mnist_conv"](rngs=nnx.Rngs(0))
    assert layer_list(main) == [(28, 28, 1, 3, 16), (14, 14, 16, 3, 32), (1568, 128), (128, 10)]


def test_conv_net_pools_per_block_and_ends_where_asked():
    model = conv_net((8, 8, 2), (4, 4, 4), (), None, 1, rngs=nnx.Rngs(0), pool=(None, "avg", "sum"))
    assert [layer.out_shape for layer in model.workload] == [(8, 8, 4), (4, 4, 4), (2, 2, 4)]
    assert [layer.pool for layer in model.workload] == [None, "avg", "sum"]
    headless = conv_net((8, 8, 2), (4,), (16,), None, 1, rngs=nnx.Rngs(0))
    assert layer_list(headless) == [(8, 8, 2, 3, 4), (64, 16)]
    with pytest.raises(ValueError, match="pool: got 2 entries for 3 conv blocks; allowed: one kind, or one per block"):
        conv_net((8, 8, 2), (4, 4, 4), (), 3, 1, rngs=nnx.Rngs(0), pool=("max", None))
    with pytest.raises(ValueError, match="outputs: got None with no conv block and no hidden layer"):
        conv_net((8, 8, 2), (), (), None, 1, rngs=nnx.Rngs(0))


def test_the_config_builds_a_zoo_network_with_its_classifier():
    from hwsnn.train.builders import build_model
    from hwsnn.train.config import ModelConfig, TrainConfig

    model = build_model(TrainConfig(model=ModelConfig(kind="vgg9", timesteps=2)), (32, 32, 3), 10)
    assert model.workload.weights == 3_307_200 + 512 * 10 and model.workload[-1].out_shape == (10,)
    with pytest.raises(ValueError, match="model.kind: got 'vgg11'; allowed: \\['conv', 'mlp', 'nir', 'vgg9', 'vgg16'"):
        ModelConfig(kind="vgg11")
