"""The hwsnn command: train, evaluate, config files and flag overrides, help and errors."""

import json
import subprocess
import sys

import jax
import numpy as np
import pytest
from flax import nnx

from hwsnn.cli import main
from hwsnn.train.config import NeuronConfig, TrainConfig, config_from_dict, load_config


def test_train_then_evaluate(tmp_path, capsys):
    config = tmp_path / "run.yaml"
    config.write_text(
        "data:\n  dataset: digits\nmodel: {kind: mlp, hidden: [32], timesteps: 3}\n"
        "training: {batch_size: 32, epochs: 1, learning_rate: 0.01}\n"
    )
    workdir = tmp_path / "run"
    assert (
        main(["train", "--config", str(config), "--workdir", str(workdir), "--data.encoding", "rate", "--no-progress"])
        == 0
    )
    summary = json.loads((workdir / "summary.json").read_text())
    saved = json.loads((workdir / "config.json").read_text())
    assert saved["data"] == {
        "dataset": "digits",
        "data_dir": None,
        "validation": 0,
        "encoding": "rate",
        "frames": "count",
    }  # file, then flag
    assert saved["model"]["hidden"] == [32] and saved["training"]["learning_rate"] == 0.01
    assert load_config(workdir / "config.json") == load_config(config).replace(data={"encoding": "rate"})
    assert (workdir / "training_curve.png").exists()
    capsys.readouterr()
    assert main(["evaluate", "--workdir", str(workdir)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["accuracy"] == pytest.approx(summary["test_accuracy"])
    assert result["step"] == 44


def test_help_shows_examples():
    out = subprocess.run([sys.executable, "-m", "hwsnn.cli", "train", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "examples:" in out.stdout and "--neuron.surrogate" in out.stdout


def test_bad_values_are_reported(capsys):
    assert main(["train", "--neuron.beta", "1.5", "--workdir", "/nonexistent/x"]) == 2
    assert "neuron.beta: got 1.5; allowed: >= 0 and <= 1" in capsys.readouterr().err
    assert main(["train", "--training.epochs", "many"]) == 2
    assert "training.epochs: got 'many'; allowed: int" in capsys.readouterr().err
    assert main(["train", "--model.hidden", "16,x", "--training.epochs", "0"]) == 2
    err = capsys.readouterr().err  # every bad field of every section at once
    assert "model.hidden: got '16,x'" in err and "training.epochs: got 0; allowed: >= 1" in err


def test_config_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="config"):
        load_config(tmp_path / "none.json")
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="mapping"):
        load_config(tmp_path / "list.json")
    with pytest.raises(
        ValueError,
        match="unknown keys \\['lr'\\]; allowed: the sections \\['data', 'model', 'neuron', "
        "'hardware', 'energy', 'training'\\]",
    ):
        config_from_dict({"lr": 0.1})
    with pytest.raises(ValueError, match="'hidden' is a field of section 'model' \\(write model: \\{hidden: ...\\}\\)"):
        config_from_dict({"hidden": [16]})  # a flat file names where each key belongs
    with pytest.raises(ValueError, match="training: unknown fields \\['hidden'\\]; allowed: \\['loss', "):
        config_from_dict({"training": {"hidden": [16]}})
    with pytest.raises(ValueError, match="section 'model' holds 3; allowed: a mapping of its fields"):
        config_from_dict({"model": 3})
    with pytest.raises(ValueError, match="neuron.surrogate: got 'relu'; allowed: \\['fast_sigmoid', 'atan'"):
        NeuronConfig(surrogate="relu")
    with pytest.raises(ValueError, match="neuron: got \\{'kind': 'lif'\\}; allowed: a NeuronConfig"):
        TrainConfig(neuron={"kind": "lif"})
    (tmp_path / "bad.yaml").write_text("model: {kind: mlp\ntraining: [")
    with pytest.raises(ValueError, match=r"config: '.*bad.yaml' is not valid YAML \(.*\); allowed: a file of sections"):
        load_config(tmp_path / "bad.yaml")
    (tmp_path / "bad.json").write_text('{"model": ')
    with pytest.raises(ValueError, match=r"is not valid JSON \(Expecting value: line 1 column 11"):
        load_config(tmp_path / "bad.json")
    with pytest.raises(ValueError, match=r"training.seed: got 99999999999999999999; allowed: >= 0 and <= 9.22337e\+18"):
        config_from_dict({"training": {"seed": 99999999999999999999}})
    (tmp_path / "c.json").write_text(json.dumps({"model": {"channels": [8, 8]}, "neuron": {"learn_beta": "true"}}))
    config = load_config(tmp_path / "c.json")
    assert config.model.channels == (8, 8) and config.neuron.learn_beta is True
    assert config == TrainConfig().replace(model={"channels": (8, 8)}, neuron={"learn_beta": True})


def test_cost_command_on_a_checkpoint_and_on_a_config(tmp_path, capsys):
    workdir = tmp_path / "run"
    assert (
        main(
            [
                "train",
                "--workdir",
                str(workdir),
                "--data.dataset",
                "digits",
                "--model.kind",
                "mlp",
                "--model.hidden",
                "16",
                "--model.timesteps",
                "3",
                "--training.epochs",
                "1",
                "--no-progress",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["cost", "--workdir", str(workdir), "--samples", "100"]) == 0
    printed = capsys.readouterr().out
    rows = {r["preset"]: r for r in json.loads((workdir / "cost" / "cost.json").read_text())}
    assert set(rows) == {
        "naive-fp32",
        "naive-int8",
        "systolic-sata",
        "systolic-sata-tsweep",
        "rram-adc",
        "rram-sa",
        "event-fpga",
    }
    assert "systolic-sata" in printed and "SNN/ANN" in printed
    # the ANN baseline of the naive model is E_MAC x MACs: 4.6 pJ x (64 x 16 + 16 x 10)
    assert rows["naive-fp32"]["ann_energy_pj"] == pytest.approx(4.6 * (64 * 16 + 16 * 10), rel=1e-6)
    assert rows["rram-adc"]["area_mm2"] > 0 and rows["event-fpga"]["snn_latency_ns"] > 0
    assert (workdir / "cost" / "energy_breakdown.png").stat().st_size > 20_000
    assert (workdir / "cost" / "layer_breakdown.png").stat().st_size > 20_000
    assert "rram-adc by layer" in printed and "layer1" in printed
    for row in rows.values():  # the layers' shares add up to the totals
        assert [layer["layer"] for layer in row["layers"]] == ["layer0", "layer1"]
        assert sum(layer["snn_energy_pj"] for layer in row["layers"]) == pytest.approx(row["snn_energy_pj"], rel=1e-6)
        assert sum(layer["ann_energy_pj"] for layer in row["layers"]) == pytest.approx(row["ann_energy_pj"], rel=1e-6)
    assert rows["rram-adc"]["layers"][0]["units"] >= 1 and rows["naive-fp32"]["layers"][0]["cycles"] is None
    config = tmp_path / "c.json"
    config.write_text(
        json.dumps({"data": {"dataset": "digits"}, "model": {"kind": "mlp", "hidden": [16], "timesteps": 3}})
    )
    assert (
        main(["cost", "--config", str(config), "--samples", "8", "--presets", "rram-sa", "--out", str(tmp_path / "o")])
        == 0
    )
    assert [r["preset"] for r in json.loads((tmp_path / "o" / "cost.json").read_text())] == ["rram-sa"]
    assert main(["cost", "--config", str(config), "--presets", "gpu"]) == 2
    assert "presets: unknown ['gpu']" in capsys.readouterr().err


def test_train_help_lists_the_allowed_values_of_every_choice(capsys):
    import dataclasses

    from hwsnn.train.config import SECTIONS, field_choices

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    help_text = " ".join(capsys.readouterr().out.split()).replace("- ", "-")  # argparse wraps at hyphens
    for name, allowed in field_choices().items():
        assert f"allowed: {', '.join(allowed)}" in help_text, name
    for name, section in SECTIONS.items():  # every field: its flag, description and default
        for field in dataclasses.fields(section):
            default = ",".join(map(str, field.default)) if isinstance(field.default, tuple) else field.default
            flag = f"--{name}.{field.name.replace('_', '-')}"
            entry = f"{flag} {field.type.replace(' ', '')} {field.metadata['help']} (default: {default}"
            assert entry in help_text, flag
            described = help_text[help_text.index(entry) + len(entry) :].split(")")[0]
            assert described.startswith("; allowed: "), flag  # every field says what it admits
    assert "--neuron.beta float membrane decay (default: 0.9; allowed: >= 0 and <= 1)" in help_text
    assert "allowed: lif, if, synaptic, rlif, alif" in help_text
    assert "--neuron.learn-beta bool learn beta per neuron (default: False; allowed: true or false)" in help_text


def test_config_selects_the_neuron_model():
    from hwsnn.neurons import ALIF, IF, Synaptic
    from hwsnn.train.builders import build_model

    for name, kind in (("synaptic", Synaptic), ("alif", ALIF), ("if", IF)):
        neuron = {"kind": name, "learn_threshold": "true", "alpha": "0.7", "rho": 0.5, "gamma": 1}
        model = build_model(config_from_dict({"neuron": neuron, "model": {"kind": "mlp", "hidden": [8]}}), (4, 4, 1), 3)
        neurons = model.layers[0].neurons
        assert type(neurons.model) is kind and neurons.model.learn == ("threshold",)
        assert isinstance(neurons.threshold, nnx.Param)
    assert float(
        build_model(config_from_dict({"neuron": {"kind": "synaptic", "alpha": 0.7}}), (8, 8, 1), 3)
        .layers[0]
        .neurons.alpha[...]
    ) == pytest.approx(0.7)
    assert (
        float(
            build_model(config_from_dict({"neuron": {"kind": "alif", "rho": 0.5}}), (8, 8, 1), 3)
            .layers[0]
            .neurons.rho[...]
        )
        == 0.5
    )
    with pytest.raises(
        ValueError, match="neuron.kind: got 'hh'; allowed: \\['lif', 'if', 'synaptic', 'rlif', 'alif'\\]"
    ):
        NeuronConfig(kind="hh")


@pytest.mark.parametrize(
    "values, message",
    [
        ({"model": {"hidden": [16.9]}}, "model.hidden: got \\[16.9\\]; allowed: tuple\\[int, ...\\]"),
        ({"training": {"epochs": 1.7}}, "training.epochs: got 1.7; allowed: int"),
        ({"training": {"epochs": True}}, "training.epochs: got True; allowed: int"),
        ({"neuron": {"beta": True}}, "neuron.beta: got True; allowed: finite float"),
        ({"neuron": {"learn_beta": "maybe"}}, "neuron.learn_beta: got 'maybe'; allowed: bool"),
        ({"neuron": {"learn_beta": 1}}, "neuron.learn_beta: got 1; allowed: bool"),
        ({"neuron": {"learn_beta": "1"}}, "neuron.learn_beta: got '1'; allowed: bool"),
        ({"neuron": {"learn_beta": "yes"}}, "neuron.learn_beta: got 'yes'; allowed: bool"),
        ({"model": {"hidden": "16,,32"}}, "model.hidden: got '16,,32'; allowed: tuple\\[int, ...\\]"),
        ({"model": {"hidden": "16,"}}, "model.hidden: got '16,'; allowed: tuple\\[int, ...\\]"),
        ({"data": {"dataset": 5}}, "data.dataset: got 5; allowed: str"),
        ({"neuron": {"threshold": "inf"}}, "neuron.threshold: got 'inf'; allowed: finite float"),
        ({"training": {"learning_rate": float("nan")}}, "training.learning_rate: got nan; allowed: finite float"),
        (
            {"hardware": {"preset": "rram-sa", "weight_clip": "inf"}},
            "hardware.weight_clip: got 'inf'; allowed: finite float | None",
        ),
    ],
)
def test_config_values_are_never_rounded_or_coerced(values, message):
    with pytest.raises(ValueError, match=message):
        config_from_dict(values)


def test_config_values_keep_their_exact_type():
    """Integral floats become ints, ints become floats, text and 'none' convert; tuples of floats too."""
    import dataclasses

    from hwsnn.train.config import Section, bound, setting

    config = config_from_dict(
        {
            "training": {"epochs": 3.0, "max_steps": "none"},
            "neuron": {"beta": 1, "surrogate_param": "2.5"},
            "model": {"hidden": "64, 32", "layer_timesteps": []},
        }
    )
    assert config.training.epochs == 3 and type(config.training.epochs) is int and config.training.max_steps is None
    assert config.neuron.beta == 1.0 and type(config.neuron.beta) is float and config.neuron.surrogate_param == 2.5
    assert config.model.hidden == (64, 32) and config.model.layer_timesteps == ()

    @dataclasses.dataclass(frozen=True)
    class Sweep(Section):  # a user's own section: the same conversion and rules
        section = "sweep"
        betas: tuple[float, ...] = setting((0.5,), "betas to try", bound(0.0, 1.0))

    assert Sweep(betas="0.25,1").betas == (0.25, 1.0) and Sweep(betas=[1, 0.5]).betas == (1.0, 0.5)
    with pytest.raises(ValueError, match="sweep.betas: got \\(0.5, 2.0\\); allowed: >= 0 and <= 1"):
        Sweep(betas=(0.5, 2))


def test_resnet19_trains_and_is_costed_from_local_cifar10_batches(tmp_path):
    import numpy as np

    rng = np.random.default_rng(0)
    data = tmp_path / "cifar"
    data.mkdir()
    for name, count in (
        ("data_batch_1.bin", 8),
        ("test_batch.bin", 4),
    ):  # CIFAR-10's binary format: label byte, R, G, B planes
        records = np.concatenate([rng.integers(0, 10, (count, 1)), rng.integers(0, 256, (count, 3 * 32 * 32))], axis=1)
        records.astype(np.uint8).tofile(data / name)
    workdir = tmp_path / "r19"
    assert (
        main(
            [
                "train",
                "--workdir",
                str(workdir),
                "--model.kind",
                "resnet19",
                "--model.norm",
                "tdbn",
                "--data.dataset",
                "cifar10",
                "--data.data-dir",
                str(data),
                "--data.encoding",
                "direct",
                "--model.timesteps",
                "1",
                "--training.batch-size",
                "4",
                "--training.eval-batch-size",
                "4",
                "--training.epochs",
                "1",
                "--no-progress",
            ]
        )
        == 0
    )
    assert json.loads((workdir / "summary.json").read_text())["steps"] == 2
    assert (
        main(
            [
                "cost",
                "--workdir",
                str(workdir),
                "--samples",
                "4",
                "--presets",
                "systolic-sata",
                "--out",
                str(tmp_path / "cost"),
            ]
        )
        == 0
    )
    [cost] = json.loads((tmp_path / "cost" / "cost.json").read_text())
    names = [layer["layer"] for layer in cost["layers"]]
    assert names[:21] == [f"layer{i}" for i in range(21)] and names[21:] == [f"add{i}" for i in range(8)]
    assert sum(layer["snn_energy_pj"] for layer in cost["layers"]) == pytest.approx(cost["snn_energy_pj"], rel=1e-5)


def test_evaluate_deploys_on_programming_draws(tmp_path, capsys):
    """``hwsnn evaluate --hardware PRESET --draws N``: an ideally trained run deployed on sense-amplifier
    crossbars gets its scales calibrated once, then N chips (independent programming draws) are
    evaluated; draw 0 is the chip ``Run.evaluate`` reports; a run trained on the preset keeps its scales."""
    from hwsnn.train.deploy import deploy

    flags = [
        "--data.dataset",
        "digits",
        "--model.kind",
        "mlp",
        "--model.hidden",
        "24",
        "--model.timesteps",
        "3",
        "--data.encoding",
        "rate",
        "--training.epochs",
        "2",
        "--training.learning-rate",
        "0.01",
        "--no-progress",
    ]
    ideal, on_sa = tmp_path / "ideal", tmp_path / "sa"
    assert main(["train", "--workdir", str(ideal), *flags]) == 0
    assert (
        main(
            [
                "train",
                "--workdir",
                str(on_sa),
                "--hardware.preset",
                "rram-sa",
                "--hardware.learn-scale",
                "true",
                "--hardware.weight-clip",
                "2",
                *flags,
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert (
        main(
            [
                "evaluate",
                "--workdir",
                str(ideal),
                "--hardware",
                "rram-sa",
                "--draws",
                "3",
                "--calibration-samples",
                "300",
            ]
        )
        == 0
    )
    result = json.loads(capsys.readouterr().out.split("\nwrote ")[0])
    assert result["hardware"] == "rram-sa" and result["calibration"] == {"split": "train", "samples": 300}
    accuracy = result["accuracy"]
    assert len(accuracy) == 3 and len(set(accuracy)) > 1  # the chips differ
    assert result["mean"] == pytest.approx(sum(accuracy) / 3) and result["worst"] == min(accuracy)
    assert json.loads((ideal / "deployed" / "rram-sa.json").read_text()) == result
    run, state, calibration = deploy(ideal, "rram-sa", calibration_samples=300)
    assert run.evaluate(state)["accuracy"] == accuracy[0]
    # weights carried over: the ideal run's kernels, on the preset's crossbars
    restored_ideal = deploy(ideal)[1]
    assert (state.params["layers"][0]["kernel"][...] == restored_ideal.params["layers"][0]["kernel"][...]).all()
    assert run.model.layers[0].hardware.name == "spikesim-rram-sa"
    # trained on the preset: its stored scales, no calibration
    assert deploy(on_sa, "rram-sa")[2] is None
    # on another sense-amplifier preset: scales calibrated, the learned gains (relative to them) and weight clip kept
    trained = deploy(on_sa)[1]
    moved, moved_state, calibration = deploy(on_sa, "rram-sa-offset-free", calibration_samples=300)
    gain = lambda state: np.asarray(state.params["layers"][0]["readout_scale"]["log_gain"][...])
    assert calibration == {"split": "train", "samples": 300} and np.abs(gain(trained)).max() > 0
    np.testing.assert_array_equal(gain(moved_state), gain(trained))
    assert (
        moved.model.layers[0].hardware.weight_clip == 2.0
        and float(moved.model.layers[0].hardware.readout.offset_sigma) == 0
    )
    # conductance drift: the ideal run deployed on PCM read at 1 s and 1 y, without and with compensation
    capsys.readouterr()
    assert main(["evaluate", "--workdir", str(ideal), "--hardware", "pcm", "--draws", "2", "--at", "1s,1y"]) == 0
    assert "| 3.15576e+07 s | on |" in capsys.readouterr().out
    drift = json.loads((ideal / "deployed" / "pcm-drift.json").read_text())
    rows = {(row["time_s"], row["compensated"]): row for row in drift["rows"]}
    assert sorted(rows) == [(1.0, False), (1.0, True), (31557600.0, False), (31557600.0, True)]
    for row in rows.values():
        assert len(row["accuracy"]) == 2 and row["worst"] == min(row["accuracy"])
    # a year of uncompensated drift costs the PCM chip its accuracy; global compensation restores most of it
    assert rows[(31557600.0, False)]["mean"] < rows[(1.0, False)]["mean"] - 0.1
    assert rows[(31557600.0, True)]["mean"] > rows[(31557600.0, False)]["mean"] + 0.1
    assert main(["evaluate", "--workdir", str(ideal), "--hardware", "pcm", "--at", "1s,1 fortnight"]) == 2
    assert "at: got '1 fortnight' in '1s,1 fortnight'; allowed: comma-separated times" in capsys.readouterr().err
    assert main(["evaluate", "--workdir", str(ideal), "--draws", "0"]) == 2
    assert "draws: got 0; allowed: an int >= 1" in capsys.readouterr().err
    assert main(["evaluate", "--workdir", str(ideal), "--hardware", "rram"]) == 2
    assert (
        "hardware: got 'rram'; allowed: ['pcm', 'rram-adc', 'rram-sa', 'rram-sa-ideal-devices', 'rram-sa-offset-free']"
        in capsys.readouterr().err
    )


def test_a_run_folder_refuses_another_config(tmp_path, capsys):
    """A rerun with a config that shapes another run is refused before anything is written, naming the
    fields; a change that leaves the run alone resumes; --restart discards the run and trains anew."""
    flags = [
        "--data.dataset",
        "digits",
        "--model.kind",
        "mlp",
        "--model.timesteps",
        "2",
        "--data.encoding",
        "rate",
        "--training.epochs",
        "1",
        "--training.batch-size",
        "64",
        "--no-progress",
    ]
    workdir = tmp_path / "run"
    assert main(["train", "--workdir", str(workdir), "--model.hidden", "16", "--training.max-steps", "10", *flags]) == 0
    before = {p: p.read_bytes() for p in sorted(workdir.rglob("*")) if p.is_file()}
    capsys.readouterr()
    assert main(["train", "--workdir", str(workdir), "--model.hidden", "32", "--neuron.beta", "0.3", *flags]) == 2
    error = capsys.readouterr().err
    assert "model.hidden: stored (16,), requested (32,)" in error and "neuron.beta: stored 0.9, requested 0.3" in error
    assert "--restart" in error
    assert {p: p.read_bytes() for p in sorted(workdir.rglob("*")) if p.is_file()} == before  # nothing changed
    # the stopping point may change: the run stopped at step 10 resumes to the end of its epoch
    assert main(["train", "--workdir", str(workdir), "--model.hidden", "16", *flags]) == 0
    assert json.loads(capsys.readouterr().out.split("\nwrote")[0])["steps"] == 22
    # a finished run is left as it was, and the command does not claim to have written anything
    assert main(["train", "--workdir", str(workdir), "--model.hidden", "16", *flags]) == 0
    captured = capsys.readouterr()
    assert "wrote" not in captured.out and "nothing to train, summary.json unchanged" in captured.err
    # --restart: the old run's checkpoints and metrics are gone, the new config trains from step 0
    assert main(["train", "--workdir", str(workdir), "--model.hidden", "32", "--restart", *flags]) == 0
    assert load_config(workdir / "config.json").model.hidden == (32,)
    assert [r["step"] for r in map(json.loads, (workdir / "metrics.jsonl").read_text().splitlines())] == [22]
    # a workdir that is a file, or below one
    (tmp_path / "file").write_text("x")
    assert main(["train", "--workdir", str(tmp_path / "file"), *flags]) == 2
    assert f"workdir: '{tmp_path / 'file'}' is a file; allowed: a folder" in capsys.readouterr().err
    assert main(["train", "--workdir", str(tmp_path / "file" / "run"), *flags]) == 2
    assert f"is below the file '{tmp_path / 'file'}'; allowed: a path below folders" in capsys.readouterr().err


def test_a_diverging_run_stops_with_its_last_good_checkpoint(tmp_path, capsys):
    """--training.learning-rate 1e38 makes the parameters overflow: the run stops with a one-line error at the
    first check, skipping the bad updates and saving nothing after them; a checkpoint that does hold
    non-finite parameters is refused by evaluate and cost."""
    from hwsnn.train.checkpoint import Checkpointer
    from hwsnn.train.run import Run

    flags = [
        "--data.dataset",
        "digits",
        "--model.kind",
        "mlp",
        "--model.hidden",
        "16",
        "--model.timesteps",
        "2",
        "--data.encoding",
        "rate",
        "--training.epochs",
        "2",
        "--training.checkpoint-every",
        "5",
        "--no-progress",
    ]
    workdir = tmp_path / "run"
    assert main(["train", "--workdir", str(workdir), "--training.learning-rate", "1e38", *flags]) == 2
    error = capsys.readouterr().err
    assert (
        "training: the loss or the gradients were not finite at" in error
        and "training.learning_rate (got 1e+38)" in error
    )
    assert len(error.strip().splitlines()) == 1 and not (workdir / "summary.json").exists()
    run = Run(load_config(workdir / "config.json"))
    checkpointer = Checkpointer(workdir / "checkpoints", 5)
    saved = checkpointer.latest_step()
    assert f"the last checkpoint, step {saved}, holds finite parameters" in error
    state = checkpointer.restore(run.state)[0]
    assert all(np.isfinite(np.asarray(leaf)).all() for leaf in jax.tree.leaves(state.params))
    # a checkpoint with NaN weights (written by hand) is refused, naming the parameter
    poisoned = jax.tree_util.tree_map_with_path(
        lambda path, leaf: leaf * np.nan if "kernel" in jax.tree_util.keystr(path) else leaf, state
    )
    checkpointer.maybe_save(saved + 1, poisoned, force=True)
    checkpointer.close()
    for command in (["evaluate", "--workdir", str(workdir)], ["cost", "--workdir", str(workdir)]):
        assert main(command) == 2
        error = capsys.readouterr().err
        assert f"step {saved + 1}: non-finite parameters" in error and "'kernel'" in error


@pytest.mark.parametrize(
    "values, message",
    [
        ({"hardware": {"ramp_steps": 100}}, r"hardware.ramp_steps: got 100 with no preset; allowed: 0 .*no effect"),
        ({"hardware": {"start": 0.5}}, r"hardware.start: got 0.5 with no preset; allowed: 0.0"),
        (
            {"energy": {"model": "naive", "imc_mode": "dense"}},
            r"energy.imc_mode: got 'dense' with the naive cost platform; allowed: None unless .* IMC",
        ),
        ({"energy": {"imc_mode": "event"}}, r"energy.imc_mode: got 'event' with the no cost platform"),
        (
            {"data": {"dataset": "digits", "data_dir": "/tmp"}},
            r"data.data_dir: got '/tmp' for dataset 'digits', which ships .*reads no folder",
        ),
    ],
)
def test_options_without_effect_are_refused(values, message):
    with pytest.raises(ValueError, match=message):
        config_from_dict(values)


def test_config_files_are_read_strictly(tmp_path):
    """YAML 1.2 integers and bools; a key given twice (YAML or JSON) is an error naming the file, not last-wins."""
    (tmp_path / "octal.yaml").write_text("training: {epochs: 010}\nneuron: {learn_beta: false}\n")
    config = load_config(tmp_path / "octal.yaml")
    assert config.training.epochs == 10 and config.neuron.learn_beta is False
    (tmp_path / "yes.yaml").write_text("neuron: {learn_beta: yes}\n")
    with pytest.raises(ValueError, match="neuron.learn_beta: got 'yes'; allowed: bool"):
        load_config(tmp_path / "yes.yaml")
    (tmp_path / "twice.yaml").write_text("training:\n  epochs: 3\n  epochs: 5\n")
    with pytest.raises(ValueError, match=r"'.*twice.yaml' is not valid YAML \(duplicate key 'epochs' at line 3"):
        load_config(tmp_path / "twice.yaml")
    (tmp_path / "twice.json").write_text('{"training": {"epochs": 3}, "training": {"epochs": 5}}')
    with pytest.raises(ValueError, match=r"'.*twice.json' is not valid JSON \(duplicate keys \['training'\]\)"):
        load_config(tmp_path / "twice.json")


def test_version(capsys):
    import importlib.metadata

    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0 and capsys.readouterr().out == f"hwsnn {importlib.metadata.version('hwsnn')}\n"


def test_flags_are_never_abbreviated(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--model.learn", "true"])
    assert "unrecognized arguments: --model.learn true" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["evaluate", "--work", "w"])
    assert "the following arguments are required: --workdir" in capsys.readouterr().err


def test_a_misspelt_flag_names_the_command_and_suggests_the_flag(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["train", "--epochs", "3"])
    assert stop.value.code == 2
    error = capsys.readouterr().err
    assert "hwsnn train: error: unrecognized arguments: --epochs 3. --epochs: did you mean --training.epochs?" in error
    with pytest.raises(SystemExit):
        main(["evaluate", "--workdir", "w", "--drawz", "3"])
    assert "--drawz: did you mean --draws?" in capsys.readouterr().err
