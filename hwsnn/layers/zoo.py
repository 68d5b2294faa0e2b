"""The seed studies' networks by name (:data:`ZOO`): plain stacks as thin calls of
:func:`~hwsnn.layers.conv_net`, and ResNet-19 from residual blocks.

Every factory takes ``timesteps``, ``rngs`` and ``outputs`` (the classes times any population; ``None``
where a published layer list ends without a classifier) and the keywords of ``conv_net`` (``neuron``,
``readout``, ``hardware``, ``spiking_input``, ``execution``, ``learn_timesteps``, ``norm``). The layer
shapes and weight counts are those the cost models read (batch norm folds into the weights).
"""

from __future__ import annotations

from typing import Sequence

from flax import nnx

from hwsnn.layers.container import SNN
from hwsnn.layers.models import conv_net, resnet


def vgg9(
    timesteps: int | Sequence[int],
    *,
    rngs: nnx.Rngs,
    input_shape: Sequence[int] = (32, 32, 3),
    outputs: int | None = None,
    pool: str = "avg",
    **network,
) -> SNN:
    """VGG9 as the ICASSP 2024 workloads list it (S-BP, BNTT): seven 3x3 SAME
    convs of 64, 64, 128, 128, 256, 256, 256 filters, pooling after the 2nd, 3rd, 4th and 7th (so the
    inputs are 32, 32, 16, 8, 4, 4, 4 wide and the first FC sees 2x2x256 = 1024), then FC 1024-1024 and
    FC 1024-512: 3,307,200 weights. ``outputs`` appends a classifier (512 -> outputs)."""
    pools = (None, pool, pool, pool, None, None, pool)
    return conv_net(
        input_shape,
        (64, 64, 128, 128, 256, 256, 256),
        (1024, 512),
        outputs,
        timesteps,
        rngs=rngs,
        pool=pools,
        **network,
    )


def vgg16(
    timesteps: int | Sequence[int],
    *,
    rngs: nnx.Rngs,
    input_shape: Sequence[int] = (32, 32, 3),
    outputs: int | None = 10,
    pool: str = "avg",
    **network,
) -> SNN:
    """VGG16, configuration D of Simonyan and Zisserman (ICLR 2015): thirteen 3x3 SAME convs in stages
    of 64, 64 | 128, 128 | 256 x 3 | 512 x 3 | 512 x 3, pooling after each stage (a 32x32 input leaves
    1x1x512), then FC 4096, FC 4096 and the classifier (``outputs``; ``None``: end at the second FC)."""
    pools = (None, pool, None, pool, None, None, pool, None, None, pool, None, None, pool)
    channels = (64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512)
    return conv_net(input_shape, channels, (4096, 4096), outputs, timesteps, rngs=rngs, pool=pools, **network)


def conv5_fc2(
    timesteps: int | Sequence[int],
    *,
    rngs: nnx.Rngs,
    input_shape: Sequence[int] = (32, 32, 3),
    outputs: int | None = None,
    pool: str = "avg",
    **network,
) -> SNN:
    """The 5 conv + 2 FC network of the ICASSP 2024 workloads (Direct, TSSL):
    3x3 SAME convs of 128, 256, 512, 1024, 512 filters, pooling after the 2nd, 3rd and 4th (inputs 32,
    32, 16, 8, 4 wide), then FC 8192-1024 and FC 1024-512. ``outputs`` appends a classifier."""
    pools = (None, pool, pool, pool, None)
    return conv_net(
        input_shape, (128, 256, 512, 1024, 512), (1024, 512), outputs, timesteps, rngs=rngs, pool=pools, **network
    )


def date2024(
    timesteps: int | Sequence[int] = 18,
    *,
    rngs: nnx.Rngs,
    input_shape: Sequence[int] = (32, 32, 3),
    outputs: int | None = 450,
    **network,
) -> SNN:
    """The DATE 2024 authors' SVHN network: conv3x3(3->32) VALID, maxpool2,
    conv3x3(32->32) VALID, maxpool2, FC 1152-256, FC 256-450 (a population code of 45 neurons per class)."""
    return conv_net(
        input_shape, (32, 32), (256,), outputs, timesteps, rngs=rngs, padding="VALID", pool="max", **network
    )


def mnist_conv(
    timesteps: int | Sequence[int] = 4,
    *,
    rngs: nnx.Rngs,
    input_shape: Sequence[int] = (28, 28, 1),
    outputs: int | None = 10,
    **network,
) -> SNN:
    """The main job's network (``hwsnn train`` with defaults): conv3x3 16 and 32 SAME with max pooling,
    FC 1568-128, FC 128-10."""
    return conv_net(input_shape, (16, 32), (128,), outputs, timesteps, rngs=rngs, pool="max", **network)


RESNET19_STAGES = ((128, 3, 1), (256, 3, 2), (512, 2, 2))
"""ResNet-19's stages: (channels, blocks, stride of the first block) (Zheng et al. 2021)."""


def resnet19(
    timesteps: int = 4, *, rngs: nnx.Rngs, input_shape: Sequence[int] = (32, 32, 3), outputs: int | None = 10, **network
) -> SNN:
    """ResNet-19 of the tdBN paper (Zheng et al., AAAI 2021) with the layer list of the ICASSP 2024
    workloads (LTH, TDBN), as :func:`~hwsnn.layers.resnet` builds it: a 3x3
    conv of 128 filters, residual blocks of two 3x3 convs in three stages (:data:`RESNET19_STAGES`:
    3 blocks of 128, 3 of 256 and 2 of 512, the first of the last two stages with stride 2), 2x2 pooling
    of the last block's spikes (8x8x512 -> 4x4x512), FC 8192-256 and a classifier of ``outputs``
    (``None``: end at FC 256). The 17 main-path convs and FC 8192-256 are the published list (14,486,912
    weights); the two stride-2 blocks add the 1x1 stride-2 projection shortcuts (163,840 weights) that the
    list leaves out. Keywords as :func:`~hwsnn.layers.resnet` (``block``, ``norm`` (tdBN by default), ...)."""
    return resnet(input_shape, 128, RESNET19_STAGES, (256,), outputs, timesteps, rngs=rngs, **network)


ZOO = {
    "vgg9": vgg9,
    "vgg16": vgg16,
    "conv5_fc2": conv5_fc2,
    "date2024": date2024,
    "mnist_conv": mnist_conv,
    "resnet19": resnet19,
}
"""The networks by name; each ``factory(timesteps, rngs=..., input_shape=..., outputs=..., **conv_net options)``."""
