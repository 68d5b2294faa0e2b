"""The one preset table: what each preset costs with, and that the CLI, report and energy term read it."""

import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from hwsnn.hardware import PRESETS, Preset, cost, hardware_preset, register
from hwsnn.hardware.platforms import IMC
from hwsnn.hardware.platforms.imc_readouts import SensePerColumn
from hwsnn.hardware.presets import PLATFORMS, cost_presets, crossbar_presets
from hwsnn.hardware.report import cost_on_presets
from hwsnn.layers import mlp
from hwsnn.train.builders import energy_term
from hwsnn.train.config import EnergyConfig, TrainConfig

MODEL = mlp([6, 5, 3], 3, rngs=nnx.Rngs(0), spiking_input=True)
X = jnp.asarray((np.random.default_rng(0).random((3, 4, 6)) < 0.5).astype(np.float32))
_, ACTIVITY = MODEL(X)


def test_every_preset_is_costed_by_its_platform_with_a_baseline():
    """Conformance over the registry: each cost preset's cost is its platform's function on its spec, and
    carries the baseline every energy ratio divides by."""
    functions = {"naive": cost.naive, "systolic": cost.systolic, "imc": cost.imc, "event": cost.event}
    assert set(functions) == set(PLATFORMS)
    for name in cost_presets():
        entry = PRESETS[name]
        options = {"mode": entry.platform.mode} if entry.platform.modes else {}
        expected = functions[entry.platform.name](entry.spec(), MODEL.workload, ACTIVITY, **options)
        got = entry.cost(MODEL.workload, ACTIVITY)
        assert float(got.energy_pj.total) == float(expected.energy_pj.total), name
        assert float(got.ann.energy_pj.total) == float(expected.ann.energy_pj.total) > 0, name
    assert PRESETS["rram-sa"].platform == IMC(mode="event")


def test_a_chip_is_one_preset_whose_platform_and_crossbar_agree():
    """The RRAM chips are costed (IMC architecture) and trained on (crossbar) under one name, with the same
    crossbar size and readout; a preset has a platform, a crossbar or both."""
    both = [name for name, entry in PRESETS.items() if entry.platform is not None and entry.crossbar is not None]
    assert both == ["rram-adc", "rram-sa"]
    for name in both:
        spec, crossbar = PRESETS[name].spec(), PRESETS[name].crossbar()
        assert crossbar.size == spec.crossbar_size and crossbar.readout.bits == spec.readout.bits, name
        assert crossbar.readout.needs_scale == isinstance(spec.readout, SensePerColumn), name
    assert set(cost_presets()) | set(crossbar_presets()) == set(PRESETS)
    with pytest.raises(ValueError, match="got neither a platform nor a crossbar"):
        Preset("empty")
    with pytest.raises(ValueError, match="'rram-sa' is registered already"):
        register(Preset("rram-sa", crossbar=PRESETS["rram-sa"].crossbar))
    with pytest.raises(ValueError, match="preset: 'pcm' has no cost platform"):
        PRESETS["pcm"].cost(MODEL.workload, ACTIVITY)


def test_a_platform_without_a_baseline_cannot_be_built():
    from hwsnn.hardware.platforms import Platform
    from hwsnn.hardware.platforms.naive import NaiveSpec

    class NoBaseline(Platform):
        name, spec_type = "no-baseline", NaiveSpec

        def snn(self, spec, workload, activity):
            return cost.naive(spec, workload, activity)

    with pytest.raises(TypeError, match="abstract"):
        NoBaseline()


def test_report_and_energy_term_read_the_table_and_the_imc_mode():
    dense = cost.imc(PRESETS["rram-adc"].spec(), MODEL.workload, ACTIVITY, mode="dense")
    rows = cost_on_presets(MODEL.workload, ACTIVITY, ("rram-adc", "naive-int8"), imc_mode="dense")
    assert rows[0]["snn_energy_pj"] == pytest.approx(float(dense.energy_pj.total), rel=1e-6)
    assert rows[1]["model"] == "naive"
    term = energy_term(TrainConfig(energy=EnergyConfig(model="imc", imc_mode="dense")))
    assert float(term(MODEL.workload, ACTIVITY).energy_pj.total) == pytest.approx(
        float(dense.energy_pj.total), rel=1e-6
    )
    event = energy_term(TrainConfig(energy=EnergyConfig(preset="rram-sa")))(MODEL.workload, ACTIVITY)
    assert float(event.energy_pj.total) == pytest.approx(
        float(cost.imc(PRESETS["rram-sa"].spec(), MODEL.workload, ACTIVITY, mode="event").energy_pj.total), rel=1e-6
    )
    assert energy_term(TrainConfig()) is None


def test_bad_presets_and_modes_are_named():
    with pytest.raises(ValueError, match="preset: got 'tpu'"):
        hardware_preset("tpu")
    with pytest.raises(ValueError, match="preset: got 'tpu'"):
        cost_on_presets(MODEL.workload, ACTIVITY, ("naive-fp32", "tpu"))
    with pytest.raises(ValueError, match="imc_mode: got 'sparse'"):
        cost_on_presets(MODEL.workload, ACTIVITY, ("rram-adc",), imc_mode="sparse")
    with pytest.raises(ValueError, match="mode: got 'dense' for the naive platform; allowed: None"):
        PRESETS["naive-fp32"].cost(MODEL.workload, ACTIVITY, mode="dense")
    with pytest.raises(ValueError, match="energy.preset: got 'rram-sa'; allowed: a preset of energy.model 'event'"):
        EnergyConfig(model="event", preset="rram-sa")
    with pytest.raises(ValueError, match="energy.imc_mode: got 'sparse'"):
        EnergyConfig(imc_mode="sparse")


def test_cost_help_lists_every_preset(capsys):
    from hwsnn.cli import main

    with pytest.raises(SystemExit):
        main(["cost", "--help"])
    help_text = " ".join(capsys.readouterr().out.split()).replace("- ", "-")  # argparse wraps at hyphens
    assert "presets: " + ", ".join(cost_presets()) in help_text


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
