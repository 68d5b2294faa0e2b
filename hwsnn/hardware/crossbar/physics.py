"""Analog crossbar physics: column currents with wire resistance (IR drop).

Pinned convention (DESIGN.md section 7): ``g[i, j]`` (siemens) joins word-line node (i, j) and
bit-line node (i, j). Row ``i`` is driven at its left end by a source ``v[i]`` through one wire
segment; neighbouring nodes on a word line or a bit line are joined by ``r_wire`` ohms; the
bottom node of column ``j`` reaches virtual ground through one segment. The result is each
column's current into ground (amperes). With ``r_wire = 0`` it is ``v @ g``.

Three solvers, each an :class:`IRDropSolver` object passed to :func:`column_currents` or to the
:class:`~hwsnn.hardware.crossbar.stages.ir_drop.IRDrop` stage:

* :class:`Exact`: the nodal system. With ``G = 1 / r_wire`` and node voltages ``W[i, j]``
  (word line) and ``B[i, j]`` (bit line), Kirchhoff's current law at every node gives a sparse,
  symmetric positive-definite grounded Laplacian (2NM unknowns), solved by sparse LU in float64
  (SciPy, on the host: for validation, not for training)::

      G (W_ij - W_i,j-1) + G (W_ij - W_i,j+1) + g_ij (W_ij - B_ij) = 0      (W_i,-1 = v_i; no W_i,M)
      G (B_ij - B_i-1,j) + G (B_ij - B_i+1,j) + g_ij (B_ij - W_ij) = 0      (no B_-1,j; B_N,j = 0)
      I_j = G B_N-1,j

* :class:`Relaxation` (differentiable, jittable, vmappable): a damped fixed point on
  the cell currents ``I_ij = g_ij (W_ij - B_ij)``, after CrossSim's IR-drop solver. Given the
  cell currents, the current in word-line segment ``k`` of row ``i`` is ``sum_{m >= k} I_im``
  (the far end is open) and in bit-line segment below node ``k`` of column ``j`` is
  ``sum_{m <= k} I_mj``, so the line voltages follow from two cumulative sums::

      W = v - r cumsum_j(revcumsum_j(I)),     B = r revcumsum_i(cumsum_i(I))
      I <- I + gamma (g (W - B) - I)          starting from I = g v (the ideal solution)

  and ``I_j = sum_i I_ij``. Severity scales as ``eps = r_wire G_max N^2`` (the line drop relative
  to the cells'); undamped iteration diverges for large eps, damping ``gamma`` in 0.5-0.7 converges where
  ``gamma = 1`` does not. The two nested cumulative sums are matmuls with the line kernels
  ``Kw[m, j] = min(m, j) + 1`` and ``Kb[i, m] = N - max(i, m)`` (0-based):
  ``W = v - r I Kw``, ``B = r Kb I`` (XLA's CPU cumsum is quadratic; a 64 x 64 matmul is not).

* :class:`Resummed` (closed form, what crossbar layers train with): one relaxation step
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

import abc
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from hwsnn import checks
from hwsnn.pytree import Record, static
from hwsnn.typing import Array


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


def check_relaxation(
    rows: int, columns: int, g_max, r_wire, *, iterations: int, damping, tolerance: float = 1e-3
) -> float:
    """Relative size of the relaxation's last update in the worst case (all cells at ``g_max``).

    Raises:
      ValueError: the relaxation does not converge to ``tolerance`` in ``iterations`` steps.
    """
    g = jnp.full((rows, columns), float(g_max), jnp.float64 if jax.config.jax_enable_x64 else jnp.float32)
    _, residual = relaxation_currents(
        jnp.ones((rows,), g.dtype), g, float(r_wire), iterations=iterations, damping=float(damping)
    )
    residual = float(residual)
    if not np.isfinite(residual) or residual > tolerance:
        eps = float(r_wire) * float(g_max) * rows**2
        raise ValueError(
            f"ir_drop: the relaxation does not converge for a {rows}x{columns} crossbar with "
            f"r_wire={float(r_wire)!r} ohm, g_max={float(g_max)!r} S (eps = r G N^2 = {eps:.3g}), "
            f"damping {float(damping)!r}, {iterations} iterations: "
            f"last relative update {residual:.3g} > {tolerance}; allowed: more iterations, smaller damping, smaller "
            "crossbars or the Exact() solver for evaluation."
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


# --------------------------------------------------------------------------- solvers


class IRDropSolver(Record, abc.ABC):
    """How wire resistance is solved for (module doc). ``in_loop`` solvers are differentiable and
    jittable: they fold IR drop into each crossbar's effective conductances in training."""

    in_loop: ClassVar[bool] = True

    @abc.abstractmethod
    def currents(self, v: Array, g: Array, r_wire) -> Array:
        """Column currents ``[..., M]`` (A) of one crossbar ``g [N, M]`` (S) driven by ``v [..., N]`` (V)."""

    def fold(self, crossbars: Array, r_wire) -> Array:
        """Effective conductances of row tiles ``[R, N, C, X]`` (``C`` crossbars of ``N x X`` side by side)."""
        raise ValueError(
            f"solver: {type(self).__name__} runs on the host to check the others; allowed in the loop: "
            "Resummed() or Relaxation(...)."
        )

    def check(self, rows: int, columns: int, g_max, r_wire) -> None:
        """Raise ``ValueError`` if it cannot solve a ``rows x columns`` crossbar of cells up to ``g_max``."""


class Resummed(IRDropSolver):
    """The closed-form effective conductance ``G_eff = g / (1 + r (g Kw + Kb g))`` (module doc): what
    crossbar layers train with."""

    def currents(self, v, g, r_wire):
        return v @ resummed_conductance(g, r_wire)

    def fold(self, crossbars, r_wire):
        return _resummed_side_by_side(crossbars, r_wire)


class Relaxation(IRDropSolver):
    """The damped relaxation of the cell currents, ``iterations`` steps at ``damping`` (module doc)."""

    damping: Array = 0.6
    iterations: int = static(10)

    def __post_init__(self):
        checks.int_in("Relaxation", "iterations", self.iterations, 1, 1000)
        damping = checks.strictly_positive("Relaxation", "damping", self.damping)
        self._set(damping=checks.at_most("Relaxation", "damping", damping, 1.0, what="in (0, 1]"))

    def currents(self, v, g, r_wire):
        return relaxation_currents(v, g, r_wire, iterations=self.iterations, damping=self.damping)[0]

    def fold(self, crossbars, r_wire):
        solve = lambda g: effective_conductance(g, r_wire, iterations=self.iterations, damping=self.damping)
        return jax.vmap(jax.vmap(solve))(crossbars.transpose(0, 2, 1, 3)).transpose(0, 2, 1, 3)

    def check(self, rows, columns, g_max, r_wire):
        if not isinstance(r_wire, jax.core.Tracer) and float(r_wire) > 0:
            check_relaxation(rows, columns, g_max, r_wire, iterations=self.iterations, damping=self.damping)


class Exact(IRDropSolver):
    """The nodal system, sparse LU in float64 on the host (module doc): checks the others; not in the loop."""

    in_loop: ClassVar[bool] = False

    def currents(self, v, g, r_wire):
        return jnp.asarray(exact_currents(v, g, r_wire))


def column_currents(v, g, r_wire, *, solver: IRDropSolver | None = None) -> Array:
    """Column currents ``[..., M]`` (A) of a crossbar ``g [N, M]`` (S) driven by ``v [..., N]`` (V) with
    ``r_wire`` ohms per wire segment, by ``solver`` (default ``Relaxation(iterations=20)``; module doc).

    >>> import jax.numpy as jnp
    >>> float(column_currents(jnp.ones(1), jnp.full((1, 1), 1e-3), 50.0, solver=Exact())[0])  # 1 V / 1100 ohm
    0.000909...
    """
    solver = Relaxation(iterations=20) if solver is None else solver
    checks.instance("column_currents", "solver", solver, IRDropSolver, " (Resummed(), Relaxation(...) or Exact())")
    _check_shapes(v, g)
    return solver.currents(v, g, r_wire)
