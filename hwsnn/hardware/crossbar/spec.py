"""The crossbar spec: cells, tiling and weight mapping, plus a tuple of stages and a readout."""

from __future__ import annotations

import jax
import numpy as np

from hwsnn import checks
from hwsnn.hardware.crossbar.readouts import Ideal
from hwsnn.hardware.crossbar.stage import Readout, Stage, ramped_names
from hwsnn.hardware.crossbar.weights import DifferentialPair, Encoding
from hwsnn.pytree import Record, static
from hwsnn.typing import Array


class CrossbarSpec(Record):
    """An analog crossbar that computes a layer's matmul in the forward pass (DESIGN.md section 7).

    Built by keyword and checked when built (also by :meth:`replace`); nothing is derived after
    construction, so every copy is consistent. Its stages and readout are records, part of the spec's
    pytree: their arrays are leaves (traceable, stackable for ``vmap``), their types and static fields
    structure (known under ``jit``).

    >>> from hwsnn.hardware.crossbar import ADC, CrossbarSpec, IRDrop, ProgrammingNoise
    >>> spec = CrossbarSpec(g_on_siemens=50e-6, g_off_siemens=5e-6, v_read_volt=0.1, weight_bits=4,
    ...                     stages=(ProgrammingNoise(sigma_0=1e-6), IRDrop(r_wire_ohm=1.0)), readout=ADC(bits=4))
    >>> print(*(stage.name for stage in spec.without("ir_drop").stages))
    programming_noise

    Attributes:
      g_on_siemens: largest programmable conductance (S), > 0.
      g_off_siemens: smallest (S), in [0, g_on).
      v_read_volt: read voltage of an active row (V), > 0; inputs are applied as ``x * v_read``.
      stages: the non-idealities (:class:`~hwsnn.hardware.crossbar.stage.Stage`), applied in this order
        at each of their hooks; at most one of each kind.
      readout: how each row tile's partial sum is read (:class:`~hwsnn.hardware.crossbar.stage.Readout`).
      size: rows and columns of one crossbar, 2 to 4096.
      weight_bits: bits of the quantised weights, 2 to 16, or ``None`` (continuous conductances).
      weight_clip: the weight programmed at the top level in units of the layer's RMS weight, ``None`` or
        a finite number >= 1 (``None``: its largest ``|w|``; :func:`~hwsnn.hardware.crossbar.weights.quantize_weights`).
      bits_per_cell: ``None`` (each array's level in one cell) or ``b``: the level spread over cells of
        ``2^b`` levels (bit slicing; :func:`~hwsnn.hardware.crossbar.weights.bit_slices`).
      encoding: how signed levels become conductances: ``DifferentialPair()`` (read as ``I+ - I-``) or
        ``Offset()`` (:class:`~hwsnn.hardware.crossbar.weights.Encoding`).
      name: a label.
    """

    g_on_siemens: Array
    g_off_siemens: Array
    v_read_volt: Array
    stages: tuple[Stage, ...] = ()
    readout: Readout = Ideal()
    size: int = static(64)
    weight_bits: int | None = static(4)
    weight_clip: float | None = static(None)
    bits_per_cell: int | None = static(None)
    encoding: Encoding = static(DifferentialPair())
    name: str = static("crossbar")

    def __post_init__(self):
        s = "CrossbarSpec"
        g_on, g_off = (
            checks.strictly_positive(s, "g_on_siemens", self.g_on_siemens),
            checks.nonnegative(s, "g_off_siemens", self.g_off_siemens),
        )
        if (
            not isinstance(g_on, jax.core.Tracer)
            and not isinstance(g_off, jax.core.Tracer)
            and float(g_off) >= float(g_on)
        ):
            raise ValueError(f"{s}: g_off_siemens must be < g_on_siemens = {float(g_on)!r}; got {float(g_off)!r}.")
        stages = tuple(self.stages) if isinstance(self.stages, (list, tuple)) else self.stages
        if not isinstance(stages, tuple) or not all(isinstance(stage, Stage) for stage in stages):
            raise ValueError(
                f"{s}: stages must be a sequence of Stage objects (hwsnn.hardware.crossbar.stages); "
                f"got {self.stages!r}."
            )
        names = [stage.name for stage in stages]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"{s}: stages holds {repeated} more than once; allowed: at most one stage of each kind.")
        checks.instance(s, "readout", self.readout, Readout, " (Ideal(), ADC(...) or SenseAmplifier(...))")
        checks.instance(s, "encoding", self.encoding, Encoding, " (DifferentialPair() or Offset())")
        checks.int_in(s, "size", self.size, 2, 4096)
        if self.weight_bits is not None:
            checks.int_in(s, "weight_bits", self.weight_bits, 2, 16)
        clip = self.weight_clip
        if clip is not None and (
            isinstance(clip, bool) or not isinstance(clip, (int, float)) or not np.isfinite(clip) or clip < 1.0
        ):
            raise ValueError(
                f"{s}: weight_clip must be None or a finite number >= 1 (in units of the layer's RMS weight; "
                f"below 1 most weights would sit at the top level); got {clip!r}."
            )
        if self.bits_per_cell is not None:
            if self.weight_bits is None:
                raise ValueError(
                    f"{s}: bits_per_cell={self.bits_per_cell!r} needs quantised weights; got weight_bits=None "
                    "(allowed: bits_per_cell=None with continuous weights, or an int weight_bits)."
                )
            stored_bits = self.encoding.stored_bits(self.weight_bits)
            checks.int_in(s, "bits_per_cell", self.bits_per_cell, 1, stored_bits)
        self._set(
            g_on_siemens=g_on,
            g_off_siemens=g_off,
            v_read_volt=checks.strictly_positive(s, "v_read_volt", self.v_read_volt),
            stages=stages,
            weight_clip=None if clip is None else float(clip),
        )
        for component in (*stages, self.readout):
            component.check(self)

    def without(self, *names: str) -> "CrossbarSpec":
        """A copy with the named ramped quantities switched off (:func:`~hwsnn.hardware.crossbar.stage.ramped_names`:
        a stage removed, "readout" an exact readout, "sa_offset" offset-free sense amplifiers). Weight
        quantisation, the cells' conductance range and the tiling stay, so ``spec.without(name)`` isolates
        what one stage does to a network's accuracy or its training time
        (``benchmarks/bench_hardware_step.py --stages``).

        Raises:
          ValueError: a name is not ramped by any stage or readout.
        """
        known = ramped_names()
        unknown = [name for name in names if name not in known]
        if unknown:
            raise ValueError(f"stages: unknown {unknown}; allowed: {list(known)}.")
        stages, readout = list(self.stages), self.readout
        for name in names:
            stages = [kept for kept in (stage.without(name) for stage in stages) if kept is not None]
            readout = readout.without(name) or Ideal()
        return self.replace(stages=tuple(stages), readout=readout)

    def with_stage(self, stage: Stage) -> "CrossbarSpec":
        """A copy with ``stage`` added, or in place of the spec's stage of the same kind."""
        kept = tuple(s for s in self.stages if s.name != stage.name)
        return self.replace(stages=kept + (stage,))
