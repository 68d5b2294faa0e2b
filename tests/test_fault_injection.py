"""Fault injection: a real ``hwsnn train`` process killed with SIGKILL at random moments (during start-up,
training, evaluation or a checkpoint write), then rerun until it finishes, ends with the same parameters,
optimizer state and metrics records as an uninterrupted run.

Slow (several fresh JAX processes): ``python3 -m pytest -m slow tests/test_fault_injection.py``.
"""

import json
import os
import signal
import subprocess
import sys
import time

import jax
import numpy as np
import pytest

from hwsnn.train.deploy import restore_run

FLAGS = [
    "--data.dataset",
    "digits",
    "--model.kind",
    "mlp",
    "--model.hidden",
    "32",
    "--model.timesteps",
    "3",
    "--data.encoding",
    "rate",
    "--training.epochs",
    "20",
    "--training.batch-size",
    "32",
    "--training.checkpoint-every",
    "7",
    "--no-progress",
]


def command(workdir):
    return [sys.executable, "-m", "hwsnn.cli", "train", "--workdir", str(workdir), *FLAGS]


def timeless_records(workdir):
    lines = (workdir / "metrics.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(line).items() if k != "seconds"} for line in lines]


@pytest.mark.slow
def test_a_run_killed_at_random_points_ends_as_an_uninterrupted_one(tmp_path):
    reference, victim = tmp_path / "reference", tmp_path / "victim"
    subprocess.run(command(reference), check=True, capture_output=True)
    rng = np.random.default_rng(0)
    kills = 0
    for _ in range(6):  # kill at a random moment; a process that finished first just ends the loop
        process = subprocess.Popen(command(victim), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(float(rng.uniform(4.0, 14.0)))
        if process.poll() is not None:
            break
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        kills += 1
    assert kills >= 3
    subprocess.run(command(victim), check=True, capture_output=True)  # resume to the end
    (_, expected), (_, got) = restore_run(reference), restore_run(victim)
    assert int(got.step) == int(expected.step)
    for a, b in zip(
        jax.tree.leaves((expected.params, expected.opt_state)), jax.tree.leaves((got.params, got.opt_state))
    ):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert timeless_records(victim) == timeless_records(reference)  # one record per epoch, each over the whole epoch
    assert (
        json.loads((victim / "summary.json").read_text())["test_accuracy"]
        == json.loads((reference / "summary.json").read_text())["test_accuracy"]
    )
