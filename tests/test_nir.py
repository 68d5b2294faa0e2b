"""NIR round trips with real peers: hwsnn -> NIR file -> snnTorch, snnTorch -> NIR -> hwsnn, and
hwsnn -> NIR -> hwsnn, spike for spike; the NIR equations by hand; the refusals."""

import jax.numpy as jnp
import nir
import numpy as np
import pytest
import snntorch
import torch
from flax import nnx
from snntorch import utils as snn_utils
from snntorch.export_nir import export_to_nir
from snntorch.import_nir import import_from_nir

from hwsnn import IF, LIF, RLIF, SNN, Flatten, Integrator, Pool, SpikingConv, SpikingDense, Synaptic
from hwsnn.layers import SEWResidual, TdBN
from hwsnn.nir import export, load

T, B = 12, 4
RNG = np.random.default_rng(11)


def _scaled(model: SNN, factor: float) -> SNN:
    """``model`` with every kernel scaled by ``factor`` (so that every layer fires often)."""
    for layer in model.layers:
        if layer.synaptic:
            layer.kernel = nnx.Param(layer.kernel[...] * factor)
    return model


def _conv_model() -> SNN:
    rngs = nnx.Rngs(3)
    return _scaled(
        SNN(
            [
                SpikingConv(2, 4, 3, rngs=rngs, pool="avg", neuron=LIF(beta=0.85, threshold=0.8, reset="zero")),
                Flatten(),
                SpikingDense(
                    64,
                    5,
                    rngs=rngs,
                    neuron=Synaptic(alpha=0.7, beta=0.9, threshold=0.9, reset="zero", reset_delay=False),
                ),
            ],
            (8, 8, 2),
            T,
            spiking_input=True,
        ),
        3.0,
    )


def _events(shape) -> np.ndarray:
    return (RNG.random((T, B) + shape) < 0.4).astype(np.float32)


def _run_snntorch(net, frames_chw: np.ndarray) -> np.ndarray:
    """A stateful (``init_hidden``) snnTorch network stepped over time; the output spikes."""
    snn_utils.reset(net)
    outputs = []
    with torch.no_grad():
        for frame in torch.from_numpy(frames_chw):
            out = net(frame)
            out = out[0] if isinstance(out, tuple) else out
            outputs.append(out.numpy())
    return np.stack(outputs)


def test_hwsnn_to_nir_file_to_snntorch_gives_identical_spikes(tmp_path):
    model = _conv_model()
    export(model, tmp_path / "net.nir")
    graph = nir.read(str(tmp_path / "net.nir"))
    net = import_from_nir(graph)
    # snnTorch 1.0.0 bug: import_nir maps NIR's Flatten(start_dim=0), which excludes the batch axis, to
    # torch.nn.Flatten(0), which flattens the batch too; we move it past the batch axis.
    for module in net.modules():
        if isinstance(module, torch.nn.Flatten):
            module.start_dim = 1
    x = _events((8, 8, 2))
    ours, _ = model(jnp.asarray(x))
    theirs = _run_snntorch(net, x.transpose(0, 1, 4, 2, 3))
    assert 0.1 < float(np.mean(theirs)) < 0.9
    np.testing.assert_array_equal(np.asarray(ours), theirs)


def test_snntorch_to_nir_to_hwsnn_gives_identical_spikes():
    torch.manual_seed(0)
    # NIR neuron parameters are per neuron: snnTorch's exporter needs them at the neuron shape.
    net = torch.nn.Sequential(
        torch.nn.Conv2d(2, 4, 3, padding=1),
        torch.nn.AvgPool2d(2),
        snntorch.Leaky(
            beta=torch.full((4, 4, 4), 0.8),
            threshold=torch.full((4, 4, 4), 0.5),
            init_hidden=True,
            reset_mechanism="zero",
        ),
        torch.nn.Flatten(),
        torch.nn.Linear(64, 6),
        snntorch.Synaptic(
            alpha=torch.full((6,), 0.75),
            beta=torch.full((6,), 0.9),
            threshold=torch.full((6,), 0.4),
            init_hidden=True,
            reset_mechanism="zero",
            reset_delay=False,
            output=True,
        ),
    )
    with torch.no_grad():
        net[0].weight.mul_(4.0), net[4].weight.mul_(3.0)
    graph = export_to_nir(net, torch.zeros(1, 2, 8, 8), ignore_dims=[0])
    model = load(graph, timesteps=T)
    assert isinstance(model.layers[0], SpikingConv) and model.layers[0].pool == "avg"
    assert isinstance(model.layers[2].neurons.model, Synaptic)
    x = _events((8, 8, 2))
    theirs = _run_snntorch(net, x.transpose(0, 1, 4, 2, 3))
    ours, _ = model(jnp.asarray(x))
    assert 0.1 < float(np.mean(theirs)) < 0.9
    np.testing.assert_array_equal(np.asarray(ours), theirs)


def _every_node_model() -> SNN:
    """IF, LIF with per-channel parameters, LI readout, sum pooling in a conv and as a Pool layer,
    a bias-free dense layer and a batch norm (folded on export)."""
    rngs = nnx.Rngs(5)
    return _scaled(
        SNN(
            [
                SpikingConv(
                    1,
                    3,
                    3,
                    rngs=rngs,
                    padding=1,
                    pool="sum",
                    neuron=IF(threshold=0.5, reset="zero"),
                    norm=TdBN(3, threshold=0.5),
                ),
                Pool("avg", 2),
                SpikingConv(
                    3,
                    4,
                    3,
                    rngs=rngs,
                    padding="VALID",
                    bias=False,
                    neuron=LIF(
                        beta=np.array([0.5, 0.7, 0.8, 0.95], np.float32),
                        threshold=np.array([0.1, 0.15, 0.2, 0.25], np.float32),
                        reset="zero",
                    ),
                ),
                Flatten(),
                SpikingDense(4, 7, rngs=rngs, bias=False, neuron=LIF(beta=0.6, threshold=0.3, reset="zero")),
                SpikingDense(7, 3, rngs=rngs, neuron=Integrator(beta=0.8)),
            ],
            (12, 12, 1),
            T,
            spiking_input=True,
        ),
        2.5,
    )


def test_hwsnn_to_nir_to_hwsnn_is_exact(tmp_path):
    model = _every_node_model()
    x = _events((12, 12, 1))
    for _ in range(20):  # move the batch norm's running statistics to this input's
        model(jnp.asarray(x), training=True)
    export(model, tmp_path / "net.nir")
    loaded = load(tmp_path / "net.nir")
    assert loaded.timesteps == T and [type(layer).__name__ for layer in loaded.layers] == [
        "SpikingConv",
        "Pool",
        "SpikingConv",
        "Flatten",
        "SpikingDense",
        "SpikingDense",
    ]
    ours, activity = model(jnp.asarray(x))
    theirs, loaded_activity = loaded(jnp.asarray(x))
    np.testing.assert_allclose(np.asarray(theirs), np.asarray(ours), rtol=1e-6, atol=1e-6)  # BN folded: rounding
    for mine, read in zip(activity.layers, loaded_activity.layers):
        np.testing.assert_array_equal(np.asarray(read.output_spikes), np.asarray(mine.output_spikes))
    assert all(float(layer.output_spikes.sum()) > 0 for layer in activity.layers[:-1])
    np.testing.assert_array_equal(
        np.asarray(loaded.layers[2].neurons.beta[...]), np.array([0.5, 0.7, 0.8, 0.95], np.float32)
    )
    # a second trip through NIR changes nothing at all
    again = load(export(loaded))
    np.testing.assert_array_equal(np.asarray(again(jnp.asarray(x))[0]), np.asarray(theirs))


def test_nir_nodes_follow_the_nir_equations_by_hand():
    """An IF, LIF and LI chain simulated from the NIR node fields with forward Euler (the NIR
    equations, written here from the node docstrings) gives hwsnn's output."""
    rngs, dt = nnx.Rngs(2), 1e-3
    model = _scaled(
        SNN(
            [
                SpikingDense(6, 5, rngs=rngs, neuron=IF(threshold=0.7, reset="zero")),
                SpikingDense(5, 4, rngs=rngs, neuron=LIF(beta=0.75, threshold=0.6, reset="zero")),
                SpikingDense(4, 2, rngs=rngs, neuron=Integrator(beta=0.9)),
            ],
            (6,),
            T,
            spiking_input=True,
        ),
        2.0,
    )
    graph = export(model, dt=dt)
    x = _events((6,))
    nodes = [graph.nodes[name] for name in ("0.synapse", "0.neuron", "1.synapse", "1.neuron", "2.synapse", "2.neuron")]
    signal = x
    for synapse, neuron in zip(nodes[::2], nodes[1::2]):
        current = signal @ synapse.weight.T + synapse.bias
        v, out = np.zeros(current.shape[1:]), []
        for i in current:
            if isinstance(neuron, nir.IF):
                v = v + dt * neuron.r * i
            else:  # tau dv/dt = (v_leak - v) + R I
                v = v + dt / neuron.tau * (neuron.v_leak - v + neuron.r * i)
            if isinstance(neuron, nir.LI):
                out.append(v)
                continue
            spike = (v > neuron.v_threshold).astype(np.float64)
            v = np.where(spike > 0, neuron.v_reset, v)
            out.append(spike)
        signal = np.stack(out)
    ours, _ = model(jnp.asarray(x))
    np.testing.assert_allclose(np.asarray(ours), signal, rtol=1e-4, atol=1e-5)
    assert np.abs(signal).sum() > 0
    np.testing.assert_allclose(graph.nodes["1.neuron"].tau, dt / 0.25)


def test_loading_folds_input_gains_into_the_weights():
    """A NIR LIF with R != tau / dt scales its input: the loaded layer carries the gain in its weights."""
    weight, bias = RNG.normal(size=(3, 4)).astype(np.float32), RNG.normal(size=3).astype(np.float32)
    tau, r, dt = np.full(3, 4e-4), np.full(3, 8.0), 1e-4  # beta 0.75, gain r dt / tau = 2
    graph = nir.NIRGraph.from_list(
        nir.Input(np.array([4])),
        nir.Affine(weight, bias),
        nir.LIF(tau=tau, r=r, v_leak=np.zeros(3), v_threshold=np.ones(3), v_reset=np.zeros(3)),
        nir.Output(np.array([3])),
    )
    model = load(graph, timesteps=3, dt=dt)
    np.testing.assert_allclose(np.asarray(model.layers[0].kernel[...]), 2.0 * weight.T)
    np.testing.assert_allclose(np.asarray(model.layers[0].bias[...]), 2.0 * bias)
    assert float(model.layers[0].neurons.beta[...]) == pytest.approx(0.75)


def test_nir_refusals_name_what_is_wrong(tmp_path):
    rngs = nnx.Rngs(0)
    with pytest.raises(ValueError, match="layers\\[0\\]: LIF\\(reset='subtract'\\); allowed: reset='zero'"):
        export(SNN([SpikingDense(3, 2, rngs=rngs)], (3,), 2))
    with pytest.raises(ValueError, match="layers\\[0\\]: max pooling has no NIR 1.0 node"):
        export(SNN([SpikingConv(1, 2, 3, rngs=rngs, pool="max", neuron=LIF(reset="zero"))], (4, 4, 1), 2))
    with pytest.raises(ValueError, match="layers\\[0\\]: neuron RLIF has no NIR 1.0 node"):
        export(SNN([SpikingDense(3, 2, rngs=rngs, neuron=RLIF(reset="zero"))], (3,), 2))
    with pytest.raises(ValueError, match="reset_delay=False"):
        export(SNN([SpikingDense(3, 2, rngs=rngs, neuron=Synaptic(reset="zero"))], (3,), 2))
    body = [SpikingConv(2, 2, 3, rngs=rngs, neuron=LIF(reset="zero"))]
    with pytest.raises(ValueError, match="layers\\[1\\]: SEWResidual blocks are not exported"):
        export(SNN([SpikingConv(1, 2, 3, rngs=rngs, neuron=LIF(reset="zero")), SEWResidual(body)], (4, 4, 1), 2))
    with pytest.raises(ValueError, match="per-layer or learned timesteps"):
        export(
            SNN(
                [
                    SpikingDense(3, 2, rngs=rngs, neuron=LIF(reset="zero")),
                    SpikingDense(2, 2, rngs=rngs, neuron=LIF(reset="zero")),
                ],
                (3,),
                (2, 3),
            )
        )
    with pytest.raises(ValueError, match="graph: no file"):
        load(tmp_path / "missing.nir", timesteps=2)
    (tmp_path / "bad.nir").write_bytes(b"not hdf5")
    with pytest.raises(ValueError, match="is not a readable NIR file"):
        load(tmp_path / "bad.nir", timesteps=2)
    lif = dict(tau=np.full(2, 1e-3), r=np.full(2, 10.0), v_threshold=np.ones(2), v_reset=np.zeros(2))
    leaky = nir.NIRGraph.from_list(
        nir.Input(np.array([3])),
        nir.Linear(np.ones((2, 3))),
        nir.LIF(v_leak=np.full(2, 0.5), **lif),
        nir.Output(np.array([2])),
    )
    with pytest.raises(ValueError, match="v_leak = \\[0.5\\]; allowed: 0"):
        load(leaky, timesteps=2)
    plain = nir.NIRGraph.from_list(
        nir.Input(np.array([3])),
        nir.Linear(np.ones((2, 3))),
        nir.LIF(v_leak=np.zeros(2), **lif),
        nir.Output(np.array([2])),
    )
    with pytest.raises(ValueError, match="timesteps: got None"):
        load(plain)
    square = nir.NIRGraph.from_list(
        nir.Input(np.array([2])),
        nir.Linear(np.ones((2, 2))),
        nir.LIF(v_leak=np.zeros(2), **lif),
        nir.Output(np.array([2])),
    )
    branched = nir.NIRGraph(nodes=dict(square.nodes), edges=list(square.edges) + [("input", "output")])
    with pytest.raises(ValueError, match="allowed: a chain"):
        load(branched, timesteps=2)
    no_neuron = nir.NIRGraph.from_list(nir.Input(np.array([3])), nir.Linear(np.ones((2, 3))), nir.Output(np.array([2])))
    with pytest.raises(ValueError, match="the graph ends on a synapse"):
        load(no_neuron, timesteps=2)
    for timesteps in (2.7, 0, True):
        with pytest.raises(ValueError, match=f"timesteps: got {timesteps!r}; allowed: an int >= 1"):
            load(plain, timesteps=timesteps)
    poisoned = nir.NIRGraph.from_list(
        nir.Input(np.array([3])),
        nir.Linear(np.array([[1.0, np.nan, 0.0], [0.0, 1.0, 0.0]])),
        nir.LIF(v_leak=np.zeros(2), **lif),
        nir.Output(np.array([2])),
    )
    with pytest.raises(ValueError, match="its weight holds NaN or infinite values; allowed: finite numbers"):
        load(poisoned, timesteps=2)
    loaded = load(plain, timesteps=2)
    assert isinstance(loaded.layers[0].neurons.model, LIF)
    # one step of 3 unit inputs through all-ones weights: v = 3 > 1 fires
    np.testing.assert_array_equal(np.asarray(loaded(jnp.ones((2, 1, 3)))[0][0]), [[1.0, 1.0]])


def _snntorch_digits_net(outputs: int) -> torch.nn.Sequential:
    torch.manual_seed(1)
    return torch.nn.Sequential(
        torch.nn.Flatten(),
        torch.nn.Linear(64, 32),
        snntorch.Leaky(beta=torch.full((32,), 0.9), threshold=torch.ones(32), init_hidden=True, reset_mechanism="zero"),
        torch.nn.Linear(32, outputs),
        snntorch.Leaky(
            beta=torch.full((outputs,), 0.9),
            threshold=torch.ones(outputs),
            init_hidden=True,
            reset_mechanism="zero",
            output=True,
        ),
    )


def test_an_imported_snntorch_network_trains_on_crossbars_and_is_costed(tmp_path, capsys):
    """``hwsnn train --model.kind nir --model.nir-file F --hardware.preset ...`` and ``hwsnn cost``."""
    import json

    from hwsnn.cli import main

    path = tmp_path / "digits.nir"
    nir.write(str(path), export_to_nir(_snntorch_digits_net(10), torch.zeros(1, 1, 8, 8), ignore_dims=[0]))
    workdir = tmp_path / "run"
    flags = [
        "--data.dataset",
        "digits",
        "--model.kind",
        "nir",
        "--model.nir-file",
        str(path),
        "--model.timesteps",
        "4",
        "--data.encoding",
        "rate",
        "--training.learning-rate",
        "0.01",
        "--no-progress",
    ]
    assert (
        main(["train", "--workdir", str(workdir), "--hardware.preset", "rram-adc", "--training.epochs", "2", *flags])
        == 0
    )
    capsys.readouterr()
    assert main(["evaluate", "--workdir", str(workdir)]) == 0
    accuracy = json.loads(capsys.readouterr().out.split("\nwrote ")[0])["accuracy"]
    assert accuracy > 0.5  # ten classes: chance is 0.1
    assert main(["cost", "--workdir", str(workdir), "--samples", "50", "--presets", "rram-adc,naive-fp32"]) == 0
    rows = {row["preset"]: row for row in json.loads((workdir / "cost" / "cost.json").read_text())}
    # the naive ANN baseline counts the imported layers' MACs: 4.6 pJ x (64 x 32 + 32 x 10)
    assert rows["naive-fp32"]["ann_energy_pj"] == pytest.approx(4.6 * (64 * 32 + 32 * 10), rel=1e-6)
    wrong = tmp_path / "five.nir"
    nir.write(str(wrong), export_to_nir(_snntorch_digits_net(5), torch.zeros(1, 1, 8, 8), ignore_dims=[0]))
    assert (
        main(
            [
                "train",
                "--workdir",
                str(tmp_path / "bad"),
                "--training.epochs",
                "1",
                *[str(wrong) if flag == str(path) else flag for flag in flags],
            ]
        )
        == 2
    )
    assert "model.nir_file: the network outputs (5,); allowed: (10,)" in capsys.readouterr().err
    assert (
        main(["train", "--workdir", str(tmp_path / "bad"), "--model.kind", "mlp", "--model.nir-file", str(path)]) == 2
    )
    assert "nir_file: got" in capsys.readouterr().err
