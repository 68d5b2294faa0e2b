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
        self.restored_step: int | None = None
        """The step the last :meth:`restore` read (``None`` before one)."""

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

    def restore(self, like, step: int | None = None, *, set_aside: bool = False):
        """``(state, progress)`` of ``step``, or by default of the newest readable step: the state with the
        structure, dtypes and shardings of ``like``, and the ``progress`` values saved with it (``None``
        where none were).

        The step read is kept as :attr:`restored_step`. A step folder whose files cannot be decoded (a
        corrupted or truncated file) is reported in a warning naming it and the next older step is tried.
        With ``set_aside`` (training, the one writer of a run folder) the unreadable newer steps are moved
        to ``corrupted-<step>`` in the same directory (kept for inspection, out of Orbax's list, so that
        training can save those steps again) once an older step has been read; otherwise (evaluation,
        costing, search) they are left where they are. Nothing is moved when no step can be read, nor on a
        permission error, which a retry may not repeat.

        Raises:
          FileNotFoundError: nothing is saved, or no saved step can be read (nothing moved).
          PermissionError: a step folder cannot be opened (nothing moved).
          ValueError: a step's files read but hold a state of another structure than ``like``.
        """
        steps = [step] if step is not None else sorted(self._manager.all_steps(), reverse=True)
        if not steps:
            raise FileNotFoundError(f"checkpoint: no saved step in {self.directory}.")
        abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, like)
        unreadable = []
        for candidate in steps:
            try:
                restored = self._read(candidate, abstract)
            except Exception as error:
                if step is not None:
                    raise
                folder = os.path.join(self.directory, str(candidate))
                if _permission_error(error):
                    raise PermissionError(
                        f"checkpoint: step folder {folder} cannot be opened ({_first_line(error)}); nothing was "
                        "moved; allowed: a checkpoint folder this process can read."
                    ) from None
                if self._readable(candidate):  # the files are fine: the state has another structure than ``like``
                    raise ValueError(
                        f"checkpoint: step folder {folder} holds a "
                        f"state of another structure than this run's ({_first_line(error)}); allowed: a "
                        "checkpoint of the same model (its own config)."
                    ) from None
                unreadable.append((candidate, error))
                continue
            for newer, error in unreadable:
                self._report(newer, error, candidate, set_aside)
            self.restored_step = candidate
            return restored
        raise FileNotFoundError(
            f"checkpoint: none of the saved steps {steps} in {self.directory} can be read ("
            + "; ".join(f"step {s}: {_first_line(e)}" for s, e in unreadable)
            + "); nothing was moved; allowed: a directory with a readable step, or `hwsnn train --restart` to "
            "discard the run."
        )

    def _read(self, step: int, abstract=None):
        """``(state, progress)`` of ``step``, shaped as ``abstract`` (``None``: as stored)."""
        target = ocp.args.StandardRestore(abstract)
        folder = os.path.join(self.directory, str(step))
        if os.path.isdir(os.path.join(folder, "default")):  # written before progress was saved: the state alone
            return self._manager.restore(step, args=target), None
        items = {"state": target}
        if os.path.isdir(os.path.join(folder, "progress")):
            items["progress"] = ocp.args.JsonRestore()
        restored = self._manager.restore(step, args=ocp.args.Composite(**items))
        return restored["state"], restored.get("progress")

    def _readable(self, step: int) -> bool:
        """Whether ``step``'s files read as they were stored (whatever their structure)."""
        try:
            self._read(step)
            return True
        except Exception:  # any failure to read the files: the step is unusable
            return False

    @property
    def directory(self) -> str:
        """The checkpoint folder (absolute path): one sub-folder per saved step."""
        return str(self._manager.directory)

    def _report(self, step: int, error: Exception, restored: int, set_aside: bool) -> None:
        """Warn that ``step`` could not be read and ``restored`` was; with ``set_aside`` move ``step`` aside."""
        folder = os.path.join(self.directory, str(step))
        where = "left in place (only training sets a step aside)"
        if set_aside:
            aside = os.path.join(self.directory, f"corrupted-{step}")
            suffix = 1
            while os.path.exists(aside):
                aside, suffix = os.path.join(self.directory, f"corrupted-{step}.{suffix}"), suffix + 1
            os.replace(folder, aside)
            self._manager.reload()
            where = f"moved to {aside}"
        warnings.warn(
            f"checkpoint: step folder {folder} cannot be read ({_first_line(error)}); {where}; "
            f"restored step {restored}.",
            stacklevel=4,
        )

    def close(self) -> None:
        """Wait for pending (asynchronous) saves and release the manager."""
        self._manager.wait_until_finished()
        self._manager.close()


def _permission_error(error: BaseException) -> bool:
    """Whether a ``PermissionError`` is ``error`` or in its chain of causes (an I/O failure, not corruption)."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, PermissionError):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def _first_line(error: Exception) -> str:
    """``Type: first line of the message`` (at most 200 characters) of an error, for a one-line report."""
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0][:200]}" if text else type(error).__name__
