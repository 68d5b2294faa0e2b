"""Losses against snnTorch's functional losses, population codes included."""

import jax.numpy as jnp
import numpy as np
import pytest
import torch
from snntorch import functional as SF

from hwsnn.train.losses import ce_count, ce_rate, mse_count, population_counts, predict, task_loss_from_name

RNG = np.random.default_rng(0)
SPIKES = (RNG.random((7, 5, 20)) < 0.3).astype(np.float32)
LABELS = RNG.integers(0, 10, size=5)


def torch_loss(fn, out, labels):
    return float(fn(torch.from_numpy(out), torch.from_numpy(labels)))


def test_ce_rate_matches_snntorch():
    out = RNG.normal(size=(7, 5, 10)).astype(np.float32)
    ref = torch_loss(SF.ce_rate_loss(), out, LABELS)
    assert float(ce_rate(jnp.asarray(out), jnp.asarray(LABELS))) == pytest.approx(ref, rel=1e-5)


def test_ce_count_matches_snntorch_with_population_code():
    ref = torch_loss(SF.ce_count_loss(population_code=True, num_classes=10), SPIKES, LABELS)
    assert float(ce_count(jnp.asarray(SPIKES), jnp.asarray(LABELS), 10)) == pytest.approx(ref, rel=1e-5)
    ref_plain = torch_loss(SF.ce_count_loss(), SPIKES[..., :10].copy(), LABELS)
    assert float(ce_count(jnp.asarray(SPIKES[..., :10]), jnp.asarray(LABELS))) == pytest.approx(ref_plain, rel=1e-5)


@pytest.mark.parametrize("correct,incorrect", [(1.0, 0.0), (0.8, 0.2)])
def test_mse_count_matches_snntorch(correct, incorrect):
    ref = torch_loss(SF.mse_count_loss(correct_rate=correct, incorrect_rate=incorrect), SPIKES[..., :10].copy(), LABELS)
    ours = mse_count(jnp.asarray(SPIKES[..., :10]), jnp.asarray(LABELS), correct_rate=correct, incorrect_rate=incorrect)
    assert float(ours) == pytest.approx(ref, rel=1e-5)
    ref_pop = torch_loss(
        SF.mse_count_loss(correct_rate=correct, incorrect_rate=incorrect, population_code=True, num_classes=10),
        SPIKES,
        LABELS,
    )
    ours_pop = mse_count(
        jnp.asarray(SPIKES), jnp.asarray(LABELS), correct_rate=correct, incorrect_rate=incorrect, num_classes=10
    )
    assert float(ours_pop) == pytest.approx(ref_pop, rel=1e-5)


def test_population_counts_and_prediction_by_hand():
    out = jnp.zeros((2, 1, 6)).at[0, 0, 2].set(1).at[1, 0, 3].set(1).at[1, 0, 0].set(1)
    np.testing.assert_array_equal(np.asarray(population_counts(out, 3)), [[1, 2, 0]])
    assert int(predict(out, 3)[0]) == 1


def test_errors():
    with pytest.raises(ValueError, match="num_classes"):
        population_counts(jnp.zeros((2, 1, 7)), 3)
    with pytest.raises(ValueError, match="loss"):
        task_loss_from_name("hinge", None)
