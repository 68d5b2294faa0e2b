"""Test-wide settings.

* Strict rank promotion: no implicit broadcasting between ranks.
* A persistent XLA compilation cache in a fresh, empty folder per test process (each pytest-xdist
  worker has its own), removed at the end. Many tests build the same small networks again (new
  Python closures, identical HLO); with the cache an identical computation is compiled once per
  process instead of once per test. ``jax.config`` sets it for this process, the environment for the
  subprocesses and notebook kernels it starts.
"""

import os
import shutil
import tempfile

import jax

_CACHE = tempfile.mkdtemp(prefix="hwsnn-test-xla-cache-")
_CACHE_SETTINGS = {
    "jax_compilation_cache_dir": _CACHE,
    "jax_persistent_cache_min_compile_time_secs": 0,
    "jax_persistent_cache_min_entry_size_bytes": 0,
}
for name, value in _CACHE_SETTINGS.items():
    jax.config.update(name, value)
    os.environ[name.upper()] = str(value)
jax.config.update("jax_numpy_rank_promotion", "raise")


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_CACHE, ignore_errors=True)
