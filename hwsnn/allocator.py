"""Keep freed memory in the process: glibc malloc settings for the ``hwsnn`` command.

XLA on CPU takes each step's large temporaries (convolution outputs, scan stacks, gradients)
from ``malloc``. Glibc serves blocks above its mmap threshold (128 KiB, raised dynamically to at
most 32 MiB) with fresh ``mmap`` calls and gives the top of its heap back to the kernel once
128 KiB of it are free (its trim threshold), so every training step page-faults its buffers in
anew: on the main job (``hwsnn train``) that was 22 s of system time in a 51 s run. Raising both
thresholds and the heap's top pad (``mallopt``, as ``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_``
and ``MALLOC_TOP_PAD_`` would at start-up) lets freed blocks be reused: 3 s of system time; the process
holds on to its peak memory instead.
``keep_freed_memory`` is a process setting, so the command calls it and the library never does;
call it at the start of your own training script for the same effect.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3  # glibc's malloc.h
MMAP_THRESHOLD = 1 << 30  # 1 GiB: blocks below it come from the heap and are reused when freed
TRIM_THRESHOLD = (1 << 31) - 1  # the largest int: free heap memory is kept
TOP_PAD = 1 << 29  # 512 MiB: the heap grows in large steps


def keep_freed_memory() -> bool:
    """Raise glibc malloc's mmap and trim thresholds and its top pad for this process; ``False`` where the C
    library is not glibc (no ``mallopt``), which then keeps its defaults."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    settings = ((M_MMAP_THRESHOLD, MMAP_THRESHOLD), (M_TRIM_THRESHOLD, TRIM_THRESHOLD), (M_TOP_PAD, TOP_PAD))
    return all(bool(mallopt(option, value)) for option, value in settings)
