"""From weights to the integers cells store: quantisation, encoding into non-negative planes, bit slices.

A weight matrix ``w`` is quantised to ``L = 2^(b-1) - 1`` levels either side of zero
(:func:`quantize_weights`), each level ``n`` is stored as non-negative integers in one or two arrays
(:class:`Encoding`: a differential pair or an offset), and each of those may be spread over cells of
fewer bits (:func:`bit_slices`), read separately and shift-added digitally (NeuroSim, SpikeSim).
"""

from __future__ import annotations

import abc
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from hwsnn.pytree import Option
from hwsnn.typing import Array


class Encoding(Option, abc.ABC):
    """How a signed level ``n`` in ``[-L, L]`` is stored as non-negative integer planes in one or two arrays
    of cells, and what the digital periphery removes from their reads (static in a
    :class:`~hwsnn.hardware.crossbar.spec.CrossbarSpec`)."""

    signed: ClassVar[bool]
    """Whether a row tile's partial sum is signed (a pair's difference): a signed ADC reads it."""

    @abc.abstractmethod
    def planes(self, n: Array, levels: float) -> tuple[list[Array], float]:
        """``(planes u, U)``: the non-negative planes stored in cells and their largest value (:meth:`plane_max`)."""

    @abc.abstractmethod
    def plane_max(self, levels: float) -> float:
        """``U``, the largest value a plane holds for weights of ``levels`` levels either side of zero."""

    @abc.abstractmethod
    def stored_bits(self, weight_bits: int) -> int:
        """Bits of a plane's largest value for ``weight_bits``-bit weights (what bit slicing spreads)."""

    @abc.abstractmethod
    def cell_span(self, g_on, g_off):
        """The conductance a full-scale cell contributes to a column's partial sum (S)."""

    def corrected(self, current: Array, v_read, g_off, input_sum) -> Array:
        """A slice's summed column current after the digital correction of the cells' floor."""
        return current

    def level_corrected(self, planes_sum: Array, levels: float, input_sum) -> Array:
        """``sum_k x_k u_k`` turned into ``sum_k x_k n_k`` (the digital correction of the level offset)."""
        return planes_sum


class DifferentialPair(Encoding):
    """``[max(n, 0), max(-n, 0)]`` (``U = L``) in two arrays, read as ``I+ - I-``: the cells' floor cancels."""

    signed = True

    def planes(self, n, levels):
        return [jnp.maximum(n, 0.0), jnp.maximum(-n, 0.0)], self.plane_max(levels)

    def plane_max(self, levels):
        return levels

    def stored_bits(self, weight_bits):
        return weight_bits - 1

    def cell_span(self, g_on, g_off):
        return g_on - g_off


class Offset(Encoding):
    """``[n + L]`` (``U = 2 L``) in one array, read with digital corrections of the ``g_off`` floor
    (``v_read g_off sum(x)``) and of the level offset (``L sum(x)``)."""

    signed = False

    def planes(self, n, levels):
        return [n + levels], self.plane_max(levels)

    def plane_max(self, levels):
        return 2.0 * levels

    def stored_bits(self, weight_bits):
        return weight_bits

    def cell_span(self, g_on, g_off):
        return g_on

    def corrected(self, current, v_read, g_off, input_sum):
        return current - v_read * g_off * input_sum

    def level_corrected(self, planes_sum, levels, input_sum):
        return planes_sum - levels * input_sum


def levels_of(bits: int | None) -> float:
    """``L = 2^(bits-1) - 1``, the largest weight level (1 for continuous weights)."""
    return 1.0 if bits is None else float(2 ** (bits - 1) - 1)


def slice_count(plane_max: float, bits_per_cell: int) -> int:
    """Cells of ``bits_per_cell`` bits that hold a plane value up to ``plane_max``."""
    return max(1, int(np.ceil(np.log2(plane_max + 1) / bits_per_cell)))


def quantize_weights(w: Array, bits: int | None, clip: float | None = None) -> tuple[Array, Array, float]:
    """``(levels n, w_max, L)`` with ``w ~ w_max n / L``: symmetric uniform quantisation to ``bits``
    bits (``L = 2^(bits-1) - 1``) with a straight-through gradient; ``bits=None`` keeps ``n`` continuous.

    ``w_max``, the weight programmed at the largest conductance level, is the layer's largest ``|w|``
    (``clip=None``) or ``min(clip x RMS(w), max |w|)``: aihwkit's layer-Gaussian weight clip
    (``WeightClipType.LAYER_GAUSSIAN``, its sigma in units of the layer's spread), which spreads the
    bulk of the weights over more levels, so each active row drives a larger share of the column's
    current against programming noise and sense-amplifier offsets, at the price of programming the few
    weights beyond ``w_max`` at the top level (they get no gradient through the crossbar while they
    stay there). ``w_max`` is a stop-gradient scale either way."""
    largest = jnp.max(jnp.abs(w))
    if clip is not None:
        largest = jnp.minimum(clip * jnp.sqrt(jnp.mean(w * w)), largest)
    w_max = jax.lax.stop_gradient(jnp.maximum(largest, jnp.finfo(w.dtype).tiny))
    levels = levels_of(bits)
    scaled = w / w_max * levels
    if clip is not None:
        scaled = jnp.clip(scaled, -levels, levels)
    if bits is not None:
        scaled = scaled + jax.lax.stop_gradient(jnp.round(scaled) - scaled)
    return scaled, w_max, levels


def bit_slices(u: Array, plane_max: float, bits_per_cell: int | None) -> tuple[list[Array], float]:
    """``(digits d_s, D)`` with ``u = sum_s 2^(b s) d_s`` and ``0 <= d_s <= D = 2^b - 1``: a plane
    spread over cells of ``b`` bits each, least significant slice first (``bits_per_cell=None``:
    one cell holds ``u`` whole, ``D = U``). Each slice passes the gradient of ``u`` straight through,
    shared so that the recombined value has the gradient of ``u``."""
    if bits_per_cell is None:
        return [u], plane_max
    base = 2**bits_per_cell
    count = slice_count(plane_max, bits_per_cell)
    whole = jax.lax.stop_gradient(jnp.round(u))
    through = (u - jax.lax.stop_gradient(u)) / count
    digits = [jnp.floor(whole / base**s) % base + through / base**s for s in range(count)]
    return digits, float(base - 1)
