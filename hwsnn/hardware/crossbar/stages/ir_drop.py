"""IR drop: the word and bit lines' wire resistance, folded into each crossbar's conductances."""

from __future__ import annotations

from hwsnn import checks
from hwsnn.hardware.crossbar.physics import IRDropSolver, Resummed
from hwsnn.hardware.crossbar.stage import Stage, scaled
from hwsnn.typing import Array


class IRDrop(Stage):
    """Each ``X x X`` crossbar's conductances replaced by the effective ones that its wires leave,
    ``r_wire_ohm`` per segment (times the stage's level), solved by ``solver``
    (:mod:`hwsnn.hardware.crossbar.physics`; the pinned convention of DESIGN.md section 7). The
    effective conductance is linear in the inputs, so one solve per programmed array serves every
    input of a batch and every timestep.

    Attributes:
      r_wire_ohm: resistance of one wire segment (ohm), >= 0.
      solver: an in-loop :class:`~hwsnn.hardware.crossbar.physics.IRDropSolver`: ``Resummed()`` (closed
        form, the default for training) or ``Relaxation(iterations=..., damping=...)``; a relaxation that
        would not converge on the spec's crossbars is refused when the spec is built.
    """

    name = "ir_drop"
    phase = 1

    r_wire_ohm: Array = 1.0
    solver: IRDropSolver = Resummed()

    def __post_init__(self):
        checks.instance("IRDrop", "solver", self.solver, IRDropSolver, " (Resummed() or Relaxation(...))")
        if not self.solver.in_loop:
            raise ValueError(
                f"IRDrop: solver {type(self.solver).__name__}() is the host-side nodal solve that "
                "validates the others (not differentiable, not jittable); allowed in the loop: Resummed() "
                "or Relaxation(...)."
            )
        self._set(r_wire_ohm=checks.nonnegative("IRDrop", "r_wire_ohm", self.r_wire_ohm))

    def check(self, spec):
        self.solver.check(spec.size, spec.size, spec.g_on_siemens, self.r_wire_ohm)

    def fold(self, crossbars, spec, level):
        return self.solver.fold(crossbars, scaled(self.r_wire_ohm, level))
