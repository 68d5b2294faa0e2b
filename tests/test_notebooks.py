"""Every notebook runs top to bottom at a small size (HWSNN_SMALL=1)."""

import pathlib

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((pathlib.Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_executes(path, tmp_path, monkeypatch):
    monkeypatch.setenv("HWSNN_SMALL", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    workdir = tmp_path / "work"
    monkeypatch.setenv("HWSNN_WORKDIR", str(workdir))
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    pngs = sorted(workdir.glob("*.png"))
    assert pngs and all(png.stat().st_size > 5_000 for png in pngs)  # real figures, not empty canvases
