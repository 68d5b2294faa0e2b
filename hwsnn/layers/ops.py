"""Pure synaptic and pooling operations on time-major tensors ``[T, B, ...]``.

The synaptic operation of a layer is one batched matmul/convolution over all ``T x B``
samples ("multi-step"), so its cost is a single large BLAS call rather than ``T`` small ones.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from hwsnn.structure import conv_geometry
from hwsnn.typing import Array

POOLS: tuple[str, ...] = ("max", "avg", "sum")


def add_bias(y: Array, bias: Array | None) -> Array:
    """``y + bias`` for a per-output bias ``[C]`` and ``y [..., C]``, broadcast explicitly (no rank promotion)."""
    return y if bias is None else y + bias.reshape((1,) * (y.ndim - 1) + bias.shape)


def repeat_over_time(x: Array, steps: int) -> Array:
    """``x [1, B, ...]`` (one step standing for every step) repeated to ``[steps, B, ...]``."""
    return jnp.broadcast_to(x, (steps,) + x.shape[1:])


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

    The leading axes (``T, B``) are folded into one batch axis so the convolution is one call.
    """
    lead = x.shape[:-3]
    flat = x.reshape((-1,) + x.shape[-3:])
    pads = tuple(conv_geometry(size, kernel.shape[axis], stride, padding if isinstance(padding, str) else padding[axis])[1]
                 for axis, size in enumerate(x.shape[-3:-1]))
    y = jax.lax.conv_general_dilated(flat, kernel, (stride, stride), pads, dimension_numbers=("NHWC", "HWIO", "NHWC"))
    return add_bias(y.reshape(lead + y.shape[1:]), bias)


def patch_row_tiles(x: Array, kernel_size: int, stride: int, padding, tile_rows: int) -> tuple[list[Array], tuple[int, int]]:
    """Receptive fields of a convolution as crossbar row tiles, feature-major, without building the
    unrolled ``[P, k^2 C]`` matrix.

    The unrolled kernel's rows are in SpikeSim's position-major order, row ``(i k + j) C + c`` =
    channel ``c`` at kernel offset ``(i, j)``, so consecutive crossbar rows hold the channels of one
    kernel position; tile ``r`` holds rows ``r X .. r X + X_r - 1`` (``X = tile_rows``). Returns one
    ``[X_r, P]`` block per tile and ``(H', W')``, with ``P = prod(lead) H' W'`` output pixels in
    ``[..., H', W']`` order, so that ``sum_r tiles[r].T @ kernel.reshape(-1, C_out)[r X : r X + X_r]``
    equals :func:`conv2d` for ``x [..., H, W, C]``. Each block is assembled from channel-major shifted planes of the padded
    input (whole ``[c1 - c0, P]`` slabs; XLA-CPU copies these far faster than 16-float interleaved
    chunks of a channels-last ``[P, k^2 C]`` matrix, ``benchmarks/bench_hardware_step.py``)."""
    height, width, channels = x.shape[-3:]
    pads = padding if not isinstance(padding, str) else None
    out_h, pad_h = conv_geometry(height, kernel_size, stride, padding if pads is None else pads[0])
    out_w, pad_w = conv_geometry(width, kernel_size, stride, padding if pads is None else pads[1])
    planes = jnp.moveaxis(x, -1, 0)  # [C, ..., H, W]
    padded = jnp.pad(planes, [(0, 0)] * (planes.ndim - 2) + [pad_h, pad_w])
    span_h, span_w = (out_h - 1) * stride + 1, (out_w - 1) * stride + 1
    shifted = [padded[..., i : i + span_h : stride, j : j + span_w : stride].reshape(channels, -1)
               for i in range(kernel_size) for j in range(kernel_size)]  # [C, P] per kernel position
    rows = kernel_size * kernel_size * channels
    tiles = []
    for start in range(0, rows, tile_rows):
        stop = min(start + tile_rows, rows)
        chunks = [shifted[pos][max(start - pos * channels, 0) : min(stop - pos * channels, channels)]
                  for pos in range(start // channels, -(-stop // channels))]
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


def _window_max_forward(blocks):
    pooled = _window_max(blocks)
    return pooled, (blocks, pooled)


def _window_max_backward(residuals, grad):
    blocks, pooled = residuals
    window = blocks.shape[-2]
    expand = lambda v: jnp.expand_dims(v, (-4, -2))  # [..., rows, cols, C] -> [..., rows, 1, cols, 1, C]
    order = jnp.arange(window * window).reshape((1,) * (blocks.ndim - 4) + (window, 1, window, 1))  # row-major
    maxima = blocks == expand(pooled)
    first = jnp.min(jnp.where(maxima, order, window * window), axis=(-4, -2))
    return (jnp.where(maxima & (order == expand(first)), expand(grad), 0.0),)


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
