"""The training loop: checkpoint resume, identical reruns, data parallelism on forced devices."""

import json
import os
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

from hwsnn.train.checkpoint import Checkpointer
from hwsnn.train.config import DataConfig, ModelConfig, TrainConfig, TrainingConfig
from hwsnn.train.loop import train_and_evaluate
from hwsnn.train.metrics import append_jsonl, read_jsonl
from hwsnn.train.run import Run

SMALL = TrainConfig(
    data=DataConfig(dataset="digits", encoding="rate"),
    model=ModelConfig(kind="mlp", hidden=(32,), timesteps=3),
    training=TrainingConfig(batch_size=32, epochs=2, checkpoint_every=10, eval_batch_size=200, learning_rate=1e-2),
)


def final_params(workdir):
    run = Run(SMALL)
    checkpointer = Checkpointer(os.path.join(workdir, "checkpoints"), SMALL.training.checkpoint_every)
    state = checkpointer.restore(run.state)[0]
    checkpointer.close()
    return state


def test_resume_reaches_the_same_parameters(tmp_path):
    full = train_and_evaluate(SMALL, tmp_path / "full", progress=False)
    split = tmp_path / "split"
    # stop at step 30 of 88 (mid-epoch, on a checkpoint), then rerun: it resumes from step 30
    train_and_evaluate(SMALL.replace(training={"max_steps": 30}), split, progress=False)
    assert Checkpointer(split / "checkpoints", 10).latest_step() == 30
    resumed = train_and_evaluate(SMALL, split, progress=False)
    a, b = final_params(tmp_path / "full"), final_params(split)
    assert int(a.step) == int(b.step) == 88
    for x, y in zip(jax.tree.leaves(a.params), jax.tree.leaves(b.params)):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    assert resumed["test_accuracy"] == full["test_accuracy"]
    # one record per epoch, each over the whole epoch: the partial one written at step 30 was replaced,
    # and the resumed epoch's sums were carried in the checkpoint
    keys = ("epoch", "step", "train_loss", "train_accuracy", "test_loss", "test_accuracy")
    records = lambda folder: [{k: r[k] for k in keys} for r in read_jsonl(folder / "metrics.jsonl")]
    assert records(split) == records(tmp_path / "full") and [r["epoch"] for r in records(split)] == [1, 2]
    records = [json.loads(line) for line in open(tmp_path / "full" / "metrics.jsonl")]
    assert [r["epoch"] for r in records] == [1, 2]
    assert (tmp_path / "full" / "training_curve.png").stat().st_size > 10_000


def test_identical_seeds_identical_metrics(tmp_path):
    config = SMALL.replace(training={"epochs": 1})
    train_and_evaluate(config, tmp_path / "a", progress=False)
    train_and_evaluate(config, tmp_path / "b", progress=False)
    drop = lambda r: {k: v for k, v in r.items() if k != "seconds"}
    a = [drop(json.loads(line)) for line in open(tmp_path / "a" / "metrics.jsonl")]
    b = [drop(json.loads(line)) for line in open(tmp_path / "b" / "metrics.jsonl")]
    assert a == b
    assert a[0]["test_accuracy"] > 0.6


PARALLEL_SCRIPT = """
import jax, json, numpy as np
from hwsnn.train.config import config_from_dict
from hwsnn.train.run import Run, batch_slice, epoch_order
from hwsnn.train.parallel import shard_batch
config = config_from_dict({"data": {"dataset": "digits", "encoding": "rate"},
                          "model": {"kind": "mlp", "hidden": [32], "timesteps": 3},
                          "training": {"batch_size": 32, "learning_rate": 1e-2}})
losses = {}
for n in (1, 4):
    run = Run(config, devices=jax.devices()[:n])
    state, out = run.state, []
    order = epoch_order(config, len(run.data.y_train), 0)
    for step in range(5):
        idx = batch_slice(config, order, step)
        x, y = shard_batch((run.inputs(run.data.x_train[idx]), run.data.y_train[idx]), run.mesh)
        state, metrics = run.train_step(state, x, y)
        out.append(float(metrics["loss"]) / 32)
    losses[n] = out
    shardings = {str(leaf.sharding.spec) for leaf in jax.tree.leaves(state.params)}
print(json.dumps({"devices": len(jax.devices()), "losses": losses, "param_specs": sorted(shardings)}))
"""


def test_data_parallel_on_four_devices_matches_one():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu")
    result = subprocess.run(
        [sys.executable, "-c", PARALLEL_SCRIPT], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["devices"] == 4
    np.testing.assert_allclose(report["losses"]["4"], report["losses"]["1"], rtol=1e-5)
    assert report["param_specs"] == ["P()"]  # replicated


def test_validation_images_are_held_out_of_training():
    from hwsnn.data import load_dataset
    from hwsnn.train.run import Run, hold_out

    data = load_dataset("digits")
    rest, (x_val, y_val) = hold_out(data, 300)
    assert len(y_val) == 300 and len(rest.y_train) == len(data.y_train) - 300
    # disjoint and complete: every training image is in exactly one of the two
    flat = lambda x: {row.tobytes() for row in x.reshape(len(x), -1)}
    assert flat(x_val).isdisjoint(flat(rest.x_train)) and flat(x_val) | flat(rest.x_train) == flat(data.x_train)
    run = Run(
        TrainConfig(data=DataConfig(dataset="digits", validation=300), model=ModelConfig(kind="mlp", hidden=(8,))), data
    )
    assert run.steps_per_epoch == (len(data.y_train) - 300) // 64
    assert 0.0 <= run.evaluate(None, "validation")["accuracy"] <= 1.0
    with pytest.raises(ValueError, match="validation: got 5000; allowed: fewer than the 1438 training images"):
        hold_out(data, 5000)
    with pytest.raises(ValueError, match="split: got 'validation'; allowed: \\['test', 'train'\\]"):
        Run(TrainConfig(data=DataConfig(dataset="digits"), model=ModelConfig(kind="mlp", hidden=(8,))), data).evaluate(
            None, "validation"
        )


@pytest.mark.parametrize("learn", [False, True])
def test_sense_amplifier_gains_learn_only_when_asked(learn):
    """``hardware.learn_scale``: the per-column log gains over the calibrated scales get a gradient (and
    so an optimizer update); otherwise they are held constant, with no gradient to compute. The flag
    needs a sense-amplifier preset."""
    import jax.numpy as jnp
    from flax import nnx

    from hwsnn.layers import Context

    config = TrainConfig(
        data=DataConfig(dataset="digits"), model=ModelConfig(kind="mlp", hidden=(8,), timesteps=2)
    ).replace(hardware={"preset": "rram-sa", "learn_scale": learn})
    layer = Run(config).model.layers[-1]  # 8 -> 10 on crossbars
    x = jnp.asarray((np.random.default_rng(0).random((2, 4, 8)) < 0.5).astype(np.float32))
    layer.synapse(x, Context(jax.random.key(0), calibrate=True))
    grads = nnx.grad(lambda m: jnp.sum(m.synapse(x, Context(jax.random.key(0))) ** 2))(layer)
    assert bool(np.any(np.asarray(grads["readout_scale"]["log_gain"][...]) != 0)) == learn
    assert float(np.abs(np.asarray(grads["kernel"][...])).sum()) > 0
    with pytest.raises(
        ValueError, match="hardware.learn_scale: got True with preset 'rram-adc'; allowed: a sense-amplifier preset"
    ):
        config.replace(hardware={"preset": "rram-adc", "learn_scale": True})


def test_a_corrupted_checkpoint_is_set_aside_and_the_last_intact_one_used(tmp_path):
    full = tmp_path / "full"
    train_and_evaluate(SMALL, full, progress=False)
    broken = tmp_path / "broken"
    train_and_evaluate(SMALL.replace(training={"max_steps": 30}), broken, progress=False)  # checkpoints 10, 20, 30
    for root, _, files in os.walk(broken / "checkpoints" / "30"):  # every data file of the newest step overwritten
        for name in files:
            if os.path.basename(root) == "d":
                (Path(root) / name).write_bytes(b"not a checkpoint")
    with open(broken / "metrics.jsonl", "a") as handle:  # and a metrics line cut short by a kill
        handle.write('{"epoch": 1, "step": 3')
    with pytest.warns(UserWarning) as caught:
        train_and_evaluate(SMALL, broken, progress=False)
    messages = [str(w.message) for w in caught]
    assert any(
        f"step folder {broken / 'checkpoints' / '30'} cannot be read" in m and "corrupted-30" in m for m in messages
    )
    assert any("metrics.jsonl, line 2: dropped a partial last line" in m for m in messages)
    assert (broken / "checkpoints" / "corrupted-30").is_dir()  # kept for inspection
    for x, y in zip(jax.tree.leaves(final_params(full).params), jax.tree.leaves(final_params(broken).params)):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))  # resumed from step 20: the same run
    timeless = lambda folder: [
        {k: v for k, v in r.items() if k != "seconds"} for r in read_jsonl(folder / "metrics.jsonl")
    ]
    assert timeless(broken) == timeless(full)  # one record per epoch, each over the whole epoch


def test_metrics_lines_are_checked(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"epoch": 1}\n{"epoch": 2\n{"epoch": 3}\n')
    with pytest.raises(
        ValueError, match=r"metrics.jsonl, line 2: not a metrics record .*allowed: one JSON object per line"
    ):
        read_jsonl(path)
    path.write_text('{"epoch": 1}\n[1, 2]\n')
    with pytest.raises(ValueError, match=r"line 2: not a metrics record \(a JSON list, not an object\)"):
        read_jsonl(path)
    path.write_text('{"epoch": 1}\n{"epo')
    with pytest.warns(UserWarning, match="line 2: dropped a partial last line"):
        assert read_jsonl(path) == [{"epoch": 1}]
    append_jsonl(path, {"epoch": 2})  # an append rewrites the file whole, without the partial line
    assert path.read_text() == '{"epoch": 1}\n{"epoch": 2}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.jsonl"]  # no temporary file left behind


def test_a_checkpoint_of_the_earlier_layout_restores(tmp_path):
    # a step saved as Orbax's single default item (before the epoch's progress was saved beside the state)
    import orbax.checkpoint as ocp

    manager = ocp.CheckpointManager(tmp_path, options=ocp.CheckpointManagerOptions(create=True))
    manager.save(7, args=ocp.args.StandardSave({"w": np.arange(3.0)}))
    manager.wait_until_finished()
    manager.close()
    state, progress = Checkpointer(tmp_path, 10).restore({"w": np.zeros(3)})
    np.testing.assert_array_equal(np.asarray(state["w"]), [0.0, 1.0, 2.0])
    assert progress is None and not (tmp_path / "corrupted-7").exists()


def test_a_network_that_fires_no_spike_is_reported(tmp_path):
    silent = SMALL.replace(neuron={"threshold": 1e6}, training={"epochs": 1})
    with pytest.warns(
        UserWarning, match=r"epoch 1: the network fired no spike in training, .*neuron.threshold 1000000.0"
    ):
        summary = train_and_evaluate(silent, tmp_path, progress=False)
    assert summary["test_spikes_per_sample"] == 0


def test_rerunning_a_finished_run_changes_nothing(tmp_path, capsys):
    first = train_and_evaluate(SMALL.replace(training={"epochs": 1}), tmp_path, progress=False)
    written = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    capsys.readouterr()
    assert train_and_evaluate(SMALL.replace(training={"epochs": 1}), tmp_path, progress=False) == first
    assert "this run has finished (step 44 of 44); nothing to train, summary.json unchanged" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == written


def test_progress_in_a_log_file_is_one_line_per_epoch(tmp_path, capsys):
    # stderr is not a terminal here (as in a log file): no bar of carriage returns, a line per epoch
    summary = train_and_evaluate(SMALL, tmp_path, progress=True)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("epoch ")]
    assert "\r" not in err and [line.split(",")[0] for line in lines] == ["epoch 1/2", "epoch 2/2"]
    assert f"test accuracy {100 * summary['test_accuracy']:.1f} %" in lines[-1]


def test_an_unwritable_workdir_is_refused_before_anything_runs(tmp_path, monkeypatch):
    # (the suite runs as root, for whom every folder is writable: the permission check is simulated)
    from hwsnn.train.loop import check_run_folder

    monkeypatch.setattr(os, "access", lambda path, mode: path != str(tmp_path))
    with pytest.raises(ValueError, match=rf"workdir: '{tmp_path}' is not writable; allowed: a folder you can write in"):
        check_run_folder(SMALL, tmp_path / "new" / "run")
    assert list(tmp_path.iterdir()) == []


def test_a_checkpoint_of_another_structure_is_refused_not_set_aside(tmp_path):
    # readable files holding another model's state: an error naming the folder; nothing is moved
    import jax.numpy as jnp

    checkpointer = Checkpointer(tmp_path, 1)
    checkpointer.maybe_save(3, {"w": jnp.zeros(3)}, force=True)
    checkpointer.close()
    for like, reason in (
        ({"w": jnp.zeros(4)}, "Requested shape: \\(4,\\) is not compatible with the stored shape: \\(3,\\)"),
        ({"w": jnp.zeros(3), "b": jnp.zeros(2)}, "structures do not match"),
    ):
        with pytest.raises(
            ValueError, match=rf"step folder {tmp_path / '3'} holds a state of another structure .*{reason}"
        ):
            Checkpointer(tmp_path, 1).restore(like)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["3"]


def _files(folder: Path) -> dict:
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_restart_with_a_config_the_data_refuses_keeps_the_old_run(tmp_path):
    """--restart discards the old run only after the new config is accepted against the data."""
    train_and_evaluate(SMALL.replace(training={"epochs": 1}), tmp_path, progress=False)
    before = _files(tmp_path)
    for bad, message in (
        ({"training": {"batch_size": 4096}}, "training.batch_size: 4096 exceeds the"),
        ({"data": {"validation": 5000}}, "validation: got 5000; allowed: fewer than"),
    ):
        with pytest.raises(ValueError, match=message):
            train_and_evaluate(SMALL.replace(**bad), tmp_path, progress=False, restart=True)
        assert _files(tmp_path) == before


def test_a_run_without_its_config_is_not_rewritten_by_a_model_its_checkpoint_refuses(tmp_path):
    train_and_evaluate(SMALL.replace(training={"epochs": 1}), tmp_path, progress=False)
    (tmp_path / "config.json").unlink()
    before = _files(tmp_path)
    with pytest.raises(ValueError, match="holds a state of another structure"):
        train_and_evaluate(SMALL.replace(model={"hidden": (16,)}), tmp_path, progress=False)
    assert _files(tmp_path) == before  # no config.json written for a run it cannot continue


def test_reading_a_run_never_moves_its_checkpoints(tmp_path, monkeypatch):
    """Evaluation reports an unreadable step and restores an older one, moving nothing; a permission error is not
    corruption; when no step can be read, evaluation and training both stop and say so, moving nothing."""
    from hwsnn.train.deploy import restore_run

    train_and_evaluate(SMALL.replace(training={"max_steps": 30}), tmp_path, progress=False)  # steps 10, 20, 30
    data_files = lambda step: [
        Path(root) / name
        for root, _, files in os.walk(tmp_path / "checkpoints" / str(step))
        if os.path.basename(root) == "d"
        for name in files
    ]
    for path in data_files(30):
        path.write_bytes(b"not a checkpoint")
    before = _files(tmp_path)
    with pytest.warns(UserWarning, match=r"step folder .*/30 cannot be read .*left in place .*restored step 20"):
        _, state = restore_run(tmp_path)
    assert int(state.step) == 20 and _files(tmp_path) == before

    def refused(self, step, abstract=None):
        raise PermissionError(13, "Permission denied", str(tmp_path / "checkpoints" / str(step)))

    with monkeypatch.context() as patch:
        patch.setattr(Checkpointer, "_read", refused)
        with pytest.raises(PermissionError, match=r"step folder .*/30 cannot be opened .*nothing was moved"):
            restore_run(tmp_path)
    assert _files(tmp_path) == before
    for step in (10, 20):
        for path in data_files(step):
            path.write_bytes(b"not a checkpoint")
    before = _files(tmp_path)
    for attempt in (lambda: restore_run(tmp_path), lambda: train_and_evaluate(SMALL, tmp_path, progress=False)):
        with pytest.raises(FileNotFoundError, match=r"none of the saved steps \[30, 20, 10\] .*nothing was moved"):
            attempt()
        assert _files(tmp_path) == before  # metrics.jsonl kept: no silent retraining from step 0


def test_non_finite_metrics_stop_the_run_and_are_never_written(tmp_path):
    from hwsnn.train.loop import check_finite_record
    from hwsnn.train.metrics import write_jsonl

    record = {"epoch": 2, "step": 88, "train_loss": 0.5, "test_spikes_per_sample": float("inf")}
    with pytest.raises(
        ValueError,
        match=r"epoch 2's metrics \['test_spikes_per_sample'\] are not finite \(test_spikes_per_sample = inf\); "
        r"the run stopped before writing them \(the last checkpoint, step 80, is kept\)",
    ):
        check_finite_record(record, 80)
    check_finite_record({**record, "test_spikes_per_sample": 3.0}, 80)
    path = tmp_path / "metrics.jsonl"
    write_jsonl(path, [{"epoch": 1, "train_loss": 0.7}])
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        write_jsonl(path, [{"epoch": 1, "train_loss": 0.7}, record])
    assert path.read_text() == '{"epoch": 1, "train_loss": 0.7}\n'  # strict JSON: the old file stays whole


def test_one_writer_per_run_folder(tmp_path):
    """A second writer is refused while the first holds the folder's lock; a lock left by a process that no longer
    runs is reported and taken over (a killed run resumes); the lock is gone when the writer ends."""
    import socket

    from hwsnn.train.lock import LOCK_NAME, RunLock

    config = SMALL.replace(training={"epochs": 1})
    with RunLock(tmp_path):
        with pytest.raises(ValueError, match=rf"workdir: '{tmp_path}' is being written by process {os.getpid()}"):
            train_and_evaluate(config, tmp_path, progress=False)
    assert not (tmp_path / LOCK_NAME).exists() and not (tmp_path / "checkpoints").exists()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (tmp_path / LOCK_NAME).write_text(json.dumps({"pid": int(dead.stdout), "host": socket.gethostname()}))
    with pytest.warns(UserWarning, match=rf"removed the stale lock .* of process {int(dead.stdout)} .*no longer runs"):
        train_and_evaluate(config, tmp_path, progress=False)
    assert (tmp_path / "summary.json").exists() and not (tmp_path / LOCK_NAME).exists()
    (tmp_path / LOCK_NAME).write_text(json.dumps({"pid": 1, "host": "another-host"}))
    with pytest.raises(ValueError, match="is being written by process 1 on another-host"):
        train_and_evaluate(config, tmp_path, progress=False)
