"""Pure synaptic and pooling operations on time-major tensors ``[T, B, ...]``.

The synaptic operation of a layer is one batched matmul/convolution over all ``T x B``
samples ("multi-step"), so its cost is a single large BLAS call rather than ``T`` small ones.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from hwsnn.structure import conv_geometry
from hwsnn.typing import Array

POOLS: tuple[str, ...] = ("max", "avg", "sum")


def add_bias(y: Array, bias: Array | None) -> Array:
    """``y + bias`` for a per-output bias ``[C]`` and ``y [..., C]``, broadcast explicitly (no rank promotion)."""
    return y if bias is None else y + bias.reshape((1,) * (y.ndim - 1) + bias.shape)


@functools.partial(jax.custom_vjp, nondiff_argnums=(1,))
def repeat_over_time(x: Array, steps: int) -> Array:
    """``x [1, B, ...]`` (one step standing for every step) repeated to ``[steps, B, ...]``; its
    gradient, the sum over the steps, is taken by :func:`_sum_over_time`."""
    return jnp.broadcast_to(x, (steps,) + x.shape[1:])


def _sum_over_time(grad: Array) -> Array:
    """``grad [T, ...]`` summed over ``T`` into ``[1, ...]`` by halving (pairwise): ``log2 T`` rounds of
    slice additions, elementwise work that XLA fuses with its consumer (the pooling gradient of a
    direct-coded first layer). XLA-CPU's reduction over that leading axis runs as a YNNPACK fusion
    that took 4.4 ms of the main job's 28 ms training step; with the additions the step took 21 ms
    against 26 ms, alternated in one process."""
    count, leftover = grad.shape[0], None
    while count > 1:
        if count % 2:
            last = grad[count - 1 : count]
            leftover = last if leftover is None else leftover + last
        half = count // 2
        grad, count = grad[:half] + grad[half : 2 * half], half
    return grad if leftover is None else grad + leftover


repeat_over_time.defvjp(
    lambda x, steps: (repeat_over_time(x, steps), None), lambda steps, _, grad: (_sum_over_time(grad),)
)


def conv_padding(padding) -> str | tuple[tuple[int, int], tuple[int, int]]:
    """Normalise a padding spec: "SAME", "VALID", an int ``p`` or ``((top, bottom), (left, right))``."""
    if isinstance(padding, str):
        if padding.upper() not in ("SAME", "VALID"):
            raise ValueError(f"padding: got {padding!r}; allowed: 'SAME', 'VALID', an int >= 0 or pairs.")
        return padding.upper()
    if isinstance(padding, int):
        if padding < 0:
            raise ValueError(f"padding: got {padding}; allowed: an int >= 0.")
        return ((padding, padding), (padding, padding))
    pads = tuple(tuple(int(v) for v in pair) for pair in padding)
    if len(pads) != 2 or any(len(p) != 2 or min(p) < 0 for p in pads):
        raise ValueError(f"padding: got {padding!r}; allowed: ((top, bottom), (left, right)) of ints >= 0.")
    return pads


def conv2d(x: Array, kernel: Array, bias: Array | None, stride: int, padding) -> Array:
    """2-D convolution of ``x [..., H, W, C_in]`` with ``kernel [kh, kw, C_in, C_out]`` (NHWC/HWIO).

    The leading axes (``T, B``) are folded into one batch axis so the convolution is one call
    (:func:`convolution`).
    """
    lead = x.shape[:-3]
    flat = x.reshape((-1,) + x.shape[-3:])
    pads = tuple(
        conv_geometry(size, kernel.shape[axis], stride, padding if isinstance(padding, str) else padding[axis])[1]
        for axis, size in enumerate(x.shape[-3:-1])
    )
    y = convolution(flat, kernel, stride, pads)
    return add_bias(y.reshape(lead + y.shape[1:]), bias)


ROW_MATMUL_EFFICIENCY = 1.25
"""How many more products the banded row matmuls may do than XLA-CPU's input-gradient convolution
and still be chosen (:func:`row_matmul_passes`). From ``python benchmarks/bench_conv.py`` (columns
"XLA options" and "all banded"): at 1.07 times the products they take a third to a half of the time
(12x12x12, 5x5 -> 32), at 1.5 times they take 1.6 times as long (8x8x32, 3x3 -> 32)."""


def row_matmul_passes(
    input_shape: tuple[int, ...],
    kernel_shape: tuple[int, ...],
    stride: int,
    pads: tuple[tuple[int, int], tuple[int, int]],
) -> tuple[bool, bool]:
    """Whether :func:`convolution` computes its (forward pass, input gradient) as banded row matmuls
    (:func:`_banded`) rather than with XLA's convolution, for ``x [N, H, W, C_in]`` and
    ``kernel [kh, kw, C_in, C_out]``; only stride 1 has a banded form.

    Forward: with one input channel. XLA-CPU contracts each output over ``kh kw C_in`` products, 9 or
    25 here, too few to keep its vector units busy; the row matmuls contract over ``kh W`` (28x28x1,
    5x5 -> 12 in about half the time; ``benchmarks/bench_conv.py``). From two channels on XLA wins.

    Input gradient: when the row matmuls' products, ``H' W' W_pad C_in C_out kh`` (every kernel row
    against a whole padded input row), are at most :data:`ROW_MATMUL_EFFICIENCY` times XLA's,
    ``H W C_in C_out kh kw`` (every input pixel against the whole kernel, which for a VALID
    convolution means convolving the output gradient padded by ``k - 1`` on each side).
    """
    if stride != 1:
        return False, False
    height, width, channels = input_shape[-3:]
    rows, cols = kernel_shape[:2]
    out_h = height + sum(pads[0]) - rows + 1
    out_w = width + sum(pads[1]) - cols + 1
    banded_products = out_h * out_w * (width + sum(pads[1]))
    convolution_products = height * width * cols
    return channels == 1, banded_products <= ROW_MATMUL_EFFICIENCY * convolution_products


def _banded(kernel: Array, out_width: int) -> Array:
    """The kernel as one banded (block-Toeplitz) matrix per kernel row, ``[kh, W C_in, W' C_out]`` with
    ``W = W' + kw - 1``: ``banded[i, (x + j) C_in + c, x C_out + o] = kernel[i, j, c, o]``, zero elsewhere.
    Row ``r`` of a stride-1 VALID convolution of ``x [H, W, C_in]`` is then
    ``sum_i x[r + i].reshape(W C_in) @ banded[i]``."""
    rows, cols, in_channels, out_channels = kernel.shape
    in_width = out_width + cols - 1
    band = jnp.arange(in_width)[None, :, None] == jnp.arange(out_width)[None, None, :] + jnp.arange(cols)[:, None, None]
    matrices = jnp.einsum("jXx,ijco->iXcxo", band.astype(kernel.dtype), kernel)
    return matrices.reshape(rows, in_width * in_channels, out_width * out_channels)


def _banded_forward(x: Array, kernel: Array) -> Array:
    """Stride-1 VALID convolution of ``x [N, H, W, C]``: the ``kh`` input rows under each output row,
    side by side, times the stacked banded matrices (one matmul)."""
    n, height, width, channels = x.shape
    rows, cols, _, out_channels = kernel.shape
    out_h, out_w = height - rows + 1, width - cols + 1
    stacked = jnp.concatenate([x[:, i : i + out_h].reshape(n, out_h, width * channels) for i in range(rows)], axis=-1)
    y = stacked @ _banded(kernel, out_w).reshape(rows * width * channels, out_w * out_channels)
    return y.reshape(n, out_h, out_w, out_channels)


def _banded_input_grad(grad: Array, kernel: Array, input_shape: tuple[int, ...]) -> Array:
    """Input gradient of :func:`_banded_forward` for ``grad [N, H', W', C_out]``: the gradient rows
    times each transposed banded matrix, added ``i`` rows down."""
    n, out_h, out_w, out_channels = grad.shape
    rows = kernel.shape[0]
    banded = _banded(kernel, out_w)
    flat = grad.reshape(n, out_h, out_w * out_channels)
    total = sum(jnp.pad(flat @ banded[i].T, ((0, 0), (i, rows - 1 - i), (0, 0))) for i in range(rows))
    return total.reshape(input_shape)


def _xla_convolution(x: Array, kernel: Array, stride: int, pads) -> Array:
    return jax.lax.conv_general_dilated(x, kernel, (stride, stride), pads, dimension_numbers=("NHWC", "HWIO", "NHWC"))


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def convolution(x: Array, kernel: Array, stride: int, pads: tuple[tuple[int, int], tuple[int, int]]) -> Array:
    """Convolution of ``x [N, H, W, C_in]`` with ``kernel [kh, kw, C_in, C_out]``, ``stride`` and
    ``pads = ((top, bottom), (left, right))``; equal to ``lax.conv_general_dilated`` to float rounding
    in value and gradients.

    The forward pass and the input gradient each take, per shape, the faster of two exact forms
    (:func:`row_matmul_passes`): XLA's convolution, or banded row matmuls over the explicitly padded
    input (:func:`_banded`), which multiply more zeros but run as dense matmuls. The weight gradient
    is XLA's.
    """
    forward_rows, _ = row_matmul_passes(x.shape, kernel.shape, stride, pads)
    if forward_rows:
        return _banded_forward(jnp.pad(x, ((0, 0),) + pads + ((0, 0),)), kernel)
    return _xla_convolution(x, kernel, stride, pads)


def _convolution_forward(x, kernel, stride, pads):
    return convolution(x, kernel, stride, pads), (x, kernel)


def _convolution_backward(stride, pads, residuals, grad):
    x, kernel = residuals
    kernel_grad = jax.vjp(lambda k: _xla_convolution(x, k, stride, pads), kernel)[1](grad)[0]
    if not row_matmul_passes(x.shape, kernel.shape, stride, pads)[1]:
        return jax.vjp(lambda v: _xla_convolution(v, kernel, stride, pads), x)[1](grad)[0], kernel_grad
    (top, _), (left, _) = pads
    padded_shape = (x.shape[0], x.shape[1] + sum(pads[0]), x.shape[2] + sum(pads[1]), x.shape[3])
    padded_grad = _banded_input_grad(grad, kernel, padded_shape)
    return padded_grad[:, top : top + x.shape[1], left : left + x.shape[2]], kernel_grad


convolution.defvjp(_convolution_forward, _convolution_backward)


def patch_row_tiles(
    x: Array, kernel_size: int, stride: int, padding, tile_rows: int
) -> tuple[list[Array], tuple[int, int]]:
    """Receptive fields of a convolution as crossbar row tiles, feature-major, without building the
    unrolled ``[P, k^2 C]`` matrix.

    The unrolled kernel's rows are in SpikeSim's position-major order, row ``(i k + j) C + c`` =
    channel ``c`` at kernel offset ``(i, j)``, so consecutive crossbar rows hold the channels of one
    kernel position; tile ``r`` holds rows ``r X .. r X + X_r - 1`` (``X = tile_rows``). Returns one
    ``[X_r, P]`` block per tile and ``(H', W')``, with ``P = prod(lead) H' W'`` output pixels in
    ``[..., H', W']`` order, so that ``sum_r tiles[r].T @ kernel.reshape(-1, C_out)[r X : r X + X_r]``
    equals :func:`conv2d` for ``x [..., H, W, C]``. Each block is assembled from channel-major shifted planes
    of the padded input (whole ``[c1 - c0, P]`` slabs; XLA-CPU copies these far faster than 16-float interleaved
    chunks of a channels-last ``[P, k^2 C]`` matrix, ``benchmarks/bench_hardware_step.py``)."""
    height, width, channels = x.shape[-3:]
    pads = padding if not isinstance(padding, str) else None
    out_h, pad_h = conv_geometry(height, kernel_size, stride, padding if pads is None else pads[0])
    out_w, pad_w = conv_geometry(width, kernel_size, stride, padding if pads is None else pads[1])
    planes = jnp.moveaxis(x, -1, 0)  # [C, ..., H, W]
    padded = jnp.pad(planes, [(0, 0)] * (planes.ndim - 2) + [pad_h, pad_w])
    span_h, span_w = (out_h - 1) * stride + 1, (out_w - 1) * stride + 1
    shifted = [
        padded[..., i : i + span_h : stride, j : j + span_w : stride].reshape(channels, -1)
        for i in range(kernel_size)
        for j in range(kernel_size)
    ]  # [C, P] per kernel position
    rows = kernel_size * kernel_size * channels
    tiles = []
    for start in range(0, rows, tile_rows):
        stop = min(start + tile_rows, rows)
        chunks = [
            shifted[pos][max(start - pos * channels, 0) : min(stop - pos * channels, channels)]
            for pos in range(start // channels, -(-stop // channels))
        ]
        tiles.append(chunks[0] if len(chunks) == 1 else jnp.concatenate(chunks, axis=0))
    return tiles, (out_h, out_w)


def pool2d(x: Array, kind: str, window: int) -> Array:
    """Max, average or sum pooling of ``x [..., H, W, C]`` over non-overlapping ``window`` squares.

    Rows and columns that do not fill a window are dropped (VALID pooling, stride = window).
    Implemented as a reshape and a reduction: on CPU its backward pass is several times faster
    than ``reduce_window``'s ``select_and_scatter`` (``benchmarks/bench_train_step.py``). Max
    pooling passes a window's gradient to its first maximum in row-major order, as PyTorch's
    ``MaxPool2d`` does (:func:`_window_max`).
    """
    if kind not in POOLS:
        raise ValueError(f"pool: got {kind!r}; allowed: {list(POOLS)}.")
    height, width, channels = x.shape[-3:]
    rows, cols = height // window, width // window
    x = x[..., : rows * window, : cols * window, :]
    blocks = x.reshape(x.shape[:-3] + (rows, window, cols, window, channels))
    if kind == "max":
        return _window_max(blocks)
    pooled = jnp.sum(blocks, axis=(-4, -2))
    return pooled / (window * window) if kind == "avg" else pooled


@jax.custom_vjp
def _window_max(blocks: Array) -> Array:
    """``max`` of ``blocks [..., rows, w, cols, w, C]`` over each ``w x w`` window, whose gradient goes
    to the first maximum of the window in row-major order (PyTorch's ``MaxPool2d`` convention;
    ``jnp.max``'s own gradient splits it among tied maxima, which spike inputs make common)."""
    return jnp.max(blocks, axis=(-4, -2))


def _window_order(shape: tuple[int, ...]) -> Array:
    """Row-major position ``0 .. w^2 - 1`` of each entry within its window, broadcastable to ``shape``."""
    window = shape[-2]
    return jnp.arange(window * window, dtype=jnp.int32).reshape((1,) * (len(shape) - 4) + (window, 1, window, 1))


def _window_max_forward(blocks):
    """The maxima and, as the only residual, each window's first maximum's position (``int8`` for windows
    up to 11 x 11), so the backward pass reads neither the window contents nor a float-sized mask."""
    pooled = jnp.max(blocks, axis=(-4, -2))
    window = blocks.shape[-2]
    maxima = blocks == jnp.expand_dims(pooled, (-4, -2))
    first = jnp.min(jnp.where(maxima, _window_order(blocks.shape), window * window), axis=(-4, -2))
    small = window * window <= jnp.iinfo(jnp.int8).max
    return pooled, (first.astype(jnp.int8 if small else jnp.int32), blocks.shape)


def _window_max_backward(residuals, grad):
    first, shape = residuals
    chosen = _window_order(shape) == jnp.expand_dims(first.astype(jnp.int32), (-4, -2))
    return (jnp.where(chosen, jnp.expand_dims(grad, (-4, -2)), 0.0),)


_window_max.defvjp(_window_max_forward, _window_max_backward)


def _counted(x: Array) -> Array:
    """1 per nonzero entry in the forward pass, gradient 1 (straight-through)."""
    nonzero = (x != 0).astype(x.dtype)
    return jax.lax.stop_gradient(nonzero - x) + x


def events_per_channel(x: Array) -> Array:
    """Batch-mean events per timestep and channel (last axis) of ``x [T, B, ..., C]`` -> ``[T, C]``."""
    counted = _counted(x)
    return jnp.sum(counted.reshape(x.shape[0], -1, x.shape[-1]), axis=1) / x.shape[1]


def events_per_step(x: Array) -> Array:
    """Batch-mean number of events (nonzero entries) per timestep of ``x [T, B, ...]`` -> ``[T]``.

    Each nonzero entry counts 1 in the forward pass and carries gradient 1 (straight-through):
    for 0/1 spikes this is exactly ``sum(x) / B`` with the spikes' surrogate gradient; for
    analog or pooled inputs it still counts events, which is what event-driven hardware pays for.
    """
    return jnp.sum(_counted(x).reshape(x.shape[0], -1), axis=1) / x.shape[1]


def weighted_events(x: Array, weights) -> Array:
    """Batch-mean ``sum(events x weights)`` per timestep of ``x [T, B, ...]`` -> ``[T]``: each event
    (nonzero entry, straight-through gradient as in :func:`events_per_step`) weighted by the per-sample
    ``weights`` where it falls (broadcast over ``x.shape[2:]``; a layer's fan-out map)."""
    weights = jnp.asarray(weights, x.dtype)
    weighted = _counted(x) * weights.reshape((1, 1) + weights.shape)
    return jnp.sum(weighted.reshape(x.shape[0], -1), axis=1) / x.shape[1]
