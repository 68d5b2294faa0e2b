"""What a :class:`~hwsnn.train.config.TrainConfig` describes, built: the network, its neurons, the
crossbar its layers run on and the energy term of the loss. The config itself is plain data."""

from __future__ import annotations

from flax import nnx

from hwsnn.hardware.crossbar import CrossbarSpec
from hwsnn.hardware.platforms import IMC
from hwsnn.hardware.presets import PRESETS, REFERENCE_PRESETS, crossbar_preset
from hwsnn.layers import SNN, ZOO, conv_net, mlp
from hwsnn.layers.norm import NORMS
from hwsnn.layers.readout_scale import ReadoutScale
from hwsnn.neurons import NEURONS, Integrator, Neuron, surrogate_from_name
from hwsnn.nir import load as load_nir
from hwsnn.train.config import HardwareConfig, ModelConfig, NeuronConfig, TrainConfig


def hardware_spec(config: HardwareConfig) -> CrossbarSpec | None:
    """The crossbar spec every synaptic layer runs on: the preset's, with ``weight_clip`` where set
    (:func:`~hwsnn.hardware.crossbar.weights.quantize_weights`); ``None`` for ideal layers."""
    if config.preset is None:
        return None
    spec = crossbar_preset(config.preset)
    return spec if config.weight_clip is None else spec.replace(weight_clip=config.weight_clip)


def energy_term(config: TrainConfig):
    """``cost(workload, activity) -> Cost`` of the config's energy term, or ``None`` without one: the
    preset ``energy.preset`` (default: ``energy.model``'s reference preset) from the one preset table,
    with ``energy.imc_mode`` applied to IMC presets."""
    energy = config.energy
    if energy.model is None and energy.preset is None:
        return None
    entry = PRESETS[energy.preset or REFERENCE_PRESETS[energy.model]]
    spec = entry.spec()
    mode = energy.imc_mode if isinstance(entry.platform, IMC) else None
    return lambda workload, activity: entry.cost(workload, activity, spec, mode=mode)


def model_timesteps(model: ModelConfig) -> int | tuple[int, ...]:
    """The ``timesteps`` argument of the network: ``layer_timesteps`` if given, else ``timesteps``."""
    return tuple(model.layer_timesteps) if model.layer_timesteps else model.timesteps


def build_neuron(config: NeuronConfig) -> Neuron:
    """The hidden layers' neuron model: ``config.kind`` with the parameters it has (``beta``, not IF;
    ``alpha``, Synaptic's current decay; ``rho`` and ``gamma``, ALIF's adaptation decay and strength),
    the threshold, reset, surrogate and the learned ones."""
    model = NEURONS[config.kind]
    learn = tuple(
        name
        for name, on in (("beta", config.learn_beta), ("threshold", config.learn_threshold))
        if on and name in model.parameters
    )
    fields = dict(
        threshold=config.threshold,
        reset=config.reset,
        learn=learn,
        surrogate=surrogate_from_name(config.surrogate, config.surrogate_param),
    )
    for name in ("beta", "alpha", "rho", "gamma"):  # each model takes the parameters it has (IF: no beta)
        if name in model.parameters:
            fields[name] = getattr(config, name)
    return model(**fields)


def build_readout(config: TrainConfig) -> Neuron | None:
    """The output layer's neuron: ``None`` (the hidden neuron: spike counts) or, for
    ``model.readout="membrane"``, an :class:`~hwsnn.neurons.Integrator` with the neuron's beta."""
    if config.model.readout == "spikes":
        return None
    return Integrator(beta=config.neuron.beta, learn=("beta",) if config.neuron.learn_beta else ())


def _nir_network(config: TrainConfig, input_shape: tuple[int, ...], outputs: int) -> SNN:
    """The network of ``model.nir_file`` on the config's crossbars, checked against the dataset."""
    network = load_nir(
        config.model.nir_file,
        timesteps=config.model.timesteps,
        hardware=hardware_spec(config.hardware),
        spiking_input=config.data.encoding != "direct",
    )
    if network.input_shape != tuple(input_shape):
        raise ValueError(
            f"model.nir_file: the network takes inputs {network.input_shape}; allowed: the dataset's "
            f"{tuple(input_shape)} (channel-last)."
        )
    produced = network.layer_shapes()[-1]
    if produced != (outputs,):
        raise ValueError(
            f"model.nir_file: the network outputs {produced}; allowed: ({outputs},) (num_classes x population)."
        )
    return network


def build_model(config: TrainConfig, input_shape: tuple[int, ...], num_classes: int) -> SNN:
    """The SNN a config describes, initialised from ``training.seed``."""
    model = config.model
    shared = dict(
        neuron=build_neuron(config.neuron),
        readout=build_readout(config),
        hardware=hardware_spec(config.hardware),
        rngs=nnx.Rngs(config.training.seed),
        spiking_input=config.data.encoding != "direct",
        learn_timesteps=model.learn_timesteps,
        norm=None if model.norm is None else NORMS[model.norm],
    )
    outputs = num_classes * model.population
    if model.kind == "mlp":
        flat = 1
        for d in input_shape:
            flat *= d
        network = mlp([flat, *model.hidden, outputs], model_timesteps(model), **shared)
    elif model.kind == "nir":
        network = _nir_network(config, input_shape, outputs)
    elif model.kind in ZOO:
        network = ZOO[model.kind](model_timesteps(model), input_shape=tuple(input_shape), outputs=outputs, **shared)
    else:
        network = conv_net(
            input_shape,
            model.channels,
            model.hidden,
            outputs,
            model_timesteps(model),
            kernel_size=model.kernel_size,
            padding=model.padding,
            **shared,
        )
    if model.remat is not None:  # the container and every neuron population (SNN(remat=K))
        network.set_attributes(remat=model.remat)
    if config.hardware.learn_scale:  # the sense amplifiers' gains get a gradient (ReadoutScale)
        network.set_attributes(ReadoutScale, learn_gain=True)
    return network
