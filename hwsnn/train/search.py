"""Choosing per-layer timesteps T_l for a trained SNN under an accuracy budget (LD-SNN, ISLPED 2022).

Greedy per-layer reduction (:func:`search_timesteps`): start from the trained model's uniform T.
Each round tries, for every layer, cutting its T_l to ``floor(shrink x T_l)`` (at least one step
less, never below 1), with the others unchanged; each candidate starts from the current weights,
is fine-tuned for ``finetune_steps`` steps at its own timesteps (Adam, constant learning rate) and
scored on a selection set. Among candidates whose accuracy stays within ``budget`` of the
trained model's, the round accepts the one with the least work, ``synaptic updates / S_0 +
neurons evaluated / N_0`` (the two LD-SNN counts relative to the uniform model); the search stops
when no candidate is within budget.

The selection set is the first ``samples`` images of the run's validation split (training images
held out of training, ``data.validation``), or, for a run without one, of the training split
(optimistic: the model has fitted those images, so a budget there is looser than on new data). The
test split is kept for the final report, so a configuration is never picked on test data. ``WORKDIR/search``
(which must not exist yet: a second search is refused, never mixed into the first) becomes a run folder
(``search.json``, ``config.json`` with the chosen ``layer_timesteps``, and the fine-tuned checkpoint), so
``hwsnn evaluate`` and ``hwsnn cost`` take it as ``--workdir``.
"""

from __future__ import annotations

import json
import math
import os

import jax.numpy as jnp
from flax import nnx

from hwsnn import checks
from hwsnn.hardware.cost import neurons_evaluated, synaptic_updates
from hwsnn.train.checkpoint import Checkpointer
from hwsnn.train.config import save_config
from hwsnn.train.deploy import restore_run
from hwsnn.train.lock import RunLock
from hwsnn.train.parallel import shard_batch
from hwsnn.train.run import Run, batch_slice, epoch_order
from hwsnn.train.step import TrainState


def _candidates(timesteps: tuple[int, ...], shrink: float) -> list[tuple[int, ...]]:
    """Every configuration with one layer's T_l cut to ``min(T_l - 1, floor(shrink T_l))`` (>= 1)."""
    out = []
    for layer, t in enumerate(timesteps):
        if t > 1:
            cut = max(1, min(t - 1, math.floor(shrink * t)))
            out.append(timesteps[:layer] + (cut,) + timesteps[layer + 1 :])
    return out


def counts(run: Run, state, split: str, samples: int | None) -> dict[str, float]:
    """Per-sample LD-SNN counts (synaptic updates, neurons evaluated) of ``state`` on a split."""
    activity = run.mean_activity(state, split, samples)
    workload = run.model.workload
    return {
        "synaptic_updates": float(synaptic_updates(workload, activity)),
        "neurons_evaluated": float(neurons_evaluated(workload, activity)),
    }


def _adapted(base: Run, timesteps: tuple[int, ...], state, learning_rate: float) -> tuple[Run, TrainState]:
    """A run of ``base``'s model at ``timesteps`` starting from ``state``'s weights (fresh optimizer)."""
    config = base.config.replace(
        model={"layer_timesteps": timesteps},
        training={"cosine_decay": False, "learning_rate": learning_rate, "max_steps": None},
    )
    run = Run(config, base.dataset)
    return run, TrainState(state.params, state.constants, run.optimizer.init(state.params), jnp.zeros((), jnp.int32))


def freeze_timesteps(run: Run, state: TrainState) -> tuple[Run, TrainState]:
    """A run whose model has fixed per-layer timesteps, the learned model's active counts
    (``clip(round(step_counts), 1, T_l)``), and its weights: the steps the learned model masks are then
    not computed at all (for timing a learned model as it would be deployed).

    The frozen model gives the learned model's outputs: the learned one truncates its input to its first
    layer's count and resamples each later layer's input from the previous count to its own
    (:meth:`~hwsnn.layers.SNN.__call__`), which is what fixed timesteps do with an input of ``T_1`` steps.

    Raises:
      ValueError: ``run``'s model does not learn its timesteps.
    """
    if not run.config.model.learn_timesteps:
        raise ValueError("run: its model has fixed timesteps; allowed: a run whose model learns them.")
    learned = nnx.merge(run.graphdef, state.params, state.constants)
    config = run.config.replace(model={"layer_timesteps": learned.active_timesteps(), "learn_timesteps": False})
    frozen = Run(config, run.dataset)
    weights = nnx.filter_state(nnx.state(learned), lambda path, _: path[0] != "step_counts")
    model = nnx.merge(frozen.graphdef, frozen.state.params, frozen.state.constants)
    nnx.update(model, weights)
    _, params, constants = nnx.split(model, nnx.Param, ...)
    return frozen, TrainState(params, constants, frozen.optimizer.init(params), state.step)


def finetune(run: Run, state: TrainState, steps: int, seed: int) -> TrainState:
    """``steps`` training steps on shuffled training batches (order seeded by ``seed``)."""
    order = epoch_order(run.config.replace(training={"seed": seed}), len(run.data.y_train), 0)
    for step in range(steps):
        index = step % run.steps_per_epoch
        idx = batch_slice(run.config, order, index)
        x, y = shard_batch((run.inputs(run.data.x_train[idx]), run.data.y_train[idx]), run.mesh)
        state, _ = run.train_step(state, x, y)
    return state


def search_timesteps(
    workdir: str | os.PathLike,
    *,
    budget: float = 0.01,
    shrink: float = 0.75,
    samples: int = 1000,
    finetune_steps: int = 20,
    finetune_learning_rate: float = 5e-4,
    progress=print,
) -> dict:
    """Greedy per-layer timestep search (module doc) on the trained run in ``workdir``.

    Args:
      budget: largest accuracy loss allowed against the trained model, as a fraction (0.01 = 1 point).
      shrink: each trial cuts one layer's T_l to ``floor(shrink T_l)`` (at least one step less).
      samples: selection-set size (first images of the validation split, else of the training split).
      finetune_steps: fine-tuning steps per candidate (0: none).

    Returns a dict with the chosen ``timesteps``, the uniform baseline, the search history and
    test accuracy and LD-SNN counts of both (also written to ``workdir/search/search.json``, beside
    the chosen model's config and checkpoint).
    """
    if not 0.0 <= budget < 1.0:
        raise ValueError(f"budget: got {budget!r}; allowed: a fraction in [0, 1) (0.01 = 1 accuracy point).")
    if not 0.0 < shrink < 1.0:
        raise ValueError(f"shrink: got {shrink!r}; allowed: 0 < shrink < 1.")
    checks.int_at_least(samples, "samples", 1)
    checks.int_at_least(finetune_steps, "finetune_steps", 0)
    out = os.path.join(workdir, "search")
    if os.path.exists(out):
        raise ValueError(
            f"workdir: {str(workdir)!r} already holds a search ({out}); allowed: a run folder without one "
            "(remove or rename that folder to search again)."
        )
    if not os.path.isdir(workdir):
        raise FileNotFoundError(f"config: no file at {os.path.join(str(workdir), 'config.json')!r}.")
    with RunLock(workdir):
        return _search(workdir, out, budget, shrink, samples, finetune_steps, finetune_learning_rate, progress)


def _search(workdir, out, budget, shrink, samples, finetune_steps, finetune_learning_rate, progress) -> dict:
    """The body of :func:`search_timesteps` once its arguments are checked and the run folder locked."""
    base, state = restore_run(workdir)
    if base.config.model.learn_timesteps:
        raise ValueError("workdir: its model learns its timesteps; allowed: a run with fixed timesteps to search from.")
    timesteps = base.model.layer_timesteps
    trained = state
    selection = "validation" if base.validation is not None else "train"
    reference = base.evaluate(state, selection, samples)
    floor = reference["accuracy"] - budget
    start_counts = counts(base, state, selection, samples)
    progress(f"uniform {timesteps}: {selection} accuracy {reference['accuracy']:.4f} (floor {floor:.4f})")

    def work(c):
        return (
            c["synaptic_updates"] / start_counts["synaptic_updates"]
            + c["neurons_evaluated"] / start_counts["neurons_evaluated"]
        )

    history, current, current_run, seed = [], timesteps, base, 0
    while True:
        best = None
        for candidate in _candidates(current, shrink):
            seed += 1
            run, trial = _adapted(base, candidate, state, finetune_learning_rate)
            trial = finetune(run, trial, finetune_steps, seed)
            accuracy = run.evaluate(trial, selection, samples)["accuracy"]
            c = counts(run, trial, selection, samples)
            entry = {"timesteps": list(candidate), "selection_accuracy": accuracy, **c, "work": work(c)}
            history.append(entry)
            progress(f"  try {candidate}: accuracy {accuracy:.4f}, work {entry['work']:.3f}")
            if accuracy >= floor and (best is None or entry["work"] < best[0]["work"]):
                best = (entry, run, trial)
        if best is None:
            break
        entry, current_run, state = best
        current = tuple(entry["timesteps"])
        entry["accepted"] = True
        progress(f"accept {current}")

    result = {
        "budget": budget,
        "shrink": shrink,
        "samples": samples,
        "finetune_steps": finetune_steps,
        "selection_split": selection,
        "uniform": {
            "timesteps": list(timesteps),
            "selection_accuracy": reference["accuracy"],
            "test_accuracy": base.evaluate(trained)["accuracy"],
            **counts(base, trained, "test", None),
        },
        "chosen": {
            "timesteps": list(current),
            "test_accuracy": current_run.evaluate(state)["accuracy"],
            **counts(current_run, state, "test", None),
        },
        "history": history,
    }
    for name in ("synaptic_updates", "neurons_evaluated"):
        result[f"{name}_reduction"] = result["uniform"][name] / result["chosen"][name]
    # the budget holds on the selection images; say what it cost on the test set, which the search never saw
    lost = result["uniform"]["test_accuracy"] - result["chosen"]["test_accuracy"]
    result["test_accuracy_loss"], result["within_budget_on_test"] = lost, lost <= budget
    result["note"] = (
        f"the budget ({budget:g}) was checked on {samples} {selection} images; on the test set the chosen "
        f"timesteps lose {lost:+.4f} accuracy, {'within' if lost <= budget else 'BEYOND'} the budget"
        + (
            ""
            if lost <= budget
            else " (more selection images, a larger budget or more fine-tuning "
            "steps make the selection more representative)"
        )
    )
    progress(result["note"])
    os.makedirs(out)
    with open(os.path.join(out, "search.json"), "w") as handle:
        json.dump(result, handle, indent=2)
    save_config(current_run.config, os.path.join(out, "config.json"))  # a run folder: hwsnn evaluate / cost
    checkpointer = Checkpointer(os.path.join(out, "checkpoints"), current_run.config.training.checkpoint_every)
    checkpointer.maybe_save(int(state.step), state, force=True)
    checkpointer.close()
    return result
