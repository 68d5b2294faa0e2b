"""A training run's model, data and jitted steps (:class:`Run`), built from a config and shared by
training, evaluation and deployment."""

from __future__ import annotations

import copy
import dataclasses
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from hwsnn import checks
from hwsnn.data import Dataset, load_dataset
from hwsnn.encoding import encoder_from_name
from hwsnn.layers.readout_scale import uncalibrated
from hwsnn.train.builders import build_model, energy_term
from hwsnn.train.config import TrainConfig
from hwsnn.train.losses import task_loss_from_name
from hwsnn.train.parallel import data_mesh, replicate, shard_batch
from hwsnn.train.step import (
    hardware_ramp,
    init_state,
    make_activity_step,
    make_calibration_step,
    make_eval_step,
    make_objective,
    make_train_step,
)


def make_optimizer(config: TrainConfig, total_steps: int) -> optax.GradientTransformation:
    """Adam (or SGD with momentum 0.9) with an optional cosine decay to zero over ``total_steps``;
    learned step counts (``step_counts``) take Adam at ``timestep_learning_rate`` (in steps)."""
    training = config.training
    lr = (
        optax.cosine_decay_schedule(training.learning_rate, total_steps)
        if training.cosine_decay
        else training.learning_rate
    )
    weights = optax.adam(lr) if training.optimizer == "adam" else optax.sgd(lr, momentum=0.9)
    if not config.model.learn_timesteps:
        return weights
    labels = lambda params: jax.tree_util.tree_map_with_path(
        lambda path, _: "timesteps" if any(getattr(k, "key", None) == "step_counts" for k in path) else "weights",
        params,
    )
    return optax.multi_transform({"weights": weights, "timesteps": optax.adam(training.timestep_learning_rate)}, labels)


def epoch_order(config: TrainConfig, num_train: int, epoch: int) -> np.ndarray:
    """The sample order of ``epoch``: a permutation seeded by ``(seed, epoch)`` (resumable)."""
    return np.random.default_rng((config.training.seed, epoch)).permutation(num_train)


def batch_slice(config: TrainConfig, order: np.ndarray, index: int) -> np.ndarray:
    """Indices of batch ``index`` in an epoch's ``order`` (the remainder batch is dropped)."""
    return order[index * config.training.batch_size : (index + 1) * config.training.batch_size]


def hold_out(data: Dataset, count: int) -> tuple[Dataset, tuple[np.ndarray, np.ndarray] | None]:
    """``(data without count training images, (x, y) of those images)``: a fixed draw
    (``default_rng(0)`` permutation of the training set), the rest keeping its order."""
    if count == 0:
        return data, None
    if count >= len(data.y_train):
        raise ValueError(f"validation: got {count}; allowed: fewer than the {len(data.y_train)} training images.")
    order = np.random.default_rng(0).permutation(len(data.y_train))
    held, kept = order[:count], np.sort(order[count:])
    rest = dataclasses.replace(data, x_train=data.x_train[kept], y_train=data.y_train[kept])
    return rest, (data.x_train[held], data.y_train[held])


class Run:
    """A model, its data and its jitted steps, built from a config (shared by train and evaluate)."""

    def __init__(self, config: TrainConfig, dataset: Dataset | None = None, devices=None):
        self.config = config
        training = config.training
        if dataset is None:  # event datasets are binned into the model's input timesteps
            first_steps = config.model.layer_timesteps[0] if config.model.layer_timesteps else config.model.timesteps
            dataset = load_dataset(
                config.data.dataset, config.data.data_dir, timesteps=first_steps, frames=config.data.frames
            )
        if (dataset.timesteps is not None) != (config.data.encoding == "events"):
            raise ValueError(
                f"data.encoding: got {config.data.encoding!r} for a dataset "
                f"{'with' if dataset.timesteps else 'without'} a time axis; allowed: 'events' exactly for "
                "samples with a time axis (event frames, sequences)."
            )
        self.dataset = dataset  # as loaded
        self.data, self.validation = hold_out(self.dataset, config.data.validation)  # training minus validation
        self.model = build_model(config, self.data.input_shape, self.data.num_classes)
        self.steps_per_epoch = len(self.data.y_train) // training.batch_size
        if self.steps_per_epoch == 0:
            raise ValueError(
                f"training.batch_size: {training.batch_size} exceeds the {len(self.data.y_train)} training samples; "
                "allowed: at most the training-set size."
            )
        self.total_steps = training.epochs * self.steps_per_epoch
        # max_steps stops the run early without changing the schedule, so it can be resumed
        self.stop_step = self.total_steps if training.max_steps is None else min(self.total_steps, training.max_steps)
        self.optimizer = make_optimizer(config, self.total_steps)
        self.mesh = data_mesh(devices)
        if training.batch_size % self.mesh.devices.size:
            raise ValueError(
                f"training.batch_size: {training.batch_size} is not divisible by the {self.mesh.devices.size} devices; "
                f"allowed: a multiple of {self.mesh.devices.size}."
            )
        graphdef, state = init_state(self.model, self.optimizer)
        self.graphdef, self.state = graphdef, replicate(state, self.mesh)
        population = None if config.model.population == 1 else self.data.num_classes
        objective = make_objective(
            task_loss_from_name(training.loss, population),
            population,
            training.rate_weight,
            training.rate_target,
            energy_term(config),
            config.energy.weight,
        )
        encode = encoder_from_name(config.data.encoding)
        self.objective, self.encode = objective, encode
        key = jax.random.PRNGKey(training.seed)
        self.eval_key = jax.random.fold_in(key, 2**31 - 1)  # evaluation draws differ from every train step's
        schedule = hardware_ramp(config.hardware.start, config.hardware.ramp_steps, config.hardware.ramp_order)
        self.train_step = make_train_step(
            graphdef, self.optimizer, objective, encode, self.model.timesteps, key, schedule
        )
        self.eval_step = make_eval_step(graphdef, objective, encode, self.model.timesteps)
        self.calibration_step = make_calibration_step(graphdef, encode, self.model.timesteps, self.eval_key)
        self.activity_step = make_activity_step(graphdef, encode, self.model.timesteps, self.eval_key)

    def inputs(self, images: np.ndarray) -> np.ndarray:
        """Reshape a batch of dataset images ``[B, H, W, C]`` (event frames ``[B, T, ...]``) to the
        model's input shape (after the time axis)."""
        lead = images.shape[:2] if self.data.timesteps else images.shape[:1]
        return images.reshape(lead + self.model.input_shape)

    def _batches(self, split: str, max_samples: int | None = None):
        """``(inputs, labels)`` of a split in batches of ``eval_batch_size`` (the first ``max_samples``)."""
        splits = {"test": (self.data.x_test, self.data.y_test), "train": (self.data.x_train, self.data.y_train)}
        if self.validation is not None:
            splits["validation"] = self.validation
        if split not in splits:
            raise ValueError(f"split: got {split!r}; allowed: {sorted(splits)} (validation: set data.validation).")
        x_all, y_all = splits[split]
        count = len(y_all) if max_samples is None else min(max_samples, len(y_all))
        for start in range(0, count, self.config.training.eval_batch_size):
            stop = min(start + self.config.training.eval_batch_size, count)
            yield self.inputs(x_all[start:stop]), y_all[start:stop]

    def calibrate(self, state=None, split: str = "train", max_samples: int | None = 2000):
        """``state`` with its sense amplifiers' scales calibrated on a split (its first ``max_samples``,
        in batches of ``eval_batch_size``: :func:`~hwsnn.train.step.make_calibration_step`); the
        deployment of weights trained elsewhere (for example ideally) on a sense-amplifier crossbar."""
        state = self.state if state is None else state
        constants = state.constants
        for x, _ in self._batches(split, max_samples):
            constants = self.calibration_step(state.params, constants, x)
        return dataclasses.replace(state, constants=constants)

    def check_calibrated(self, state) -> None:
        """Raise if a sense-amplifier crossbar layer of ``state`` has measured no batch.

        Raises:
          ValueError: naming the layers; calibrate (:meth:`calibrate`) or train first.
        """
        missing = uncalibrated(nnx.merge(self.graphdef, state.params, state.constants))
        if missing:
            raise ValueError(
                f"state: sense-amplifier scales never calibrated in {missing} (every decision would be worth 0); "
                "allowed: a trained state, or one calibrated with Run.calibrate (hwsnn evaluate --hardware PRESET "
                "calibrates before it evaluates)."
            )

    def mean_activity(self, state=None, split: str = "test", max_samples: int | None = None):
        """Per-sample :class:`~hwsnn.layers.Activity` averaged over a split (a calibration set)."""
        state = self.state if state is None else state
        self.check_calibrated(state)
        total, seen = None, 0
        for x, _ in self._batches(split, max_samples):
            activity = self.activity_step(state.params, state.constants, x)
            weighted = jax.tree.map(lambda a: a * x.shape[0], activity)
            total = weighted if total is None else jax.tree.map(jnp.add, total, weighted)
            seen += x.shape[0]
        return jax.tree.map(lambda a: a / seen, total)

    def draw_key(self, draw: int) -> jax.Array:
        """The key of programming draw ``draw`` (one chip): draw 0 is the evaluation chip every run
        reports, ``fold_in(eval_key, d)`` the others (all differ from every training step's)."""
        checks.int_at_least(draw, "draw", 0)
        return self.eval_key if draw == 0 else jax.random.fold_in(self.eval_key, draw)

    def evaluate(
        self, state=None, split: str = "test", max_samples: int | None = None, draw: int = 0
    ) -> dict[str, float]:
        """Accuracy, mean loss and spikes per sample on a split (its first ``max_samples``), in batches
        of ``eval_batch_size``, on programming draw ``draw`` (:meth:`draw_key`)."""
        state = self.state if state is None else state
        key = self.draw_key(draw)
        self.check_calibrated(state)
        devices = self.mesh.devices.size
        totals = None
        for x, y in self._batches(split, max_samples):
            batch = (x, y) if len(y) % devices else shard_batch((x, y), self.mesh)
            metrics = self.eval_step(state.params, state.constants, *batch, key)
            totals = metrics if totals is None else jax.tree.map(jnp.add, totals, metrics)
        return summarise(jax.device_get(totals))

    def with_hardware(self, state, change: Callable) -> tuple["Run", object]:
        """This run and ``state`` with every crossbar layer's spec replaced by ``change(spec)`` (for example
        ``lambda spec: spec.with_stage(Drift(time_s=3600.0))``): the same weights, readout scales and
        chips (draw keys), evaluated on the changed crossbars. Returns ``(run, state)``; the run's
        evaluation steps are built for the changed structure (the training step is this run's)."""
        graphdef, state = self._changed(state, change)
        other = copy.copy(self)
        other.graphdef = graphdef
        other.eval_step = make_eval_step(graphdef, self.objective, self.encode, self.model.timesteps)
        other.calibration_step = make_calibration_step(graphdef, self.encode, self.model.timesteps, self.eval_key)
        other.activity_step = make_activity_step(graphdef, self.encode, self.model.timesteps, self.eval_key)
        return other, state

    def _changed(self, state, change: Callable):
        """``(graphdef, state)`` of the model with every crossbar layer's spec replaced by ``change(spec)``."""
        from hwsnn.layers.modules import Layer

        model = nnx.merge(self.graphdef, state.params, state.constants)
        changed = 0
        for _, module in nnx.iter_graph(model):
            if isinstance(module, Layer) and module.hardware is not None:
                module.hardware = change(module.hardware)
                changed += 1
        if not changed:
            raise ValueError(
                "state: a model with no crossbar layer; allowed: a run trained or deployed on a crossbar "
                "preset (hardware.preset, or deploy(workdir, PRESET))."
            )
        graphdef, params, constants = nnx.split(model, nnx.Param, ...)
        return graphdef, dataclasses.replace(state, params=params, constants=constants)

    def evaluate_drift(
        self, state=None, times_s=(1.0, 3600.0, 86400.0, 3.15576e7), draws: int = 10, split: str = "test"
    ) -> list[dict]:
        """Accuracy over ``draws`` chips (:meth:`evaluate_draws`) at each read time in ``times_s`` (seconds
        after programming) of a crossbar run with conductance drift
        (:class:`~hwsnn.hardware.crossbar.Drift`, added to every crossbar layer), without and with global
        drift compensation: one row per time and compensation, ``{"time_s", "compensated", "mean",
        "std", "worst", "best", "accuracy"}``. Each chip's drift exponents are drawn from its own
        programming key, so a chip keeps them from one time to the next."""
        from hwsnn.hardware.crossbar import Drift

        state = self.state if state is None else state
        times = [float(t) for t in times_s]
        if not times or any(not np.isfinite(t) or t < 0 for t in times):
            raise ValueError(f"times_s: got {list(times_s)!r}; allowed: one or more finite times >= 0 (seconds).")
        rows = []
        for compensated in (False, True):
            drifted = lambda t: lambda spec: spec.with_stage(Drift(time_s=t, compensated=compensated))
            run, _ = self.with_hardware(state, drifted(times[0]))  # one compiled step serves every time
            for t in times:  # the times differ only in a leaf of the specs: the same structure, no retrace
                result = run.evaluate_draws(self._changed(state, drifted(t))[1], draws, split)
                rows.append({"time_s": t, "compensated": compensated, **result})
        return rows

    def evaluate_draws(self, state=None, draws: int = 10, split: str = "test") -> dict:
        """Accuracy over ``draws`` independent programming draws (draws ``0 .. draws - 1``: device-to-device
        variation, stuck-at maps, sense-amplifier offsets, each from its own key), with one set of
        stored readout scales: ``{"accuracy": [...], "mean", "std", "worst", "best"}`` (fractions; std
        over draws, ``ddof=0``)."""
        checks.int_at_least(draws, "draws", 1)
        accuracy = np.array([self.evaluate(state, split, draw=d)["accuracy"] for d in range(draws)])
        return {
            "draws": draws,
            "split": split,
            "accuracy": accuracy.tolist(),
            "mean": float(accuracy.mean()),
            "std": float(accuracy.std()),
            "worst": float(accuracy.min()),
            "best": float(accuracy.max()),
        }


def summarise(sums: dict) -> dict[str, float]:
    """Per-sample means (loss, accuracy, spikes, energy ratio) from the batch sums of :func:`make_objective` metrics."""
    n = float(sums["samples"])
    summary = {
        "loss": float(sums["loss"]) / n,
        "accuracy": float(sums["correct"]) / n,
        "spikes_per_sample": float(sums["spikes"]) / n,
    }
    if "energy_ratio" in sums:
        summary["energy_ratio"] = float(sums["energy_ratio"]) / n
    return summary
