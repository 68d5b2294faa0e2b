"""``train_and_evaluate(config, workdir)``: the whole training run, resumable and deterministic.

Per step: a host-side batch gather (indices from ``default_rng((seed, epoch))``), one jitted
train step, an asynchronous metric sum; the host reads metrics once per epoch. Orbax saves the
state every ``checkpoint_every`` steps; a rerun in the same ``workdir`` resumes from the latest
checkpoint and reaches the same final parameters as an uninterrupted run.

``workdir`` receives ``config.json``, ``metrics.jsonl`` (one line per epoch),
``checkpoints/``, ``training_curve.png`` and ``summary.json``.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import time
import warnings

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx
from tqdm import tqdm

from hwsnn.data import Dataset
from hwsnn.train.checkpoint import Checkpointer
from hwsnn.train.config import TrainConfig, config_differences, load_config, save_config
from hwsnn.train.lock import RunLock
from hwsnn.train.metrics import append_jsonl, plot_training_curve, read_jsonl, write_atomically, write_jsonl
from hwsnn.train.parallel import shard_batch
from hwsnn.train.run import Run, batch_slice, epoch_order, summarise


def check_finite(config: TrainConfig, sums: dict, step: int, saved: int | None) -> None:
    """Stop a run whose loss or gradients were not finite at some step since the last check (those
    steps changed nothing: :func:`~hwsnn.train.step.make_train_step`), before anything is saved.

    Raises:
      ValueError: naming the count, the last saved (finite) checkpoint and what to change.
    """
    bad = int(sums["nonfinite_steps"])
    if bad:
        raise ValueError(
            f"training: the loss or the gradients were not finite at {bad} step(s) of this epoch, up to step "
            f"{step} (their updates were skipped, nothing was saved after them; the last checkpoint, step "
            f"{saved}, holds finite parameters); allowed: a smaller training.learning_rate (got "
            f"{config.training.learning_rate!r}), finite inputs and neuron parameters."
        )


def check_finite_record(record: dict, saved: int | None) -> None:
    """Stop a run whose epoch record holds a non-finite number (a metric that overflowed or diverged) before
    it is written: metrics.jsonl and summary.json stay strict JSON.

    Raises:
      ValueError: naming the epoch, the fields and the last saved checkpoint.
    """
    numbers = lambda value: value if isinstance(value, list) else [value]
    bad = sorted(
        key
        for key, value in record.items()
        if any(isinstance(v, float) and not math.isfinite(v) for v in numbers(value))
    )
    if bad:
        raise ValueError(
            f"training: epoch {record['epoch']}'s metrics {bad} are not finite ("
            + ", ".join(f"{key} = {record[key]!r}" for key in bad)
            + f"); the run stopped before writing them (the last checkpoint, step {saved}, is kept); allowed: a "
            "run whose metrics stay finite (a smaller training.learning_rate, finite inputs)."
        )


def check_finite_params(params, where: str) -> None:
    """Raise a ``ValueError`` naming every parameter of ``params`` that holds NaN or infinity."""
    bad = [
        jax.tree_util.keystr(path)
        for path, leaf in jax.tree_util.tree_leaves_with_path(params)
        if not np.all(np.isfinite(np.asarray(leaf)))
    ]
    if bad:
        raise ValueError(
            f"{where}: non-finite parameters {bad}; allowed: a state with finite parameters (retrain, "
            "for example with a smaller training.learning_rate)."
        )


def timestep_report(run: Run, state) -> dict[str, list]:
    """Learned timesteps as a run reports them (records and summary): ``step_counts``, the continuous
    parameters, and ``active_timesteps``, the steps each layer runs, ``clip(round(count), 1, T_l)``: a
    count above its layer's ``T_l`` (which is the most steps that layer has) runs all ``T_l`` steps."""
    model = nnx.merge(run.graphdef, state.params, state.constants)
    return {
        "step_counts": [float(c) for c in jax.device_get(model.step_counts[...])],
        "active_timesteps": list(model.active_timesteps()),
    }


RUN_FILES = ("checkpoints", "metrics.jsonl", "summary.json", "training_curve.png")
"""What a training run writes in its folder (besides ``config.json``): removed by a restart."""


def check_run_folder(config: TrainConfig, workdir: str | os.PathLike, *, restart: bool = False) -> None:
    """Refuse to train ``config`` in a run folder that holds another config's run; reads only.

    A folder with a ``config.json`` is a contract: a rerun resumes it only with the same config, up to
    :data:`~hwsnn.train.config.RUN_NEUTRAL_FIELDS`. With ``restart=True`` another config is accepted: its
    run is discarded (:func:`discard_run`) once the new config has also been checked against the data.

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
        raise ValueError(
            f"workdir: {str(workdir)!r} holds a run of another config ({'; '.join(differences)}); allowed: "
            "the same config (the run resumes), another --workdir, or --restart to discard that run."
        )


def discard_run(workdir: str | os.PathLike) -> None:
    """Remove a run folder's run (:data:`RUN_FILES`); its ``config.json`` is replaced by the next run's."""
    for name in RUN_FILES:
        path = os.path.join(workdir, name)
        if os.path.isdir(path):
            shutil.rmtree(path)
        elif os.path.exists(path):
            os.remove(path)


def _resume(run: Run, checkpointer: Checkpointer, metrics_path: str) -> tuple[int, dict | None]:
    """``(first step, running sums of the epoch in progress)`` of a run folder: its latest checkpoint, with
    the metric records of epochs to be trained again dropped; ``(0, None)`` for a new run (a stale
    metrics file removed)."""
    if checkpointer.latest_step() is None:
        if os.path.exists(metrics_path):
            os.remove(metrics_path)
        return 0, None
    run.state, saved = checkpointer.restore(run.state, set_aside=True)
    start, sums = int(run.state.step), None
    if saved is not None and saved["epoch_sums"] is not None:  # a checkpoint inside an epoch
        sums = jax.tree.map(jnp.asarray, saved["epoch_sums"])
    # one record per epoch finished at the checkpoint: later ones are trained again
    records = read_jsonl(metrics_path) if os.path.exists(metrics_path) else []
    write_jsonl(metrics_path, [record for record in records if record["epoch"] <= start // run.steps_per_epoch])
    return start, sums


def _epoch_record(run: Run, state, sums: dict, epoch: int, step: int, began: float) -> tuple[dict, dict, dict]:
    """``(record, train means, test metrics)`` of an epoch that ends at ``step``: its line of ``metrics.jsonl``."""
    train, test = summarise(jax.device_get(sums)), run.evaluate(state)
    record = {
        "epoch": epoch + 1,
        "step": step,
        "train_loss": train["loss"],
        "train_accuracy": train["accuracy"],
        "test_loss": test["loss"],
        "test_accuracy": test["accuracy"],
        "test_spikes_per_sample": test["spikes_per_sample"],
        "seconds": time.perf_counter() - began,
    }
    if "energy_ratio" in test:
        record["test_energy_ratio"] = test["energy_ratio"]
    if run.config.model.learn_timesteps:
        record.update(timestep_report(run, state))
    return record, train, test


def _announce(run: Run, record: dict, train: dict, bar, log_lines: bool) -> None:
    """Show an epoch's end: the progress bar's postfix, or one line on stderr (a log file), and a warning
    for an epoch in which the network fired no spike."""
    config = run.config
    if train["spikes_per_sample"] == 0:
        warnings.warn(
            f"epoch {record['epoch']}: the network fired no spike in training, so its outputs carry no "
            f"information (neuron.threshold {config.neuron.threshold!r}, data.encoding "
            f"{config.data.encoding!r}); a lower threshold or stronger inputs make it fire.",
            stacklevel=3,
        )
    bar.set_postfix(loss=f"{train['loss']:.3f}", test_acc=f"{100 * record['test_accuracy']:.1f}%")
    if log_lines:
        print(
            f"epoch {record['epoch']}/{config.training.epochs}, step {record['step']}/{run.stop_step}: train loss "
            f"{train['loss']:.4f}, train accuracy {100 * train['accuracy']:.1f} %, test accuracy "
            f"{100 * record['test_accuracy']:.1f} % ({record['seconds']:.0f} s)",
            file=sys.stderr,
            flush=True,
        )


def _summary(run: Run, state, workdir, last_test: dict | None, began: float) -> dict:
    """Write the training curve and ``summary.json`` of a finished run and return the summary."""
    metrics_path = os.path.join(workdir, "metrics.jsonl")
    records = read_jsonl(metrics_path) if os.path.exists(metrics_path) else []
    if records:
        plot_training_curve(records, os.path.join(workdir, "training_curve.png"))
    final = run.evaluate(state) if last_test is None else last_test  # the last step was just evaluated
    summary = {
        "steps": run.stop_step,
        "test_accuracy": final["accuracy"],
        "test_loss": final["loss"],
        "test_spikes_per_sample": final["spikes_per_sample"],
        "seconds": time.perf_counter() - began,
    }
    if "energy_ratio" in final:
        summary["test_energy_ratio"] = final["energy_ratio"]
    if run.config.model.learn_timesteps:
        summary.update(timestep_report(run, state))
    write_atomically(os.path.join(workdir, "summary.json"), json.dumps(summary, indent=2, allow_nan=False))
    return summary


def train_and_evaluate(
    config: TrainConfig,
    workdir: str | os.PathLike,
    *,
    progress: bool = True,
    devices=None,
    dataset: Dataset | None = None,
    restart: bool = False,
) -> dict:
    """Train ``config`` in ``workdir`` (resuming from its latest checkpoint) and return the summary.

    Everything is checked before anything in ``workdir`` changes: the folder and its stored config
    (:func:`check_run_folder`), the config against the data (building the :class:`Run`), and a kept run's
    checkpoint against the model; only then is an old run discarded (``restart``) and ``config.json`` written.
    The folder is written under its :class:`~hwsnn.train.lock.RunLock`: a second writer is refused.
    """
    check_run_folder(config, workdir, restart=restart)
    run = Run(config, dataset, devices)
    os.makedirs(workdir, exist_ok=True)
    with RunLock(workdir):
        return _train(run, workdir, progress, restart)


def _train(run: Run, workdir: str | os.PathLike, progress: bool, restart: bool) -> dict:
    """The body of :func:`train_and_evaluate` once the run is built and the folder locked."""
    config = run.config
    if restart:
        discard_run(workdir)
    metrics_path, summary_path = os.path.join(workdir, "metrics.jsonl"), os.path.join(workdir, "summary.json")
    checkpointer = Checkpointer(os.path.join(workdir, "checkpoints"), config.training.checkpoint_every)
    try:
        start, sums = _resume(run, checkpointer, metrics_path)
    except Exception:
        checkpointer.close()
        raise
    save_config(config, os.path.join(workdir, "config.json"))
    if start >= run.stop_step and os.path.exists(summary_path):  # a finished run: nothing to train or rewrite
        checkpointer.close()
        tqdm.write(
            f"{workdir}: this run has finished (step {start} of {run.stop_step}); nothing to train, "
            "summary.json unchanged.",
            file=sys.stderr,
        )
        with open(summary_path) as handle:
            return json.load(handle)
    state, spe = run.state, run.steps_per_epoch
    # read when a checkpoint is written: Python numbers (JSON), float32 sums round-trip exactly
    epoch_progress = lambda: {
        "epoch_sums": None if sums is None else jax.tree.map(lambda v: v.item(), jax.device_get(sums))
    }
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
                record, train, test = _epoch_record(run, state, sums, epoch, step + 1, began)
                check_finite_record(record, checkpointer.latest_step())
                append_jsonl(metrics_path, record)
                _announce(run, record, train, bar, progress and not interactive)
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
    return _summary(run, state, workdir, test, began)
