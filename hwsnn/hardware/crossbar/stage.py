"""The two extension points of a crossbar read: non-ideality stages and readouts.

A crossbar layer computes ``x @ w`` in a fixed order (:func:`~hwsnn.hardware.crossbar.matmul.analog_matmul_tiles`):
weights are quantised and encoded as conductances, then every :class:`Stage` of the spec acts where it
belongs, in the spec's order:

* :meth:`Stage.program` on the programmed conductances of every array ``[A, K, M]`` (once per
  programming key: programming noise, stuck-at cells, drift);
* :meth:`Stage.fold` on each ``X x X`` crossbar's conductances (wire resistance: IR drop);
* :meth:`Stage.read` on each row tile's column currents, per read (read noise);

and the spec's one :class:`Readout` turns each row tile's partial sum into the digital number the
periphery adds (an exact readout, an ADC, a sense amplifier). A stage that is not in the spec does
nothing and draws nothing: a spec's stages are its structure (a tuple of records), known under ``jit``.

Strength (progressive hardware awareness, :data:`HardwareStrength`): every stage and readout names
the quantities it ramps (:meth:`Component.ramps`, name -> phase), and receives its level in [0, 1] at
call time; a name missing from a strength mapping is at full strength. Ramps group the names by their
phase (:func:`ramped_names`): 0 the devices, 1 the wires, 2 the readout.

Adding a stage or readout is one class in one file: subclass :class:`Stage` or :class:`Readout`, give
it a ``name`` and a ``phase``, override the hooks it needs. It registers itself (:data:`STAGES`,
:data:`READOUTS`), so ramps, errors, ``--help`` and the conformance tests find it.
"""

from __future__ import annotations

import abc
from typing import TYPE_CHECKING, ClassVar

import jax

from hwsnn.pytree import Record
from hwsnn.typing import Array, Key

if TYPE_CHECKING:  # the spec holds stages: for annotations only
    from hwsnn.hardware.crossbar.spec import CrossbarSpec

STAGES: dict[str, type["Stage"]] = {}
"""Every stage class by its name, in the order they were defined (filled by subclassing :class:`Stage`)."""

READOUTS: dict[str, type["Readout"]] = {}
"""Every readout class by its name (filled by subclassing :class:`Readout`)."""

PHASES = {0: "devices", 1: "wires", 2: "readout"}
"""Ramp phases: what a staged ramp brings in first (device noise), second (wires) and last (the readout)."""


class Component(Record, abc.ABC):
    """What stages and readouts share: a ``name`` (the key of its level in a strength mapping), a
    ramp ``phase`` (:data:`PHASES`), and checks against the spec that holds it."""

    name: ClassVar[str]
    phase: ClassVar[int]

    @classmethod
    def ramped_by(cls) -> dict[str, int]:
        """The ramped quantities it reads from a strength mapping: name -> phase."""
        return {cls.name: cls.phase}

    def without(self, name: str) -> "Component | None":
        """This component with the ramped quantity ``name`` switched off: ``None`` (removed) for its own
        name, itself for a name it does not own."""
        return None if name == self.name else self

    def check(self, spec: "CrossbarSpec") -> None:
        """Raise ``ValueError`` if it cannot run on ``spec`` (called when the spec is built)."""


class Stage(Component):
    """A non-ideality of the arrays (module doc). Every hook defaults to doing nothing."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not getattr(cls, "__abstractmethods__", None) and "name" in cls.__dict__:
            _register(STAGES, cls, "stage")

    def program(self, g: Array, target: Array, spec: "CrossbarSpec", key: Key, level) -> Array:
        """Conductances ``g [A, K, M]`` (S) after this stage, for the cells' ``target`` conductances;
        ``key`` fixes the chip (one draw per programming key)."""
        return g

    def output_gain(self, before: Array, after: Array, read_all_ones) -> Array | None:
        """A digital factor on the layer's output that this stage's change of the conductances
        (``before`` -> ``after``) calls for (a compensation), or ``None``; ``read_all_ones(g)`` is the
        ideal output ``[M]`` of conductances ``g`` for an all-ones input."""
        return None

    def fold(self, crossbars: Array, spec: "CrossbarSpec", level) -> Array:
        """Each crossbar's effective conductances, for row tiles ``[R, X, C, X]`` of ``C`` crossbars of
        ``X x X`` cells side by side."""
        return crossbars

    def read(self, current: Array, inputs: Array, arrays: Array, spec: "CrossbarSpec", key: Key, level) -> Array:
        """A row tile's column currents ``[P, M]`` after this stage, for its ``inputs [X_r, P]`` and the
        conductances ``arrays [arrays of a pair, X_r, M]`` that carried them; ``key`` is this read's."""
        return current


class Readout(Component):
    """Turns a row tile's partial sum into the number the digital periphery adds (module doc)."""

    name: ClassVar[str] = "readout"
    phase: ClassVar[int] = 2
    kind: ClassVar[str]
    exact: ClassVar[bool] = False
    """Whether it passes partial sums through unchanged (then the composition skips it and its ramp)."""
    needs_scale: ClassVar[bool] = False
    """Whether each decision is worth a calibrated per-column scale (``sa_scale``; a sense amplifier)."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not getattr(cls, "__abstractmethods__", None) and "kind" in cls.__dict__:
            _register(READOUTS, cls, "readout", key=cls.kind)

    @property
    def bits(self) -> int | None:
        """Bits per read (``None``: exact)."""
        return None

    def full_scale_fraction(self):
        """The full-scale current as a fraction of the largest a column can carry (all rows on at ``g_on``)."""
        return 1.0

    def frozen(self, key: Key, shape: tuple[int, ...], dtype, full_scale, strength: dict) -> Array | None:
        """Per-column quantities fixed for a chip (``shape [slices, row tiles, 1, M]``), or ``None``."""
        return None

    @abc.abstractmethod
    def read(
        self, partial: Array, full_scale, signed: bool, frozen: Array | None, scale: Array | None, driven: Array
    ) -> Array:
        """One row tile's partial sum ``partial [P, M]`` (amperes) as read; ``signed``: whether it can be
        negative (a pair's difference, :attr:`~hwsnn.hardware.crossbar.weights.Encoding.signed`); ``driven [P]``:
        whether the input drove any of the tile's rows; ``scale [M]`` (amperes) for readouts that need one."""


def _register(table: dict, cls: type, what: str, key: str | None = None) -> None:
    key = cls.name if key is None else key
    if key in table and table[key].__qualname__ != cls.__qualname__:
        raise ValueError(
            f"{what} {key!r}: already registered by {table[key].__module__}.{table[key].__qualname__}; "
            f"allowed: a name no other {what} has."
        )
    table[key] = cls


HardwareStrength = dict
"""How much of each ramped quantity a crossbar applies (progressive hardware awareness): a mapping from
names (:func:`ramped_names`) to levels in [0, 1], or one number for all; a name missing from the
mapping is at full strength. Noise stages scale their sigmas or probabilities, IR drop the wire
resistance, drift its exponents, and ``readout`` blends each tile's exact partial sum (an infinitely
precise ADC) into the spec's readout, ``p + s (q(p) - p)``, so an SA crossbar ramps from a
high-precision ADC to 1-bit decisions."""


def ramped_names() -> dict[str, int]:
    """Every ramped quantity of every registered stage and readout: name -> phase (registry order)."""
    names: dict[str, int] = {}
    for cls in (*STAGES.values(), *READOUTS.values()):
        names.update(cls.ramped_by())
    return names


def as_strength(strength) -> dict:
    """``strength`` as a mapping over :func:`ramped_names` (a number applies to all).

    Raises:
      ValueError: a key is not a ramped name.
    """
    names = ramped_names()
    if isinstance(strength, dict):
        unknown = sorted(set(strength) - set(names))
        if unknown:
            raise ValueError(f"strength: unknown stages {unknown}; allowed: {list(names)}.")
        return {name: strength.get(name, 1.0) for name in names}
    return {name: strength for name in names}


def check_strength(strength) -> None:
    """Raise ``ValueError`` unless ``strength`` is a :data:`HardwareStrength`: a number in [0, 1] or a mapping
    of ramped names to such numbers (traced values, as a ramp's under ``jit``, are checked where known)."""
    for name, value in as_strength(strength).items():
        if isinstance(value, jax.core.Tracer):
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = None
        if number is None or not 0.0 <= number <= 1.0:  # NaN fails both comparisons
            where = "" if not isinstance(strength, dict) else f" for stage {name!r}"
            raise ValueError(
                f"hardware_strength: got {value!r}{where}; allowed: a number in [0, 1] (0: ideal, 1: the "
                "spec's full non-idealities) or a mapping of stage names to such numbers."
            )


def is_one(value) -> bool:
    """Whether ``value`` is a static 1 (a full-strength level that needs no op traced)."""
    return isinstance(value, (int, float)) and value == 1.0


def scaled(value, level):
    """``level * value``, or ``value`` itself for a static level of 1 (no op traced)."""
    return value if is_one(level) else level * value
