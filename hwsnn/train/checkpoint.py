"""Checkpoints through Orbax (the only module that imports it): atomic, resumable, typed restore."""

from __future__ import annotations

import os

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

    def maybe_save(self, step: int, state, *, force: bool = False) -> bool:
        """Save at ``step`` if it is a multiple of ``every_steps`` (or ``force``); returns whether it saved."""
        return self._manager.save(step, args=ocp.args.StandardSave(state), force=force)

    def latest_step(self) -> int | None:
        """The newest saved step, or ``None`` if nothing is saved."""
        return self._manager.latest_step()

    def restore(self, like, step: int | None = None):
        """Restore ``step`` (latest by default) with the structure, dtypes and shardings of ``like``."""
        step = self.latest_step() if step is None else step
        if step is None:
            raise FileNotFoundError("checkpoint: no saved step in this directory.")
        abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, like)
        return self._manager.restore(step, args=ocp.args.StandardRestore(abstract))

    def close(self) -> None:
        """Wait for pending (asynchronous) saves and release the manager."""
        self._manager.wait_until_finished()
        self._manager.close()
