"""Losses on time-major outputs ``[T, B, C]`` (snnTorch ``functional/loss.py`` semantics).

* :func:`ce_rate`: cross-entropy of the logits at every step, averaged over steps and batch.
* :func:`ce_count`: cross-entropy of the summed spike counts (or summed membranes).
* :func:`mse_count`: MSE between spike counts and the targets ``int(T * correct_rate)`` /
  ``int(T * incorrect_rate)``, divided by T.
* :func:`firing_rate_loss`: mean over layers of ``(r_l - target)^2``, ``r_l`` = spikes per neuron
  per step from :class:`~hwsnn.layers.Activity`.

With a population code (``C = num_classes * P`` outputs, ``P`` per class, contiguous blocks as
snnTorch), counts are summed per class and the mse targets scale by ``P``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from hwsnn.typing import Array


def population_counts(out: Array, num_classes: int | None) -> Array:
    """Sum ``out [T, B, C]`` over time and over each class's block of ``C / num_classes`` outputs -> ``[B, K]``."""
    counts = jnp.sum(out, axis=0)
    if num_classes is None or num_classes == counts.shape[-1]:
        return counts
    if counts.shape[-1] % num_classes:
        raise ValueError(
            f"num_classes: {num_classes} does not divide the {counts.shape[-1]} outputs; "
            "allowed: a divisor of the number of output neurons."
        )
    return counts.reshape(counts.shape[:-1] + (num_classes, -1)).sum(axis=-1)


def ce_rate(out: Array, labels: Array) -> Array:
    """``mean_t mean_b CE(out[t, b], y_b)``."""
    per_step = optax.softmax_cross_entropy_with_integer_labels(out, jnp.broadcast_to(labels[None], out.shape[:2]))
    return jnp.mean(per_step)


def ce_count(out: Array, labels: Array, num_classes: int | None = None) -> Array:
    """``mean_b CE(sum_t out[t, b], y_b)`` (per-class sums with a population code)."""
    return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(population_counts(out, num_classes), labels))


def mse_count(
    out: Array, labels: Array, *, correct_rate: float = 1.0, incorrect_rate: float = 0.0, num_classes: int | None = None
) -> Array:
    """``mean_{b,k} (count_bk - target_bk)^2 / T`` with integer targets (snnTorch ``mse_count_loss``)."""
    steps, outputs = out.shape[0], out.shape[-1]
    per_class = 1 if num_classes is None else outputs // num_classes
    counts = population_counts(out, num_classes)
    on = int(steps * correct_rate * per_class)
    off = int(steps * incorrect_rate * per_class)
    targets = jnp.where(jax.nn.one_hot(labels, counts.shape[-1]) > 0, float(on), float(off))
    return jnp.mean(jnp.square(counts - targets)) / steps


def firing_rate_loss(activity, workload, target: float = 0.0) -> Array:
    """``mean_l (r_l - target)^2`` over spiking layers, ``r_l`` = spikes / (neurons x T_l)."""
    rates = activity.firing_rates(workload)
    spiking = jnp.asarray([layer.spiking_output for layer in workload.layers])
    return jnp.sum(jnp.where(spiking, jnp.square(rates - target), 0.0)) / jnp.maximum(jnp.sum(spiking), 1)


def predict(out: Array, num_classes: int | None = None) -> Array:
    """Predicted class: argmax of the per-class sums over time (spike counts or membranes)."""
    return jnp.argmax(population_counts(out, num_classes), axis=-1)


def _rate_loss(num_classes: int | None):
    if num_classes is not None:
        raise ValueError("loss: 'ce_rate' takes no population code; allowed: ce_count or mse_count.")
    return ce_rate


TASK_LOSSES = {
    "ce_rate": _rate_loss,
    "ce_count": lambda num_classes: lambda out, labels: ce_count(out, labels, num_classes),
    "mse_count": lambda num_classes: lambda out, labels: mse_count(out, labels, num_classes=num_classes),
}
"""The task losses a config names, each as ``make(num_classes) -> loss(out, labels)`` (``num_classes``:
the class count of a population code, else ``None``); add one by adding an entry."""


def task_loss_from_name(name: str, num_classes: int | None):
    """``loss(out, labels)`` for a config name in :data:`TASK_LOSSES`."""
    if name not in TASK_LOSSES:
        raise ValueError(f"loss: got {name!r}; allowed: {list(TASK_LOSSES)}.")
    return TASK_LOSSES[name](num_classes)
