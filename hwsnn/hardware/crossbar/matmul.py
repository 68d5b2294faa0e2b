"""``x @ w`` on crossbars: the weight mapping, the spec's stages at their hooks, the readout, the digital sum.

The order is fixed (DESIGN.md section 7); what happens at each hook is the spec's
(:mod:`hwsnn.hardware.crossbar.stage`). Randomness: the stages that draw at programming (from
``program_key``) and at each read (from that read's key) draw from ``split(key, len(stages))[i]``, ``i``
the stage's place in the spec; the readout's frozen quantities from ``fold_in(key, 1)``; the reads of
slice ``s`` from ``split(fold_in(key, 2 + s), row tiles)``.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from hwsnn.hardware.crossbar.spec import CrossbarSpec
from hwsnn.hardware.crossbar.stage import HardwareStrength, as_strength, is_one
from hwsnn.hardware.crossbar.weights import bit_slices, levels_of, quantize_weights, slice_count
from hwsnn.typing import Array, Key


def readout_scale_shape(spec: CrossbarSpec, fan_in: int, fan_out: int) -> tuple[int, int, int]:
    """``(slices, row tiles, columns)``: the shape of a layer's sense-amplifier scales, one per column
    of every row tile and bit slice (each such column has its own sense amplifier)."""
    plane_max = spec.encoding.plane_max(levels_of(spec.weight_bits))
    slices = 1 if spec.bits_per_cell is None else slice_count(plane_max, spec.bits_per_cell)
    return slices, -(-fan_in // spec.size), fan_out


def split_row_tiles(x_t: Array, tile_rows: int) -> list[Array]:
    """Split a feature-major input ``x_t [K, P]`` into crossbar row tiles: blocks ``[X_r, P]`` of
    ``tile_rows`` rows (the last one may be shorter), from one split (its gradient is one concatenation)."""
    return jnp.split(x_t, list(range(tile_rows, x_t.shape[0], tile_rows)), axis=0)


class AnalogProduct(NamedTuple):
    """What :func:`analog_matmul_tiles` returns.

    Attributes:
      y: ``x @ w`` as the crossbars compute it, ``[P, M]``.
      partial_magnitudes: ``[slices, row tiles, M]``, each column's mean ``|partial sum|`` over the
        inputs that drive at least one of its tile's rows (the reads a sense amplifier makes), in units
        of the full-scale current (stop-gradient): the measurement a calibration
        pass averages into a layer's sense-amplifier scales (:func:`readout_scale_shape`).
    """

    y: Array
    partial_magnitudes: Array


def _stage_keys(key: Key, count: int) -> list[Key]:
    return list(jax.random.split(key, count)) if count else []


def _tiles(g: Array, size: int, pad_value) -> Array:
    """``[A, K, M] -> [A, K/X, X, M/X, X]``: each of ``A`` arrays as row tiles of ``X x X`` crossbars
    side by side (padded with ``pad_value`` conductance): a reshape of the padded stack, no transpose."""
    rows, cols = -(-g.shape[1] // size), -(-g.shape[2] // size)
    padded = jnp.pad(
        g, ((0, 0), (0, rows * size - g.shape[1]), (0, cols * size - g.shape[2])), constant_values=pad_value
    )
    return padded.reshape(g.shape[0], rows, size, cols, size)


def _effective_rows(g: Array, spec: CrossbarSpec, heights: list[int], levels: dict) -> list[Array]:
    """A stack of programmed arrays ``[A, K, M]`` as one conductance block ``[A, X_r, M]`` per row
    tile (``heights``: the ``X_r``): tiled into ``X x X`` crossbars (padding cells at ``g_off``), each
    stage's :meth:`~hwsnn.hardware.crossbar.stage.Stage.fold` applied to every crossbar of every array
    at once (IR drop: one pair of GEMMs for the resummation), then the padding columns and the padding
    rows of a short last tile dropped; the blocks come from one split, whose gradient is one concatenation."""
    arrays, fan_out = g.shape[0], g.shape[2]
    tiles = _tiles(g, spec.size, spec.g_off_siemens)  # [A, R, X, C, X]
    flat = tiles.reshape((-1,) + tiles.shape[2:])  # [A R, X, C, X]
    for stage in spec.stages:
        flat = stage.fold(flat, spec, levels[stage.name])
    rows = flat.reshape(arrays, tiles.shape[1] * spec.size, -1)[:, :, :fan_out]
    return jnp.split(rows, np.cumsum(heights), axis=1)[: len(heights)]


def _tile_current(inputs: Array, arrays: Array, spec: CrossbarSpec, key: Key, levels: dict) -> Array:
    """Column currents ``[P, M]`` of one row tile driven by ``inputs [X_r, P]`` (feature-major) at
    ``v_read`` volts: of one array (``arrays [1, X_r, M]``), or of a differential pair (``[2, X_r, M]``)
    as ``I+ - I-`` (linear in the inputs: one contraction with ``v_read (G+ - G-)``, the read voltage
    folded into the small conductance block rather than the large input), then each stage's
    :meth:`~hwsnn.hardware.crossbar.stage.Stage.read`. The contraction runs over the leading (row) axis
    of both operands, so the product is written in ``[P, M]`` order with no transpose."""
    net = arrays[0] if arrays.shape[0] == 1 else arrays[0] - arrays[1]
    current = jax.lax.dot_general(inputs, spec.v_read_volt * net, (((0,), (0,)), ((), ())))
    for stage, stage_key in zip(spec.stages, _stage_keys(key, len(spec.stages))):
        current = stage.read(current, inputs, arrays, spec, stage_key, levels[stage.name])
    return current


def _digital_sum(partials: list[Array], spec: CrossbarSpec, levels: float, input_sum, digit_max: float) -> Array:
    """Shift-and-add over slices (``2^(b s)``), the offset encoding's ``g_off`` floor and level offset
    removed digitally, and the result in units of the weight planes: ``sum_k x_k u_k``."""
    span = spec.g_on_siemens - spec.g_off_siemens
    total = 0.0
    for s, current in enumerate(partials):
        current = spec.encoding.corrected(current, spec.v_read_volt, spec.g_off_siemens, input_sum)
        total = total + (2.0 ** (s * (spec.bits_per_cell or 0))) * current
    planes_sum = total * digit_max / (spec.v_read_volt * span)
    return spec.encoding.level_corrected(planes_sum, levels, input_sum)


def analog_matmul(
    x: Array,
    w: Array,
    spec: CrossbarSpec,
    key: Key,
    *,
    program_key: Key | None = None,
    strength: HardwareStrength | float = 1.0,
    sa_scale=None,
) -> Array:
    """``x @ w`` computed on crossbars described by ``spec`` (DESIGN.md section 7), for ``x [..., K]``
    and ``w [K, M]``: :func:`analog_matmul_tiles` on the row tiles of ``x^T`` (one transpose), reshaped
    back to ``[..., M]``. Arguments as for :func:`analog_matmul_tiles`.

    >>> import jax, jax.numpy as jnp
    >>> from hwsnn.hardware.crossbar import CrossbarSpec
    >>> spec = CrossbarSpec(g_on_siemens=50e-6, g_off_siemens=5e-6, v_read_volt=0.1, weight_bits=None)
    >>> x, w = jnp.ones((1, 3)), jnp.asarray([[0.5], [-0.25], [1.0]])
    >>> round(float(analog_matmul(x, w, spec, jax.random.key(0))[0, 0]), 5)  # ideal cells: x @ w
    1.25
    """
    if w.ndim != 2 or x.shape[-1] != w.shape[0]:
        raise ValueError(f"x, w: shapes {tuple(x.shape)} and {tuple(w.shape)}; allowed: [..., K] and [K, M].")
    tiles = split_row_tiles(x.reshape(-1, w.shape[0]).T, spec.size)
    y = analog_matmul_tiles(tiles, w, spec, key, program_key=program_key, strength=strength, sa_scale=sa_scale).y
    return y.reshape(x.shape[:-1] + (w.shape[1],))


def analog_matmul_tiles(
    row_tiles: list[Array],
    w: Array,
    spec: CrossbarSpec,
    key: Key,
    *,
    program_key: Key | None = None,
    strength: HardwareStrength | float = 1.0,
    sa_scale: Array | Callable[[Array], Array] | None = None,
) -> AnalogProduct:
    """``x @ w`` ``[P, M]`` on crossbars, for inputs given as crossbar row tiles (DESIGN.md section 7),
    with each column's partial-sum magnitudes (:class:`AnalogProduct`).

    Quantise ``w`` to ``spec.weight_bits`` over the range ``spec.weight_clip`` sets (straight-through;
    :func:`~hwsnn.hardware.crossbar.weights.quantize_weights`) -> integer planes (differential pair
    ``max(+-n, 0)`` or offset ``n + L``) -> bit slices of ``spec.bits_per_cell`` bits -> conductances
    ``g_off + (g_on - g_off) d / D`` -> the stages' programming (drawn from ``program_key``, default
    ``key``) -> tile the fan-in and fan-out into ``size x size`` crossbars and fold the stages' wire
    effects into them -> per row tile and slice: the column currents and the stages' read effects
    (from ``key``) -> the readout (``spec.readout``, its frozen quantities drawn from ``key``) ->
    digital shift-and-add over slices (``2^(b s)``) and sum over row tiles -> offset correction and
    rescale to weight units, ``y = w_max / L * sum_s 2^(b s) D / (v span) (I_s - ...)``, times any
    stage's output gain (drift compensation). Every readout is a fixed function of one sample's
    inputs, so a sample's output does not depend on the rest of its batch.

    Args:
      row_tiles: the inputs, feature-major and split by crossbar rows: block ``r`` is ``x^T`` rows
        ``r X .. r X + X_r - 1`` as ``[X_r, P]`` (``X = spec.size``; only the last block may be
        shorter), spikes or analog values applied as ``x * v_read`` volts
        (:func:`split_row_tiles`, :func:`hwsnn.layers.ops.patch_row_tiles`).
      w: weights ``[K, M]`` with ``K = sum_r X_r``.
      spec: a :class:`~hwsnn.hardware.crossbar.spec.CrossbarSpec`.
      key: randomness for the reads and the readout (and programming, unless ``program_key`` is given).
      strength: a number or a mapping of ramped names to numbers
        (:data:`~hwsnn.hardware.crossbar.stage.HardwareStrength`).
      sa_scale: the digital value of one sense-amplifier decision per slice, row tile and column,
        ``[slices, row tiles, M]`` (:func:`readout_scale_shape`) in units of the full-scale current,
        or a function from this call's :attr:`AnalogProduct.partial_magnitudes` to it (a calibrating
        pass: the partial sums come before the readout, so a scale can be measured and used in one
        pass): required by a readout that ``needs_scale``, ignored by the others.
    """
    size = spec.size
    heights = [tile.shape[0] for tile in row_tiles]
    if (
        w.ndim != 2
        or not row_tiles
        or sum(heights) != w.shape[0]
        or any(h != size for h in heights[:-1])
        or not 0 < heights[-1] <= size
        or len({tile.shape[1:] for tile in row_tiles}) != 1
    ):
        raise ValueError(
            f"row_tiles, w: tile shapes {[tuple(t.shape) for t in row_tiles]} and w {tuple(w.shape)}; "
            f"allowed: [{size}, P] blocks (the last [X_r <= {size}, P]) whose rows add up to w's [K, M]."
        )
    if not isinstance(spec, CrossbarSpec):
        raise ValueError(f"spec: got {type(spec).__name__}; allowed: a CrossbarSpec (hwsnn.hardware.crossbar).")
    readout = spec.readout
    scale_shape = readout_scale_shape(spec, w.shape[0], w.shape[1])
    if readout.needs_scale and (sa_scale is None or not callable(sa_scale) and tuple(sa_scale.shape) != scale_shape):
        got = None if sa_scale is None else f"shape {tuple(sa_scale.shape)}"
        raise ValueError(
            f"sa_scale: got {got}; allowed: an array {scale_shape} (slices, row tiles, columns) of "
            f"calibrated or learned sense-amplifier scales, required by a {type(readout).__name__} readout."
        )
    levels = as_strength(strength)
    program_key = key if program_key is None else program_key
    fan_out, rows = w.shape[1], len(heights)
    n, w_max, level_count = quantize_weights(w, spec.weight_bits, spec.weight_clip)
    planes, plane_max = spec.encoding.planes(n, level_count)
    sliced = [bit_slices(u, plane_max, spec.bits_per_cell) for u in planes]
    digit_max, count = sliced[0][1], len(sliced[0][0])
    span = spec.g_on_siemens - spec.g_off_siemens
    signed = spec.encoding.signed
    full_scale = (
        readout.full_scale_fraction()
        * size
        * spec.v_read_volt
        * spec.encoding.cell_span(spec.g_on_siemens, spec.g_off_siemens)
    )
    input_sum = sum(jnp.sum(tile, axis=0) for tile in row_tiles)[:, None]  # [P, 1]: the digital corrections' sum(x)
    pair = len(planes)
    digits = jnp.stack([sliced[p][0][s] for s in range(count) for p in range(pair)])  # [slice x array, K, M]
    target = spec.g_off_siemens + span * digits / digit_max
    programmed, gain = target, None

    def read_all_ones(g):  # the ideal output [M] of conductances g for an all-ones input (compensations)
        columns = jnp.sum(g, axis=1).reshape(count, pair, fan_out)
        currents = [spec.v_read_volt * (c[0] - c[1] if pair == 2 else c[0]) for c in columns]
        return _digital_sum(currents, spec, level_count, float(w.shape[0]), digit_max)

    for stage, stage_key in zip(spec.stages, _stage_keys(program_key, len(spec.stages))):
        before, programmed = programmed, stage.program(programmed, target, spec, stage_key, levels[stage.name])
        factor = stage.output_gain(before, programmed, read_all_ones)
        gain = factor if gain is None or factor is None else gain * factor
    blocks = _effective_rows(programmed, spec, heights, levels)  # per row tile: [slice x array, X_r, M]
    partials = []  # [slice][row tile] -> [P, M]
    for s in range(count):
        keys = jax.random.split(jax.random.fold_in(key, 2 + s), rows)
        partials.append(
            [
                _tile_current(inputs, blocks[r][s * pair : (s + 1) * pair], spec, keys[r], levels)
                for r, inputs in enumerate(row_tiles)
            ]
        )
    driven = [jnp.any(tile != 0, axis=0) for tile in row_tiles]  # [P] per row tile: any row driven
    reads = [jnp.maximum(jnp.sum(d), 1) for d in driven]  # inputs each tile is read for
    magnitudes = (
        jnp.stack(
            [
                jnp.stack([jnp.sum(jnp.abs(jax.lax.stop_gradient(p)), axis=0) / reads[r] for r, p in enumerate(tiles)])
                for tiles in partials
            ]
        )
        / full_scale
    )
    scales = sa_scale(magnitudes) if callable(sa_scale) else sa_scale
    frozen = readout.frozen(jax.random.fold_in(key, 1), (count, rows, 1, fan_out), w.dtype, full_scale, levels)
    summed = []
    for s, tiles in enumerate(partials):
        total = 0.0
        for r, partial in enumerate(tiles):
            if not readout.exact:
                read = readout.read(
                    partial,
                    full_scale,
                    signed,
                    None if frozen is None else frozen[s, r],
                    None if scales is None else full_scale * scales[s, r][None, :],
                    driven[r],
                )
                partial = read if is_one(levels["readout"]) else partial + levels["readout"] * (read - partial)
            total = total + partial
        summed.append(total)
    y = _digital_sum(summed, spec, level_count, input_sum, digit_max) * w_max / level_count
    return AnalogProduct(y if gain is None else gain * y, magnitudes)
