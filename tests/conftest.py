"""Test-wide settings: strict rank promotion (no implicit broadcasting between ranks)."""

import jax

jax.config.update("jax_numpy_rank_promotion", "raise")
