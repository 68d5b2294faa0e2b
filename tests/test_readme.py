"""The README's Python example runs as written, and the README names the commands .ci/run uses."""

import pathlib
import re

ROOT = pathlib.Path(__file__).parents[1]


def test_readme_examples_run_in_order():
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 2
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)
    assert float(namespace["loss"]) > 0.0
    assert float(namespace["c"].energy_pj.total) > 0.0


def test_an_example_that_needs_an_earlier_one_says_so():
    # run alone, a block that uses names from earlier blocks fails with NameError: it must open by saying so
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    for block in blocks[1:]:
        try:
            exec(compile(block, "README.md", "exec"), {})
        except NameError:
            assert block.startswith("# continues"), block.splitlines()[0]


def test_ci_runs_the_readme_test_command():
    command = 'python3 -m pip install -e ".[test,docs]" && python3 -m pytest'
    assert command in (ROOT / "README.md").read_text()
    assert command in (ROOT / ".ci" / "run").read_text()
