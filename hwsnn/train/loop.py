"""``train_and_evaluate(config, workdir)``: the whole training run, resumable and deterministic.

Per step: a host-side batch gather (indices from ``default_rng((seed, epoch))``), one jitted
train step, an asynchronous metric sum; the host reads metrics once per epoch. Orbax saves the
state every ``checkpoint_every`` steps; a rerun in the same ``workdir`` resumes from the latest
checkpoint and reaches the same final parameters as an uninterrupted run.

``workdir`` receives ``config.json``, ``metrics.jsonl`` (one line per epoch),
``checkpoints/``, ``training_curve.png`` and ``summary.json``.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import shutil
import sys
import time
import warnings
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from tqdm import tqdm

from hwsnn.data import Dataset, load_dataset
from hwsnn.encoding import encoder_from_name
from hwsnn.train.checkpoint import Checkpointer
from hwsnn.train.config import TrainConfig, build_model, config_differences, energy_term, load_config, save_config
from hwsnn.train.losses import task_loss_from_name
from hwsnn.train.metrics import append_jsonl, plot_training_curve, read_jsonl, write_atomically, write_jsonl
from hwsnn.train.parallel import data_mesh, replicate, shard_batch
from hwsnn.train.step import (
    hardware_ramp, init_state, make_activity_step, make_calibration_step, make_eval_step, make_objective, make_train_step,
)
from hwsnn.layers.readout_scale import uncalibrated


def make_optimizer(config: TrainConfig, total_steps: int) -> optax.GradientTransformation:
    """Adam (or SGD with momentum 0.9) with an optional cosine decay to zero over ``total_steps``;
    learned step counts (``step_counts``) take Adam at ``timestep_learning_rate`` (in steps)."""
    training = config.training
    lr = optax.cosine_decay_schedule(training.learning_rate, total_steps) if training.cosine_decay else training.learning_rate
    weights = optax.adam(lr) if training.optimizer == "adam" else optax.sgd(lr, momentum=0.9)
    if not config.model.learn_timesteps:
        return weights
    labels = lambda params: jax.tree_util.tree_map_with_path(
        lambda path, _: "timesteps" if any(getattr(k, "key", None) == "step_counts" for k in path) else "weights", params)
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
            dataset = load_dataset(config.data.dataset, config.data.data_dir, timesteps=first_steps,
                                   frames=config.data.frames)
        if (dataset.timesteps is not None) != (config.data.encoding == "events"):
            raise ValueError(f"data.encoding: got {config.data.encoding!r} for a dataset "
                             f"{'with' if dataset.timesteps else 'without'} a time axis; allowed: 'events' exactly for "
                             "samples with a time axis (event frames, sequences).")
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
        objective = make_objective(task_loss_from_name(training.loss, population), population,
                                   training.rate_weight, training.rate_target, energy_term(config), config.energy.weight)
        encode = encoder_from_name(config.data.encoding)
        self.objective, self.encode = objective, encode
        key = jax.random.PRNGKey(training.seed)
        self.eval_key = jax.random.fold_in(key, 2**31 - 1)  # evaluation draws differ from every train step's
        schedule = hardware_ramp(config.hardware.start, config.hardware.ramp_steps, config.hardware.ramp_order)
        self.train_step = make_train_step(graphdef, self.optimizer, objective, encode, self.model.timesteps, key, schedule)
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
            raise ValueError(f"state: sense-amplifier scales never calibrated in {missing} (every decision would be worth 0); "
                             "allowed: a trained state, or one calibrated with Run.calibrate / hwsnn calibrate.")

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
        if not isinstance(draw, int) or isinstance(draw, bool) or draw < 0:
            raise ValueError(f"draw: got {draw!r}; allowed: an int >= 0.")
        return self.eval_key if draw == 0 else jax.random.fold_in(self.eval_key, draw)

    def evaluate(self, state=None, split: str = "test", max_samples: int | None = None, draw: int = 0) -> dict[str, float]:
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
        from hwsnn.layers.modules import Layer

        model = nnx.merge(self.graphdef, state.params, state.constants)
        changed = 0
        for _, module in nnx.iter_graph(model):
            if isinstance(module, Layer) and module.hardware is not None:
                module.hardware = change(module.hardware)
                changed += 1
        if not changed:
            raise ValueError("state: a model with no crossbar layer; allowed: a run trained or deployed on a crossbar "
                             "preset (hardware.preset, or deploy(workdir, PRESET)).")
        graphdef, params, constants = nnx.split(model, nnx.Param, ...)
        other = copy.copy(self)
        other.graphdef = graphdef
        other.eval_step = make_eval_step(graphdef, self.objective, self.encode, self.model.timesteps)
        other.calibration_step = make_calibration_step(graphdef, self.encode, self.model.timesteps, self.eval_key)
        other.activity_step = make_activity_step(graphdef, self.encode, self.model.timesteps, self.eval_key)
        return other, dataclasses.replace(state, params=params, constants=constants)

    def evaluate_drift(self, state=None, times_s=(1.0, 3600.0, 86400.0, 3.15576e7), draws: int = 10,
                       split: str = "test") -> list[dict]:
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
            drifted = lambda t: (lambda spec: spec.with_stage(Drift(time_s=t, compensated=compensated)))
            run, _ = self.with_hardware(state, drifted(times[0]))  # one compiled step serves every time
            for t in times:
                result = run.evaluate_draws(self.with_hardware(state, drifted(t))[1], draws, split)
                rows.append({"time_s": t, "compensated": compensated, **result})
        return rows

    def evaluate_draws(self, state=None, draws: int = 10, split: str = "test") -> dict:
        """Accuracy over ``draws`` independent programming draws (draws ``0 .. draws - 1``: device-to-device
        variation, stuck-at maps, sense-amplifier offsets, each from its own key), with one set of
        stored readout scales: ``{"accuracy": [...], "mean", "std", "worst", "best"}`` (fractions; std
        over draws, ``ddof=0``)."""
        if not isinstance(draws, int) or isinstance(draws, bool) or draws < 1:
            raise ValueError(f"draws: got {draws!r}; allowed: an int >= 1.")
        accuracy = np.array([self.evaluate(state, split, draw=d)["accuracy"] for d in range(draws)])
        return {"draws": draws, "split": split, "accuracy": accuracy.tolist(), "mean": float(accuracy.mean()),
                "std": float(accuracy.std()), "worst": float(accuracy.min()), "best": float(accuracy.max())}


def check_finite(config: TrainConfig, sums: dict, step: int, saved: int | None) -> None:
    """Stop a run whose loss or gradients were not finite at some step since the last check (those
    steps changed nothing: :func:`~hwsnn.train.step.make_train_step`), before anything is saved.

    Raises:
      ValueError: naming the count, the last saved (finite) checkpoint and what to change.
    """
    bad = int(sums["nonfinite_steps"])
    if bad:
        raise ValueError(f"training: the loss or the gradients were not finite at {bad} step(s) of this epoch, up to step "
                         f"{step} (their updates were skipped, nothing was saved after them; the last checkpoint, step "
                         f"{saved}, holds finite parameters); allowed: a smaller training.learning_rate (got "
                         f"{config.training.learning_rate!r}), finite inputs and neuron parameters.")


def check_finite_params(params, where: str) -> None:
    """Raise a ``ValueError`` naming every parameter of ``params`` that holds NaN or infinity."""
    bad = [jax.tree_util.keystr(path) for path, leaf in jax.tree_util.tree_leaves_with_path(params)
           if not np.all(np.isfinite(np.asarray(leaf)))]
    if bad:
        raise ValueError(f"{where}: non-finite parameters {bad}; allowed: a state with finite parameters (retrain, "
                         "for example with a smaller training.learning_rate).")


def summarise(sums: dict) -> dict[str, float]:
    """Per-sample means (loss, accuracy, spikes, energy ratio) from the batch sums of :func:`make_objective` metrics."""
    n = float(sums["samples"])
    summary = {"loss": float(sums["loss"]) / n, "accuracy": float(sums["correct"]) / n,
               "spikes_per_sample": float(sums["spikes"]) / n}
    if "energy_ratio" in sums:
        summary["energy_ratio"] = float(sums["energy_ratio"]) / n
    return summary


def timestep_report(run: Run, state) -> dict[str, list]:
    """Learned timesteps as a run reports them (records and summary): ``step_counts``, the continuous
    parameters, and ``active_timesteps``, the steps each layer runs, ``clip(round(count), 1, T_l)``: a
    count above its layer's ``T_l`` (which is the most steps that layer has) runs all ``T_l`` steps."""
    model = nnx.merge(run.graphdef, state.params, state.constants)
    return {"step_counts": [float(c) for c in jax.device_get(model.step_counts[...])],
            "active_timesteps": list(model.active_timesteps())}


RUN_FILES = ("checkpoints", "metrics.jsonl", "summary.json", "training_curve.png")
"""What a training run writes in its folder (besides ``config.json``): removed by a restart."""


def check_run_folder(config: TrainConfig, workdir: str | os.PathLike, *, restart: bool = False) -> None:
    """Refuse to train ``config`` in a run folder that holds another config's run (nothing is written).

    A folder with a ``config.json`` is a contract: a rerun resumes it only with the same config, up to
    :data:`~hwsnn.train.config.RUN_NEUTRAL_FIELDS`. With ``restart=True`` the folder's run
    (:data:`RUN_FILES`) is removed and training starts over with ``config``.

    Raises:
      ValueError: ``workdir`` is a file or below one, or it holds a run of another config (the
        differing fields named).
    """
    if os.path.exists(workdir) and not os.path.isdir(workdir):
        raise ValueError(f"workdir: {str(workdir)!r} is a file; allowed: a folder (new or of an earlier run).")
    existing = os.path.abspath(workdir)
    while not os.path.exists(existing):  # the nearest folder that exists: where the run folder would be made
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise ValueError(f"workdir: {str(workdir)!r} is below the file {existing!r}; allowed: a path below folders.")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ValueError(f"workdir: {existing!r} is not writable; allowed: a folder you can write in.")
    stored_path = os.path.join(workdir, "config.json")
    if not os.path.exists(stored_path):
        return
    differences = config_differences(load_config(stored_path), config)
    if differences and not restart:
        raise ValueError(f"workdir: {str(workdir)!r} holds a run of another config ({'; '.join(differences)}); allowed: "
                         "the same config (the run resumes), another --workdir, or --restart to discard that run.")
    if restart:
        for name in RUN_FILES:
            path = os.path.join(workdir, name)
            if os.path.isdir(path):
                shutil.rmtree(path)
            elif os.path.exists(path):
                os.remove(path)


def train_and_evaluate(config: TrainConfig, workdir: str | os.PathLike, *, progress: bool = True,
                       devices=None, dataset: Dataset | None = None, restart: bool = False) -> dict:
    """Train ``config`` in ``workdir`` (resuming from its latest checkpoint; :func:`check_run_folder`
    first) and return the summary."""
    check_run_folder(config, workdir, restart=restart)
    run = Run(config, dataset, devices)
    os.makedirs(workdir, exist_ok=True)
    save_config(config, os.path.join(workdir, "config.json"))
    metrics_path = os.path.join(workdir, "metrics.jsonl")
    checkpointer = Checkpointer(os.path.join(workdir, "checkpoints"), config.training.checkpoint_every)
    start, sums, spe = 0, None, run.steps_per_epoch
    if checkpointer.latest_step() is not None:
        run.state, saved = checkpointer.restore(run.state)
        start = int(run.state.step)
        if saved is not None and saved["epoch_sums"] is not None:  # a checkpoint inside an epoch
            sums = jax.tree.map(jnp.asarray, saved["epoch_sums"])
        # one record per epoch finished at the checkpoint: later ones are trained again
        records = read_jsonl(metrics_path) if os.path.exists(metrics_path) else []
        write_jsonl(metrics_path, [record for record in records if record["epoch"] <= start // spe])
    elif os.path.exists(metrics_path):
        os.remove(metrics_path)

    summary_path = os.path.join(workdir, "summary.json")
    if start >= run.stop_step and os.path.exists(summary_path):  # a finished run: nothing to train or rewrite
        checkpointer.close()
        tqdm.write(f"{workdir}: this run has finished (step {start} of {run.stop_step}); nothing to train, "
                   "summary.json unchanged.", file=sys.stderr)
        with open(summary_path) as handle:
            return json.load(handle)
    state = run.state
    # read when a checkpoint is written: Python numbers (JSON), float32 sums round-trip exactly
    epoch_progress = lambda: {"epoch_sums": None if sums is None else jax.tree.map(lambda v: v.item(), jax.device_get(sums))}
    # a bar on a terminal; in a log file (stderr not a terminal) one line per epoch instead of carriage returns
    interactive = progress and sys.stderr.isatty()
    bar = tqdm(total=run.stop_step, initial=start, desc="train", unit="step", disable=not interactive)
    began, order_epoch, order, test = time.perf_counter(), None, None, None
    try:
        for step in range(start, run.stop_step):
            epoch, index = divmod(step, spe)
            if epoch != order_epoch:
                order_epoch, order = epoch, epoch_order(config, len(run.data.y_train), epoch)
            idx = batch_slice(config, order, index)
            x, y = shard_batch((run.inputs(run.data.x_train[idx]), run.data.y_train[idx]), run.mesh)
            state, metrics = run.train_step(state, x, y)
            sums = metrics if sums is None else jax.tree.map(jnp.add, sums, metrics)
            bar.update(1)
            if step == start:  # that step compiled the train step: rate and time left from the steps after it
                bar.reset(total=run.stop_step)
                bar.initial = bar.n = step + 1
                bar.refresh()
            finished = index == spe - 1  # else a run stopped by max_steps: its record is dropped when it resumes
            if finished or step + 1 == run.stop_step or checkpointer.due(step + 1):
                check_finite(config, sums, step + 1, checkpointer.latest_step())
            if finished or step + 1 == run.stop_step:
                train = summarise(jax.device_get(sums))
                test = run.evaluate(state)
                record = {"epoch": epoch + 1, "step": step + 1, "train_loss": train["loss"],
                          "train_accuracy": train["accuracy"], "test_loss": test["loss"],
                          "test_accuracy": test["accuracy"], "test_spikes_per_sample": test["spikes_per_sample"],
                          "seconds": time.perf_counter() - began}
                if "energy_ratio" in test:
                    record["test_energy_ratio"] = test["energy_ratio"]
                if config.model.learn_timesteps:
                    record.update(timestep_report(run, state))
                append_jsonl(metrics_path, record)
                if train["spikes_per_sample"] == 0:
                    warnings.warn(f"epoch {epoch + 1}: the network fired no spike in training, so its outputs carry no "
                                  f"information (neuron.threshold {config.neuron.threshold!r}, data.encoding "
                                  f"{config.data.encoding!r}); a lower threshold or stronger inputs make it fire.", stacklevel=2)
                bar.set_postfix(loss=f"{train['loss']:.3f}", test_acc=f"{100 * test['accuracy']:.1f}%")
                if progress and not interactive:
                    print(f"epoch {epoch + 1}/{config.training.epochs}, step {step + 1}/{run.stop_step}: train loss "
                          f"{train['loss']:.4f}, train accuracy {100 * train['accuracy']:.1f} %, test accuracy "
                          f"{100 * test['accuracy']:.1f} % ({record['seconds']:.0f} s)", file=sys.stderr, flush=True)
                sums = None if finished else sums
            # after an epoch's record, so a checkpoint never skips one; inside an epoch, with its running sums
            checkpointer.maybe_save(step + 1, state, progress=epoch_progress)
    except BaseException:
        checkpointer.close()  # a checkpoint being written completes before the error propagates
        raise
    finally:
        bar.close()
    if checkpointer.latest_step() != run.stop_step:
        checkpointer.maybe_save(run.stop_step, state, progress=epoch_progress, force=True)
    checkpointer.close()
    run.state = state
    records = read_jsonl(metrics_path) if os.path.exists(metrics_path) else []
    if records:
        plot_training_curve(records, os.path.join(workdir, "training_curve.png"))
    final = run.evaluate(state) if test is None else test  # the last step was just evaluated
    summary = {"steps": run.stop_step, "test_accuracy": final["accuracy"], "test_loss": final["loss"],
               "test_spikes_per_sample": final["spikes_per_sample"], "seconds": time.perf_counter() - began}
    if "energy_ratio" in final:
        summary["test_energy_ratio"] = final["energy_ratio"]
    if config.model.learn_timesteps:
        summary.update(timestep_report(run, state))
    write_atomically(summary_path, json.dumps(summary, indent=2))
    return summary


def restore_run(workdir: str | os.PathLike, dataset: Dataset | None = None) -> tuple[Run, object]:
    """The :class:`Run` of a training folder and its latest checkpointed state."""
    config = load_config(os.path.join(workdir, "config.json"))
    run = Run(config, dataset)
    checkpointer = Checkpointer(os.path.join(workdir, "checkpoints"), config.training.checkpoint_every)
    state = checkpointer.restore(run.state)[0]
    step = checkpointer.latest_step()  # the step restored: unreadable newer ones were set aside
    checkpointer.close()
    check_finite_params(state.params, f"checkpoint of {str(workdir)!r} at step {step}")
    return run, state


def _transfer(source, target, keep: Callable[[str], bool] | None = None):
    """``target`` (a state pytree) with each leaf whose path ``keep`` admits (default: every one) taken
    from ``source`` where ``source`` has that path with the same shape."""
    found = {jax.tree_util.keystr(path): leaf for path, leaf in jax.tree_util.tree_leaves_with_path(source)}

    def pick(path, leaf):
        name = jax.tree_util.keystr(path)
        other = found.get(name)
        kept = keep is None or keep(name)
        return other if kept and other is not None and np.shape(other) == np.shape(leaf) else leaf

    return jax.tree_util.tree_map_with_path(pick, target)


def deploy(workdir: str | os.PathLike, hardware: str | None = None, *, dataset: Dataset | None = None,
           calibration_samples: int = 2000) -> tuple[Run, object, dict | None]:
    """The trained run of ``workdir`` deployed on the crossbar preset ``hardware`` (``None``: the run's own):
    ``(run, state, calibration)``.

    The weights, batch-norm statistics, neuron parameters and learned sense-amplifier gains (relative
    to the calibrated scales, so part of the trained network) carry over; the crossbar spec is the
    preset's. A run trained on ``hardware`` itself keeps its stored sense-amplifier scales; any other
    gets its scales calibrated once on the first ``calibration_samples`` training images
    (:meth:`Run.calibrate`, on the evaluation chip), reported in ``calibration`` (else ``None``).
    """
    run, state = restore_run(workdir, dataset)
    if hardware is None or hardware == run.config.hardware.preset:
        return run, state, None
    target = Run(run.config.replace(hardware={"preset": hardware}), run.dataset)  # checks the preset's name
    params = _transfer(state.params, target.state.params)  # every parameter, learned gains too
    constants = _transfer(state.constants, target.state.constants,
                          lambda name: "'hardware'" not in name and "'readout_scale'" not in name)
    deployed = dataclasses.replace(target.state, params=params, constants=constants, step=state.step)
    if not uncalibrated(nnx.merge(target.graphdef, deployed.params, deployed.constants)):
        return target, deployed, None
    if not isinstance(calibration_samples, int) or isinstance(calibration_samples, bool) or calibration_samples < 1:
        raise ValueError(f"calibration_samples: got {calibration_samples!r}; allowed: an int >= 1.")
    deployed = target.calibrate(deployed, "train", calibration_samples)
    return target, deployed, {"split": "train", "samples": min(calibration_samples, len(target.data.y_train))}
