"""The hwsnn command: train, evaluate, config files and flag overrides, help and errors."""

import json
import subprocess
import sys

import pytest
from flax import nnx

from hwsnn.cli import main
from hwsnn.train.config import TrainConfig, config_from_dict, load_config


def test_train_then_evaluate(tmp_path, capsys):
    config = tmp_path / "run.yaml"
    config.write_text("dataset: digits\nmodel: mlp\nhidden: [32]\ntimesteps: 3\nbatch_size: 32\nepochs: 1\n"
                      "learning_rate: 0.01\n")
    workdir = tmp_path / "run"
    assert main(["train", "--config", str(config), "--workdir", str(workdir), "--encoding", "rate",
                 "--no-progress"]) == 0
    summary = json.loads((workdir / "summary.json").read_text())
    saved = json.loads((workdir / "config.json").read_text())
    assert saved["encoding"] == "rate" and saved["hidden"] == [32]  # file, then flag
    assert (workdir / "training_curve.png").exists()
    capsys.readouterr()
    assert main(["evaluate", "--workdir", str(workdir)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["accuracy"] == pytest.approx(summary["test_accuracy"])
    assert result["step"] == 44


def test_help_shows_examples():
    out = subprocess.run([sys.executable, "-m", "hwsnn.cli", "train", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "examples:" in out.stdout and "--surrogate" in out.stdout


def test_bad_values_are_reported(capsys):
    assert main(["train", "--beta", "1.5", "--workdir", "/nonexistent/x"]) == 2
    assert "beta: got 1.5" in capsys.readouterr().err
    assert main(["train", "--epochs", "many"]) == 2
    assert "epochs: got 'many'" in capsys.readouterr().err


def test_config_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="config"):
        load_config(tmp_path / "none.json")
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="mapping"):
        load_config(tmp_path / "list.json")
    with pytest.raises(ValueError, match="unknown keys \\['lr'\\]"):
        config_from_dict({"lr": 0.1})
    with pytest.raises(ValueError, match="surrogate"):
        TrainConfig(surrogate="relu")
    (tmp_path / "c.json").write_text(json.dumps({"channels": [8, 8], "learn_beta": "true"}))
    config = load_config(tmp_path / "c.json")
    assert config.channels == (8, 8) and config.learn_beta is True


def test_cost_command_on_a_checkpoint_and_on_a_config(tmp_path, capsys):
    workdir = tmp_path / "run"
    assert main(["train", "--workdir", str(workdir), "--dataset", "digits", "--model", "mlp", "--hidden", "16",
                 "--timesteps", "3", "--epochs", "1", "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["cost", "--workdir", str(workdir), "--samples", "100"]) == 0
    printed = capsys.readouterr().out
    rows = {r["preset"]: r for r in json.loads((workdir / "cost" / "cost.json").read_text())}
    assert set(rows) == {"naive-fp32", "naive-int8", "systolic-sata", "imc-adc", "imc-sa", "event-fpga"}
    assert "systolic-sata" in printed and "SNN/ANN" in printed
    # the ANN baseline of the naive model is E_MAC x MACs: 4.6 pJ x (64 x 16 + 16 x 10)
    assert rows["naive-fp32"]["ann_energy_pj"] == pytest.approx(4.6 * (64 * 16 + 16 * 10), rel=1e-6)
    assert rows["imc-adc"]["area_mm2"] > 0 and rows["event-fpga"]["snn_latency_ns"] > 0
    assert (workdir / "cost" / "energy_breakdown.png").stat().st_size > 20_000
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"dataset": "digits", "model": "mlp", "hidden": [16], "timesteps": 3}))
    assert main(["cost", "--config", str(config), "--samples", "8", "--presets", "imc-sa", "--out", str(tmp_path / "o")]) == 0
    assert [r["preset"] for r in json.loads((tmp_path / "o" / "cost.json").read_text())] == ["imc-sa"]
    assert main(["cost", "--config", str(config), "--presets", "gpu"]) == 2
    assert "presets: unknown ['gpu']" in capsys.readouterr().err


def test_train_help_lists_the_allowed_values_of_every_choice(capsys):
    from hwsnn.train.config import field_choices

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    help_text = " ".join(capsys.readouterr().out.split()).replace("- ", "-")  # argparse wraps at hyphens
    for name, allowed in field_choices().items():
        assert f"allowed: {', '.join(allowed)}" in help_text, name
    assert "allowed: lif, if, synaptic, rlif, alif" in help_text


def test_config_selects_the_neuron_model():
    from hwsnn.neurons import ALIF, IF, Synaptic
    from hwsnn.train.config import build_model

    for name, kind in (("synaptic", Synaptic), ("alif", ALIF), ("if", IF)):
        model = build_model(config_from_dict({"neuron": name, "model": "mlp", "hidden": [8], "learn_threshold": "true",
                                              "alpha": "0.7", "rho": 0.5, "gamma": 1}), (4, 4, 1), 3)
        neurons = model.layers[0].neurons
        assert type(neurons.model) is kind and neurons.model.learn == ("threshold",)
        assert isinstance(neurons.threshold, nnx.Param)
    assert float(build_model(config_from_dict({"neuron": "synaptic", "alpha": 0.7}), (8, 8, 1), 3).layers[0].neurons.alpha[...]) \
        == pytest.approx(0.7)
    assert float(build_model(config_from_dict({"neuron": "alif", "rho": 0.5}), (8, 8, 1), 3).layers[0].neurons.rho[...]) == 0.5
    with pytest.raises(ValueError, match="neuron: got 'hh'; allowed: \\['lif', 'if', 'synaptic', 'rlif', 'alif'\\]"):
        TrainConfig(neuron="hh")


@pytest.mark.parametrize("values, message", [
    ({"hidden": [16.9]}, "hidden: got \\[16.9\\]; allowed: tuple\\[int, ...\\]"),
    ({"epochs": 1.7}, "epochs: got 1.7; allowed: int"),
    ({"epochs": True}, "epochs: got True; allowed: int"),
    ({"learn_beta": "maybe"}, "learn_beta: got 'maybe'; allowed: bool"),
])
def test_config_values_are_never_rounded_or_coerced(values, message):
    with pytest.raises(ValueError, match=message):
        config_from_dict(values)
