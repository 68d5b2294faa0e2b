"""The README's study figures are the results files': every table row in a README study section is a row of a
``results/<study>/*.md`` table, and every ``table.md`` is what its study writes from its own ``metrics.json``."""

import json
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).parents[1]


def _study_sections() -> dict[str, str]:
    sections = re.split(r"\n(?=## )", (ROOT / "README.md").read_text())
    return {section.splitlines()[0]: section for section in sections if section.startswith("## Study")}


def test_every_readme_study_table_row_is_a_results_table_row():
    results = {line.strip() for path in ROOT.glob("results/*/*.md") for line in path.read_text().splitlines()}
    sections = _study_sections()
    assert len(sections) >= 5
    for title, section in sections.items():
        rows = [line.strip() for line in section.splitlines() if line.startswith("|") and not line.startswith("|---")]
        assert rows, title
        missing = [row for row in rows if row not in results]
        assert not missing, f"{title}: rows not in any results/*/*.md table: {missing}"


def _tables():
    from experiments import adc_less, energy_reality_check, hyperparam_sweep, icassp_table2, ld_snn

    return {
        "adc_less": adc_less.markdown_table,
        "energy_reality_check": energy_reality_check.markdown_table,
        "hyperparam_sweep": lambda metrics: hyperparam_sweep.markdown_table(metrics["points"], metrics["summary"]),
        "icassp_table2": icassp_table2.markdown_tables,
        "ld_snn": ld_snn.markdown_table,
    }


def test_every_study_has_its_table_check():
    assert sorted(path.name for path in (ROOT / "results").iterdir() if path.is_dir()) == sorted(_tables())


@pytest.mark.parametrize("study", sorted(_tables()))
def test_each_results_table_is_its_metrics(study):
    folder = ROOT / "results" / study
    metrics = json.loads((folder / "metrics.json").read_text())
    assert _tables()[study](metrics) == (folder / "table.md").read_text()
