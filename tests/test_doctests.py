"""The examples in hwsnn's docstrings run and print what they show (``doctest``)."""

import doctest
import importlib
import pkgutil

import hwsnn


def test_docstring_examples_run():
    attempted, failures = 0, []
    for info in pkgutil.walk_packages(hwsnn.__path__, "hwsnn."):
        module = importlib.import_module(info.name)
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, report=False)
        attempted += result.attempted
        if result.failed:
            failures.append(f"{info.name}: {result.failed} of {result.attempted} failed")
    assert not failures, failures
    assert attempted >= 8  # the examples of CrossbarSpec, analog_matmul, column_currents, parse_durations, ...
