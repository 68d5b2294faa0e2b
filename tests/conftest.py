"""Test-wide settings.

* Strict rank promotion: no implicit broadcasting between ranks.
* A persistent XLA compilation cache in a fresh folder for this session (removed at its end).
  Many tests build the same small networks again (new Python closures, identical HLO): with the
  cache, an identical computation is compiled once per session instead of once per test. The folder
  starts empty, so the suite's first compilation of every computation is still timed; subprocesses
  and notebook kernels share it through the environment.
"""

import os
import shutil
import tempfile

_CACHE = tempfile.mkdtemp(prefix="hwsnn-test-xla-cache-")
os.environ["JAX_COMPILATION_CACHE_DIR"] = _CACHE
os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
os.environ["JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"] = "0"

import jax  # noqa: E402  (after the cache settings, which jax reads at import)

jax.config.update("jax_compilation_cache_dir", _CACHE)
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
jax.config.update("jax_numpy_rank_promotion", "raise")


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_CACHE, ignore_errors=True)
