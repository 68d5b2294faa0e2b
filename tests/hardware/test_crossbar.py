"""Crossbar column currents: exact nodal solve by hand, fast relaxation against it, gradients."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from hwsnn.hardware.crossbar import Exact, Relaxation, Resummed, check_relaxation, column_currents, exact_currents


def random_array(seed, rows=64, cols=64, batch=6):
    rng = np.random.default_rng(seed)
    g = 1.0 / rng.uniform(20e3, 200e3, size=(rows, cols))  # cells of 20-200 kOhm
    v = (rng.random((batch, rows)) < 0.5) * 0.2  # binary inputs at 0.2 V
    return v, g


@pytest.mark.parametrize("solver", [Exact(), Relaxation(iterations=20), Resummed()])
def test_zero_wire_resistance_is_v_at_g(solver):
    v, g = random_array(0, 16, 12, 3)
    np.testing.assert_allclose(np.asarray(column_currents(v, g, 0.0, solver=solver)), v @ g, rtol=1e-5)


def test_single_cell_by_hand():
    # source -> r -> cell g -> r -> ground: I = v / (2 r + 1 / g)
    v, g, r = 0.3, 1e-3, 50.0
    expected = v / (2 * r + 1 / g)
    assert float(exact_currents(np.asarray([v]), np.asarray([[g]]), r)[0]) == pytest.approx(expected, rel=1e-12)


def test_two_rows_one_column_by_hand():
    v0, v1, g0, g1, r = 1.0, 0.5, 1e-3, 2e-3, 10.0
    c = 1 / r
    # unknowns W0, W1, B0, B1; Kirchhoff's current law at each node
    a = np.array([[c + g0, 0, -g0, 0], [0, c + g1, 0, -g1], [-g0, 0, g0 + c, -c], [0, -g1, -c, g1 + 2 * c]])
    w0, w1, b0, b1 = np.linalg.solve(a, [c * v0, c * v1, 0, 0])
    expected = b1 / r
    got = exact_currents(np.asarray([v0, v1]), np.asarray([[g0], [g1]]), r)[0]
    assert float(got) == pytest.approx(expected, rel=1e-12)
    # and the current is less than without wires (a passive network loses voltage along the lines)
    assert float(got) < v0 * g0 + v1 * g1


@pytest.mark.parametrize("r_wire", [1.0, 2.5])
def test_relaxation_error_is_a_tenth_of_the_ideal_models(r_wire):
    v, g = random_array(1)
    exact = exact_currents(v, g, r_wire)
    fast = jax.jit(lambda v, g: column_currents(v, g, r_wire))(jnp.asarray(v, jnp.float32), jnp.asarray(g, jnp.float32))
    ideal_error = np.abs(v @ g - exact).max()
    fast_error = np.abs(np.asarray(fast) - exact).max()
    assert ideal_error / np.abs(exact).max() > 0.03  # the IR drop matters at these wire resistances
    assert fast_error <= 0.1 * ideal_error


def test_vmap_over_batch_and_time_equals_loop():
    v, g = random_array(2, 32, 16, 4)
    vt = np.stack([v, v * 0.5, v[::-1]])  # [T, B, N]
    fn = lambda x: column_currents(x, jnp.asarray(g), 2.0)
    mapped = jax.vmap(jax.vmap(fn))(jnp.asarray(vt))
    direct = fn(jnp.asarray(vt))  # leading axes are batch axes too
    looped = np.stack([[np.asarray(fn(jnp.asarray(vt[t, b]))) for b in range(4)] for t in range(3)])
    np.testing.assert_allclose(np.asarray(mapped), looped, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(direct), looped, rtol=1e-5)


def test_gradients_match_finite_differences():
    with jax.enable_x64(True):
        v, g = random_array(3, 8, 6, 1)
        v, g = jnp.asarray(v[0] + 0.05), jnp.asarray(g)
        weights = jnp.linspace(1.0, 2.0, 6)
        f = lambda v, g: jnp.sum(weights * column_currents(v, g, 200.0, solver=Relaxation(iterations=40, damping=0.8)))
        grad_v, grad_g = jax.grad(f, argnums=(0, 1))(v, g)
        for i in range(8):
            e = jnp.zeros(8).at[i].set(1e-6)
            np.testing.assert_allclose(float(grad_v[i]), float((f(v + e, g) - f(v - e, g)) / 2e-6), rtol=1e-5)
        for i, j in [(0, 0), (3, 2), (7, 5)]:
            e = jnp.zeros((8, 6)).at[i, j].set(1e-9)
            np.testing.assert_allclose(float(grad_g[i, j]), float((f(v, g + e) - f(v, g - e)) / 2e-9), rtol=1e-5)
        # the relaxation's gradient is the exact solution's: check one entry against the nodal solve
        fd_exact = (
            exact_currents(np.asarray(v), np.asarray(g + jnp.zeros((8, 6)).at[3, 2].set(1e-9)), 200.0)
            - exact_currents(np.asarray(v), np.asarray(g - jnp.zeros((8, 6)).at[3, 2].set(1e-9)), 200.0)
        ) / 2e-9
        np.testing.assert_allclose(float(grad_g[3, 2]), float(np.dot(np.asarray(weights), fd_exact)), rtol=1e-4)


def test_non_convergence_is_detected():
    assert check_relaxation(64, 64, 1 / 20e3, 2.5, iterations=20, damping=0.6) < 1e-3
    with pytest.raises(ValueError, match="does not converge"):
        check_relaxation(64, 64, 1 / 20e3, 100.0, iterations=20, damping=1.0)


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"column_currents: solver must be a IRDropSolver .*; got str"):
        column_currents(jnp.ones(3), jnp.ones((3, 2)), 1.0, solver="spice")
    with pytest.raises(ValueError, match="v: last axis 4"):
        column_currents(jnp.ones(4), jnp.ones((3, 2)), 1.0)
    with pytest.raises(ValueError, match="g: shape"):
        column_currents(jnp.ones(3), jnp.ones(3), 1.0)
    with pytest.raises(ValueError, match=r"Relaxation: iterations must be an int in \[1, 1000\]; got 0"):
        Relaxation(iterations=0)
    with pytest.raises(ValueError, match=r"Relaxation: damping must be in \(0, 1\]; got 1.5"):
        Relaxation(damping=1.5)
    with pytest.raises(ValueError, match="Exact runs on the host"):
        Exact().fold(jnp.ones((1, 2, 1, 2)), 1.0)


@pytest.mark.parametrize("r_wire", [1.0, 2.5])
@pytest.mark.parametrize("seed", [1, 4])
def test_resummed_effective_conductance_beats_a_tenth_of_the_ideal_error(r_wire, seed):
    v, g = random_array(seed)
    exact = exact_currents(v, g, r_wire)
    resummed = np.asarray(column_currents(jnp.asarray(v), jnp.asarray(g), r_wire, solver=Resummed()))
    ideal_error = np.abs(v @ g - exact).max()
    assert np.abs(resummed - exact).max() <= 0.05 * ideal_error  # measured: about 0.01
