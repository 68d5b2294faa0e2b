"""The hwsnn command's malloc settings: freed large blocks are reused, not page-faulted in again."""

import subprocess
import sys

import hwsnn.allocator
from hwsnn import cli

# allocate, touch and free 64 MiB five times (above glibc's largest dynamic mmap threshold), counting minor page faults
FAULTS = """
import resource, sys, numpy as np
if sys.argv[1] == "keep":
    from hwsnn.allocator import keep_freed_memory
    assert keep_freed_memory()
touch = lambda: float(np.ones(16 * 2**20, np.float32)[::1024].sum())
touch()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    touch()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def faults(mode: str) -> int:
    return int(subprocess.run([sys.executable, "-c", FAULTS, mode], check=True, capture_output=True, text=True).stdout)


def test_freed_memory_is_reused_without_page_faults():
    default, kept = faults("default"), faults("keep")
    assert default > 100  # glibc's defaults: each 64 MiB block is mmapped and faulted in anew
    assert kept < default / 20


def test_the_command_keeps_freed_memory(monkeypatch):
    calls = []
    monkeypatch.setattr(hwsnn.allocator, "keep_freed_memory", lambda: calls.append(True) or True)
    assert cli.main(["train", "--training.epochs", "0"]) == 2  # refused, after the setting
    assert calls == [True]
