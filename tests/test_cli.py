"""The hwsnn command: train, evaluate, config files and flag overrides, help and errors."""

import json
import subprocess
import sys

import pytest

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
