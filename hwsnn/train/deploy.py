"""A trained run folder read back (:func:`restore_run`) and deployed on a crossbar preset (:func:`deploy`)."""

from __future__ import annotations

import dataclasses
import os
from typing import Callable

import jax
import numpy as np
from flax import nnx

from hwsnn import checks
from hwsnn.data import Dataset
from hwsnn.layers.readout_scale import uncalibrated
from hwsnn.train.checkpoint import Checkpointer
from hwsnn.train.config import load_config
from hwsnn.train.loop import check_finite_params
from hwsnn.train.run import Run


def restore_run(workdir: str | os.PathLike, dataset: Dataset | None = None) -> tuple[Run, object]:
    """The :class:`Run` of a training folder and its latest readable checkpointed state; the folder is not
    modified."""
    config = load_config(os.path.join(workdir, "config.json"))
    run = Run(config, dataset)
    checkpointer = Checkpointer(os.path.join(workdir, "checkpoints"), config.training.checkpoint_every)
    try:
        state = checkpointer.restore(run.state)[0]  # reads only: an unreadable newer step is reported, not moved
    finally:
        checkpointer.close()
    check_finite_params(state.params, f"checkpoint of {str(workdir)!r} at step {checkpointer.restored_step}")
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


def deploy(
    workdir: str | os.PathLike,
    hardware: str | None = None,
    *,
    dataset: Dataset | None = None,
    calibration_samples: int = 2000,
) -> tuple[Run, object, dict | None]:
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
    constants = _transfer(
        state.constants, target.state.constants, lambda name: "'hardware'" not in name and "'readout_scale'" not in name
    )
    deployed = dataclasses.replace(target.state, params=params, constants=constants, step=state.step)
    if not uncalibrated(nnx.merge(target.graphdef, deployed.params, deployed.constants)):
        return target, deployed, None
    checks.int_at_least(calibration_samples, "calibration_samples", 1)
    deployed = target.calibrate(deployed, "train", calibration_samples)
    return target, deployed, {"split": "train", "samples": min(calibration_samples, len(target.data.y_train))}
