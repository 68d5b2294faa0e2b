"""The README's Python example runs as written, and the README names the commands .ci/run uses."""

import pathlib
import re

ROOT = pathlib.Path(__file__).parents[1]


def test_readme_example_runs():
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert blocks
    namespace: dict = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)
    assert float(namespace["loss"]) > 0.0


def test_ci_runs_the_readme_test_command():
    command = 'python3 -m pip install -e ".[test]" && python3 -m pytest'
    assert command in (ROOT / "README.md").read_text()
    assert command in (ROOT / ".ci" / "run").read_text()
