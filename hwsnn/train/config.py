"""Training configuration in sections: model, neuron, data, hardware, energy, training.

A :class:`TrainConfig` holds one frozen dataclass per section. Every field declares its default,
a one-line description (shown by ``hwsnn train --help``) and, where it has one, its rule (the allowed
values, read at call time from the tables that define them, so a dataset loader or neuron model a
user registers is accepted at once). Values are converted exactly, by the field's declared type, from
the same text a YAML/JSON file or a flag gives: tuples from lists or ``"a,b"``, ints only from
integral values, bools only from bools or true/false words; nothing is rounded.

File layout (YAML; JSON alike) and flags::

    data: {dataset: digits}                # --data.dataset digits
    model: {kind: mlp, hidden: [64, 32]}   # --model.hidden 64,32
    training: {epochs: 3}                  # --training.epochs 3

Why not a dataclass-to-CLI library (tyro, simple-parsing): their choices are static ``Literal``
types, fixed when the class is defined, while hwsnn's choices are registries users extend; and the
same exact conversion has to serve files and flags alike. The converter below is the one place
both go through.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import yaml

from hwsnn.data import DATASETS, EVENT_DATASETS, SHIPPED_DATASETS
from hwsnn.data.events import FRAME_MODES
from hwsnn.encoding import ENCODERS
from hwsnn.hardware.platforms.imc import MODES as IMC_MODES
from hwsnn.hardware.presets import PLATFORMS, PRESETS, cost_presets, crossbar_preset, crossbar_presets
from hwsnn.layers import ZOO
from hwsnn.layers.norm import NORMS
from hwsnn.neurons import NEURONS, RESETS, SURROGATES
from hwsnn.train.losses import TASK_LOSSES
from hwsnn.train.step import RAMP_ORDERS


@dataclasses.dataclass(frozen=True)
class Rule:
    """A field's allowed values: ``admits(value)`` and the text that errors and ``--help`` show.
    Tuple fields apply the rule to each element."""

    admits: Callable[[Any], bool]
    describe: Callable[[], str]
    names: Callable[[], tuple[str, ...]] | None = None  # a choice's names, for --help


def choice(table: Callable[[], Iterable[str]]) -> Rule:
    """One of the names ``table()`` gives when the config is checked (a registry, read at call time)."""
    names = lambda: tuple(table())
    return Rule(lambda value: value in names(), lambda: str(list(names())), names)


def bound(low: float | None = None, high: float | None = None, *, open_low: bool = False) -> Rule:
    """``low <= value <= high`` (``low < value`` with ``open_low``); a missing side is unbounded."""

    def admits(value):
        above = low is None or (value > low if open_low else value >= low)
        return above and (high is None or value <= high)

    text = " and ".join(
        part
        for part in (
            None if low is None else f"{'>' if open_low else '>='} {low:g}",
            None if high is None else f"<= {high:g}",
        )
        if part
    )
    return Rule(admits, lambda: text)


def setting(default: Any, help: str, rule: Rule | None = None) -> Any:
    """A config field: its default, its description for ``--help`` and its :class:`Rule`."""
    return dataclasses.field(default=default, metadata={"help": help, "rule": rule})


def _convert(hint: Any, value: Any) -> Any:
    """``value`` (a Python value or the text of one) as the declared type ``hint``, exactly."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        options = [h for h in typing.get_args(hint) if h is not type(None)]
        if value is None or (isinstance(value, str) and value.lower() == "none"):
            return None
        return _convert(options[0], value)
    if typing.get_origin(hint) is tuple:
        element = typing.get_args(hint)[0]
        if isinstance(value, str):
            parts = value.split(",") if value.strip() else []
            if any(not part.strip() for part in parts):
                raise ValueError(f"{value!r} has an empty item (comma-separated values, none empty)")
            value = parts
        if not isinstance(value, (list, tuple)):
            raise ValueError(f"{value!r} is not a sequence")
        return tuple(_convert(element, part) for part in value)
    if hint is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ValueError(f"{value!r} is not true or false")
    if isinstance(value, bool):
        raise ValueError(f"a bool is not a {hint.__name__}")
    if hint is int:
        number = int(value) if isinstance(value, str) else value
        if isinstance(number, float) and number.is_integer():
            number = int(number)
        if not isinstance(number, int):
            raise ValueError(f"{value!r} is not an integer")
        return number
    if hint is float:
        number = float(value) if isinstance(value, str) else value
        if not isinstance(number, (int, float)):
            raise ValueError(f"{value!r} is not a number")
        if not math.isfinite(number):
            raise ValueError(f"{value!r} is not a finite number")
        return float(number)
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not text")
    return value


class Section:
    """Base of the config sections: each field converted to its declared type and checked against
    its rule when the section is built; errors name ``section.field``, the value and what is allowed."""

    section: typing.ClassVar[str]

    def __post_init__(self):
        hints = typing.get_type_hints(type(self))
        errors = []
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            try:
                converted = _convert(hints[field.name], value)
            except (TypeError, ValueError):
                kind = str(field.type).replace("float", "finite float")  # no field takes NaN or infinity
                errors.append(f"{self.section}.{field.name}: got {value!r}; allowed: {kind}.")
                continue
            object.__setattr__(self, field.name, converted)
            rule = field.metadata["rule"]
            items = converted if isinstance(converted, tuple) else () if converted is None else (converted,)
            if rule is not None and not all(rule.admits(item) for item in items):
                optional = "None or " if "None" in str(field.type) else ""
                errors.append(f"{self.section}.{field.name}: got {converted!r}; allowed: {optional}{rule.describe()}.")
        errors += [f"{self.section}.{message}" for message in self.conflicts()]
        if errors:
            raise ValueError(f"invalid {self.section} config:\n  " + "\n  ".join(errors))

    def conflicts(self) -> list[str]:
        """Messages for values that are allowed alone but not together (none by default)."""
        return []

    def replace(self, **changes):
        """A copy with ``changes`` applied (checked again); unknown fields are named."""
        names = [field.name for field in dataclasses.fields(self)]
        unknown = sorted(set(changes) - set(names))
        if unknown:
            raise ValueError(f"{self.section}: unknown fields {unknown}; allowed: {names}.")
        return dataclasses.replace(self, **changes)


POSITIVE_INT = bound(1)


@dataclasses.dataclass(frozen=True)
class ModelConfig(Section):
    """The network: "conv" is ``conv(k) -> maxpool2 -> neuron`` for each of ``channels``, then a
    spiking MLP head of widths ``hidden`` and ``num_classes x population`` outputs (population codes
    read per-class blocks); "mlp" is a spiking MLP ``prod(input) -> hidden -> outputs``; a name of
    :data:`~hwsnn.layers.ZOO` (vgg9, vgg16, ...) is that fixed architecture with a classifier of
    ``num_classes x population`` outputs (``channels``, ``kernel_size``, ``padding`` and ``hidden``
    describe "conv" and "mlp" only); "nir" is the network of the NIR file ``nir_file``
    (:func:`hwsnn.nir.load`, run for ``timesteps`` steps; its neurons as the file gives them, so the
    neuron section, ``readout``, ``norm`` and the layout fields do not apply)."""

    section: typing.ClassVar[str] = "model"
    kind: str = setting(
        "conv",
        "network family, a zoo network, or nir (the network of nir_file)",
        choice(lambda: ("conv", "mlp", "nir", *ZOO)),
    )
    nir_file: str | None = setting(None, "nir: the NIR file (.nir) of the network")
    channels: tuple[int, ...] = setting((16, 32), "conv: filters of each conv block", POSITIVE_INT)
    kernel_size: int = setting(3, "conv: kernel size k of every conv layer", POSITIVE_INT)
    padding: str = setting("SAME", "conv: padding of every conv layer", choice(lambda: ("SAME", "VALID")))
    hidden: tuple[int, ...] = setting((128,), "widths of the hidden dense layers", POSITIVE_INT)
    population: int = setting(1, "output neurons per class", POSITIVE_INT)
    readout: str = setting(
        "spikes",
        "output layer: spike counts of the hidden neuron, or an integrator's membrane",
        choice(lambda: ("spikes", "membrane")),
    )
    timesteps: int = setting(4, "timesteps T per sample", POSITIVE_INT)
    layer_timesteps: tuple[int, ...] = setting((), "per-synaptic-layer T_l (empty: timesteps everywhere)", POSITIVE_INT)
    learn_timesteps: bool = setting(False, "learn the per-layer step counts (LD-SNN)")
    norm: str | None = setting(None, "batch norm of every conv and hidden layer (None: none)", choice(lambda: NORMS))
    remat: int | None = setting(
        None,
        "checkpoint the scans over time in chunks of this many steps: BPTT memory of "
        "about T / remat + remat steps (None: keep every step)",
        POSITIVE_INT,
    )

    def conflicts(self) -> list[str]:
        if (self.kind == "nir") != (self.nir_file is not None):
            return [
                f"nir_file: got {self.nir_file!r} with kind {self.kind!r}; allowed: a NIR file exactly when kind "
                "is 'nir'."
            ]
        if self.kind == "nir" and (self.layer_timesteps or self.learn_timesteps or self.norm is not None):
            return [
                "kind: got 'nir' with layer_timesteps, learn_timesteps or norm; allowed: the network as the file "
                "gives it, run for one T (timesteps)."
            ]
        return []


@dataclasses.dataclass(frozen=True)
class NeuronConfig(Section):
    """The hidden layers' neuron model and its parameters; each model takes the parameters it has
    (IF: no beta; Synaptic: alpha; ALIF: rho and gamma)."""

    section: typing.ClassVar[str] = "neuron"
    kind: str = setting("lif", "neuron model", choice(lambda: NEURONS))
    beta: float = setting(0.9, "membrane decay", bound(0.0, 1.0))
    threshold: float = setting(1.0, "firing threshold", bound(0.0, open_low=True))
    alpha: float = setting(0.9, "synaptic current decay (synaptic)", bound(0.0, 1.0))
    rho: float = setting(0.95, "threshold adaptation decay (alif)", bound(0.0, 1.0))
    gamma: float = setting(1.8, "threshold adaptation strength (alif)", bound(0.0))
    reset: str = setting("subtract", "reset after a spike", choice(lambda: RESETS))
    surrogate: str = setting("atan", "surrogate gradient of the spike", choice(lambda: SURROGATES))
    surrogate_param: float | None = setting(None, "the surrogate's slope (None: its default)")
    learn_beta: bool = setting(False, "learn beta per neuron")
    learn_threshold: bool = setting(False, "learn the threshold per neuron")


@dataclasses.dataclass(frozen=True)
class DataConfig(Section):
    """The dataset and how samples become input currents or spikes."""

    section: typing.ClassVar[str] = "data"
    dataset: str = setting(
        "mnist5k",
        "dataset (loaders in hwsnn.data.DATASETS and EVENT_DATASETS)",
        choice(lambda: (*DATASETS, *EVENT_DATASETS)),
    )
    data_dir: str | None = setting(None, "folder of a dataset read from local files")
    validation: int = setting(0, "training images held out as the 'validation' split (a fixed draw)", bound(0))
    encoding: str = setting(
        "direct", "input encoding over the timesteps (events: an event dataset's frames)", choice(lambda: ENCODERS)
    )
    frames: str = setting(
        "count", "event datasets: each bin's value per position and polarity", choice(lambda: FRAME_MODES)
    )

    def conflicts(self) -> list[str]:
        if self.dataset in EVENT_DATASETS and self.encoding != "events":
            return [
                f"encoding: got {self.encoding!r} for dataset {self.dataset!r}; allowed: 'events' for the event "
                f"datasets {list(EVENT_DATASETS)} (and for any dataset whose samples have a time axis)."
            ]
        if self.data_dir is not None and self.dataset in SHIPPED_DATASETS:
            return [
                f"data_dir: got {self.data_dir!r} for dataset {self.dataset!r}, which ships with the installed "
                f"packages and reads no folder; allowed: None, or a dataset read from files "
                f"({sorted(set(DATASETS) - set(SHIPPED_DATASETS)) + list(EVENT_DATASETS)})."
            ]
        return []


@dataclasses.dataclass(frozen=True)
class HardwareConfig(Section):
    """Hardware in the loop: every synaptic layer runs on a crossbar preset, its non-ideality
    strength ramping linearly from ``start`` to 1 over ``ramp_steps`` steps (0: full hardware from the
    first step), all together or by groups (:func:`~hwsnn.train.step.hardware_ramp`)."""

    section: typing.ClassVar[str] = "hardware"
    preset: str | None = setting(None, "crossbar preset (None: ideal)", choice(crossbar_presets))
    start: float = setting(0.0, "non-ideality strength at step 0", bound(0.0, 1.0))
    ramp_steps: int = setting(0, "steps of the ramp to full strength", bound(0))
    ramp_order: str = setting("together", "which non-idealities ramp when", choice(lambda: RAMP_ORDERS))
    learn_scale: bool = setting(False, "learn a per-column gain over the calibrated sense-amplifier scales")
    weight_clip: float | None = setting(
        None,
        "weight programmed at the top conductance level, in RMS weights of its layer (None: the preset's)",
        bound(1.0),
    )

    def conflicts(self) -> list[str]:
        if self.learn_scale and (
            self.preset not in crossbar_presets() or not crossbar_preset(self.preset).readout.needs_scale
        ):
            return [
                f"learn_scale: got True with preset {self.preset!r}; allowed: a sense-amplifier preset "
                f"({[name for name in crossbar_presets() if crossbar_preset(name).readout.needs_scale]})."
            ]
        ramp = {"start": 0.0, "ramp_steps": 0, "ramp_order": "together"}
        changed = [name for name, default in ramp.items() if getattr(self, name) != default]
        if changed and self.preset is None:
            return [
                f"{changed[0]}: got {getattr(self, changed[0])!r} with no preset; allowed: "
                f"{ramp[changed[0]]!r} (the ramp blends a crossbar preset's non-idealities in; without one it has "
                "no effect)."
            ]
        if self.weight_clip is not None and self.preset is None:
            return [
                f"weight_clip: got {self.weight_clip!r} with no preset; allowed: a crossbar preset "
                f"({sorted(crossbar_presets())}) whose weights it maps."
            ]
        return []


@dataclasses.dataclass(frozen=True)
class EnergyConfig(Section):
    """Energy-aware training: ``weight > 0`` adds ``weight x E / E_ANN`` to the loss, the energy on
    ``preset`` (default: ``model``'s reference preset) relative to the same network run as an ANN there."""

    section: typing.ClassVar[str] = "energy"
    model: str | None = setting(None, "cost platform of the energy term", choice(lambda: PLATFORMS))
    preset: str | None = setting(None, "hardware preset of the energy term", choice(cost_presets))
    weight: float = setting(0.0, "weight of E / E_ANN in the loss", bound(0.0))
    imc_mode: str | None = setting(
        None, "IMC accounting, dense or event (None: the preset's own)", choice(lambda: IMC_MODES)
    )

    def conflicts(self) -> list[str]:
        found = []
        if (
            self.preset in cost_presets()
            and self.model is not None
            and PRESETS[self.preset].platform.name != self.model
        ):
            found.append(f"preset: got {self.preset!r}; allowed: a preset of energy.model {self.model!r}.")
        platform = PRESETS[self.preset].platform.name if self.preset in cost_presets() else self.model
        if self.imc_mode is not None and platform != "imc":
            found.append(
                f"imc_mode: got {self.imc_mode!r} with the {platform or 'no'} cost platform; allowed: None unless "
                "the energy term is costed on IMC (energy.model imc or an IMC preset)."
            )
        if self.weight != 0 and self.model is None and self.preset is None:
            found.append(f"weight: got {self.weight!r}; allowed: 0 unless energy.model or energy.preset is set.")
        return found


@dataclasses.dataclass(frozen=True)
class TrainingConfig(Section):
    """The objective, the optimizer and the schedule. ``max_steps`` stops a run early without
    changing its learning-rate schedule; rerunning in the same workdir without it finishes the run."""

    section: typing.ClassVar[str] = "training"
    loss: str = setting("ce_count", "task loss", choice(lambda: TASK_LOSSES))
    rate_weight: float = setting(0.0, "weight of the firing-rate regulariser", bound(0.0))
    rate_target: float = setting(0.0, "firing rate the regulariser pulls towards", bound(0.0, 1.0))
    optimizer: str = setting("adam", "optimizer (sgd: momentum 0.9)", choice(lambda: ("adam", "sgd")))
    learning_rate: float = setting(5e-3, "peak learning rate", bound(0.0, open_low=True))
    cosine_decay: bool = setting(True, "cosine decay of the learning rate to 0")
    timestep_learning_rate: float = setting(
        0.05, "Adam rate of learned step counts, in steps", bound(0.0, open_low=True)
    )
    batch_size: int = setting(64, "training batch", POSITIVE_INT)
    epochs: int = setting(8, "passes over the training split", POSITIVE_INT)
    eval_batch_size: int = setting(500, "evaluation batch", POSITIVE_INT)
    seed: int = setting(0, "seed of initialisation, data order and hardware draws", bound(0, 2**63 - 1))
    checkpoint_every: int = setting(200, "steps between checkpoints", POSITIVE_INT)
    max_steps: int | None = setting(None, "stop after this many steps (None: the whole schedule)", POSITIVE_INT)


SECTIONS: dict[str, type[Section]] = {
    section.section: section
    for section in (DataConfig, ModelConfig, NeuronConfig, HardwareConfig, EnergyConfig, TrainingConfig)
}


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything a training run depends on, one section each (:data:`SECTIONS`). Defaults are the
    README's main job (MNIST-5k conv SNN)."""

    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    neuron: NeuronConfig = dataclasses.field(default_factory=NeuronConfig)
    hardware: HardwareConfig = dataclasses.field(default_factory=HardwareConfig)
    energy: EnergyConfig = dataclasses.field(default_factory=EnergyConfig)
    training: TrainingConfig = dataclasses.field(default_factory=TrainingConfig)

    def __post_init__(self):
        errors = [
            f"{name}: got {getattr(self, name)!r}; allowed: a {kind.__name__}."
            for name, kind in SECTIONS.items()
            if not isinstance(getattr(self, name), kind)
        ]
        if not errors:
            model, training = self.model, self.training
            if model.learn_timesteps and training.loss == "ce_rate":
                errors.append(
                    "model.learn_timesteps: got True; allowed: False with training.loss ce_rate (its "
                    "per-step average would count skipped steps); use ce_count or mse_count."
                )
            if training.loss == "ce_rate" and model.population != 1:
                errors.append(
                    f"training.loss: got 'ce_rate'; allowed: ce_count or mse_count with "
                    f"model.population {model.population} > 1."
                )
        if errors:
            raise ValueError("invalid TrainConfig:\n  " + "\n  ".join(errors))

    def replace(self, **sections: Section | Mapping[str, Any]) -> "TrainConfig":
        """A copy with sections replaced: each keyword a section name, its value a section or a mapping
        of that section's field changes, e.g. ``config.replace(model={"hidden": (64,)})``."""
        unknown = sorted(set(sections) - set(SECTIONS))
        if unknown:
            raise ValueError(f"config: unknown sections {unknown}; allowed: {list(SECTIONS)}.")
        changes, errors = {}, []
        for name, value in sections.items():  # every section's errors at once
            try:
                changes[name] = value if isinstance(value, Section) else getattr(self, name).replace(**value)
            except ValueError as error:
                errors.append(str(error))
        if errors:
            raise ValueError("\n".join(errors))
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """The sections as a JSON-ready nested dict (the layout :func:`config_from_dict` reads)."""
        return dataclasses.asdict(self)


def field_choices() -> dict[str, tuple[str, ...]]:
    """The allowed values of every choice field, ``"section.field" -> names`` (read from the tables
    that define them: datasets, encoders, neuron models, surrogates, losses, presets, ...)."""
    choices = {}
    for name, section in SECTIONS.items():
        for field in dataclasses.fields(section):
            rule = field.metadata["rule"]
            if rule is not None and rule.names is not None:
                choices[f"{name}.{field.name}"] = rule.names()
    return choices


def config_from_dict(values: Mapping[str, Any], base: TrainConfig | None = None) -> TrainConfig:
    """``base`` (default: the defaults) with ``values`` applied: a mapping of sections, each a mapping
    of its fields (the layout of a config file). Unknown sections and fields are named."""
    base = base or TrainConfig()
    unknown = sorted(set(values) - set(SECTIONS))
    if unknown:
        homes = {field.name: name for name, section in SECTIONS.items() for field in dataclasses.fields(section)}
        hints = "".join(
            f" '{key}' is a field of section '{homes[key]}' (write {homes[key]}: {{{key}: ...}})."
            for key in unknown
            if key in homes
        )
        raise ValueError(f"config: unknown keys {unknown}; allowed: the sections {list(SECTIONS)}.{hints}")
    changes = {}
    for name, fields in values.items():
        if not isinstance(fields, Mapping):
            raise ValueError(f"config: section {name!r} holds {fields!r}; allowed: a mapping of its fields.")
        changes[name] = dict(fields)
    return base.replace(**changes)


class DuplicateKeyError(ValueError):
    """A config file names one key twice in a mapping (neither value is silently dropped)."""


def _unique_keys(pairs: list) -> dict:
    """A JSON object's ``dict``, refusing a key given twice."""
    keys = [key for key, _ in pairs]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise DuplicateKeyError(f"duplicate keys {repeated}")
    return dict(pairs)


class YAML12Loader(yaml.SafeLoader):
    """PyYAML's safe loader with the YAML 1.2 core schema's scalars and unique keys: ``010`` is ten (YAML 1.1
    read it as octal eight; 1.2 writes octal ``0o10``), ``yes``, ``no``, ``on`` and ``off`` are text (only
    ``true`` and ``false`` are bools), and a key given twice in one mapping is an error."""

    def construct_mapping(self, node, deep=False):
        """A mapping node as a ``dict``, refusing a key given twice (:class:`DuplicateKeyError`)."""
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                mark = key_node.start_mark
                raise DuplicateKeyError(f"duplicate key {key!r} at line {mark.line + 1}, column {mark.column + 1}")
            seen.add(key)
        return super().construct_mapping(node, deep)

    def construct_yaml12_int(self, node) -> int:
        """An integer scalar by YAML 1.2's core schema: decimal, ``0o`` octal or ``0x`` hexadecimal."""
        text = self.construct_scalar(node)
        sign, digits = (-1, text[1:]) if text.startswith("-") else (1, text.lstrip("+"))
        base = {"0o": 8, "0x": 16}.get(digits[:2], 10)
        return sign * int(digits[2:] if base != 10 else digits, base)


YAML12Loader.yaml_implicit_resolvers = {
    first: [(tag, rule) for tag, rule in resolvers if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
YAML12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
YAML12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789")
)
YAML12Loader.add_constructor("tag:yaml.org,2002:int", YAML12Loader.construct_yaml12_int)


def load_config(path: str | os.PathLike, base: TrainConfig | None = None) -> TrainConfig:
    """Load a config from a ``.json``, ``.yaml`` or ``.yml`` file of sections (see :func:`config_from_dict`)."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"config: no file at {str(path)!r}.")
    with open(path) as handle:
        text = handle.read()
    try:
        values = (
            json.loads(text, object_pairs_hook=_unique_keys)
            if str(path).endswith(".json")
            else yaml.load(text, Loader=YAML12Loader)
        )
    except (json.JSONDecodeError, yaml.YAMLError, DuplicateKeyError) as error:
        where = " ".join(str(error).split())[:240]
        raise ValueError(
            f"config: {str(path)!r} is not valid {'JSON' if str(path).endswith('.json') else 'YAML'} "
            f"({where}); allowed: a file of sections, e.g. 'training: {{epochs: 3}}'."
        ) from None
    if not isinstance(values, dict):
        raise ValueError(f"config: {str(path)!r} holds {type(values).__name__}; allowed: a mapping of sections.")
    return config_from_dict(values, base)


RUN_NEUTRAL_FIELDS = frozenset(
    {("training", "max_steps"), ("training", "checkpoint_every"), ("training", "eval_batch_size")}
)
"""Fields a rerun may change in a run folder: where the run stops (it resumes, or stops, at the same
steps), how often it saves, and the evaluation batch; none of them changes what is trained."""


def config_differences(stored: TrainConfig, requested: TrainConfig) -> list[str]:
    """``"section.field: stored X, requested Y"`` for every field (outside :data:`RUN_NEUTRAL_FIELDS`)
    where two configs differ: what a run folder refuses to resume with."""
    found = []
    for name, section in SECTIONS.items():
        for field in dataclasses.fields(section):
            old, new = getattr(getattr(stored, name), field.name), getattr(getattr(requested, name), field.name)
            if old != new and (name, field.name) not in RUN_NEUTRAL_FIELDS:
                found.append(f"{name}.{field.name}: stored {old!r}, requested {new!r}")
    return found


def save_config(config: TrainConfig, path: str | os.PathLike) -> None:
    """Write ``config`` as JSON (readable back with :func:`load_config`), atomically."""
    from hwsnn.train.metrics import write_atomically

    write_atomically(path, json.dumps(config.to_dict(), indent=2))
