"""Residual blocks (spiking ResNet and SEW) against their closed forms, their workload and activity,
what every cost model charges for an addition, and ResNet-19's layer list (SATA_Sim, RuokaiYin/SATA_Sim
``inference-energy-cal/workloads/icassp/``)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from hwsnn.hardware.cost import event, imc, naive, systolic
from hwsnn.hardware.platforms import (
    event as event_platform,
)
from hwsnn.hardware.platforms import (
    imc as imc_platform,
)
from hwsnn.hardware.platforms import (
    naive as naive_platform,
)
from hwsnn.hardware.platforms import (
    systolic as systolic_platform,
)
from hwsnn.layers import (
    SNN,
    Flatten,
    SEWResidual,
    SpikingConv,
    SpikingDense,
    SpikingResidual,
    TdBN,
    ops,
    resnet,
    resnet19,
)
from hwsnn.neurons import LIF
from hwsnn.structure import Activity

X = jnp.asarray((np.random.default_rng(1).random((3, 5, 4)) < 0.5).astype(np.float32))
IMAGES = jnp.asarray((np.random.default_rng(2).random((4, 4, 8, 8, 2)) < 0.4).astype(np.float32))


def lif(currents):
    return LIF().run(LIF().default_params(), currents)[0]


def dense(seed, a=4, b=4):
    return SpikingDense(a, b, rngs=nnx.Rngs(seed))


def currents(layer, x):
    return ops.add_bias(x @ layer.kernel[...], layer.bias[...])


def test_spiking_resnet_adds_the_shortcut_to_the_currents_before_the_neuron():
    first, second = dense(0), dense(1)
    model = SNN([SpikingResidual([first, second])], (4,), 3, spiking_input=True)
    out, activity = model(X)
    expected = lif(currents(second, lif(currents(first, X))) + X)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_allclose(activity.adds[0], X.sum(axis=(1, 2)) / 5)  # identity: one add per input spike
    assert model.workload.adds[0].operand == "spikes" and model.workload.adds[0].into == "currents"
    assert model.workload.adds[0].layer == 1


def test_spiking_resnet_projection_contributes_currents_and_has_no_neurons():
    projection, body = dense(2, 4, 3), dense(3, 4, 3)
    model = SNN([SpikingResidual([body], projection)], (4,), 3, spiking_input=True)
    out, activity = model(X)
    np.testing.assert_allclose(out, lif(currents(body, X) + currents(projection, X)), atol=0)
    workload = model.workload
    assert [layer.neurons for layer in workload] == [0, 3]  # shortcut first, then the body
    assert workload.adds[0].operand == "currents"
    np.testing.assert_allclose(activity.adds[0], np.count_nonzero(currents(projection, X), axis=(1, 2)) / 5)
    np.testing.assert_allclose(activity[0].output_spikes, 0.0)
    rates = np.asarray(activity.firing_rates(workload))
    assert rates[0] == 0.0 and np.isfinite(rates).all()


def test_sew_adds_spikes_after_the_neuron():
    body = [dense(4), dense(5)]
    model = SNN([SEWResidual(body)], (4,), 3, spiking_input=True)
    out, _ = model(X)
    np.testing.assert_array_equal(out, lif(currents(body[1], lif(currents(body[0], X)))) + X)
    assert set(np.unique(np.asarray(out))) <= {0.0, 1.0, 2.0}
    projection = dense(6, 4, 3)
    sew = SNN([SEWResidual([dense(7, 4, 3)], projection)], (4,), 3, spiking_input=True)
    out, activity = sew(X)
    skip = lif(currents(projection, X))
    np.testing.assert_allclose(activity.adds[0], skip.sum(axis=(1, 2)) / 5)
    assert [layer.neurons for layer in sew.workload] == [3, 3]  # a SEW projection fires


def test_gradients_flow_through_both_paths():
    first, second = dense(0), dense(1)
    model = SNN([SpikingResidual([first, second])], (4,), 3, spiking_input=True)
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)

    def loss(params, x):
        out, activity = nnx.merge(graphdef, params, rest)(x)
        return jnp.sum(out * jnp.arange(4.0).reshape(1, 1, 4)) + activity.total_add_events()

    grads, x_grad = jax.grad(loss, argnums=(0, 1))(params, X)
    assert float(jnp.abs(grads["layers"][0]["body"][0]["kernel"][...]).sum()) > 0
    # the add events count the input spikes straight-through: d/dx of sum(x)/B is 1/B on top of the body's part
    body_only = jax.grad(lambda x: jnp.sum(nnx.merge(graphdef, params, rest)(x)[0] * jnp.arange(4.0).reshape(1, 1, 4)))(
        X
    )
    np.testing.assert_allclose(x_grad - body_only, 1 / 5, rtol=1e-6)


def test_every_cost_model_charges_residual_additions():
    model = SNN(
        [
            SpikingConv(2, 4, 3, rngs=nnx.Rngs(0), pool="avg"),
            SpikingResidual([SpikingConv(4, 4, 3, rngs=nnx.Rngs(1)), SpikingConv(4, 4, 3, rngs=nnx.Rngs(2))]),
            Flatten(),
            SpikingDense(64, 3, rngs=nnx.Rngs(3)),
        ],
        (8, 8, 2),
        4,
        spiking_input=True,
    )
    workload = model.workload
    activity = Activity.from_rates(workload, 0.2)
    assert len(workload) == 4 and len(activity.adds) == 1
    operands = 0.2 * 4 * 4 * 4 * 4  # rate x (4 x 4 x 4 elements) x T = 4
    np.testing.assert_allclose(activity.total_add_events(), operands, rtol=1e-6)
    spec = naive_platform.naive_fp32_45nm()
    cost = naive(spec, workload, activity)
    assert cost.layers[-1].name == "add0"
    np.testing.assert_allclose(cost.layers[-1].energy_pj.total, 0.9 * operands, rtol=1e-6)
    np.testing.assert_allclose(cost.ann.layers[-1].energy_pj.total, 0.9 * 64, rtol=1e-6)  # one add per element
    without = Activity(activity.layers, (jnp.zeros(4),))
    for model_cost in (
        lambda w, a: systolic(systolic_platform.systolic_sata_28nm(), w, a),
        lambda w, a: imc(imc_platform.imc_spikesim_65nm_adc4(), w, a),
        lambda w, a: event(event_platform.event_fpga(), w, a),
    ):
        charged, free = model_cost(workload, activity), model_cost(workload, without)
        assert charged.layers[-1].name == "add0" and float(charged.energy_pj.total) > float(free.energy_pj.total)
        np.testing.assert_allclose(
            charged.energy_pj.total, sum(layer.energy_pj.total for layer in charged.layers), rtol=1e-6
        )
    spec = imc_platform.imc_spikesim_65nm_adc4()
    per_operand = (8 * 16 * 1.15e-6 + 8 * 0.2) / 64  # one column's share of SpikeSim's subtractor and psum buffer
    np.testing.assert_allclose(
        imc(spec, workload, activity).layers[-1].energy_pj.total, per_operand * operands, rtol=1e-5
    )
    np.testing.assert_allclose(
        imc(spec, workload, activity, mode="dense").layers[-1].energy_pj.total, per_operand * 64 * 4, rtol=1e-5
    )
    fpga = event_platform.event_fpga()
    gained = float(event(fpga, workload, activity).latency_ns - event(fpga, workload, without).latency_ns)
    assert gained > 0  # the adds run on the engine of the layer they add into
    grad = jax.grad(
        lambda r: (
            naive(
                naive_platform.naive_fp32_45nm(), workload, Activity.from_rates(workload, 0.2, add_rates=r)
            ).energy_pj.total
        )
    )(0.3)
    np.testing.assert_allclose(grad, 0.9 * 64 * 4, rtol=1e-5)  # dE/dr = E_AC x elements x T
    with pytest.raises(ValueError, match="activity: 0 residual additions; allowed: one per workload add \\(1\\)"):
        naive(naive_platform.naive_fp32_45nm(), workload, Activity(activity.layers))


def test_residual_models_fold_their_norms():
    model = resnet((8, 8, 2), 4, ((4, 1, 1), (8, 1, 2)), (), 3, 4, rngs=nnx.Rngs(0), spiking_input=True)
    for _ in range(3):
        model(IMAGES * 2.0, training=True)
    folded = model.fold_norms()
    reference, reference_activity = model(IMAGES)
    out, activity = folded(IMAGES)
    np.testing.assert_allclose(out, reference, atol=1e-5)
    np.testing.assert_allclose(activity.adds[1], reference_activity.adds[1], atol=1e-5)
    assert all(layer.norm is None for block in folded.layers[1:3] for layer in block.synaptic_layers)
    assert model.layers[2].shortcut.norm.alpha == pytest.approx(1 / np.sqrt(2))  # tdBN before the addition


def test_resnet19_has_the_published_layer_list_and_projection_shortcuts():
    from experiments.icassp_table2 import RESNET19, layer_workload

    model = resnet19(4, rngs=nnx.Rngs(0), outputs=None)
    main = list(model.workload.without_shortcuts())
    assert len(main) == len(RESNET19) == 18
    for layer, listed in zip(main, RESNET19):
        if len(listed) == 2:
            assert (layer.kind, layer.in_shape, layer.out_shape) == ("dense", (listed[0],), (listed[1],))
        else:
            size, c_in, kernel, c_out, stride = listed
            out = size // stride
            assert (layer.in_shape, layer.kernel_size, layer.stride, layer.synapse_shape) == (
                (size, size, c_in),
                kernel,
                stride,
                (out, out, c_out),
            )
    assert (
        sum(layer.weights for layer in main) == 14_486_912
    )  # by hand from ResNet-19's layer list (Zheng et al., AAAI 2021)
    published = layer_workload(RESNET19, 4, analog_first=True)  # SATA_Sim's list; the zoo's first conv takes the image
    strip = lambda layer: (
        layer.kind,
        layer.in_shape,
        layer.synapse_shape,
        layer.kernel_size,
        layer.stride,
        layer.padding,
        layer.weights,
        layer.macs,
        layer.connections,
    )
    assert [strip(layer) for layer in main] == [strip(layer) for layer in published]
    projections = [layer for layer in model.workload if layer.shortcut]
    assert [(p.in_shape, p.synapse_shape, p.stride, p.neurons) for p in projections] == [
        ((32, 32, 128), (16, 16, 256), 2, 0),
        ((16, 16, 256), (8, 8, 512), 2, 0),
    ]
    assert [add.shape for add in model.workload.adds] == [(32, 32, 128)] * 3 + [(16, 16, 256)] * 3 + [(8, 8, 512)] * 2
    assert [add.operand for add in model.workload.adds].count("currents") == 2


def test_bad_blocks_and_residual_models_are_refused_by_name():
    with pytest.raises(ValueError, match="shortcut: the input has shape \\(4,\\) and the body's output \\(3,\\)"):
        SNN([SpikingResidual([dense(0, 4, 3)])], (4,), 3)
    with pytest.raises(
        ValueError, match="body: ends with Flatten; allowed: layers ending with a spiking SynapticLayer"
    ):
        SpikingResidual([dense(0), Flatten()])
    with pytest.raises(ValueError, match="shortcut: got Flatten"):
        SEWResidual([dense(0)], Flatten())
    with pytest.raises(
        ValueError, match="timesteps: got \\(3, 2, 2\\) with learn_timesteps=False for a model with residual"
    ):
        SNN([dense(1), SpikingResidual([dense(2), dense(3)])], (4,), (3, 2, 2))
    with pytest.raises(ValueError, match="execution: got 'time' for a model with residual blocks"):
        SNN([SpikingResidual([dense(2), dense(3)])], (4,), 3, execution="time")
    with pytest.raises(ValueError, match="block: got 'sew'; allowed: SpikingResidual or SEWResidual"):
        resnet((8, 8, 2), 4, ((4, 1, 1),), (), 3, 2, rngs=nnx.Rngs(0), block="sew")
    with pytest.raises(ValueError, match="norm: got 'tdbn'"):
        resnet((8, 8, 2), 4, ((4, 1, 1),), (), 3, 2, rngs=nnx.Rngs(0), norm="tdbn")
    assert TdBN.for_layer(4, 2, 1.0, before_add=True).alpha == pytest.approx(1 / np.sqrt(2))


@pytest.mark.parametrize("block", [SpikingResidual, SEWResidual])
def test_a_small_bn_resnet_learns_the_digits(block):
    import optax

    from hwsnn.data import load_dataset
    from hwsnn.encoding import encoder_from_name
    from hwsnn.train.losses import ce_count
    from hwsnn.train.step import init_state, make_objective, make_train_step

    data = load_dataset("digits")
    model = resnet((8, 8, 1), 8, ((8, 1, 1), (16, 1, 2)), (), 10, 4, rngs=nnx.Rngs(0), block=block)
    optimizer = optax.adam(5e-3)
    graphdef, state = init_state(model, optimizer)
    step = make_train_step(
        graphdef, optimizer, make_objective(ce_count), encoder_from_name("direct"), 4, jax.random.key(0)
    )
    losses = []
    for index in range(40):
        batch = np.arange(index * 32, (index + 1) * 32) % len(data.y_train)
        state, metrics = step(state, jnp.asarray(data.x_train[batch]), jnp.asarray(data.y_train[batch]))
        losses.append(float(metrics["loss"]) / 32)
    assert np.mean(losses[-5:]) < 0.6 * np.mean(losses[:5])  # measured: 0.44x (spiking ResNet) and 0.43x (SEW)
    trained = nnx.merge(graphdef, state.params, state.constants)
    assert float(jnp.max(jnp.abs(trained.layers[1].body[0].norm.mean[...]))) > 0  # the train step moved the statistics


def test_a_projections_currents_are_added_digitally_but_fused_on_event_engines():
    model = SNN([SpikingResidual([dense(3, 4, 3)], dense(2, 4, 3))], (4,), 3, spiking_input=True)
    workload, activity = model.workload, model(X)[1]
    assert float(naive(naive_platform.naive_fp32_45nm(), workload, activity).layers[-1].energy_pj.total) == 0.0
    assert float(event(event_platform.event_fpga(), workload, activity).layers[-1].cycles) == 0.0
    assert float(systolic(systolic_platform.systolic_sata_28nm(), workload, activity).layers[-1].energy_pj.total) > 0.0
    assert float(imc(imc_platform.imc_spikesim_65nm_adc4(), workload, activity).layers[-1].energy_pj.total) > 0.0
