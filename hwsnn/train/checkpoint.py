"""Checkpoints through Orbax (the only module that imports it): atomic, resumable, typed restore."""

from __future__ import annotations

import os
import warnings
from typing import Callable

import jax
import orbax.checkpoint as ocp


class Checkpointer:
    """Save a state pytree every ``every_steps`` steps; restore the latest into an abstract state.

    Orbax writes each step to a temporary folder and renames it when complete, so an
    interrupted save never leaves a half-written checkpoint behind.
    """

    def __init__(self, directory: str | os.PathLike, every_steps: int, max_to_keep: int = 3):
        if every_steps < 1:
            raise ValueError(f"every_steps: got {every_steps}; allowed: an int >= 1.")
        options = ocp.CheckpointManagerOptions(save_interval_steps=every_steps, max_to_keep=max_to_keep, create=True)
        self._manager = ocp.CheckpointManager(os.path.abspath(directory), options=options)

    def maybe_save(self, step: int, state, *, progress: Callable[[], dict] | None = None, force: bool = False) -> bool:
        """Save at ``step`` if it is a multiple of ``every_steps`` (or ``force``); returns whether it saved.
        ``progress()`` (called only when saving: it may read device values) gives JSON values saved beside
        the state, such as a training loop's running sums over the epoch so far."""
        if not force and not self.due(step):
            return False
        items = {"state": ocp.args.StandardSave(state)}
        if progress is not None:
            items["progress"] = ocp.args.JsonSave(progress())
        return self._manager.save(step, args=ocp.args.Composite(**items), force=force)

    def due(self, step: int) -> bool:
        """Whether :meth:`maybe_save` at ``step`` would save."""
        return self._manager.should_save(step)

    def latest_step(self) -> int | None:
        """The newest saved step, or ``None`` if nothing is saved."""
        return self._manager.latest_step()

    def restore(self, like, step: int | None = None):
        """``(state, progress)`` of ``step``, or by default of the newest readable step: the state with the
        structure, dtypes and shardings of ``like``, and the ``progress`` values saved with it (``None``
        where none were).

        A step folder that cannot be read (a corrupted or truncated file) is reported in a warning
        naming it, moved aside to ``corrupted-<step>`` in the same directory (kept for inspection,
        out of Orbax's list, so that training can save that step again), and the next older step
        is tried.

        Raises:
          FileNotFoundError: nothing is saved, or no saved step can be read.
        """
        steps = [step] if step is not None else sorted(self._manager.all_steps(), reverse=True)
        if not steps:
            raise FileNotFoundError(f"checkpoint: no saved step in {self.directory}.")
        abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, like)
        for candidate in steps:
            folder = os.path.join(self.directory, str(candidate))
            try:
                if os.path.isdir(os.path.join(folder, "default")):  # written before progress was saved: the state alone
                    return self._manager.restore(candidate, args=ocp.args.StandardRestore(abstract)), None
                items = {"state": ocp.args.StandardRestore(abstract)}
                if os.path.isdir(os.path.join(folder, "progress")):
                    items["progress"] = ocp.args.JsonRestore()
                restored = self._manager.restore(candidate, args=ocp.args.Composite(**items))
                return restored["state"], restored.get("progress")
            except Exception as error:  # any failure to read a step's files: that step is unusable
                if step is not None:
                    raise
                self._set_aside(candidate, error)
        raise FileNotFoundError(f"checkpoint: none of the saved steps {steps} in {self.directory} can be read "
                                "(each was moved aside to corrupted-<step>); allowed: a directory with a readable step.")

    @property
    def directory(self) -> str:
        """The checkpoint folder (absolute path): one sub-folder per saved step."""
        return str(self._manager.directory)

    def _set_aside(self, step: int, error: Exception) -> None:
        folder = os.path.join(self.directory, str(step))
        aside = os.path.join(self.directory, f"corrupted-{step}")
        suffix = 1
        while os.path.exists(aside):
            aside, suffix = os.path.join(self.directory, f"corrupted-{step}.{suffix}"), suffix + 1
        os.replace(folder, aside)
        self._manager.reload()
        reason = str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__
        warnings.warn(f"checkpoint: step folder {folder} cannot be read ({type(error).__name__}: {reason}); moved to "
                      f"{aside}, trying the next older step.", stacklevel=3)

    def close(self) -> None:
        """Wait for pending (asynchronous) saves and release the manager."""
        self._manager.wait_until_finished()
        self._manager.close()
