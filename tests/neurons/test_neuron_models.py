"""Neuron models behind one interface: snnTorch parity (Synaptic, RLeaky), ALIF by hand and closed
form, LIF/IF as the functional form, surrogate objects in layers, learnable parameters, the cost
models' per-neuron charges and the errors (both execution orders: tests/layers/test_layers.py)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import snntorch
import torch
from flax import nnx

from hwsnn.hardware.cost import imc, naive, synaptic_updates, systolic
from hwsnn.hardware.presets import preset
from hwsnn.layers import SNN, Readout, SpikingConv, SpikingDense, mlp
from hwsnn.neurons import (
    ALIF,
    IF,
    LIF,
    RLIF,
    Neuron,
    Synaptic,
    fast_sigmoid,
    integrate_and_fire,
    lif,
    straight_through,
)

RNG = np.random.default_rng(7)
CURRENTS = RNG.normal(0.35, 0.7, size=(50, 6, 12)).astype(np.float32)
SYNAPTIC_CURRENTS = RNG.normal(0.05, 0.6, size=(50, 6, 12)).astype(np.float32)  # keeps i and v of order 1


@pytest.mark.parametrize("reset", ["subtract", "zero", "none"])
@pytest.mark.parametrize("per_neuron", [False, True])
def test_synaptic_matches_snntorch(reset, per_neuron):
    alpha = RNG.uniform(0.5, 0.95, 12).astype(np.float32) if per_neuron else np.float32(0.85)
    beta = RNG.uniform(0.5, 0.95, 12).astype(np.float32) if per_neuron else np.float32(0.8)
    theta = RNG.uniform(0.7, 1.5, 12).astype(np.float32) if per_neuron else np.float32(1.2)
    ref = snntorch.Synaptic(
        alpha=torch.as_tensor(alpha),
        beta=torch.as_tensor(beta),
        threshold=torch.as_tensor(theta),
        reset_mechanism=reset,
    )
    syn, mem = ref.reset_mem()
    spikes, syns, mems = [], [], []
    for current in torch.from_numpy(SYNAPTIC_CURRENTS):
        spk, syn, mem = ref(current, syn, mem)
        spikes.append(spk.detach().numpy()), syns.append(syn.detach().numpy()), mems.append(mem.detach().numpy())
    neuron = Synaptic(alpha=alpha, beta=beta, threshold=theta, reset=reset)
    out, (syn_ours, mem_ours) = neuron.run(neuron.default_params(), jnp.asarray(SYNAPTIC_CURRENTS))
    assert np.sum(spikes) > 200
    np.testing.assert_array_equal(np.asarray(out), np.stack(spikes))
    np.testing.assert_allclose(np.asarray(syn_ours), np.stack(syns), atol=1e-5, rtol=0)
    np.testing.assert_allclose(np.asarray(mem_ours), np.stack(mems), atol=1e-5, rtol=0)


def test_undelayed_zero_reset_matches_snntorch_synaptic_without_reset_delay():
    """snnTorch clears the membrane the step it fires (its membrane output is after the reset, ours
    before it): spikes and synaptic currents agree exactly, membranes wherever no spike fired."""
    ref = snntorch.Synaptic(alpha=0.85, beta=0.8, threshold=1.2, reset_mechanism="zero", reset_delay=False)
    syn, mem = ref.reset_mem()
    spikes, syns, mems = [], [], []
    with torch.no_grad():
        for current in torch.from_numpy(SYNAPTIC_CURRENTS):
            spk, syn, mem = ref(current, syn, mem)
            spikes.append(spk.numpy()), syns.append(syn.numpy()), mems.append(mem.numpy())
    neuron = Synaptic(alpha=0.85, beta=0.8, threshold=1.2, reset="zero", reset_delay=False)
    out, (syn_ours, mem_ours) = neuron.run(neuron.default_params(), jnp.asarray(SYNAPTIC_CURRENTS))
    spikes = np.stack(spikes)
    assert spikes.sum() > 200
    np.testing.assert_array_equal(np.asarray(out), spikes)
    np.testing.assert_allclose(np.asarray(syn_ours), np.stack(syns), atol=1e-5, rtol=0)
    np.testing.assert_allclose(np.where(spikes > 0, 0.0, np.asarray(mem_ours)), np.stack(mems), atol=1e-5, rtol=0)
    delayed = Synaptic(alpha=0.85, beta=0.8, threshold=1.2, reset="zero")
    assert not np.array_equal(
        np.asarray(delayed.run(delayed.default_params(), jnp.asarray(SYNAPTIC_CURRENTS))[0]), spikes
    )


@pytest.mark.parametrize("reset", ["subtract", "zero", "none"])
def test_recurrent_lif_matches_snntorch_rleaky_on_copied_weights(reset):
    n = 12
    layer = SpikingDense(8, n, rngs=nnx.Rngs(3), neuron=RLIF(beta=0.9, reset=reset))
    ref = snntorch.RLeaky(beta=0.9, all_to_all=True, linear_features=n, reset_mechanism=reset)
    ref.recurrent.weight.data = torch.from_numpy(np.asarray(layer.neurons.recurrent_kernel[...]).T.copy())
    ref.recurrent.bias.data = torch.from_numpy(np.asarray(layer.neurons.recurrent_bias[...]).copy())
    currents = np.array(layer.synapse(jnp.asarray(RNG.random((40, 5, 8)).astype(np.float32) * 3.0)) + 0.4)
    spk, mem = ref.init_rleaky()
    spikes, mems = [], []
    with torch.no_grad():
        for current in torch.from_numpy(currents):
            spk, mem = ref(current, spk, mem)
            spikes.append(spk.numpy()), mems.append(mem.numpy())
    out, (_, mem_ours) = layer.neurons(jnp.asarray(currents))
    assert 100 < np.sum(spikes) < np.prod(currents.shape) - 100
    np.testing.assert_array_equal(np.asarray(out), np.stack(spikes))
    np.testing.assert_allclose(np.asarray(mem_ours), np.stack(mems), atol=1e-5, rtol=0)


def test_alif_hand_computed_trace():
    # beta 0.5, theta 1, rho 0.5, gamma 1; inputs 1.5 then 0.9 (worked by hand):
    # t0: a 0, A 1, v 1.5 -> spike | t1: a 0.5, A 1.5, v 0.75 + 0.9 - 1.5 = 0.15
    # t2: a 0.25, A 1.25, v 0.975 | t3: a 0.125, A 1.125, v 1.3875 -> spike
    # t4: a 0.0625 + 0.5 = 0.5625, A 1.5625, v 0.69375 + 0.9 - 1.5625 = 0.03125
    neuron = ALIF(beta=0.5, threshold=1.0, rho=0.5, gamma=1.0)
    currents = jnp.asarray([1.5, 0.9, 0.9, 0.9, 0.9]).reshape(5, 1, 1)
    spikes, (_, v, a) = neuron.run(neuron.default_params(), currents)
    np.testing.assert_array_equal(np.asarray(spikes).ravel(), [1, 0, 0, 1, 0])
    np.testing.assert_allclose(np.asarray(v).ravel(), [1.5, 0.15, 0.975, 1.3875, 0.03125], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(a).ravel(), [0, 0.5, 0.25, 0.125, 0.5625], rtol=1e-6)
    lif_spikes, _ = lif(currents, 0.5)  # without adaptation: spikes at v = 1.5, 1.225, 1.15625
    np.testing.assert_array_equal(np.asarray(lif_spikes).ravel(), [1, 0, 1, 0, 1])


def test_alif_trace_closed_form_after_one_spike():
    rho, gamma = 0.8, 1.8
    neuron = ALIF(beta=0.9, threshold=1.0, rho=rho, gamma=gamma)
    currents = jnp.zeros((30, 1, 1)).at[0].set(2.0)  # one spike at t = 0, then silence
    spikes, (_, _, a) = neuron.run(neuron.default_params(), currents)
    assert float(spikes.sum()) == 1.0
    k = np.arange(1, 30)
    np.testing.assert_allclose(np.asarray(a).ravel()[1:], (1 - rho) * rho ** (k - 1), rtol=1e-5)


def test_lif_and_if_objects_are_the_functional_form_bit_for_bit():
    x = jnp.asarray(CURRENTS)
    for reset in ("subtract", "zero", "none"):
        neuron = LIF(beta=0.8, threshold=0.9, reset=reset)
        ours = neuron.run(neuron.default_params(), x)
        ref = lif(x, 0.8, 0.9, reset=reset)
        for a, b in zip(ours, ref):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    neuron = IF()
    for a, b in zip(neuron.run(neuron.default_params(), x), integrate_and_fire(x)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_layers_take_surrogate_objects():
    """A fast_sigmoid(10) object reaches the neurons: the input gradient of a one-step spike is
    w / (10 |v - theta| + 1)^2, not atan's."""
    layer = SpikingDense(1, 1, rngs=nnx.Rngs(0), bias=False, neuron=LIF(surrogate=fast_sigmoid(10.0)))
    layer.kernel[...] = jnp.full((1, 1), 2.0)
    grad = jax.grad(lambda x: jnp.sum(layer(x)))(jnp.full((1, 1, 1), 0.3))
    np.testing.assert_allclose(float(grad.ravel()[0]), 2.0 / (10 * abs(0.6 - 1.0) + 1) ** 2, rtol=1e-6)
    assert (
        mlp([3, 2], 2, rngs=nnx.Rngs(0), neuron=LIF(surrogate=straight_through(0.5)))
        .layers[0]
        .neurons.surrogate_form[0]
        == "straight_through"
    )


def test_learned_per_neuron_parameters_are_params_and_match_finite_differences():
    layer = SpikingDense(
        4, 3, rngs=nnx.Rngs(0), neuron=Synaptic(alpha=0.7, beta=0.6, reset="none", learn=("alpha",), per_neuron=True)
    )
    assert isinstance(layer.neurons.alpha, nnx.Param) and layer.neurons.alpha[...].shape == (3,)
    assert not isinstance(layer.neurons.beta, nnx.Param)
    x = jnp.asarray(RNG.random((10, 2, 4)).astype(np.float32))
    graphdef, params, rest = nnx.split(layer, nnx.Param, ...)

    def mean_membrane(alpha):
        p = jax.tree.map(lambda a: a, params)
        p["neurons"]["alpha"] = nnx.Param(alpha)
        model = nnx.merge(graphdef, p, rest)
        return jnp.mean(model.neurons(model.synapse(x))[1][1])

    alpha = jnp.asarray([0.6, 0.7, 0.8])
    grad = jax.grad(mean_membrane)(alpha)
    for i in range(3):
        eps = 1e-3
        fd = (mean_membrane(alpha.at[i].add(eps)) - mean_membrane(alpha.at[i].add(-eps))) / (2 * eps)
        np.testing.assert_allclose(float(grad[i]), float(fd), rtol=2e-2)


def test_cost_models_charge_each_neuron_by_its_counts():
    x = jnp.asarray((RNG.random((4, 3, 10)) < 0.4).astype(np.float32))
    models = {
        name: mlp([10, 20, 5], 4, rngs=nnx.Rngs(0), neuron=neuron, spiking_input=True)
        for name, neuron in (("lif", LIF()), ("synaptic", Synaptic()), ("rlif", RLIF()))
    }
    _, activity = models["lif"](x)  # one activity, so only the neuron model differs
    cost = {name: systolic(preset("systolic-sata"), m.workload, activity) for name, m in models.items()}
    lif_c, syn_c = cost["lif"].energy_pj, cost["synaptic"].energy_pj
    np.testing.assert_allclose(float(syn_c["lif_gated"]), 6 / 4 * float(lif_c["lif_gated"]), rtol=1e-6)
    np.testing.assert_allclose(float(syn_c["lif_ungated"]), 6 / 4 * float(lif_c["lif_ungated"]), rtol=1e-6)
    assert float(syn_c["glb_ofmap_dynamic"]) > float(lif_c["glb_ofmap_dynamic"])  # two states read and written
    imc_cost = {name: imc(preset("rram-adc"), m.workload, activity) for name, m in models.items()}
    np.testing.assert_allclose(
        float(imc_cost["synaptic"].energy_pj["neuron"]), 1.5 * float(imc_cost["lif"].energy_pj["neuron"]), rtol=1e-6
    )
    # recurrent: every output spike but the last step's reaches all N neurons of its layer again
    spikes = [np.asarray(act.output_spikes) for act in activity.layers]
    extra = sum(s[:-1].sum() * n for s, n in zip(spikes, (20, 5)))
    np.testing.assert_allclose(
        float(synaptic_updates(models["rlif"].workload, activity)),
        float(synaptic_updates(models["lif"].workload, activity)) + extra,
        rtol=1e-6,
    )
    np.testing.assert_allclose(
        float(naive(preset("naive-fp32"), models["rlif"].workload, activity).energy_pj["ac"]),
        0.9 * float(synaptic_updates(models["rlif"].workload, activity)),
        rtol=1e-5,
    )
    assert float(imc_cost["rlif"].energy_pj.total) > float(imc_cost["lif"].energy_pj.total)


def test_neuron_errors_name_the_argument():
    with pytest.raises(ValueError, match="learn: got \\['gamma'\\]; allowed: names among \\['beta', 'threshold'\\]"):
        LIF(learn=("gamma",))
    with pytest.raises(ValueError, match="alpha"):
        Synaptic(alpha=1.2)
    with pytest.raises(TypeError, match="unexpected keyword argument 'beta'"):
        IF(beta=0.9)  # IF has no leak to set: LIF is the leaky model
    with pytest.raises(TypeError, match="abstract"):
        Neuron()
    with pytest.raises(ValueError, match="gamma"):
        ALIF(gamma=-1.0)
    with pytest.raises(ValueError, match="reset: got 'hard'"):
        Synaptic(reset="hard")
    with pytest.raises(
        ValueError, match="reset_delay: got False with reset='subtract'; allowed: False only with reset='zero'"
    ):
        Synaptic(reset_delay=False)
    with pytest.raises(ValueError, match="surrogate"):
        LIF(surrogate=3.0)
    with pytest.raises(ValueError, match="neuron: RLIF runs in \\['dense'\\] layers; got a conv layer"):
        SpikingConv(1, 2, 3, rngs=nnx.Rngs(0), neuron=RLIF())
    with pytest.raises(ValueError, match="neuron: got dict"):
        SpikingDense(2, 3, rngs=nnx.Rngs(0), neuron=dict(beta=0.9))
    with pytest.raises(ValueError, match="beta: shape \\(4,\\); allowed: a scalar or one value per neuron \\(3,\\)"):
        SpikingDense(2, 3, rngs=nnx.Rngs(0), neuron=LIF(beta=np.full(4, 0.9, np.float32)))
    with pytest.raises(ValueError, match="layers\\[0\\]: got function"):
        SNN([lambda x: x], (2,), 2)
    assert Readout(2, 3, rngs=nnx.Rngs(0)).spiking_output is False
