"""analog_matmul: ideal equals x @ w; each non-ideality alone against its closed form; gradients."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hwsnn.hardware.crossbar import (
    ADC,
    CrossbarSpec,
    DifferentialPair,
    Exact,
    IRDrop,
    Offset,
    ProgrammingNoise,
    ReadNoise,
    Relaxation,
    Resummed,
    SenseAmplifier,
    StuckAt,
    analog_matmul,
    analog_matmul_tiles,
    effective_conductance,
    exact_currents,
    ramped_names,
    split_row_tiles,
)

G_ON, G_OFF, V = 1 / 19.139e3, 1 / 200e3, 0.1
SPAN = G_ON - G_OFF
RNG = np.random.default_rng(0)
W = jnp.asarray(RNG.normal(0, 0.1, (150, 70)).astype(np.float32))
X = jnp.asarray((RNG.random((8, 150)) < 0.3).astype(np.float32))


def spec(**kw):
    base = dict(g_on_siemens=G_ON, g_off_siemens=G_OFF, v_read_volt=V, weight_bits=None)
    base.update(kw)
    return CrossbarSpec(**base)


@pytest.mark.parametrize("encoding", [DifferentialPair(), Offset()])
def test_all_ideal_equals_matmul(encoding):
    y = analog_matmul(X, W, spec(encoding=encoding), jax.random.key(0))
    np.testing.assert_allclose(np.asarray(y), np.asarray(X @ W), atol=1e-5)
    # leading axes: [T, B, K]
    xt = X.reshape(2, 4, 150)
    np.testing.assert_allclose(
        np.asarray(analog_matmul(xt, W, spec(encoding=encoding), jax.random.key(0))), np.asarray(xt @ W), atol=1e-5
    )


def test_weight_quantisation_closed_form():
    w_max = float(jnp.max(jnp.abs(W)))
    w_q = w_max * np.round(np.asarray(W) / w_max * 7) / 7  # 4 bits: L = 2^3 - 1 = 7
    y = analog_matmul(X, W, spec(weight_bits=4), jax.random.key(0))
    np.testing.assert_allclose(np.asarray(y), np.asarray(X) @ w_q, atol=1e-5)


def test_weight_clip_closed_form():
    # w_max = 2 x RMS(w): the bulk of the weights spread over the 7 levels, the tails programmed at the top level
    w_max = 2.0 * float(np.sqrt(np.mean(np.asarray(W) ** 2)))
    assert w_max < float(jnp.max(jnp.abs(W)))  # the clip is active on this draw
    w_q = w_max * np.round(np.clip(np.asarray(W) / w_max * 7, -7, 7)) / 7
    clipped = spec(weight_bits=4, weight_clip=2.0)
    np.testing.assert_allclose(
        np.asarray(analog_matmul(X, W, clipped, jax.random.key(0))), np.asarray(X) @ w_q, atol=1e-5
    )
    # straight-through inside the range, no gradient for a weight programmed at the top level
    c = jnp.asarray(RNG.normal(size=(8, 70)).astype(np.float32))
    g = jax.grad(lambda w: jnp.sum(c * analog_matmul(X, w, clipped, jax.random.key(0))))(W)
    inside = (np.abs(np.asarray(W)) < w_max).astype(np.float32)
    np.testing.assert_allclose(np.asarray(g), np.asarray(X.T @ c) * inside, rtol=1e-4, atol=1e-5)
    assert 0 < (1 - inside).sum() < 0.1 * inside.size
    # a clip above the largest |w| / RMS changes nothing: the largest |w| maps to the top level
    loose = float(jnp.max(jnp.abs(W))) / float(np.sqrt(np.mean(np.asarray(W) ** 2))) + 0.1
    np.testing.assert_array_equal(
        np.asarray(analog_matmul(X, W, spec(weight_bits=4, weight_clip=loose), jax.random.key(0))),
        np.asarray(analog_matmul(X, W, spec(weight_bits=4), jax.random.key(0))),
    )


@pytest.mark.parametrize("clip", [0.5, float("inf"), float("nan"), True, "2"])
def test_weight_clip_refused(clip):
    with pytest.raises(ValueError, match=r"weight_clip must be None or a finite number >= 1.*got"):
        spec(weight_bits=4, weight_clip=clip)


def one_hot_outputs(s, w, key, program_key=None):
    """Outputs for one-hot inputs: row i of the result is the effective weight row i."""
    eye = jnp.eye(w.shape[0])
    return np.asarray(analog_matmul(eye, w, s, key, program_key=program_key))


def test_programming_variation_statistics():
    sigma = 0.2e-6  # siemens, constant: far from the zero floor
    w = jnp.asarray(RNG.normal(0, 0.1, (64, 512)).astype(np.float32))
    s = spec(stages=(ProgrammingNoise(sigma_0=sigma),))
    y = one_hot_outputs(s, w, jax.random.key(1))
    w_max = float(jnp.max(jnp.abs(w)))
    deviation = y - np.asarray(w)
    # y = w + sigma (eps+ - eps-) w_max / span: Gaussian with std sqrt(2) sigma w_max / span
    expected = np.sqrt(2) * sigma * w_max / SPAN
    assert abs(deviation.mean()) < 4 * expected / np.sqrt(deviation.size)
    assert deviation.std() == pytest.approx(expected, rel=0.03)
    # drawn once per programming key; a new key gives another chip
    again = one_hot_outputs(s, w, jax.random.key(7), program_key=jax.random.key(1))
    other = one_hot_outputs(s, w, jax.random.key(1), program_key=jax.random.key(2))
    np.testing.assert_array_equal(again, y)
    assert np.abs(other - y).max() > expected


def test_stuck_at_fraction():
    w = jnp.asarray(RNG.uniform(0.05, 1.0, (64, 1024)).astype(np.float32) * RNG.choice([-1, 1], (64, 1024)))
    p_on, p_off = 0.1, 0.05
    y = one_hot_outputs(spec(stages=(StuckAt(p_on=p_on, p_off=p_off),)), w, jax.random.key(3))
    changed = np.abs(y - np.asarray(w)) > 1e-4
    # the active cell of a pair changes if stuck either way; the idle one (at g_off) only if stuck on
    expected = 1 - (1 - p_on - p_off) * (1 - p_on)
    assert changed.mean() == pytest.approx(expected, abs=4 * np.sqrt(expected * (1 - expected) / changed.size))


def test_adc_step_and_clipping():
    w = W[:64]  # one crossbar of fan-in
    x = jnp.eye(64)[:10]
    w_max = float(jnp.max(jnp.abs(w)))
    for adc_range, bits in ((0.125, 4), (0.01, 4), (0.125, 6)):
        y = np.asarray(analog_matmul(x, w, spec(readout=ADC(bits=bits, range=adc_range)), jax.random.key(0)))
        full_scale = adc_range * 64 * SPAN * V
        levels = 2 ** (bits - 1) - 1
        current = np.asarray(w[:10]) / w_max * SPAN * V  # one row on: dI = v dG
        expected = np.round(np.clip(current / full_scale, -1, 1) * levels) / levels * full_scale * w_max / (V * SPAN)
        np.testing.assert_allclose(y, expected, atol=1e-6)
    assert np.unique(np.round(np.abs(y) / (full_scale * w_max / (V * SPAN)) * levels, 4)).size <= levels + 1


def test_sense_amplifier_decisions():
    w, x = W[:64], X[:, :64]  # one tile: the output is a_j x sign(partial sum) per column j
    s = spec(readout=SenseAmplifier())
    full_scale = 64 * V * SPAN  # adc_range 1: all 64 rows on at g_on, in amperes
    scale = jnp.asarray(RNG.uniform(0.01, 0.1, (1, 1, 70)).astype(np.float32))
    product = analog_matmul_tiles(split_row_tiles(x.T, 64), w, s, jax.random.key(0), sa_scale=scale)
    y, partial = np.asarray(product.y), np.asarray(x @ w)
    assert np.array_equal(np.sign(y), np.sign(partial))
    # each decision is worth the column's fixed scale, in weight units: a full_scale w_max / (v span)
    unit = full_scale * float(jnp.max(jnp.abs(w))) / (V * SPAN)  # weight units per full-scale current
    np.testing.assert_allclose(np.abs(y), np.broadcast_to(np.asarray(scale[0, 0]) * unit, y.shape), rtol=1e-5)
    # the measurement a calibration averages: each column's mean |partial sum| in units of full scale
    np.testing.assert_allclose(
        np.asarray(product.partial_magnitudes[0, 0]), np.abs(partial).mean(axis=0) / unit, rtol=1e-5
    )
    # a sample's output is its own: the same row with different batch-mates
    other = analog_matmul(x.at[1:].set(1.0 - x[1:]), w, s, jax.random.key(0), sa_scale=scale)
    np.testing.assert_array_equal(np.asarray(other)[0], y[0])
    # a frozen per-column offset flips the decisions of columns whose partial sums are small
    shifted = np.asarray(
        analog_matmul(x, w, spec(readout=SenseAmplifier(offset_sigma=0.05)), jax.random.key(0), sa_scale=scale)
    )
    flips = np.sign(shifted) != np.sign(y)
    assert 0 < flips.mean() < 0.5
    # the scales are required, in their shape
    for bad in (None, scale[0]):
        with pytest.raises(ValueError, match=r"sa_scale: got .*allowed: an array \(1, 1, 70\)"):
            analog_matmul(x, w, s, jax.random.key(0), sa_scale=bad)


def test_a_tile_with_no_driven_row_is_not_read():
    # 150 rows = tiles of 64, 64, 22. Sample 0 drives rows of tile 0 only, sample 1 of tiles 0 and 2,
    # sample 2 nothing: each decision is worth +-a_j, and a tile with no driven row adds exactly 0 on
    # every chip (with offsets it would otherwise report the sign of its own offset)
    x = np.zeros((3, 150), np.float32)
    x[0, [3, 10, 40]] = 1.0
    x[1, [5, 140, 149]] = 1.0
    scale = jnp.full((1, 3, 70), 0.05)
    unit = 64 * V * SPAN * float(jnp.max(jnp.abs(W))) / (V * SPAN)  # weight units per full-scale current
    tiles = [slice(0, 64), slice(64, 128), slice(128, 150)]
    for sigma, key in ((0.0, 0), (0.05, 0), (0.05, 1)):
        product = analog_matmul_tiles(
            split_row_tiles(jnp.asarray(x).T, 64),
            W,
            spec(readout=SenseAmplifier(offset_sigma=sigma)),
            jax.random.key(key),
            sa_scale=scale,
        )
        y = np.asarray(product.y) / (0.05 * unit)  # in decisions
        reads = np.asarray([[x[p, t].any() for t in tiles] for p in range(3)]).sum(axis=1)[:, None]  # 1, 2, 0
        votes = np.round(y)  # a sum of +-1 per tile read: a whole number of its parity, at most the reads
        np.testing.assert_allclose(y, votes, atol=1e-5)
        assert ((np.abs(votes) <= reads) & ((votes - reads) % 2 == 0)).all()
        np.testing.assert_array_equal(y[2], 0.0)  # nothing driven: nothing read
        if sigma == 0.0:  # one tile read: the sign of its partial sum; two: the sum of both signs
            np.testing.assert_allclose(y[0], np.sign(x[0, :64] @ np.asarray(W[:64])), atol=1e-5)
            np.testing.assert_allclose(
                y[1], np.sign(x[1, :64] @ np.asarray(W[:64])) + np.sign(x[1, 128:] @ np.asarray(W[128:])), atol=1e-5
            )
        # the calibration measurement averages |partial sum| over the reads only (tile 1: none, so 0)
        magnitudes = np.asarray(product.partial_magnitudes[0])
        np.testing.assert_allclose(
            magnitudes[0], np.abs(x[:2, :64] @ np.asarray(W[:64])).mean(axis=0) / unit, rtol=1e-5
        )
        np.testing.assert_allclose(magnitudes[2], np.abs(x[1, 128:] @ np.asarray(W[128:])) / unit, rtol=1e-5)
        np.testing.assert_array_equal(magnitudes[1], 0.0)
    # the surrogate gradient still reaches the rows of a tile that was not read (so a silent layer can wake)
    s = spec(readout=SenseAmplifier())
    grad = jax.grad(lambda v: jnp.sum(analog_matmul(v, W, s, jax.random.key(0), sa_scale=scale)))(jnp.asarray(x))
    assert float(jnp.abs(grad[2]).min()) > 0 and float(jnp.abs(grad[0, 64:128]).min()) > 0


def test_ir_drop_effective_conductance_equals_exact_solve():
    g = jnp.asarray(1 / RNG.uniform(20e3, 200e3, (64, 64)))
    v = RNG.random((5, 64)) * 0.2
    np.testing.assert_allclose(
        np.asarray(v @ effective_conductance(g, 2.5, iterations=20, damping=0.6)),
        exact_currents(v, np.asarray(g), 2.5),
        rtol=1e-4,
    )


def test_strength_scales_each_nonideality():
    sigma = 0.2e-6
    w = jnp.asarray(RNG.normal(0, 0.1, (64, 512)).astype(np.float32))
    # noise strength s scales the programming sigma: deviations have s times the full-strength std
    noisy = spec(stages=(ProgrammingNoise(sigma_0=sigma),))
    full = one_hot_outputs(noisy, w, jax.random.key(1)) - np.asarray(w)
    eye = jnp.eye(64)
    half = np.asarray(
        analog_matmul(eye, w, noisy, jax.random.key(1), strength={"programming_noise": 0.5})
    ) - np.asarray(w)
    np.testing.assert_allclose(half, 0.5 * full, atol=1e-5)
    # noise 0, IR 0, readout 0: quantised weights on an ideal crossbar with an exact readout
    harsh = spec(
        weight_bits=4,
        readout=SenseAmplifier(offset_sigma=0.05),
        stages=(ProgrammingNoise(sigma_0=sigma), IRDrop(r_wire_ohm=2.5), StuckAt(p_on=0.1)),
    )
    scales = jnp.full((1, 3, 70), 0.05)  # 150 rows: 3 row tiles of 64
    zero = analog_matmul(X, W, harsh, jax.random.key(0), strength=0.0, sa_scale=scales)
    np.testing.assert_allclose(
        np.asarray(zero), np.asarray(analog_matmul(X, W, spec(weight_bits=4), jax.random.key(0))), atol=1e-5
    )
    # the readout strength blends the exact partial sums (p) into the SA readout (q): linear in it
    sa = spec(weight_bits=4, readout=SenseAmplifier())
    exact, decided = (
        analog_matmul(X, W, sa, jax.random.key(0), strength={"readout": r}, sa_scale=scales) for r in (0.0, 1.0)
    )
    blended = analog_matmul(X, W, sa, jax.random.key(0), strength={"readout": 0.25}, sa_scale=scales)
    np.testing.assert_allclose(np.asarray(blended), np.asarray(0.75 * exact + 0.25 * decided), atol=1e-5)
    # IR-drop strength scales the wire resistance
    ir = spec(stages=(IRDrop(r_wire_ohm=2.0),))
    np.testing.assert_allclose(
        np.asarray(analog_matmul(X, W, ir, jax.random.key(0), strength={"ir_drop": 0.5})),
        np.asarray(analog_matmul(X, W, spec(stages=(IRDrop(r_wire_ohm=1.0),)), jax.random.key(0))),
        atol=1e-6,
    )


@pytest.mark.parametrize(
    "encoding, bits_per_cell, cells",
    [
        (DifferentialPair(), 1, 5),
        (DifferentialPair(), 2, 3),
        (DifferentialPair(), 5, 1),
        (Offset(), 2, 3),
        (Offset(), 4, 2),
    ],
)
def test_bit_slicing(encoding, bits_per_cell, cells):
    from hwsnn.hardware.crossbar import bit_slices, quantize_weights

    # digits recombine to the stored integer: sum_s 2^(b s) d_s = u, each digit in [0, 2^b - 1]
    n, _, levels = quantize_weights(W, 6)
    planes, plane_max = encoding.planes(n, levels)
    for u in planes:
        digits, digit_max = bit_slices(u, plane_max, bits_per_cell)
        assert len(digits) == cells and digit_max == 2**bits_per_cell - 1
        assert all(float(d.min()) >= 0 and float(d.max()) <= digit_max for d in digits)
        np.testing.assert_array_equal(
            np.asarray(sum(2 ** (bits_per_cell * s) * d for s, d in enumerate(digits))), np.round(np.asarray(u))
        )
    # sliced crossbars with exact readout compute the 6-bit quantised product exactly
    w_max = float(jnp.max(jnp.abs(W)))
    w_q = w_max * np.round(np.asarray(W) / w_max * 31) / 31
    sliced = spec(weight_bits=6, bits_per_cell=bits_per_cell, encoding=encoding)
    np.testing.assert_allclose(
        np.asarray(analog_matmul(X, W, sliced, jax.random.key(0))), np.asarray(X) @ w_q, rtol=1e-4, atol=1e-5
    )
    # the straight-through gradient of the recombined weight is that of the unsliced one
    c = jnp.asarray(RNG.normal(size=(8, 70)).astype(np.float32))
    g = jax.grad(lambda w: jnp.sum(c * analog_matmul(X, w, sliced, jax.random.key(0))))(W)
    np.testing.assert_allclose(np.asarray(g), np.asarray(X.T @ c), rtol=1e-4, atol=1e-5)


def test_bit_slices_are_read_separately():
    # weights (5/7, 1): level 5 = 0b101 at 4 bits. The signed 2-bit ADC's full scale is one cell's
    # current (adc_range 0.5 x 2 rows x span x v), so on 1-bit cells each slice reads exactly and the
    # shift-and-add gives 5/7; in one cell the current 5/7 of a cell rounds up to the top level: 1.
    w, x = jnp.asarray([[5.0 / 7.0], [1.0]]), jnp.asarray([[1.0, 0.0]])
    common = dict(weight_bits=4, readout=ADC(bits=2, range=0.5), size=2)
    np.testing.assert_allclose(
        np.asarray(analog_matmul(x, w, spec(bits_per_cell=1, **common), jax.random.key(0))), [[5.0 / 7.0]], rtol=1e-5
    )
    np.testing.assert_allclose(np.asarray(analog_matmul(x, w, spec(**common), jax.random.key(0))), [[1.0]], rtol=1e-5)


def test_ir_drop_gradient_against_finite_differences():
    # the gradient through the resummed IR-drop conductances (what training uses) against central
    # differences of the forward pass, along random directions (w_max held fixed: a stop-gradient scale)
    s = spec(stages=(IRDrop(r_wire_ohm=2.5, solver=Resummed()),))
    c = jnp.asarray(RNG.normal(size=(8, 70)).astype(np.float32))
    f = lambda w: jnp.sum(c * analog_matmul(X, w, s, jax.random.key(0)))
    g = jax.grad(f)(W)
    big = np.unravel_index(np.argmax(np.abs(np.asarray(W))), W.shape)
    for seed in range(3):
        d = np.random.default_rng(seed).normal(size=W.shape).astype(np.float32)
        d[big] = 0.0  # keep w_max (a stop-gradient scale) fixed
        d = jnp.asarray(d)
        h = 1e-3
        numeric = (float(f(W + h * d)) - float(f(W - h * d))) / (2 * h)
        assert float(jnp.sum(g * d)) == pytest.approx(numeric, rel=0.01, abs=0.05)


def test_gradients_reach_the_weights():
    c = jnp.asarray(RNG.normal(size=(8, 70)).astype(np.float32))
    # quantisation and an ideal readout: straight-through, so the gradient is exactly x^T c
    g = jax.grad(lambda w: jnp.sum(c * analog_matmul(X, w, spec(weight_bits=4), jax.random.key(0))))(W)
    np.testing.assert_allclose(np.asarray(g), np.asarray(X.T @ c), rtol=1e-4, atol=1e-5)
    for readout in (ADC(bits=4, range=0.125), SenseAmplifier()):
        s = spec(
            weight_bits=4,
            readout=readout,
            stages=(ProgrammingNoise(sigma_0=0.2e-6), IRDrop(r_wire_ohm=1.0, solver=Relaxation())),
        )
        tiles = split_row_tiles(X.T, 64)
        scale = analog_matmul_tiles(tiles, W, s.without("readout"), jax.random.key(0)).partial_magnitudes  # calibrated
        g = jax.grad(lambda w: jnp.sum(c * analog_matmul(X, w, s, jax.random.key(0), sa_scale=scale)))(W)
        assert np.all(np.isfinite(np.asarray(g))) and float(jnp.abs(g).mean()) > 1e-3
        # the surrogate / straight-through gradient points the same way as the ideal one, mostly
        agree = np.mean(np.sign(np.asarray(g)) == np.sign(np.asarray(X.T @ c)))
        assert agree > 0.6
    # the sense amplifiers' scales: the output is linear in them, so the gradient equals central differences
    f = lambda a: jnp.sum(c * analog_matmul(X, W, s, jax.random.key(0), sa_scale=a))
    g = np.asarray(jax.grad(f)(scale))
    for index in [(0, 0, 3), (0, 1, 10), (0, 2, 69)]:
        step = jnp.zeros_like(scale).at[index].set(0.5 * float(scale[index]))  # linear: any step
        numeric = (float(f(scale + step)) - float(f(scale - step))) / (2 * float(step[index]))
        np.testing.assert_allclose(g[index], numeric, rtol=1e-4)


def test_split_row_tiles_are_consecutive_row_blocks():
    x_t = jnp.arange(40.0).reshape(10, 4)
    tiles = split_row_tiles(x_t, 4)
    for tile, rows in zip(tiles, ([0, 1, 2, 3], [4, 5, 6, 7], [8, 9]), strict=True):
        np.testing.assert_array_equal(np.asarray(tile), np.asarray(x_t)[rows])
    # analog_matmul is analog_matmul_tiles on these blocks of x^T
    spec_ = spec(weight_bits=4, size=64)
    np.testing.assert_array_equal(
        np.asarray(analog_matmul(X, W, spec_, jax.random.key(0))),
        np.asarray(analog_matmul_tiles(split_row_tiles(X.T, 64), W, spec_, jax.random.key(0)).y),
    )


def test_bad_inputs():
    with pytest.raises(ValueError, match="x, w"):
        analog_matmul(jnp.ones((2, 3)), jnp.ones((4, 5)), spec(), jax.random.key(0))
    # row tiles must be size-row blocks (only the last shorter) whose rows add up to w's, all over the same P
    for tiles in (
        [jnp.ones((40, 8)), jnp.ones((64, 8))],
        [jnp.ones((64, 8)), jnp.ones((30, 8))],
        [jnp.ones((64, 8)), jnp.ones((36, 9))],
        [],
    ):
        with pytest.raises(ValueError, match=r"row_tiles, w: tile shapes .* allowed: \[64, P\] blocks"):
            analog_matmul_tiles(tiles, jnp.ones((100, 5)), spec(), jax.random.key(0))
    with pytest.raises(ValueError, match=r"encoding must be DifferentialPair\(\); got Offset\(\)"):
        spec(readout=SenseAmplifier(), encoding=Offset())
    with pytest.raises(ValueError, match="g_off_siemens must be <"):
        spec(g_off_siemens=1e-3)
    with pytest.raises(ValueError, match=r"StuckAt: p_on \+ p_off must be <= 1; got 1\.29"):
        StuckAt(p_on=0.7, p_off=0.6)
    with pytest.raises(ValueError, match="bits_per_cell=2 needs quantised weights"):
        spec(bits_per_cell=2)
    with pytest.raises(ValueError, match="bits_per_cell must be an int in \\[1, 3\\]; got 4"):
        spec(weight_bits=4, bits_per_cell=4)
    with pytest.raises(ValueError, match="does not converge"):
        spec(stages=(IRDrop(r_wire_ohm=100.0, solver=Relaxation(iterations=5, damping=1.0)),))


def test_stages_are_read_from_the_spec_at_call_time():
    """A layer whose spec is replaced after construction (read noise added) reads with the new spec; the
    spec's stages are its structure, so they are known under jit."""
    from flax import nnx

    from hwsnn.layers import Context, SpikingDense

    quiet = spec(weight_bits=4)
    assert quiet.stages == () and not quiet.readout.needs_scale
    layer = SpikingDense(150, 70, rngs=nnx.Rngs(0), hardware=quiet)
    before = np.asarray(layer.synapse(X, Context(jax.random.key(0))))
    noisy = quiet.with_stage(ReadNoise(sigma=0.04))
    assert [stage.name for stage in noisy.stages] == ["read_noise"]
    layer.hardware = noisy
    after = np.asarray(layer.synapse(X, Context(jax.random.key(0))))
    assert np.std(after - before) > 1e-3
    jitted = jax.jit(lambda s, x: analog_matmul(x, W, s, jax.random.key(0)))
    np.testing.assert_allclose(
        np.asarray(jitted(noisy, X)), np.asarray(analog_matmul(X, W, noisy, jax.random.key(0))), atol=1e-6
    )


def test_read_noise_statistics():
    # one-hot inputs read one cell per column pair: y = w + sigma (I+ eps+ - I- eps-) in weight units, so the
    # deviation of an output whose weight is n levels has std sigma sqrt(G+^2 + G-^2) w_max / span
    w = jnp.asarray(RNG.normal(0, 0.1, (64, 512)).astype(np.float32))
    sigma = 0.04
    y = one_hot_outputs(spec(stages=(ReadNoise(sigma=sigma),)), w, jax.random.key(5))
    w_max = float(jnp.max(jnp.abs(w)))
    g_plus = G_OFF + SPAN * np.maximum(np.asarray(w), 0) / w_max
    g_minus = G_OFF + SPAN * np.maximum(-np.asarray(w), 0) / w_max
    z = (y - np.asarray(w)) / (sigma * np.sqrt(g_plus**2 + g_minus**2) * w_max / SPAN)
    assert abs(z.mean()) < 4 / np.sqrt(z.size) and z.std() == pytest.approx(1.0, rel=0.03)


def test_without_switches_stages_off():
    """``spec.without(name)`` drops that stage alone ("readout": an exact readout, which takes the SA offsets
    with it; "sa_offset": offset-free sense amplifiers) and keeps every other field; with everything off, a
    crossbar that had every stage computes the product of the quantised weights exactly."""
    full = spec(
        weight_bits=4,
        readout=SenseAmplifier(offset_sigma=0.01),
        stages=(
            ProgrammingNoise(sigma_0=0.2e-6),
            StuckAt(p_on=0.01, p_off=0.01),
            IRDrop(r_wire_ohm=1.0),
            ReadNoise(sigma=0.04),
        ),
    )
    names = [stage.name for stage in full.stages]
    for name in names:
        assert [stage.name for stage in full.without(name).stages] == [n for n in names if n != name]
    assert type(full.without("readout").readout).__name__ == "Ideal"
    assert (
        float(full.without("sa_offset").readout.offset_sigma) == 0.0 and full.without("sa_offset").stages == full.stages
    )
    bare = full.without(*names, "readout")
    assert bare.stages == () and (bare.g_on_siemens, bare.weight_bits, bare.size) == (full.g_on_siemens, 4, 64)
    w_max = float(jnp.max(jnp.abs(W)))
    w_q = w_max * np.round(np.asarray(W) / w_max * 7) / 7
    np.testing.assert_allclose(np.asarray(analog_matmul(X, W, bare, jax.random.key(0))), np.asarray(X) @ w_q, atol=1e-5)
    with pytest.raises(ValueError, match=r"stages: unknown \['noise'\]; allowed: \[.*'programming_noise'.*'sa_offset'"):
        full.without("noise")


def test_replace_keeps_the_spec_consistent():
    """A spec is built by keyword and checked when built; ``replace`` builds a new one, so no copy can
    hold a stale derived field, and a replacement that breaks a rule is refused."""
    sa = spec(weight_bits=4, readout=SenseAmplifier())
    with pytest.raises(ValueError, match=r"encoding must be DifferentialPair\(\); got Offset\(\)"):
        sa.replace(encoding=Offset())
    with pytest.raises(ValueError, match="does not converge"):
        sa.replace(stages=(IRDrop(r_wire_ohm=100.0, solver=Relaxation(iterations=5, damping=1.0)),))
    with pytest.raises(ValueError, match=r"stages holds \['ir_drop'\] more than once"):
        sa.replace(stages=(IRDrop(), IRDrop()))
    with pytest.raises(TypeError):
        CrossbarSpec(G_ON, G_OFF, V)  # keyword only: fields of one type cannot be passed by position


def test_stage_and_ir_drop_errors_name_the_argument():
    with pytest.raises(ValueError, match="strength: unknown stages \\['noise'\\]"):
        analog_matmul(X, W, spec(), jax.random.key(0), strength={"noise": 0.5})
    with pytest.raises(ValueError, match="IRDrop: solver Exact\\(\\) is the host-side nodal solve"):
        IRDrop(r_wire_ohm=1.0, solver=Exact())
    with pytest.raises(ValueError, match="IRDrop: solver must be a IRDropSolver .*; got str"):
        IRDrop(solver="none")
    with pytest.raises(ValueError, match="unknown fields \\['sigma'\\]"):
        spec().replace(sigma=1.0)
    with pytest.raises(ValueError, match="stages must be a sequence of Stage objects"):
        spec(stages=("programming_noise",))
    with pytest.raises(ValueError, match="readout must be a Readout"):
        spec(readout="sa")
    assert set(ramped_names()) >= {
        "programming_noise",
        "stuck_at",
        "ir_drop",
        "read_noise",
        "drift",
        "sa_offset",
        "readout",
    }
