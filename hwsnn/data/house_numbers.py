"""SVHN-like house-number digits, rendered as code (no download): ``svhn-like`` in :data:`~hwsnn.data.DATASETS`.

SVHN's cropped digits (Netzer et al., NIPS 2011 workshop) are 32x32 colour crops centred on one digit of a
photographed house number, often with parts of its neighbours at the sides, in any colours, contrast,
slant, blur and lighting. This generator draws the same kind of sample from the fonts matplotlib ships
(DejaVu Sans, Sans Mono and Serif in their weights and slants, STIX, Computer Modern), so a study that
needs SVHN's difficulty (the DATE 2024 sweep) runs anywhere; the real set is read by
:func:`~hwsnn.data.datasets.svhn` from local files.

One sample (:func:`compose`), every choice drawn per sample from a seeded ``numpy`` generator:

* a font, and the centre digit (the label) with probability 0.8 one or two flanking digits of the same
  number in the same font, spaced by 0.1-0.35 glyph heights and cut by the frame as SVHN's crops cut them;
* glyph height 16-26 px, width 0.7-1.3 times the font's for that height, rotation within +-12 degrees,
  shear within +-0.25, centre jitter +-2 px;
* background and digit colours drawn uniformly in RGB with a luminance difference of at least 0.2 (either
  may be the lighter), a linear lighting gradient of up to +-25 %, a Gaussian blur of sigma 0-1.2 px and
  pixel noise of sigma 0-0.05; values clipped to [0, 1].

Each glyph is rendered once per font by matplotlib's Agg backend at 64 px (anti-aliased coverage), then
placed by an affine resampling (:func:`scipy.ndimage.affine_transform`, bilinear): ``image = bg (1 - a) +
fg a`` with ``a`` the union (maximum) of the placed glyphs' coverage.
"""

from __future__ import annotations

import functools
import math
import os

import numpy as np

from hwsnn import checks

__all__ = ["FONTS", "compose", "glyph", "svhn_like"]

FONTS = (
    "DejaVuSans.ttf",
    "DejaVuSans-Bold.ttf",
    "DejaVuSans-Oblique.ttf",
    "DejaVuSansMono.ttf",
    "DejaVuSansMono-Bold.ttf",
    "DejaVuSerif.ttf",
    "DejaVuSerif-Bold.ttf",
    "DejaVuSerif-Italic.ttf",
    "STIXGeneral.ttf",
    "STIXGeneralBol.ttf",
    "cmr10.ttf",
    "cmss10.ttf",
)
"""The fonts of matplotlib's ``mpl-data/fonts/ttf`` the digits are drawn in."""

SIZE = 32
_RENDER = 64  # px of the canvas each glyph is rendered on
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # ITU-R BT.601 luma weights


@functools.lru_cache(maxsize=None)
def glyph(font: str, digit: int) -> np.ndarray:
    """Coverage in [0, 1] of ``digit`` in ``font`` (one of :data:`FONTS`), cropped to its ink: ``[h, w]``
    float32, rendered by matplotlib's Agg backend with the glyph's cap height about 48 px."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

    if font not in FONTS:
        raise ValueError(f"font: got {font!r}; allowed: one of {list(FONTS)}.")
    path = os.path.join(matplotlib.get_data_path(), "fonts", "ttf", font)
    figure = Figure(figsize=(1, 1), dpi=_RENDER)
    canvas = FigureCanvasAgg(figure)
    figure.text(0.5, 0.5, str(digit), fontproperties=FontProperties(fname=path), fontsize=48, ha="center", va="center")
    canvas.draw()
    ink = 1.0 - np.asarray(canvas.buffer_rgba(), np.float32)[..., 0] / 255.0  # black text on white
    rows, cols = np.flatnonzero(ink.max(axis=1) > 0), np.flatnonzero(ink.max(axis=0) > 0)
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _place(
    coverage: np.ndarray, centre_x: float, centre_y: float, height: float, angle: float, shear: float, aspect: float
):
    """``coverage`` resampled onto the 32x32 frame: scaled to ``height`` px (and its width by ``aspect``
    more), sheared, rotated by ``angle`` (radians) and centred at ``(centre_x, centre_y)`` (pixel
    coordinates, x to the right)."""
    from scipy.ndimage import affine_transform

    scale = coverage.shape[0] / height
    cos, sin = math.cos(angle), math.sin(angle)
    # output (row, col) -> glyph (row, col): undo the rotation, then the shear, then the scale
    rotate = np.array([[cos, sin], [-sin, cos]])
    unshear = np.array([[1.0, 0.0], [-shear, 1.0]])
    matrix = np.diag([scale, scale / aspect]) @ unshear @ rotate
    centre_in = (np.array(coverage.shape) - 1) / 2.0
    offset = centre_in - matrix @ np.array([centre_y, centre_x])
    return affine_transform(coverage, matrix, offset=offset, output_shape=(SIZE, SIZE), order=1, cval=0.0)


def compose(
    font: str,
    digits: tuple[int | None, int, int | None],
    *,
    height: float,
    angle: float = 0.0,
    shear: float = 0.0,
    aspect: float = 1.0,
    jitter: tuple[float, float] = (0.0, 0.0),
    gap: float = 0.2,
    background=(0.0, 0.0, 0.0),
    foreground=(1.0, 1.0, 1.0),
    lighting: tuple[float, float] = (0.0, 0.0),
    blur: float = 0.0,
    noise: np.ndarray | None = None,
) -> np.ndarray:
    """One 32x32x3 sample (module doc): ``digits`` is (left neighbour or ``None``, the centre digit, right
    neighbour or ``None``), ``aspect`` the glyphs' width scale beyond their height's, ``gap`` the spacing in
    glyph heights, ``lighting`` the gradient's gain per frame
    width along x and y, ``noise`` a ``[32, 32, 3]`` array added last."""
    from scipy.ndimage import gaussian_filter

    left, centre, right = digits
    centre_glyph = glyph(font, centre)
    cx, cy = (SIZE - 1) / 2.0 + jitter[0], (SIZE - 1) / 2.0 + jitter[1]
    scale = height / centre_glyph.shape[0]
    alpha = _place(centre_glyph, cx, cy, height, angle, shear, aspect)
    for neighbour, side in ((left, -1.0), (right, 1.0)):
        if neighbour is None:
            continue
        other = glyph(font, neighbour)
        step = (centre_glyph.shape[1] + other.shape[1]) / 2.0 * scale * aspect + gap * height
        dx, dy = side * step * math.cos(angle), -side * step * math.sin(angle)
        placed = _place(other, cx + dx, cy + dy, other.shape[0] * scale, angle, shear, aspect)
        alpha = np.maximum(alpha, placed)
    alpha = np.clip(alpha, 0.0, 1.0)[..., None]
    image = np.asarray(background, np.float32) * (1.0 - alpha) + np.asarray(foreground, np.float32) * alpha
    ramp = np.linspace(-0.5, 0.5, SIZE, dtype=np.float32)
    image = image * (1.0 + lighting[0] * ramp[None, :, None] + lighting[1] * ramp[:, None, None])
    if blur > 0:
        image = gaussian_filter(image, sigma=(blur, blur, 0.0))
    if noise is not None:
        image = image + noise
    return np.clip(image, 0.0, 1.0).astype(np.float32)


def _colours(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Background and digit colours with a luma difference of at least 0.2 (redrawn until they have it)."""
    while True:
        background, foreground = rng.random(3, dtype=np.float32), rng.random(3, dtype=np.float32)
        if abs(float(_LUMA @ (foreground - background))) >= 0.2:
            return background, foreground


def _sample(rng: np.random.Generator, label: int) -> np.ndarray:
    font = FONTS[rng.integers(len(FONTS))]
    flanked = rng.random() < 0.8
    left = int(rng.integers(10)) if flanked and rng.random() < 0.75 else None
    right = int(rng.integers(10)) if flanked and (left is None or rng.random() < 0.75) else None
    background, foreground = _colours(rng)
    return compose(
        font,
        (left, label, right),
        height=rng.uniform(16.0, 26.0),
        angle=math.radians(rng.uniform(-12.0, 12.0)),
        shear=rng.uniform(-0.25, 0.25),
        aspect=rng.uniform(0.7, 1.3),
        jitter=tuple(rng.uniform(-2.0, 2.0, size=2)),
        gap=rng.uniform(0.1, 0.35),
        background=background,
        foreground=foreground,
        lighting=tuple(rng.uniform(-0.25, 0.25, size=2)),
        blur=rng.uniform(0.0, 1.2),
        noise=rng.normal(0.0, rng.uniform(0.0, 0.05), size=(SIZE, SIZE, 3)).astype(np.float32),
    )


def svhn_like(train: int = 8000, test: int = 2000, seed: int = 0):
    """The ``svhn-like`` :class:`~hwsnn.data.Dataset`: ``train`` and ``test`` samples (each a multiple of 10,
    every digit equally often, in a seeded random order), 32x32x3 in [0, 1]. Train and test are drawn from
    independent streams of ``numpy.random.default_rng(seed)``, so the same arguments give the same arrays."""
    from hwsnn.data.datasets import Dataset

    for name, count in (("train", train), ("test", test)):
        checks.int_at_least(count, name, 10)
        if count % 10:
            raise ValueError(f"{name}: got {count}; allowed: a multiple of 10 (every digit equally often).")
    streams = np.random.SeedSequence(seed).spawn(2)
    split = []
    for count, stream in zip((train, test), streams):
        rng = np.random.default_rng(stream)
        labels = rng.permutation(np.arange(count) % 10).astype(np.int32)
        split.append((np.stack([_sample(rng, int(label)) for label in labels]), labels))
    (x_train, y_train), (x_test, y_test) = split
    return Dataset("svhn-like", x_train, y_train, x_test, y_test, 10)
