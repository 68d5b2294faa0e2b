"""Analog crossbar physics: column currents with wire resistance (IR drop).

Pinned convention (DESIGN.md section 7): ``g[i, j]`` (siemens) joins word-line node (i, j) and
bit-line node (i, j). Row ``i`` is driven at its left end by a source ``v[i]`` through one wire
segment; neighbouring nodes on a word line or a bit line are joined by ``r_wire`` ohms; the
bottom node of column ``j`` reaches virtual ground through one segment. The result is each
column's current into ground (amperes). With ``r_wire = 0`` it is ``v @ g``.

Two solvers:

* ``method="exact"``: the nodal system. With ``G = 1 / r_wire`` and node voltages ``W[i, j]``
  (word line) and ``B[i, j]`` (bit line), Kirchhoff's current law at every node gives a sparse,
  symmetric positive-definite grounded Laplacian (2NM unknowns), solved by sparse LU in float64
  (SciPy, on the host: for validation, not for training)::

      G (W_ij - W_i,j-1) + G (W_ij - W_i,j+1) + g_ij (W_ij - B_ij) = 0      (W_i,-1 = v_i; no W_i,M)
      G (B_ij - B_i-1,j) + G (B_ij - B_i+1,j) + g_ij (B_ij - W_ij) = 0      (no B_-1,j; B_N,j = 0)
      I_j = G B_N-1,j

* ``method="relaxation"`` (default; differentiable, jittable, vmappable): a damped fixed point on
  the cell currents ``I_ij = g_ij (W_ij - B_ij)``, after CrossSim's IR-drop solver. Given the
  cell currents, the current in word-line segment ``k`` of row ``i`` is ``sum_{m >= k} I_im``
  (the far end is open) and in bit-line segment below node ``k`` of column ``j`` is
  ``sum_{m <= k} I_mj``, so the line voltages follow from two cumulative sums::

      W = v - r cumsum_j(revcumsum_j(I)),     B = r revcumsum_i(cumsum_i(I))
      I <- I + gamma (g (W - B) - I)          starting from I = g v (the ideal solution)

  and ``I_j = sum_i I_ij``. Severity scales as ``eps = r_wire G_max N^2`` (REFERENCES.md section
  5); undamped iteration diverges for large eps, damping ``gamma`` in 0.5-0.7 converges where
  ``gamma = 1`` does not. The two nested cumulative sums are matmuls with the line kernels
  ``Kw[m, j] = min(m, j) + 1`` and ``Kb[i, m] = N - max(i, m)`` (0-based):
  ``W = v - r I Kw``, ``B = r Kb I`` (XLA's CPU cumsum is quadratic; a 64 x 64 matmul is not).

* ``method="resummed"`` (closed form, what crossbar layers train with): one relaxation step
  from the ideal currents, ``I_1 = g (v - r (g Kw) v - r Kb (v g))``, has column currents
  ``v @ [g (1 - delta)]`` with ``delta = r (g Kw + Kb g)``: a first-order effective conductance
  that is linear in ``v`` and costs two ``N x N x M`` matmuls per array, independent of batch and
  time. Resumming it as ``G_eff = g / (1 + delta)`` (exact for an isolated cell in series with
  its wires) brings its error on 64 x 64 arrays of 20-200 kOhm cells at 1-2.5 Ohm per segment
  to about 1 % of the ideal model's error (``tests/hardware/test_crossbar.py``).

The relaxation is linear in ``I`` for fixed ``g``, so whether it converges depends on ``g``,
``r_wire`` and ``gamma`` only, not on ``v``: :func:`check_relaxation` tests a configuration
eagerly (worst case: every cell at its largest conductance) and raises if it does not converge,
so a spec that would diverge is rejected before any training step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from hwsnn.neurons.surrogate import atan
from hwsnn.typing import Array, Key

if TYPE_CHECKING:  # specs import this module: the spec type is for annotations only
    from hwsnn.hardware.specs import CrossbarSpec

IR_DROP_METHODS = ("resummed", "relaxation", "exact")
"""The IR-drop solvers, one vocabulary for :func:`column_currents` and ``CrossbarSpec.ir_drop``: the
closed-form resummation and the relaxation are differentiable (crossbar layers train with them);
"exact" is the host-side nodal solve that checks them (not in the loop)."""


def _check_shapes(v, g) -> None:
    if g.ndim != 2:
        raise ValueError(f"g: shape {tuple(g.shape)}; allowed: [rows, columns].")
    if v.shape[-1] != g.shape[0]:
        raise ValueError(f"v: last axis {v.shape[-1]}; allowed: rows of g = {g.shape[0]}.")


def line_kernels(rows: int, columns: int, dtype) -> tuple[Array, Array]:
    """``(Kw [M, M], Kb [N, N])``: ``Kw[m, j] = min(m, j) + 1`` sums the word-line segment currents
    up to node ``j``; ``Kb[i, m] = N - max(i, m)`` the bit-line segment currents below node ``i``."""
    cols, rws = jnp.arange(columns), jnp.arange(rows)
    kw = (jnp.minimum(cols[:, None], cols[None, :]) + 1).astype(dtype)
    kb = (rows - jnp.maximum(rws[:, None], rws[None, :])).astype(dtype)
    return kw, kb


def _line_voltages(cell_currents: Array, v: Array, r_wire) -> tuple[Array, Array]:
    """Word-line and bit-line node voltages implied by the cell currents ``[..., N, M]``."""
    kw, kb = line_kernels(cell_currents.shape[-2], cell_currents.shape[-1], cell_currents.dtype)
    word = v[..., :, None] - r_wire * (cell_currents @ kw)
    bit = r_wire * (kb @ cell_currents)
    return word, bit


def resummed_conductance(g: Array, r_wire) -> Array:
    """``G_eff = g / (1 + r (g Kw + Kb g))``: IR drop folded into the conductances of a crossbar
    ``g [N, M]`` or a stack of them ``[..., N, M]`` (module doc).

    The two line-kernel products are plain matmuls: on XLA-CPU they move far less memory than a
    pair of log-depth scans (measured with XLA's cost analysis of a training step). Its gradient
    keeps the coupling between cells through the wires (holding it fixed was measured up to 25 %
    off finite differences).
    """
    rows, columns = g.shape[-2:]
    return _resummed_side_by_side(g.reshape(-1, rows, 1, columns), r_wire).reshape(g.shape)


def _resummed_side_by_side(g: Array, r_wire) -> Array:
    """:func:`resummed_conductance` of row tiles ``g [R, N, C, X]``, each holding ``C`` crossbars of
    ``N x X`` cells side by side (a tiled array's own layout, so no transposes): the word-line
    kernel contracts each crossbar's columns (last axis), the bit-line kernel its rows (axis 1),
    one GEMM each over all crossbars."""
    tiles, rows, side, columns = g.shape
    kw, kb = line_kernels(rows, columns, g.dtype)
    word = g @ kw
    bit = jnp.matmul(kb, g.reshape(tiles, rows, side * columns)).reshape(g.shape)
    return g / (1.0 + r_wire * (word + bit))


def relaxation_currents(v: Array, g: Array, r_wire, *, iterations: int = 20, damping=0.6) -> tuple[Array, Array]:
    """``(column currents [..., M], relative size of the last update)`` by damped relaxation."""
    g_b = jnp.broadcast_to(g, v.shape[:-1] + g.shape)
    ideal = v[..., :, None] * g_b

    def update(cells, _):
        word, bit = _line_voltages(cells, v, r_wire)
        return cells + damping * (g_b * (word - bit) - cells), None

    cells, _ = jax.lax.scan(update, ideal, None, length=iterations - 1) if iterations > 1 else (ideal, None)
    word, bit = _line_voltages(cells, v, r_wire)
    step = damping * (g_b * (word - bit) - cells)
    cells = cells + step
    scale = jnp.maximum(jnp.max(jnp.abs(cells)), jnp.finfo(cells.dtype).tiny)
    return jnp.sum(cells, axis=-2), jnp.max(jnp.abs(step)) / scale


def exact_currents(v, g, r_wire) -> np.ndarray:
    """Column currents from the nodal system, sparse LU in float64 (host; not differentiable)."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import splu

    v64, g64 = np.asarray(v, np.float64), np.asarray(g, np.float64)
    n, m = g64.shape
    if float(r_wire) == 0.0:
        return v64 @ g64
    cond = 1.0 / float(r_wire)
    word = lambda i, j: i * m + j
    bit = lambda i, j: n * m + i * m + j
    rows, cols, vals = [], [], []

    def couple(a, b, conductance):
        rows.extend((a, b, a, b))
        cols.extend((a, b, b, a))
        vals.extend((conductance, conductance, -conductance, -conductance))

    diag = np.zeros(2 * n * m)
    for i in range(n):
        for j in range(m):
            couple(word(i, j), bit(i, j), g64[i, j])
            if j + 1 < m:
                couple(word(i, j), word(i, j + 1), cond)
            if i + 1 < n:
                couple(bit(i, j), bit(i + 1, j), cond)
        diag[word(i, 0)] += cond  # source segment
    for j in range(m):
        diag[bit(n - 1, j)] += cond  # ground segment
    matrix = sp.csc_matrix((vals, (rows, cols)), shape=(2 * n * m, 2 * n * m)) + sp.diags(diag)
    lu = splu(matrix.tocsc())
    flat_v = v64.reshape(-1, n)
    rhs = np.zeros((2 * n * m, flat_v.shape[0]))
    rhs[[word(i, 0) for i in range(n)], :] = cond * flat_v.T
    nodes = lu.solve(rhs)
    currents = cond * nodes[[bit(n - 1, j) for j in range(m)], :].T
    return currents.reshape(v64.shape[:-1] + (m,))


def column_currents(v, g, r_wire, *, method: str = "relaxation", iterations: int = 20, damping=0.6):
    """Column currents ``[..., M]`` (A) of a crossbar ``g [N, M]`` (S) driven by ``v [..., N]`` (V).

    ``method="relaxation"`` (default, differentiable), ``"resummed"`` (closed form, differentiable)
    or ``"exact"`` (nodal solve, float64 on the host); see the module doc. ``r_wire`` is the resistance of one wire segment in ohms.
    """
    if method not in IR_DROP_METHODS:
        raise ValueError(f"method: got {method!r}; allowed: {list(IR_DROP_METHODS)}.")
    _check_shapes(v, g)
    if method == "exact":
        return jnp.asarray(exact_currents(v, g, r_wire))
    if method == "resummed":
        return v @ resummed_conductance(g, r_wire)
    if not isinstance(iterations, int) or iterations < 1:
        raise ValueError(f"iterations: got {iterations!r}; allowed: an int >= 1.")
    return relaxation_currents(v, g, r_wire, iterations=iterations, damping=damping)[0]


def check_relaxation(rows: int, columns: int, g_max, r_wire, *, iterations: int, damping, tolerance: float = 1e-3) -> float:
    """Relative size of the relaxation's last update in the worst case (all cells at ``g_max``).

    Raises:
      ValueError: the relaxation does not converge to ``tolerance`` in ``iterations`` steps.
    """
    g = jnp.full((rows, columns), float(g_max), jnp.float64 if jax.config.jax_enable_x64 else jnp.float32)
    _, residual = relaxation_currents(jnp.ones((rows,), g.dtype), g, float(r_wire), iterations=iterations, damping=float(damping))
    residual = float(residual)
    if not np.isfinite(residual) or residual > tolerance:
        eps = float(r_wire) * float(g_max) * rows ** 2
        raise ValueError(
            f"ir_drop: the relaxation does not converge for a {rows}x{columns} crossbar with r_wire={float(r_wire)!r} ohm, "
            f"g_max={float(g_max)!r} S (eps = r G N^2 = {eps:.3g}), damping {float(damping)!r}, {iterations} iterations: "
            f"last relative update {residual:.3g} > {tolerance}; allowed: more iterations, smaller damping, smaller "
            "crossbars or method='exact' for evaluation."
        )
    return residual


# --------------------------------------------------------------------------- analog matmul


def effective_conductance(g: Array, r_wire, *, iterations: int, damping) -> Array:
    """``G_eff [N, M]`` with ``column_currents(v, g, r) = v @ G_eff`` (the relaxation is linear in ``v``).

    Row ``m`` of ``G_eff`` is the relaxation's response to a unit source on row ``m`` alone, so the
    IR-drop solve costs ``O(N^2 M)`` per programmed array, independent of batch and time.
    """
    eye = jnp.eye(g.shape[0], dtype=g.dtype)
    return relaxation_currents(eye, g, r_wire, iterations=iterations, damping=damping)[0]


STAGES = ("programming_noise", "stuck_at", "ir_drop", "read_noise", "sa_offset", "readout")
"""The named non-ideality stages of a crossbar read, in the order :func:`analog_matmul_tiles` applies them:
programming noise and stuck-at cells (drawn per programming key), IR drop (folded into the
conductances), read noise (per MVM), the sense amplifiers' frozen offsets, and the readout (ADC or
sense amplifier in place of an exact partial sum). Weight quantisation (``spec.weight_bits``) is
structural and always applied."""

HardwareStrength = dict
"""How much of each stage a crossbar applies (progressive hardware awareness): a mapping from stage
names (:data:`STAGES`) to values in [0, 1], or one number for every stage; a stage missing from
the mapping is at full strength. Noise stages scale their sigmas or probabilities, ``ir_drop`` the
wire resistance, and ``readout`` blends each tile's exact partial sum (an infinitely precise ADC)
into the spec's readout, ``p + s (q(p) - p)``, so an SA crossbar ramps from a high-precision ADC
to 1-bit decisions."""


def as_strength(strength) -> dict:
    """``strength`` as a mapping over every stage of :data:`STAGES` (a number applies to all).

    Raises:
      ValueError: a key is not a stage name.
    """
    if isinstance(strength, dict):
        unknown = sorted(set(strength) - set(STAGES))
        if unknown:
            raise ValueError(f"strength: unknown stages {unknown}; allowed: {list(STAGES)}.")
        return {stage: strength.get(stage, 1.0) for stage in STAGES}
    return {stage: strength for stage in STAGES}


def check_strength(strength) -> None:
    """Raise ``ValueError`` unless ``strength`` is a :data:`HardwareStrength`: a number in [0, 1] or a mapping
    of stage names to such numbers (traced values, as a ramp's under ``jit``, are checked where known)."""
    values = as_strength(strength)
    for stage, value in values.items():
        if isinstance(value, jax.core.Tracer):
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = None
        if number is None or not 0.0 <= number <= 1.0:  # NaN fails both comparisons
            where = "" if not isinstance(strength, dict) else f" for stage {stage!r}"
            raise ValueError(f"hardware_strength: got {value!r}{where}; allowed: a number in [0, 1] (0: ideal, 1: the "
                             "spec's full non-idealities) or a mapping of stage names to such numbers.")


STAGE_OFF_VALUES = {
    "programming_noise": {"prog_sigma_0": 0.0, "prog_sigma_1": 0.0, "prog_sigma_2": 0.0},
    "stuck_at": {"p_stuck_on": 0.0, "p_stuck_off": 0.0},
    "ir_drop": {"r_wire_ohm": 0.0},
    "read_noise": {"read_sigma": 0.0},
    "sa_offset": {"sa_offset_sigma": 0.0},
    "readout": {"readout": "ideal"},
}
"""Per stage of :data:`STAGES`, the spec field values that switch it off (the converse of
:func:`active_stages`; :meth:`~hwsnn.hardware.specs.CrossbarSpec.without`)."""


def _is_one(value) -> bool:
    return isinstance(value, (int, float)) and value == 1.0


def _scaled(value, factor):
    """``factor * value``, or ``value`` itself for a static factor of 1 (no op traced)."""
    return value if _is_one(factor) else factor * value


def _concrete_zero(*values) -> bool:
    """Whether every value is a concrete (untraced) zero, so the stage can be left out statically."""
    return all(not isinstance(v, jax.core.Tracer) and float(v) == 0.0 for v in values)


def active_stages(spec) -> tuple[str, ...]:
    """The stages of :data:`STAGES` that a spec's concrete values switch on (a static tuple).

    :func:`hwsnn.hardware.specs.crossbar_spec` records it in the spec's static ``stages`` field, so
    it is part of the spec's structure: read at every call (a replaced spec takes effect), and known
    under ``jit`` even where the spec's arrays are traced, so no random numbers are drawn for a stage
    that is off."""
    present = {
        "programming_noise": not _concrete_zero(spec.prog_sigma_0, spec.prog_sigma_1, spec.prog_sigma_2),
        "stuck_at": not _concrete_zero(spec.p_stuck_on, spec.p_stuck_off),
        "ir_drop": spec.ir_drop is not None and not _concrete_zero(spec.r_wire_ohm),
        "read_noise": not _concrete_zero(spec.read_sigma),
        "sa_offset": spec.readout == "sa" and not _concrete_zero(spec.sa_offset_sigma),
        "readout": spec.readout != "ideal",
    }
    return tuple(name for name in STAGES if present[name])


def _levels(bits: int | None) -> float:
    """``L = 2^(bits-1) - 1``, the largest weight level (1 for continuous weights)."""
    return 1.0 if bits is None else float(2 ** (bits - 1) - 1)


def _slice_count(plane_max: float, bits_per_cell: int) -> int:
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
    levels = _levels(bits)
    scaled = w / w_max * levels
    if clip is not None:
        scaled = jnp.clip(scaled, -levels, levels)
    if bits is not None:
        scaled = scaled + jax.lax.stop_gradient(jnp.round(scaled) - scaled)
    return scaled, w_max, levels


def weight_planes(n: Array, levels: float, encoding: str) -> tuple[list[Array], float]:
    """Non-negative integer planes ``u`` stored in cells, and their largest value ``U``.

    differential: ``[max(n, 0), max(-n, 0)]`` (``U = L``), read as ``I+ - I-``;
    offset:       ``[n + L]`` (``U = 2 L``), read with a digital correction of ``L sum(x)``.
    """
    if encoding == "differential":
        return [jnp.maximum(n, 0.0), jnp.maximum(-n, 0.0)], levels
    return [n + levels], 2.0 * levels


def bit_slices(u: Array, plane_max: float, bits_per_cell: int | None) -> tuple[list[Array], float]:
    """``(digits d_s, D)`` with ``u = sum_s 2^(b s) d_s`` and ``0 <= d_s <= D = 2^b - 1``: a plane
    spread over cells of ``b`` bits each, least significant slice first (``bits_per_cell=None``:
    one cell holds ``u`` whole, ``D = U``). Each slice passes the gradient of ``u`` straight through,
    shared so that the recombined value has the gradient of ``u``."""
    if bits_per_cell is None:
        return [u], plane_max
    base = 2 ** bits_per_cell
    count = _slice_count(plane_max, bits_per_cell)
    whole = jax.lax.stop_gradient(jnp.round(u))
    through = (u - jax.lax.stop_gradient(u)) / count
    digits = [jnp.floor(whole / base ** s) % base + through / base ** s for s in range(count)]
    return digits, float(base - 1)


def program(g: Array, spec, key, *, strength=1.0) -> Array:
    """Programmed conductances, by the spec's stages: ``G + s sigma(G) eps`` (programming noise,
    ``sigma`` polynomial in ``G / g_on``, floored at zero; conductances floored at zero), then cells
    stuck at ``g_on`` / ``g_off`` with probabilities ``s p_stuck_on`` / ``s p_stuck_off`` (``s``: each
    stage's strength). Fixed by ``key``; a stage the spec leaves out draws nothing."""
    strength = as_strength(strength)
    k_noise, k_stuck = jax.random.split(key)
    if "programming_noise" in spec.stages:
        u = g / spec.g_on_siemens
        sigma = jnp.maximum(spec.prog_sigma_0 + spec.prog_sigma_1 * u + spec.prog_sigma_2 * u * u, 0.0)
        g = jnp.maximum(g + _scaled(sigma, strength["programming_noise"]) * jax.random.normal(k_noise, g.shape, g.dtype), 0.0)
    if "stuck_at" not in spec.stages:
        return g
    draw = jax.random.uniform(k_stuck, g.shape, g.dtype)
    p_on, p_off = _scaled(spec.p_stuck_on, strength["stuck_at"]), _scaled(spec.p_stuck_off, strength["stuck_at"])
    g = jnp.where(draw < p_on, spec.g_on_siemens, g)
    return jnp.where((draw >= p_on) & (draw < p_on + p_off), spec.g_off_siemens, g)


def _tiles(g: Array, size: int, pad_value) -> Array:
    """``[A, K, M] -> [A, K/X, X, M/X, X]``: each of ``A`` arrays as row tiles of ``X x X`` crossbars
    side by side (padded with ``pad_value`` conductance): a reshape of the padded stack, no transpose."""
    rows, cols = -(-g.shape[1] // size), -(-g.shape[2] // size)
    padded = jnp.pad(g, ((0, 0), (0, rows * size - g.shape[1]), (0, cols * size - g.shape[2])), constant_values=pad_value)
    return padded.reshape(g.shape[0], rows, size, cols, size)


def _effective_rows(g: Array, spec, heights: list[int], r_wire) -> list[Array]:
    """A stack of programmed arrays ``[A, K, M]`` as one conductance block ``[A, X_r, M]`` per row
    tile (``heights``: the ``X_r``): tiled into ``X x X`` crossbars (padding cells at ``g_off``), IR
    drop (``r_wire`` ohms per segment) folded into each crossbar's conductances, then the padding
    columns and the padding rows of a short last tile dropped. Every crossbar of every array goes
    through one IR-drop solve (one pair of GEMMs for the resummation), and the blocks come from one
    split, whose gradient is one concatenation."""
    arrays, fan_out = g.shape[0], g.shape[2]
    tiles = _tiles(g, spec.size, spec.g_off_siemens)  # [A, R, X, C, X]
    flat = tiles.reshape((-1,) + tiles.shape[2:])  # [A R, X, C, X]
    if r_wire is not None and spec.ir_drop == "resummed":
        flat = _resummed_side_by_side(flat, r_wire)
    elif r_wire is not None and spec.ir_drop == "relaxation":
        solve = lambda t: effective_conductance(t, r_wire, iterations=spec.ir_iterations, damping=spec.ir_damping)
        flat = jax.vmap(jax.vmap(solve))(flat.transpose(0, 2, 1, 3)).transpose(0, 2, 1, 3)
    rows = flat.reshape(arrays, tiles.shape[1] * spec.size, -1)[:, :, :fan_out]
    return jnp.split(rows, np.cumsum(heights), axis=1)[: len(heights)]


def _tile_current(inputs: Array, arrays: Array, v_read, read_sigma, key) -> Array:
    """Column currents ``[P, M]`` of one row tile driven by ``inputs [X_r, P]`` (feature-major) at
    ``v_read`` volts: of one array (``arrays [1, X_r, M]``), or of a differential pair (``[2, X_r, M]``)
    as ``I+ - I-`` (linear in the inputs: one contraction with ``v_read (G+ - G-)``, the read voltage
    folded into the small conductance block rather than the large input). With ``read_sigma``,
    independent relative noise per cell and MVM, summed exactly per column. The contraction runs over
    the leading (row) axis of both operands, so the product is written in ``[P, M]`` order with no
    transpose."""
    contract = lambda a, b: jax.lax.dot_general(a, b, (((0,), (0,)), ((), ())))
    net = arrays[0] if arrays.shape[0] == 1 else arrays[0] - arrays[1]
    current = contract(inputs, v_read * net)
    if read_sigma is not None:
        variance = contract(inputs * inputs, (v_read * v_read) * jnp.sum(arrays * arrays, axis=0))
        std = read_sigma * jnp.sqrt(jnp.maximum(variance, jnp.finfo(variance.dtype).tiny))  # finite gradient at 0
        current = current + std * jax.random.normal(key, current.shape, current.dtype)
    return current


def _adc(current: Array, full_scale, bits: int, signed: bool) -> Array:
    """b-bit ADC: clip to the range, round to the nearest level (straight-through inside the range)."""
    levels = float(2 ** (bits - 1) - 1 if signed else 2 ** bits - 1)
    low = -1.0 if signed else 0.0
    scaled = jnp.clip(current / full_scale, low, 1.0) * levels
    return (scaled + jax.lax.stop_gradient(jnp.round(scaled) - scaled)) / levels * full_scale


def readout_scale_shape(spec, fan_in: int, fan_out: int) -> tuple[int, int, int]:
    """``(slices, row tiles, columns)``: the shape of a layer's sense-amplifier scales, one per column
    of every row tile and bit slice (each such column has its own sense amplifier)."""
    levels = _levels(spec.weight_bits)
    plane_max = levels if spec.encoding == "differential" else 2.0 * levels  # as weight_planes
    slices = 1 if spec.bits_per_cell is None else _slice_count(plane_max, spec.bits_per_cell)
    return slices, -(-fan_in // spec.size), fan_out


def _sense_amplifier(difference: Array, reference, offsets: Array | None, scale: Array, driven: Array) -> Array:
    """1-bit decision ``sign(dI - reference - offset)`` per column of one row tile (``difference [P, M]``,
    amperes), worth ``+-scale`` (``[M]``, amperes): the digital weight a deployed chip adds per
    decision, a fixed number per column (calibrated, optionally with a learned gain:
    :class:`~hwsnn.layers.readout_scale.ReadoutScale`). The 1-bit
    results of the sub-arrays are summed digitally with a fixed or learned scale (REFERENCES.md section 5).
    A tile none of whose rows is driven for an input (``driven [P]`` false: its partial sum is
    exactly 0) is not read and adds 0: the row drivers know which rows they drive, and a comparator
    with no input would only report the sign of its own offset (with ``x > 0`` and no offset, a
    spurious ``-scale`` on every column of every silent tile; with offsets, a chip-specific bias).
    Backward: arctan surrogate of ``(dI - threshold) / scale`` (peak slope 2 per unit of ``dI``),
    also for a tile that was not read (straight-through: driving one of its rows would make it read,
    so a layer whose inputs are silent still gets a gradient to wake it); the scale's own gradient
    is what it multiplies, ``+-1`` or 0 (exact: the output is linear in it), its place in the
    surrogate's width held constant."""
    threshold = reference if offsets is None else reference + offsets
    width = jax.lax.stop_gradient(jnp.maximum(scale, jnp.finfo(difference.dtype).tiny))  # a never-driven column: 0 out
    vote = 2.0 * atan(2.0)((difference - threshold) / width) - 1.0
    vote = vote - jax.lax.stop_gradient(vote * ~driven[:, None])  # 0 where not read; gradient as if read
    return scale * vote


def _tile_partials(row_tiles, arrays, key, spec, read_sigma) -> list[Array]:
    """Each row tile's column currents ``[P, M]`` (its partial sum, before the readout), for
    ``row_tiles`` (one ``[X_r, P]`` block of inputs per tile, read at ``spec.v_read_volt``) and
    ``arrays`` (one ``[arrays of a pair, X_r, M]`` conductance block per tile)."""
    keys = jax.random.split(key, len(row_tiles))
    return [_tile_current(inputs, arrays[r], spec.v_read_volt, read_sigma, keys[r]) for r, inputs in enumerate(row_tiles)]


def _computed_once(x: Array) -> Array:
    """``x`` itself, as an array that XLA computes once instead of fusing it into each consumer: the
    maximum over ``x`` and ``-inf``, a reduction, which XLA does not duplicate into its consumers
    (``jax.lax.optimization_barrier`` is removed before fusion on CPU). For a small draw that meets
    large arrays: XLA-CPU fused the inverse-CDF polynomial of the sense amplifiers' offsets (one per
    column) into every readout, recomputing it for each of the ``P`` inputs of every row tile, forward
    and backward. Computed once, the MLP's crossbar step went from 11.7-11.9 to 10.9-11.1 ms (three
    alternated pairs of ``benchmarks/bench_hardware_step.py --model mlp --processes 1``)."""
    return jnp.max(jnp.stack([x, jnp.full_like(x, -jnp.inf)]), axis=0)


def _read(partial: Array, spec, differential: bool, full_scale, offset, scale, driven, readout_strength) -> Array:
    """One tile's partial sum ``[P, M]`` through the spec's readout (ADC, or sense amplifier with
    ``offset`` and ``scale [M]`` in units of full scale, read where ``driven [P]``), blended with the
    exact value by ``readout_strength``."""
    if spec.readout == "adc":
        read = _adc(partial, full_scale, spec.adc_bits, signed=differential)
    elif spec.readout == "sa":
        read = _sense_amplifier(partial, spec.sa_reference * full_scale, offset, full_scale * scale[None, :], driven)
    else:
        return partial
    return read if _is_one(readout_strength) else partial + readout_strength * (read - partial)


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


def analog_matmul(x: Array, w: Array, spec, key, *, program_key=None, strength=1.0, sa_scale=None) -> Array:
    """``x @ w`` computed on crossbars described by ``spec`` (DESIGN.md section 7), for ``x [..., K]``
    and ``w [K, M]``: :func:`analog_matmul_tiles` on the row tiles of ``x^T`` (one transpose), reshaped
    back to ``[..., M]``. Arguments as for :func:`analog_matmul_tiles`."""
    if w.ndim != 2 or x.shape[-1] != w.shape[0]:
        raise ValueError(f"x, w: shapes {tuple(x.shape)} and {tuple(w.shape)}; allowed: [..., K] and [K, M].")
    tiles = split_row_tiles(x.reshape(-1, w.shape[0]).T, spec.size)
    y = analog_matmul_tiles(tiles, w, spec, key, program_key=program_key, strength=strength, sa_scale=sa_scale).y
    return y.reshape(x.shape[:-1] + (w.shape[1],))


def analog_matmul_tiles(row_tiles: list[Array], w: Array, spec: CrossbarSpec, key: Key, *, program_key: Key | None = None,
                        strength: HardwareStrength | float = 1.0, sa_scale: Array | Callable[[Array], Array] | None = None) -> AnalogProduct:
    """``x @ w`` ``[P, M]`` on crossbars, for inputs given as crossbar row tiles (DESIGN.md section 7),
    with each column's partial-sum magnitudes (:class:`AnalogProduct`).

    Quantise ``w`` to ``spec.weight_bits`` over the range ``spec.weight_clip`` sets (straight-through;
    :func:`quantize_weights`) -> integer planes (differential pair
    ``max(+-n, 0)`` or offset ``n + L``) -> bit slices of ``spec.bits_per_cell`` bits -> conductances
    ``g_off + (g_on - g_off) d / D`` -> tile the fan-in and fan-out into ``size x size`` crossbars ->
    per tile: programming variation and stuck-at cells (drawn from ``program_key``, default ``key``),
    IR drop folded into an effective conductance (``spec.ir_drop``), read noise (from ``key``) ->
    readout per row tile and slice (ideal, b-bit ADC with the spec's fixed full scale, or 1-bit sense
    amplifier with frozen per-column offsets and the fixed per-column scales ``sa_scale``) -> digital
    shift-and-add over slices (``2^(b s)``) and sum over row tiles -> offset correction and rescale to
    weight units: ``y = w_max / L * sum_s 2^(b s) D / (v span) (I_s - ...)``. Every readout is a fixed
    function of one sample's inputs, so a sample's output does not depend on the rest of its batch.

    Args:
      row_tiles: the inputs, feature-major and split by crossbar rows: block ``r`` is ``x^T`` rows
        ``r X .. r X + X_r - 1`` as ``[X_r, P]`` (``X = spec.size``; only the last block may be
        shorter), spikes or analog values applied as ``x * v_read`` volts
        (:func:`split_row_tiles`, :func:`hwsnn.layers.ops.patch_row_tiles`).
      w: weights ``[K, M]`` with ``K = sum_r X_r``.
      spec: a :class:`~hwsnn.hardware.specs.CrossbarSpec`.
      key: randomness for read noise and SA offsets (and programming, unless ``program_key`` is given).
      strength: a number or a mapping of stage names to numbers (:data:`HardwareStrength`).
      sa_scale: the digital value of one sense-amplifier decision per slice, row tile and column,
        ``[slices, row tiles, M]`` (:func:`readout_scale_shape`) in units of the full-scale current
        (``adc_range x size x v_read x`` the cell span), or a function from this call's
        :attr:`AnalogProduct.partial_magnitudes` to it (a calibrating pass: the partial sums come
        before the readout, so a scale can be measured and used in one pass): required by a
        sense-amplifier readout, ignored by the others.

    The stages applied are the spec's own (``spec.stages``, :func:`active_stages`), read at every call.
    """
    size = spec.size
    heights = [tile.shape[0] for tile in row_tiles]
    if w.ndim != 2 or not row_tiles or sum(heights) != w.shape[0] or any(h != size for h in heights[:-1]) \
            or not 0 < heights[-1] <= size or len({tile.shape[1:] for tile in row_tiles}) != 1:
        raise ValueError(f"row_tiles, w: tile shapes {[tuple(t.shape) for t in row_tiles]} and w {tuple(w.shape)}; "
                         f"allowed: [{size}, P] blocks (the last [X_r <= {size}, P]) whose rows add up to w's [K, M].")
    if spec.stages is None:
        raise ValueError("spec: a CrossbarSpec without stages; allowed: a spec from hwsnn.hardware.specs.crossbar_spec "
                         "or a preset (they record which stages are on).")
    scale_shape = readout_scale_shape(spec, w.shape[0], w.shape[1])
    if spec.readout == "sa" and (sa_scale is None or not callable(sa_scale) and tuple(sa_scale.shape) != scale_shape):
        got = None if sa_scale is None else f"shape {tuple(sa_scale.shape)}"
        raise ValueError(f"sa_scale: got {got}; allowed: an array {scale_shape} (slices, row tiles, columns) of "
                         "calibrated or learned sense-amplifier scales, required by readout 'sa'.")
    stages, strength = spec.stages, as_strength(strength)
    program_key = key if program_key is None else program_key
    fan_out, rows = w.shape[1], len(heights)
    n, w_max, levels = quantize_weights(w, spec.weight_bits, spec.weight_clip)
    planes, plane_max = weight_planes(n, levels, spec.encoding)
    sliced = [bit_slices(u, plane_max, spec.bits_per_cell) for u in planes]
    digit_max, count = sliced[0][1], len(sliced[0][0])
    span = spec.g_on_siemens - spec.g_off_siemens
    r_wire = _scaled(spec.r_wire_ohm, strength["ir_drop"]) if "ir_drop" in stages else None
    read_sigma = _scaled(spec.read_sigma, strength["read_noise"]) if "read_noise" in stages else None
    differential = spec.encoding == "differential"
    full_scale = (spec.adc_range * size * spec.v_read_volt * (span if differential else spec.g_on_siemens))
    offsets = None  # frozen per-column SA offsets [count, R, 1, M], drawn only when on
    if "sa_offset" in stages:
        draw = _computed_once(jax.random.normal(jax.random.fold_in(key, 1), (count, rows, 1, fan_out), w.dtype))
        offsets = _scaled(spec.sa_offset_sigma * full_scale, strength["sa_offset"]) * draw
    input_sum = sum(jnp.sum(tile, axis=0) for tile in row_tiles)[:, None] if not differential else None  # [P, 1]
    pair = len(planes)
    digits = jnp.stack([sliced[p][0][s] for s in range(count) for p in range(pair)])  # [slice x array, K, M]
    programmed = program(spec.g_off_siemens + span * digits / digit_max, spec, program_key, strength=strength)
    blocks = _effective_rows(programmed, spec, heights, r_wire)  # per row tile: [slice x array, X_r, M]
    partials = [_tile_partials(row_tiles, [b[s * pair:(s + 1) * pair] for b in blocks], jax.random.fold_in(key, 2 + s), spec,
                               read_sigma) for s in range(count)]  # [slice][row tile] -> [P, M]
    driven = [jnp.any(tile != 0, axis=0) for tile in row_tiles]  # [P] per row tile: any row driven
    reads = [jnp.maximum(jnp.sum(d), 1) for d in driven]  # inputs each tile is read for
    magnitudes = jnp.stack([jnp.stack([jnp.sum(jnp.abs(jax.lax.stop_gradient(p)), axis=0) / reads[r] for r, p in enumerate(tiles)])
                            for tiles in partials]) / full_scale
    scales = sa_scale(magnitudes) if callable(sa_scale) else sa_scale
    total = 0.0
    for s, tiles in enumerate(partials):
        current = sum(_read(partial, spec, differential, full_scale, None if offsets is None else offsets[s, r],
                            None if scales is None else scales[s, r], driven[r], strength["readout"])
                      for r, partial in enumerate(tiles))
        if not differential:  # remove the g_off floor digitally
            current = current - spec.v_read_volt * spec.g_off_siemens * input_sum
        total = total + (2.0 ** (s * (spec.bits_per_cell or 0))) * current
    planes_sum = total * digit_max / (spec.v_read_volt * span)  # sum_k x_k u_k
    if not differential:
        planes_sum = planes_sum - levels * input_sum
    return AnalogProduct(planes_sum * w_max / levels, magnitudes)
