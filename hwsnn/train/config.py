"""Training configuration: a frozen dataclass, loadable from JSON/YAML, overridable by flags."""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

import yaml
from flax import nnx

from hwsnn.data import DATASETS
from hwsnn.encoding import ENCODERS
from hwsnn.hardware.cost.imc import MODES as IMC_MODES
from hwsnn.hardware.presets import PRESETS, REFERENCE_PRESETS, hardware_preset
from hwsnn.hardware.specs import CROSSBAR_PRESETS, crossbar_preset
from hwsnn.layers import SNN, conv_net, mlp
from hwsnn.neurons import NEURONS, RESETS, SURROGATES, Integrator, Neuron, surrogate_from_name
from hwsnn.train.losses import TASK_LOSSES
from hwsnn.train.step import RAMP_ORDERS

MODELS = ("conv", "mlp")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything a training run depends on. Defaults are the README's main job (MNIST-5k conv SNN).

    Model "conv": ``conv(k) -> maxpool2 -> LIF`` for each of ``channels``, then a LIF MLP head of
    widths ``hidden`` and ``outputs`` output neurons; "mlp": a LIF MLP ``prod(input) -> hidden -> outputs``.
    ``outputs = num_classes * population`` (population codes read per-class blocks).
    ``hardware`` runs every synaptic layer on a crossbar preset (``rram-adc``, ``rram-sa``, ``pcm``);
    its strength ramps linearly from ``hardware_start`` to 1 over ``hardware_ramp_steps`` steps
    (0: full hardware from the start), every non-ideality together or ``staged`` (noise, IR drop, then
    readout; :func:`~hwsnn.train.step.hardware_ramp`).
    ``validation`` holds that many training images out of training (a fixed draw) as the
    "validation" split, for model selection such as ``hwsnn search``.
    ``layer_timesteps`` gives each synaptic layer its own T_l (empty: ``timesteps`` everywhere);
    ``learn_timesteps`` learns the counts (Adam at ``timestep_learning_rate``, in steps).
    ``energy_weight > 0`` adds ``energy_weight x E / E_ANN`` to the loss: the energy of
    ``energy_model`` (naive, systolic, imc, event) on ``energy_preset`` (default: its model's
    reference preset) relative to the same network run as an ANN on that hardware. ``max_steps`` stops a run early without changing its learning-rate schedule; rerunning in the
    same workdir without it resumes and finishes the run.
    """

    dataset: str = "mnist5k"
    data_dir: str | None = None
    validation: int = 0
    model: str = "conv"
    channels: tuple[int, ...] = (16, 32)
    kernel_size: int = 3
    padding: str = "SAME"
    hidden: tuple[int, ...] = (128,)
    population: int = 1
    readout: str = "spikes"
    timesteps: int = 4
    layer_timesteps: tuple[int, ...] = ()
    learn_timesteps: bool = False
    timestep_learning_rate: float = 0.05
    encoding: str = "direct"
    neuron: str = "lif"
    beta: float = 0.9
    threshold: float = 1.0
    alpha: float = 0.9
    rho: float = 0.95
    gamma: float = 1.8
    reset: str = "subtract"
    surrogate: str = "atan"
    surrogate_param: float | None = None
    learn_beta: bool = False
    learn_threshold: bool = False
    loss: str = "ce_count"
    rate_weight: float = 0.0
    rate_target: float = 0.0
    energy_model: str | None = None
    energy_preset: str | None = None
    energy_weight: float = 0.0
    imc_mode: str | None = None
    hardware: str | None = None
    hardware_start: float = 0.0
    hardware_ramp_steps: int = 0
    hardware_ramp_order: str = "together"
    optimizer: str = "adam"
    learning_rate: float = 2e-3
    cosine_decay: bool = True
    batch_size: int = 64
    epochs: int = 12
    eval_batch_size: int = 500
    seed: int = 0
    checkpoint_every: int = 200
    max_steps: int | None = None

    def __post_init__(self):
        errors = []
        def need(ok: bool, field: str, allowed: str):
            if not ok:
                errors.append(f"{field}: got {getattr(self, field)!r}; allowed: {allowed}.")
        for name, allowed in field_choices().items():
            value = getattr(self, name)
            optional = _is_optional(name)
            need(value in allowed or (optional and value is None), name,
                 ("None or one of " if optional else "") + str(list(allowed)))
        for name in ("timesteps", "batch_size", "epochs", "eval_batch_size", "checkpoint_every", "population", "kernel_size"):
            value = getattr(self, name)
            need(isinstance(value, int) and not isinstance(value, bool) and value >= 1, name, "an int >= 1")
        need(isinstance(self.validation, int) and self.validation >= 0, "validation", "an int >= 0")
        need(self.max_steps is None or (isinstance(self.max_steps, int) and self.max_steps >= 1), "max_steps", "None or an int >= 1")
        need(0.0 <= self.beta <= 1.0, "beta", "0 <= beta <= 1")
        need(0.0 <= self.alpha <= 1.0, "alpha", "0 <= alpha <= 1")
        need(0.0 <= self.rho <= 1.0, "rho", "0 <= rho <= 1")
        need(self.gamma >= 0.0, "gamma", ">= 0")
        need(self.threshold > 0, "threshold", "> 0")
        need(self.learning_rate > 0, "learning_rate", "> 0")
        need(self.rate_weight >= 0, "rate_weight", ">= 0")
        need(0.0 <= self.hardware_start <= 1.0, "hardware_start", "0 <= hardware_start <= 1")
        need(isinstance(self.hardware_ramp_steps, int) and self.hardware_ramp_steps >= 0, "hardware_ramp_steps", "an int >= 0")
        need(all(isinstance(t, int) and t >= 1 for t in self.layer_timesteps), "layer_timesteps", "ints >= 1 (empty: uniform)")
        need(self.timestep_learning_rate > 0, "timestep_learning_rate", "> 0")
        need(not self.learn_timesteps or self.loss != "ce_rate", "learn_timesteps",
             "False with loss ce_rate (its per-step average would count skipped steps); use ce_count or mse_count")
        need(self.energy_preset is None or self.energy_model is None or self.energy_preset not in PRESETS
             or PRESETS[self.energy_preset].model_name == self.energy_model,
             "energy_preset", f"a preset of energy_model {self.energy_model!r}")
        need(self.energy_weight >= 0, "energy_weight", ">= 0")
        need(self.energy_weight == 0 or self.energy_model is not None or self.energy_preset is not None, "energy_weight",
             "0 unless energy_model or energy_preset is set")
        need(all(isinstance(c, int) and c >= 1 for c in self.channels), "channels", "ints >= 1")
        need(all(isinstance(h, int) and h >= 1 for h in self.hidden), "hidden", "ints >= 1")
        need(self.loss != "ce_rate" or self.population == 1, "loss", "ce_count or mse_count with population > 1")
        if errors:
            raise ValueError("invalid TrainConfig:\n  " + "\n  ".join(errors))

    def replace(self, **changes) -> "TrainConfig":
        """A copy with ``changes`` applied (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict."""
        return dataclasses.asdict(self)


def field_choices() -> dict[str, tuple[str, ...]]:
    """The allowed values of every choice field (read from the tables that define them: datasets,
    encoders, neuron models, surrogates, losses, presets, ...), for validation and ``--help``."""
    return {
        "dataset": tuple(DATASETS), "model": MODELS, "padding": ("SAME", "VALID"), "readout": ("spikes", "membrane"),
        "encoding": tuple(ENCODERS), "neuron": tuple(NEURONS), "reset": RESETS, "surrogate": tuple(SURROGATES),
        "loss": TASK_LOSSES, "optimizer": ("adam", "sgd"), "hardware": tuple(CROSSBAR_PRESETS),
        "hardware_ramp_order": tuple(RAMP_ORDERS), "energy_model": tuple(REFERENCE_PRESETS),
        "energy_preset": tuple(PRESETS), "imc_mode": IMC_MODES,
    }


def _is_optional(name: str) -> bool:
    """Whether a field's declared type admits ``None``."""
    return "None" in str(TrainConfig.__dataclass_fields__[name].type)


def energy_term(config: TrainConfig):
    """``cost(workload, activity) -> Cost`` of the config's energy term, or ``None`` without one: the
    preset ``energy_preset`` (default: ``energy_model``'s reference preset) from the one preset table,
    with ``imc_mode`` applied to IMC presets."""
    if config.energy_model is None and config.energy_preset is None:
        return None
    entry = hardware_preset(config.energy_preset or REFERENCE_PRESETS[config.energy_model])
    spec, options = entry.spec(), entry.applicable(mode=config.imc_mode)
    return lambda workload, activity: entry.cost(workload, activity, spec, **options)


def model_timesteps(config: TrainConfig) -> int | tuple[int, ...]:
    """The ``timesteps`` argument of the model: ``layer_timesteps`` if given, else ``timesteps``."""
    return tuple(config.layer_timesteps) if config.layer_timesteps else config.timesteps


def _number(value: Any, kind: str) -> int | float:
    """``value`` (a number or its text) as ``kind`` ("int" or "float"), never rounded or taken from a bool."""
    if isinstance(value, bool):
        raise ValueError(f"a bool is not an {kind}")
    number = float(value) if isinstance(value, str) and kind == "float" else value
    if kind == "int":
        number = int(value) if isinstance(value, str) else value
        if isinstance(number, float) and number.is_integer():
            number = int(number)
        if not isinstance(number, int):
            raise ValueError(f"{value!r} is not an integer")
        return number
    if not isinstance(number, (int, float)):
        raise ValueError(f"{value!r} is not a number")
    return float(number)


def _coerce(field: dataclasses.Field, value: Any) -> Any:
    """Coerce a JSON/YAML/CLI value to the field's declared type, exactly: tuples of ints or floats from
    lists or 'a,b' strings, ints only from integral values, bools only from true/false words or bools."""
    kind = str(field.type)
    if value is None or (isinstance(value, str) and value.lower() == "none" and "None" in kind):
        return None
    if kind.startswith("tuple"):
        if isinstance(value, str):
            value = [v for v in value.split(",") if v.strip()]
        element = "float" if kind.startswith("tuple[float") else "int"
        return tuple(_number(v, element) for v in value)
    if kind.startswith("bool"):
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
            return value.lower() in ("true", "1", "yes")
        if isinstance(value, bool):
            return value
        raise ValueError(f"{value!r} is not true or false")
    if kind.startswith("int"):
        return _number(value, "int")
    if kind.startswith("float"):
        return _number(value, "float")
    return str(value)


def config_from_dict(values: dict[str, Any], base: TrainConfig | None = None) -> TrainConfig:
    """Build a config from ``base`` (defaults) with ``values`` applied; unknown keys are rejected."""
    fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ValueError(f"config: unknown keys {unknown}; allowed: {sorted(fields)}.")
    coerced = {}
    for key, value in values.items():
        try:
            coerced[key] = _coerce(fields[key], value)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{key}: got {value!r}; allowed: {fields[key].type}.") from error
    return dataclasses.replace(base or TrainConfig(), **coerced)


def load_config(path: str | os.PathLike, base: TrainConfig | None = None) -> TrainConfig:
    """Load a config from a ``.json``, ``.yaml`` or ``.yml`` file (keys as :class:`TrainConfig` fields)."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"config: no file at {str(path)!r}.")
    with open(path) as handle:
        text = handle.read()
    values = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
    if not isinstance(values, dict):
        raise ValueError(f"config: {str(path)!r} holds {type(values).__name__}; allowed: a mapping of fields.")
    return config_from_dict(values, base)


def save_config(config: TrainConfig, path: str | os.PathLike) -> None:
    """Write ``config`` as JSON (readable back with :func:`load_config`)."""
    with open(path, "w") as handle:
        json.dump(config.to_dict(), handle, indent=2)


def build_neuron(config: TrainConfig) -> Neuron:
    """The hidden layers' neuron model: ``config.neuron`` with the parameters it has: ``beta``
    (not IF), ``alpha`` (Synaptic's current decay), ``rho`` and ``gamma`` (ALIF's adaptation decay and
    strength), ``threshold``, ``reset``, the surrogate and the learned ones."""
    model = NEURONS[config.neuron]
    learn = tuple(name for name, on in (("beta", config.learn_beta), ("threshold", config.learn_threshold))
                  if on and name in model.parameters)
    fields = dict(threshold=config.threshold, reset=config.reset, learn=learn,
                  surrogate=surrogate_from_name(config.surrogate, config.surrogate_param))
    for name in ("beta", "alpha", "rho", "gamma"):  # each model takes the parameters it has (IF: no beta)
        if name in model.parameters:
            fields[name] = getattr(config, name)
    return model(**fields)


def build_readout(config: TrainConfig) -> Neuron | None:
    """The output layer's neuron: ``None`` (the hidden neuron: spike counts) or, for
    ``readout="membrane"``, an :class:`~hwsnn.neurons.Integrator` with the config's beta."""
    if config.readout == "spikes":
        return None
    return Integrator(beta=config.beta, learn=("beta",) if config.learn_beta else ())


def build_model(config: TrainConfig, input_shape: tuple[int, ...], num_classes: int) -> SNN:
    """The SNN a config describes, initialised from ``config.seed``."""
    neuron = dict(neuron=build_neuron(config), readout=build_readout(config),
                  hardware=None if config.hardware is None else crossbar_preset(config.hardware))
    rngs = nnx.Rngs(config.seed)
    outputs = num_classes * config.population
    spiking_input = config.encoding != "direct"
    if config.model == "mlp":
        flat = 1
        for d in input_shape:
            flat *= d
        return mlp([flat, *config.hidden, outputs], model_timesteps(config), rngs=rngs,
                   spiking_input=spiking_input, learn_timesteps=config.learn_timesteps, **neuron)
    return conv_net(input_shape, config.channels, config.hidden, outputs, model_timesteps(config), rngs=rngs,
                    kernel_size=config.kernel_size, padding=config.padding, spiking_input=spiking_input,
                    learn_timesteps=config.learn_timesteps, **neuron)
