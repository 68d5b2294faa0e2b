"""The one preset table: what each preset costs with, and that the CLI, report and energy term read it."""

import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from hwsnn.hardware import PRESETS, cost, hardware_preset
from hwsnn.hardware.report import cost_on_presets
from hwsnn.layers import mlp
from hwsnn.train.config import EnergyConfig, TrainConfig, energy_term

MODEL = mlp([6, 5, 3], 3, rngs=nnx.Rngs(0), spiking_input=True)
X = jnp.asarray((np.random.default_rng(0).random((3, 4, 6)) < 0.5).astype(np.float32))
_, ACTIVITY = MODEL(X)


def test_each_preset_names_its_model_and_mode():
    functions = {"naive": cost.naive, "systolic": cost.systolic, "imc": cost.imc, "event": cost.event}
    for name, entry in PRESETS.items():
        assert entry.model is functions[entry.model_name], name
        expected = entry.model(entry.spec(), MODEL.workload, ACTIVITY, **dict(entry.options))
        assert float(entry.cost(MODEL.workload, ACTIVITY).energy_pj.total) == float(expected.energy_pj.total)
    assert dict(PRESETS["imc-sa"].options) == {"mode": "event"}


def test_report_and_energy_term_read_the_table_and_the_imc_mode():
    dense = cost.imc(PRESETS["imc-adc"].spec(), MODEL.workload, ACTIVITY, mode="dense")
    rows = cost_on_presets(MODEL.workload, ACTIVITY, ("imc-adc", "naive-int8"), imc_mode="dense")
    assert rows[0]["snn_energy_pj"] == pytest.approx(float(dense.energy_pj.total), rel=1e-6)
    assert rows[1]["model"] == "naive"
    term = energy_term(TrainConfig(energy=EnergyConfig(model="imc", imc_mode="dense")))
    assert float(term(MODEL.workload, ACTIVITY).energy_pj.total) == pytest.approx(float(dense.energy_pj.total), rel=1e-6)
    event = energy_term(TrainConfig(energy=EnergyConfig(preset="imc-sa")))(MODEL.workload, ACTIVITY)
    assert float(event.energy_pj.total) == pytest.approx(
        float(cost.imc(PRESETS["imc-sa"].spec(), MODEL.workload, ACTIVITY, mode="event").energy_pj.total), rel=1e-6)
    assert energy_term(TrainConfig()) is None


def test_bad_presets_and_modes_are_named():
    with pytest.raises(ValueError, match="preset: got 'tpu'"):
        hardware_preset("tpu")
    with pytest.raises(ValueError, match="preset: got 'tpu'"):
        cost_on_presets(MODEL.workload, ACTIVITY, ("naive-fp32", "tpu"))
    with pytest.raises(ValueError, match="imc_mode: got 'sparse'"):
        cost_on_presets(MODEL.workload, ACTIVITY, ("imc-adc",), imc_mode="sparse")
    with pytest.raises(ValueError, match="options: got \\['mode'\\] for a naive preset"):
        PRESETS["naive-fp32"].cost(MODEL.workload, ACTIVITY, mode="dense")
    with pytest.raises(ValueError, match="energy.preset: got 'imc-sa'; allowed: a preset of energy.model 'event'"):
        EnergyConfig(model="event", preset="imc-sa")
    with pytest.raises(ValueError, match="energy.imc_mode: got 'sparse'"):
        EnergyConfig(imc_mode="sparse")


def test_cost_help_lists_every_preset(capsys):
    from hwsnn.cli import main

    with pytest.raises(SystemExit):
        main(["cost", "--help"])
    help_text = " ".join(capsys.readouterr().out.split()).replace("- ", "-")  # argparse wraps at hyphens
    assert "presets: " + ", ".join(PRESETS) in help_text


def test_report_tables_keep_their_columns_for_every_preset_name():
    from hwsnn.hardware.report import format_layer_table, format_table
    rows = cost_on_presets(MODEL.workload, ACTIVITY)
    lines = format_table(rows).splitlines()
    assert {len(line) for line in lines[2:]} == {len(lines[0])}  # fixed width, the longest name included
    for row, line in zip(rows, lines[2:]):
        name, snn_uj, ann_uj, ratio = line.split()[:4]
        assert name == row["preset"] and float(ratio) == pytest.approx(row["snn_over_ann"], abs=5e-4)
        assert float(snn_uj) == pytest.approx(row["snn_energy_pj"] / 1e6, abs=5e-5)
    for block, row in zip(format_layer_table(rows).split("\n\n"), rows):
        header, _, *layer_lines = block.splitlines()
        assert header.startswith(f"{row['preset']} by layer") and {len(line) for line in layer_lines} == {len(header)}


def test_breakdown_plots_share_colours_and_scale(tmp_path):
    # every component group has one colour in every panel, all panels share the y-axis, and the SNN bar of
    # the energy plot stands at the SNN/ANN ratio (per cent of the ANN's energy on its preset)
    from hwsnn.hardware.report import plot_energy_breakdown, plot_layer_breakdown
    from hwsnn.structure import Activity

    model = mlp([16, 8, 4], 2, rngs=nnx.Rngs(0), spiking_input=True)
    activity = Activity.from_rates(model.workload, [0.2, 0.3], [0.3, 0.2])
    rows = cost_on_presets(model.workload, activity)
    for plot in (plot_energy_breakdown, plot_layer_breakdown):
        fig = plot(rows, tmp_path / "plot.png")
        colour = {}
        for ax in fig.axes:
            for bars in ax.containers:
                face = tuple(bars.patches[0].get_facecolor())
                assert colour.setdefault(bars.get_label(), face) == face
        assert len({ax.get_ylim() for ax in fig.axes}) == 1
        assert fig.legends[0].get_texts()[0].get_fontsize() >= 9
    fig = plot_energy_breakdown(rows, tmp_path / "plot.png")
    for ax, row in zip(fig.axes, rows):
        snn_height = sum(bars.patches[0].get_height() for bars in ax.containers)
        assert snn_height == pytest.approx(100 * row["snn_over_ann"], rel=1e-5)
