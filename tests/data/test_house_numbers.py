"""The SVHN-like house-number generator: exact composition, determinism, balance, and a learnable label."""

import warnings

import numpy as np
import pytest

from hwsnn.data import DATASETS
from hwsnn.data.house_numbers import FONTS, _place, compose, glyph, svhn_like

BACKGROUND, FOREGROUND = (0.2, 0.3, 0.4), (0.9, 0.8, 0.1)


def test_a_clean_sample_is_the_glyph_composited_over_the_background():
    """No rotation, blur, lighting or noise: every pixel is bg (1 - a) + fg a with one coverage a for all three
    channels; a is the glyph placed at the centre, its ink spans the requested height, and the corners are bg."""
    image = compose(FONTS[0], (None, 7, None), height=20.0, background=BACKGROUND, foreground=FOREGROUND)
    bg, fg = np.asarray(BACKGROUND, np.float32), np.asarray(FOREGROUND, np.float32)
    alpha = (image - bg) / (fg - bg)
    np.testing.assert_allclose(alpha[..., 0], alpha[..., 1], atol=1e-5)
    np.testing.assert_allclose(alpha[..., 0], alpha[..., 2], atol=1e-5)
    expected = _place(glyph(FONTS[0], 7), 15.5, 15.5, 20.0, 0.0, 0.0, 1.0)
    np.testing.assert_allclose(alpha[..., 0], np.clip(expected, 0, 1), atol=1e-5)
    rows = np.flatnonzero(alpha[..., 0].max(axis=1) > 0.5)
    assert abs((rows[-1] - rows[0] + 1) - 20) <= 2
    for corner in (image[0, 0], image[0, -1], image[-1, 0], image[-1, -1]):
        np.testing.assert_allclose(corner, bg, atol=1e-6)


def test_neighbours_add_ink_beside_the_centre_digit_and_leave_it_unchanged():
    alone = compose(FONTS[5], (None, 4, None), height=18.0, background=BACKGROUND, foreground=FOREGROUND)
    flanked = compose(FONTS[5], (1, 4, 9), height=18.0, gap=0.3, background=BACKGROUND, foreground=FOREGROUND)
    ink = lambda image: np.abs(image - np.asarray(BACKGROUND, np.float32)).sum(axis=-1) > 1e-3
    centre_columns = np.flatnonzero(ink(alone).any(axis=0))
    inside = slice(centre_columns[0], centre_columns[-1] + 1)
    np.testing.assert_array_equal(flanked[:, inside], alone[:, inside])
    assert ink(flanked)[:, : centre_columns[0]].any() and ink(flanked)[:, centre_columns[-1] + 1 :].any()


def test_the_set_is_seeded_balanced_and_in_range():
    data = svhn_like(train=100, test=50, seed=3)
    again = svhn_like(train=100, test=50, seed=3)
    np.testing.assert_array_equal(data.x_train, again.x_train)
    np.testing.assert_array_equal(data.y_test, again.y_test)
    assert data.x_train.shape == (100, 32, 32, 3) and data.x_train.dtype == np.float32
    assert 0.0 <= data.x_train.min() and data.x_train.max() <= 1.0
    assert np.bincount(data.y_train).tolist() == [10] * 10 and np.bincount(data.y_test).tolist() == [5] * 10
    assert not np.array_equal(svhn_like(train=100, test=50, seed=4).x_train, data.x_train)
    assert data.name == "svhn-like" and data.num_classes == 10 and "svhn-like" in DATASETS


def test_the_label_is_the_centre_digit_and_colour_alone_does_not_give_it():
    """A linear classifier on contrast-normalised luma (digit made bright) learns the label well; on raw RGB
    pixels, where colours and polarity are random, it stays far below."""
    from sklearn.linear_model import LogisticRegression

    data = svhn_like(train=1500, test=500, seed=1)

    def normalised(x):
        luma = x @ np.array([0.299, 0.587, 0.114], np.float32)
        luma = (luma - luma.mean((1, 2), keepdims=True)) / (luma.std((1, 2), keepdims=True) + 1e-6)
        border = np.concatenate([luma[:, :3].reshape(len(x), -1), luma[:, -3:].reshape(len(x), -1)], 1).mean(1)
        return (luma * np.where(border > 0, -1.0, 1.0)[:, None, None])[:, 4:28, 8:24].reshape(len(x), -1)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        shape = LogisticRegression(max_iter=2000, C=0.1).fit(normalised(data.x_train), data.y_train)
        raw = LogisticRegression(max_iter=300).fit(data.x_train.reshape(1500, -1), data.y_train)
    shape_accuracy = shape.score(normalised(data.x_test), data.y_test)
    raw_accuracy = raw.score(data.x_test.reshape(500, -1), data.y_test)
    assert shape_accuracy > 0.6 and raw_accuracy < shape_accuracy - 0.3


@pytest.mark.parametrize(
    "call,message",
    [
        (lambda: svhn_like(train=105), r"train: got 105; allowed: a multiple of 10"),
        (lambda: svhn_like(test=0), r"test: got 0; allowed: an int >= 10"),
        (lambda: glyph("Arial.ttf", 3), r"font: got 'Arial.ttf'; allowed: one of"),
    ],
)
def test_bad_arguments_are_refused(call, message):
    with pytest.raises(ValueError, match=message):
        call()
