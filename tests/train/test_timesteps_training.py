"""Energy-aware training with learned timesteps, and the per-layer timestep search (CLI)."""

import json

import numpy as np
import pytest

from hwsnn.cli import main
from hwsnn.train.config import TrainConfig

SMALL = [
    "--data.dataset",
    "digits",
    "--model.kind",
    "mlp",
    "--model.hidden",
    "32",
    "--data.encoding",
    "rate",
    "--training.batch-size",
    "32",
    "--training.learning-rate",
    "0.01",
    "--no-progress",
]


def train(workdir, *flags):
    assert main(["train", "--workdir", str(workdir), *SMALL, *flags]) == 0
    return json.loads((workdir / "summary.json").read_text())


def test_energy_weight_shortens_learned_timesteps(tmp_path, capsys):
    learned = [
        "--model.timesteps",
        "8",
        "--model.learn-timesteps",
        "true",
        "--training.timestep-learning-rate",
        "0.1",
        "--training.epochs",
        "2",
        "--energy.model",
        "imc",
    ]
    free = train(tmp_path / "free", *learned, "--energy.weight", "0")
    costly = train(tmp_path / "costly", *learned, "--energy.weight", "3")
    capsys.readouterr()
    assert len(costly["step_counts"]) == 2 and all(1 <= t <= 8 for t in costly["active_timesteps"])
    # the energy term (IMC energy over the ANN's) pulls the step counts down, and the energy with them
    assert sum(costly["step_counts"]) < sum(free["step_counts"]) - 1.0
    assert costly["test_energy_ratio"] < free["test_energy_ratio"]
    records = [json.loads(line) for line in (tmp_path / "costly" / "metrics.jsonl").read_text().splitlines()]
    assert records[-1]["step_counts"] == costly["step_counts"]
    # every record says which steps run: the rounded count within [1, T] (a count above T runs all T steps)
    for record in (*records, free, costly):
        assert record["active_timesteps"] == [min(max(round(c), 1), 8) for c in record["step_counts"]]


@pytest.mark.parametrize(
    "changes, message",
    [
        (
            dict(energy={"weight": 0.5}),
            "energy.weight: got 0.5; allowed: 0 unless energy.model or energy.preset is set",
        ),
        (
            dict(energy={"model": "imc", "preset": "systolic-sata"}),
            "energy.preset: got 'systolic-sata'; allowed: a preset of energy.model 'imc'",
        ),
        (dict(energy={"model": "analog"}), "energy.model: got 'analog'"),
        (
            dict(model={"learn_timesteps": True}, training={"loss": "ce_rate"}),
            "model.learn_timesteps: got True; allowed: False with training.loss ce_rate",
        ),
        (dict(model={"layer_timesteps": (4, 0)}), "model.layer_timesteps: got (4, 0); allowed: >= 1"),
        (dict(training={"timestep_learning_rate": 0.0}), "training.timestep_learning_rate: got 0.0; allowed: > 0"),
    ],
)
def test_config_rejects_bad_timestep_and_energy_settings(changes, message):
    with pytest.raises(ValueError, match=message.replace("(", "\\(").replace(")", "\\)")):
        TrainConfig().replace(**changes)


def test_search_cli_reduces_timesteps_within_budget(tmp_path, capsys):
    workdir = tmp_path / "run"
    train(workdir, "--model.timesteps", "6", "--training.epochs", "3", "--data.validation", "300")
    assert (
        main(["search", "--workdir", str(workdir), "--budget", "0.05", "--samples", "300", "--finetune-steps", "5"])
        == 0
    )
    printed = capsys.readouterr().out
    result = json.loads((workdir / "search" / "search.json").read_text())
    assert "synaptic_updates_reduction" in printed
    uniform, chosen = result["uniform"], result["chosen"]
    assert uniform["timesteps"] == [6, 6] and result["selection_split"] == "validation"
    assert all(c <= u for c, u in zip(chosen["timesteps"], uniform["timesteps"])) and chosen["timesteps"] != [6, 6]
    floor = uniform["selection_accuracy"] - 0.05
    accepted = [h for h in result["history"] if h.get("accepted")]
    assert accepted and all(h["selection_accuracy"] >= floor for h in accepted)
    assert accepted[-1]["timesteps"] == chosen["timesteps"]
    # neurons evaluated is structural: 32 x T_1 + 10 x T_2
    assert chosen["neurons_evaluated"] == 32 * chosen["timesteps"][0] + 10 * chosen["timesteps"][1]
    assert result["neurons_evaluated_reduction"] == pytest.approx(
        uniform["neurons_evaluated"] / chosen["neurons_evaluated"]
    )
    assert result["synaptic_updates_reduction"] > 1.0
    # the report says what the chosen timesteps cost on the test set, which the search never saw
    lost = uniform["test_accuracy"] - chosen["test_accuracy"]
    assert result["test_accuracy_loss"] == pytest.approx(lost) and result["within_budget_on_test"] == (lost <= 0.05)
    assert f"checked on 300 validation images; on the test set the chosen timesteps lose {lost:+.4f}" in result["note"]
    assert ("BEYOND" in result["note"]) == (lost > 0.05) and result["note"] in printed
    # the search folder is a run folder: evaluate and cost take it
    assert main(["evaluate", "--workdir", str(workdir / "search")]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    assert evaluated["accuracy"] == pytest.approx(chosen["test_accuracy"])
    assert (
        main(["cost", "--workdir", str(workdir / "search"), "--samples", "100", "--presets", "event-fpga,rram-adc"])
        == 0
    )
    capsys.readouterr()
    # a second search is refused before any work, and the first one's folder is left as it was
    first = {p: p.read_bytes() for p in (workdir / "search").rglob("*") if p.is_file()}
    assert main(["search", "--workdir", str(workdir), "--budget", "0.05", "--samples", "300"]) == 2
    assert f"workdir: '{workdir}' already holds a search" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in (workdir / "search").rglob("*") if p.is_file()} == first
    # the chosen timesteps train and evaluate as a config
    final = train(
        tmp_path / "final",
        "--model.timesteps",
        "6",
        "--training.epochs",
        "1",
        "--model.layer-timesteps",
        ",".join(map(str, chosen["timesteps"])),
    )
    assert np.isfinite(final["test_loss"])


def test_search_rejects_bad_arguments(tmp_path, capsys):
    assert main(["search", "--workdir", str(tmp_path / "missing")]) == 2
    assert "no file" in capsys.readouterr().err
    workdir = tmp_path / "learned"
    train(workdir, "--model.timesteps", "3", "--training.epochs", "1", "--model.learn-timesteps", "true")
    capsys.readouterr()
    assert main(["search", "--workdir", str(workdir)]) == 2
    assert "learns its timesteps" in capsys.readouterr().err
    assert main(["search", "--workdir", str(workdir), "--budget", "1.5"]) == 2
    assert "budget: got 1.5" in capsys.readouterr().err


@pytest.mark.parametrize(
    "model,encoding",
    [
        (dict(kind="mlp", hidden=(16, 12)), "rate"),
        (dict(kind="conv", channels=(4,), hidden=(12,)), "direct"),  # a direct code: the input read once
    ],
)
def test_frozen_timesteps_compute_the_learned_model_without_its_masked_steps(model, encoding):
    """A learned per-layer-T model frozen to its active counts runs only those steps and gives the learned
    model's outputs on its steps exactly; the learned model's masked steps are silent."""
    import jax
    import jax.numpy as jnp
    from flax import nnx

    from hwsnn.train import DataConfig, ModelConfig, Run, TrainingConfig
    from hwsnn.train.search import finetune, freeze_timesteps

    config = TrainConfig(
        data=DataConfig(dataset="digits", encoding=encoding),
        model=ModelConfig(**model, timesteps=6, learn_timesteps=True),
        training=TrainingConfig(batch_size=32, learning_rate=1e-2),
    )
    run = Run(config)
    learned_state = run.state
    merged = nnx.merge(run.graphdef, learned_state.params, learned_state.constants)
    merged.step_counts[...] = jnp.array([5.6, 2.2, 4.4])  # fractional counts below their maxima
    _, params, constants = nnx.split(merged, nnx.Param, ...)
    learned_state = learned_state.__class__(params, constants, learned_state.opt_state, learned_state.step)
    learned_state = finetune(run, learned_state, 30, seed=0)  # enough to make the readout spike
    learned = nnx.merge(run.graphdef, learned_state.params, learned_state.constants)
    frozen_run, frozen_state = freeze_timesteps(run, learned_state)
    counts = learned.active_timesteps()
    assert frozen_run.model.layer_timesteps == counts and not frozen_run.model.learn_timesteps
    x = run.encode(jnp.asarray(run.inputs(run.data.x_test[:16])), 6, jax.random.key(3))
    out, _ = learned(x)
    frozen_out, _ = nnx.merge(frozen_run.graphdef, frozen_state.params, frozen_state.constants)(x[: counts[0]])
    assert frozen_out.shape[0] == counts[-1] and float(jnp.sum(frozen_out)) > 0
    np.testing.assert_array_equal(np.asarray(frozen_out), np.asarray(out[: counts[-1]]))
    assert not np.any(np.asarray(out[counts[-1] :]))
    with pytest.raises(ValueError, match="run: its model has fixed timesteps"):
        freeze_timesteps(frozen_run, frozen_state)
