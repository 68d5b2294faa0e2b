"""The documentation site builds with ``mkdocs build --strict`` and its API reference holds every
public function and class of every hwsnn module."""

import importlib
import inspect
import os
import pathlib
import pkgutil
import subprocess
import sys

import hwsnn

ROOT = pathlib.Path(__file__).parents[1]


def _public_objects() -> list[str]:
    """``module.name`` of each public function and class defined in a (non-package) hwsnn module."""
    names = []
    for info in pkgutil.walk_packages(hwsnn.__path__, "hwsnn."):
        if info.ispkg:
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if name.startswith("_") or not (inspect.isfunction(value) or inspect.isclass(value)):
                continue
            if getattr(value, "__module__", None) == info.name:
                names.append(f"{info.name}.{name}")
    return names


def test_the_site_builds_strictly_and_documents_every_public_object(tmp_path):
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    html = "".join(path.read_text() for path in (site / "reference").rglob("*.html"))
    objects = _public_objects()
    assert len(objects) > 150
    missing = [name for name in objects if f'id="{name}"' not in html]
    assert not missing, f"not in the API reference: {missing}"
    for page in ("getting-started", "studies", "semantics", "extending", "notebooks/06_temporal"):
        assert (site / page / "index.html").stat().st_size > 10_000
    studies = (site / "studies" / "index.html").read_text()
    assert "ADC-less IMC with sense amplifiers" in studies and "per-layer timesteps" in studies
