"""One writer per run folder: a lock file holding the writer's process id and host.

``hwsnn train`` (with or without ``--restart``) and ``hwsnn search`` hold :class:`RunLock` on their run folder while
they write it; a second writer is refused with an error naming the holder. A lock left by a process that no longer
runs on this host (killed with ``kill -9``, or a crashed machine's process id) is stale: it is reported in a warning
and taken over, so a killed run resumes. A lock held from another host cannot be checked from here and is refused.
"""

from __future__ import annotations

import json
import os
import socket
import warnings

LOCK_NAME = ".hwsnn.lock"
"""The lock file's name inside a run folder."""


def _running(pid: int) -> bool:
    """Whether a process ``pid`` runs on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it runs, as another user
        return True
    return True


class RunLock:
    """``with RunLock(workdir):`` holds ``workdir``'s lock (module doc); the folder must exist.

    Raises (on entry):
      ValueError: another running process, or a process on another host, holds the lock.
    """

    def __init__(self, workdir: str | os.PathLike):
        self.workdir = str(workdir)
        self.path = os.path.join(self.workdir, LOCK_NAME)
        self.holder = {"pid": os.getpid(), "host": socket.gethostname()}

    def __enter__(self) -> "RunLock":
        while True:
            try:
                descriptor = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                self._clear_stale()
                continue
            with os.fdopen(descriptor, "w") as handle:
                json.dump(self.holder, handle)
            return self

    def _clear_stale(self) -> None:
        """Remove a stale lock with a warning, or raise ``ValueError`` naming the live holder."""
        try:
            with open(self.path) as handle:
                holder = json.load(handle)
            pid, host = int(holder["pid"]), str(holder["host"])
        except FileNotFoundError:  # released meanwhile
            return
        except (ValueError, KeyError, TypeError):  # half-written or foreign: nothing proves a writer runs
            pid, host = None, self.holder["host"]
        if host != self.holder["host"] or (pid is not None and _running(pid)):
            raise ValueError(
                f"workdir: {self.workdir!r} is being written by process {pid} on {host} (lock {self.path}); "
                "allowed: one hwsnn train, --restart or search per run folder at a time (if that process is gone, "
                "remove the lock file)."
            )
        warnings.warn(
            f"workdir: removed the stale lock {self.path} of process {pid} on {host}, which no longer runs.",
            stacklevel=3,
        )
        try:
            os.remove(self.path)
        except FileNotFoundError:
            pass

    def __exit__(self, *exc) -> None:
        try:
            with open(self.path) as handle:
                ours = json.load(handle) == self.holder
        except (OSError, ValueError):
            return
        if ours:
            os.remove(self.path)
