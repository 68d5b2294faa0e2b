"""hwsnn models <-> NIR graphs: :func:`export` and :func:`load` (package doc for the mapping)."""

from __future__ import annotations

import math
import os

import nir
import numpy as np
from flax import nnx

from hwsnn import checks
from hwsnn.hardware.crossbar import CrossbarSpec
from hwsnn.layers import SNN, Flatten, Pool, SpikingConv, SpikingDense
from hwsnn.layers.modules import Dropout
from hwsnn.layers.residual import Residual
from hwsnn.neurons.base import default_surrogate
from hwsnn.neurons.surrogate import Surrogate
from hwsnn.nir.neurons import NEURON_NODES, from_nir, to_nir

DT = 1e-4
"""The default Euler step (s): snnTorch's ``export_nir``/``import_nir`` use it."""

_POOL_NODES = {"avg": nir.AvgPool2d, "sum": nir.SumPool2d}
_SYNAPSE_NODES = (nir.Affine, nir.Linear, nir.Conv2d)


def _channels_first(shape: tuple[int, ...]) -> tuple[int, ...]:
    """A per-sample hwsnn shape as NIR writes it: ``(H, W, C) -> (C, H, W)``; features unchanged."""
    return (shape[-1],) + tuple(shape[:-1]) if len(shape) == 3 else tuple(shape)


def _chw_order(shape: tuple[int, int, int]) -> np.ndarray:
    """For each position of a ``(C, H, W)``-flattened vector, its index in the ``(H, W, C)``-flattened one."""
    height, width, channels = shape
    return np.arange(height * width * channels).reshape(height, width, channels).transpose(2, 0, 1).ravel()


def _padding(layer: SpikingConv, where: str) -> tuple[int, int]:
    """The conv layer's padding as NIR's symmetric ``(p_h, p_w)``."""
    if layer.padding == "VALID":
        return (0, 0)
    if layer.padding == "SAME":
        if layer.stride != 1 or layer.kernel_size % 2 == 0:
            raise ValueError(
                f"{where}: padding 'SAME' with kernel {layer.kernel_size} and stride {layer.stride} pads "
                "unevenly; allowed: an odd kernel at stride 1, or explicit symmetric padding."
            )
        return (layer.kernel_size // 2,) * 2
    (top, bottom), (left, right) = layer.padding
    if top != bottom or left != right:
        raise ValueError(f"{where}: padding {layer.padding} is asymmetric; allowed: symmetric padding (NIR's Conv2d).")
    return (top, left)


def _pool_node(kind: str, window: int, where: str) -> nir.NIRNode:
    if kind not in _POOL_NODES:
        raise ValueError(f"{where}: {kind} pooling has no NIR 1.0 node; allowed: 'avg' or 'sum' pooling.")
    return _POOL_NODES[kind](
        kernel_size=np.array([window, window]), stride=np.array([window, window]), padding=np.array([0, 0])
    )


def export(model: SNN, path: str | os.PathLike | None = None, *, dt: float = DT) -> nir.NIRGraph:
    """The NIR graph of ``model`` (written to ``path`` too when given, with ``nir.write``).

    The graph is a chain ``input -> synapse -> [pool] -> neuron -> ... -> output``: a dense layer gives
    ``Affine`` (``Linear`` without bias; weight ``[F_out, F_in]``), a conv layer ``Conv2d`` (weight
    ``[C_out, C_in, k, k]``, channel-first data) followed by its pooling, ``Pool`` gives
    ``AvgPool2d``/``SumPool2d``, ``Flatten`` gives ``Flatten`` (and the next dense layer's columns are
    reordered from hwsnn's ``(H, W, C)`` flattening to NIR's ``(C, H, W)``); neurons as
    :mod:`hwsnn.nir.neurons`, discretised with ``dt``. Batch norm is folded into the weights first
    (:meth:`~hwsnn.layers.SNN.fold_norms`), dropout is left out (the identity at inference), and a
    crossbar ``hardware`` spec is not part of NIR: the digital weights are written. The metadata
    keeps ``dt`` and the model's timesteps. Refused (``ValueError`` naming the layer): max pooling,
    residual blocks, recurrent and adaptive neurons, subtract or no reset, per-layer timesteps.
    """
    if not isinstance(model, SNN):
        raise ValueError(f"model: got {type(model).__name__}; allowed: a hwsnn.SNN.")
    if not (isinstance(dt, (int, float)) and dt > 0):
        raise ValueError(f"dt: got {dt!r}; allowed: a time step > 0 (s).")
    if len(set(model.layer_timesteps)) != 1 or model.learn_timesteps:
        raise ValueError(
            f"model: per-layer or learned timesteps {model.layer_timesteps}; allowed: one T for every "
            "layer (a NIR graph has no per-layer time axis)."
        )
    for index, layer in enumerate(model.layers):
        if isinstance(layer, Residual):
            raise ValueError(
                f"layers[{index}]: {type(layer).__name__} blocks are not exported; allowed: a chain of "
                "dense, conv, pool and flatten layers."
            )
    model = model.fold_norms()
    shape = model.input_shape
    nodes = {"input": nir.Input(input_type=np.array(_channels_first(shape)))}
    chain, flattened_from = ["input"], None

    def add(name: str, node: nir.NIRNode) -> None:
        nodes[name] = node
        chain.append(name)

    for index, layer in enumerate(model.layers):
        where, out_shape = f"layers[{index}]", layer.output_shape(shape)
        if isinstance(layer, SpikingDense):
            weight = np.asarray(layer.kernel[...]).T
            if flattened_from is not None:
                weight = weight[:, _chw_order(flattened_from)]
            bias = None if layer.bias is None else np.asarray(layer.bias[...])
            add(f"{index}.synapse", nir.Linear(weight=weight) if bias is None else nir.Affine(weight=weight, bias=bias))
        elif isinstance(layer, SpikingConv):
            weight = np.asarray(layer.kernel[...]).transpose(3, 2, 0, 1)
            bias = np.zeros(layer.out_channels, np.float32) if layer.bias is None else np.asarray(layer.bias[...])
            add(
                f"{index}.synapse",
                nir.Conv2d(
                    input_shape=tuple(shape[:2]),
                    weight=weight,
                    stride=layer.stride,
                    padding=_padding(layer, where),
                    dilation=1,
                    groups=1,
                    bias=bias,
                ),
            )
            if layer.pool is not None:
                add(f"{index}.pool", _pool_node(layer.pool, layer.pool_window, where))
        elif isinstance(layer, Pool):
            add(f"{index}", _pool_node(layer.kind, layer.window, where))
        elif isinstance(layer, Flatten):
            add(
                f"{index}", nir.Flatten(input_type={"input": np.array(_channels_first(shape))}, start_dim=0, end_dim=-1)
            )
        elif not isinstance(layer, Dropout):
            raise ValueError(
                f"{where}: {type(layer).__name__} has no NIR node; allowed: SpikingDense, SpikingConv, "
                "Pool, Flatten, Dropout."
            )
        if layer.synaptic:
            add(f"{index}.neuron", to_nir(layer.neurons, _channels_first(out_shape), float(dt), where))
        if isinstance(layer, Flatten):  # the next dense layer reads a channel-last flattening
            flattened_from = shape if len(shape) == 3 else None
        elif not isinstance(layer, Dropout):
            flattened_from = None
        shape = out_shape
    add("output", nir.Output(output_type=np.array(_channels_first(shape))))
    graph = nir.NIRGraph(
        nodes=nodes,
        edges=list(zip(chain[:-1], chain[1:])),
        metadata={"source": "hwsnn", "dt": float(dt), "timesteps": int(model.timesteps)},
    )
    graph.infer_types()
    if path is not None:
        nir.write(os.fspath(path), graph)
    return graph


def _read(graph) -> nir.NIRGraph:
    if isinstance(graph, nir.NIRGraph):
        return graph
    if isinstance(graph, (str, os.PathLike)):
        path = os.fspath(graph)
        if not os.path.isfile(path):
            raise ValueError(f"graph: no file {path!r}; allowed: a NIR file (.nir, HDF5) or a nir.NIRGraph.")
        try:
            return nir.read(path)
        except Exception as error:  # h5py and nir raise OSError, KeyError, ... for a file that is not NIR
            raise ValueError(
                f"graph: {path!r} is not a readable NIR file ({type(error).__name__}: {error})."
            ) from error
    raise ValueError(f"graph: got {type(graph).__name__}; allowed: a nir.NIRGraph or the path of a NIR file.")


def _chain(graph: nir.NIRGraph) -> list[str]:
    """The node names from the input to the output of a graph that is one chain."""
    inputs = [name for name, node in graph.nodes.items() if isinstance(node, nir.Input)]
    successors: dict[str, list[str]] = {name: [] for name in graph.nodes}
    for source, target in graph.edges:
        successors[source].append(target)
    if len(inputs) != 1:
        raise ValueError(f"graph: {len(inputs)} Input nodes; allowed: one.")
    chain = inputs
    while not isinstance(graph.nodes[chain[-1]], nir.Output):
        following = successors[chain[-1]]
        if len(following) != 1 or following[0] in chain:
            raise ValueError(
                f"graph: node {chain[-1]!r} leads to {following}; allowed: a chain (each node feeding "
                "exactly one next node, no branches or recurrent loops)."
            )
        chain.append(following[0])
    if len(chain) != len(graph.nodes):
        left = sorted(set(graph.nodes) - set(chain))
        raise ValueError(f"graph: nodes {left} are off the input-output chain; allowed: one chain.")
    return chain


def _square(value, name: str, where: str) -> int:
    values = np.atleast_1d(np.asarray(value)).astype(int)
    if np.unique(values).size != 1:
        raise ValueError(f"{where}: {name} {values.tolist()}; allowed: equal height and width.")
    return int(values[0])


def _pool(node, where: str) -> tuple[str, int]:
    kind = "avg" if isinstance(node, nir.AvgPool2d) else "sum"
    window = _square(node.kernel_size, "kernel_size", where)
    if _square(node.stride, "stride", where) != window or np.any(np.asarray(node.padding) != 0):
        raise ValueError(
            f"{where}: pooling with stride {np.asarray(node.stride).tolist()} and padding "
            f"{np.asarray(node.padding).tolist()}; allowed: stride = kernel_size, no padding."
        )
    return kind, window


def load(
    graph: nir.NIRGraph | str | os.PathLike,
    *,
    timesteps: int | None = None,
    dt: float | None = None,
    hardware: CrossbarSpec | None = None,
    spiking_input: bool = True,
    surrogate: Surrogate | str | None = None,
    execution: str = "auto",
) -> SNN:
    """An :class:`~hwsnn.layers.SNN` from a NIR graph (or the path of a NIR file).

    The graph must be one chain from input to output in which each synapse (``Affine``, ``Linear``,
    ``Conv2d``), with any pooling after a conv, is followed by a neuron (``LIF``, ``IF``, ``CubaLIF``,
    ``LI``); ``AvgPool2d``/``SumPool2d`` after a neuron become :class:`~hwsnn.layers.Pool`, and
    ``Flatten`` :class:`~hwsnn.layers.Flatten` (the next layer's weights reordered from NIR's
    channel-first flattening). Neurons as :mod:`hwsnn.nir.neurons`, their input gains folded into
    the synapse. The result is a normal hwsnn model: train it, put it on crossbars, cost it.

    Args:
      graph: a ``nir.NIRGraph`` or a path.
      timesteps: the model's T (NIR has no time axis); default: the graph's ``timesteps`` metadata
        (written by :func:`export`), else required.
      dt: the Euler step the time constants are discretised with; default: the graph's ``dt``
        metadata, else :data:`DT` (snnTorch's).
      hardware: a crossbar spec for every synaptic layer, or ``None``.
      spiking_input: whether the network input is spikes (recorded in the workload).
      surrogate: the spiking neurons' surrogate gradient (default atan, snnTorch's).
      execution: as :class:`~hwsnn.layers.SNN`.
    """
    graph = _read(graph)
    metadata = graph.metadata or {}
    timesteps = metadata.get("timesteps") if timesteps is None else timesteps
    if timesteps is None:
        raise ValueError("timesteps: got None and the graph has no 'timesteps' metadata; allowed: an int >= 1.")
    checks.int_at_least(int(timesteps) if isinstance(timesteps, np.integer) else timesteps, "timesteps", 1)
    dt = float(metadata.get("dt", DT)) if dt is None else dt
    if not (isinstance(dt, (int, float)) and dt > 0):
        raise ValueError(f"dt: got {dt!r}; allowed: a time step > 0 (s).")
    surrogate = default_surrogate() if surrogate is None else surrogate
    chain = _chain(graph)
    input_node = graph.nodes[chain[0]]
    shape = tuple(int(d) for d in np.asarray(input_node.input_type["input"]).ravel())
    if len(shape) == 3:
        shape = shape[1:] + shape[:1]  # (C, H, W) -> (H, W, C)
    elif len(shape) != 1:
        raise ValueError(f"graph: input shape {shape}; allowed: (features,) or (C, H, W).")
    input_shape, rngs = shape, nnx.Rngs(0)
    layers, pending, flattened_from = [], [], None
    for name in chain[1:-1]:
        node, where = graph.nodes[name], f"graph node {name!r}"
        if isinstance(node, nir.NIRGraph):
            raise ValueError(f"{where}: a subgraph (recurrent neurons); allowed: a chain of synapses and neurons.")
        if isinstance(node, _SYNAPSE_NODES):
            if pending:
                raise ValueError(
                    f"{where}: a synapse follows {type(pending[0][1]).__name__} without a neuron; "
                    "allowed: each synapse followed by a neuron."
                )
            pending = [(name, node)]
        elif isinstance(node, (nir.AvgPool2d, nir.SumPool2d)):
            if pending and isinstance(pending[0][1], nir.Conv2d) and len(pending) == 1:
                pending.append((name, node))
            elif pending:
                raise ValueError(
                    f"{where}: pooling after {type(pending[-1][1]).__name__}; allowed: pooling after a "
                    "Conv2d or after a neuron."
                )
            else:
                layers.append(Pool(*_pool(node, where)))
                shape = layers[-1].output_shape(shape)
        elif isinstance(node, nir.Flatten):
            if pending:
                raise ValueError(f"{where}: Flatten between a synapse and its neuron; allowed: after a neuron.")
            if int(node.start_dim) not in (0, -len(shape)) or int(node.end_dim) not in (-1, len(shape) - 1):
                raise ValueError(
                    f"{where}: Flatten of dims {node.start_dim}..{node.end_dim} of {_channels_first(shape)}; "
                    "allowed: all dims (start_dim 0, end_dim -1)."
                )
            flattened_from = shape if len(shape) == 3 else None
            layers.append(Flatten())
            shape = layers[-1].output_shape(shape)
        elif isinstance(node, NEURON_NODES):
            if not pending:
                raise ValueError(
                    f"{where}: {type(node).__name__} without a synapse before it; allowed: a neuron after "
                    "Affine, Linear or Conv2d (and any pooling)."
                )
            neuron, gain = from_nir(node, dt, where, surrogate)
            layers.append(_synaptic_layer(pending, neuron, gain, shape, flattened_from, hardware, rngs))
            shape, pending, flattened_from = layers[-1].output_shape(shape), [], None
        else:
            raise ValueError(
                f"{where}: {type(node).__name__} is not read; allowed: Affine, Linear, Conv2d, AvgPool2d, "
                "SumPool2d, Flatten, LIF, IF, CubaLIF, LI."
            )
    if pending:
        raise ValueError(f"graph node {pending[0][0]!r}: the graph ends on a synapse; allowed: a neuron after it.")
    return SNN(layers, input_shape, int(timesteps), spiking_input=spiking_input, execution=execution)


def _synaptic_layer(pending, neuron, gain, shape, flattened_from, hardware, rngs):
    """A SpikingDense or SpikingConv from its NIR synapse (and pooling) nodes, ``gain`` folded in."""
    (name, node), pool = (
        pending[0],
        (_pool(pending[1][1], f"graph node {pending[1][0]!r}") if len(pending) > 1 else None),
    )
    where = f"graph node {name!r}"
    weight = np.asarray(node.weight, np.float32)
    bias = np.asarray(node.bias, np.float32) if isinstance(node, (nir.Affine, nir.Conv2d)) else None
    gain = np.asarray(gain, np.float32)
    for what, values in (("weight", weight), ("bias", bias), ("input gain", gain)):
        if values is not None and not np.all(np.isfinite(values)):
            raise ValueError(f"{where}: its {what} holds NaN or infinite values; allowed: finite numbers.")
    if isinstance(node, nir.Conv2d):
        if len(shape) != 3 or weight.ndim != 4 or weight.shape[1] != shape[-1]:
            raise ValueError(
                f"{where}: weight {weight.shape} for input {shape}; "
                f"allowed: [C_out, {shape[-1] if len(shape) == 3 else 'C'}, k, k]."
            )
        kernel = _square(weight.shape[2:], "kernel size", where)
        if _square(node.dilation, "dilation", where) != 1 or int(node.groups) != 1:
            raise ValueError(
                f"{where}: dilation {np.asarray(node.dilation).tolist()}, groups {node.groups}; allowed: 1 and 1."
            )
        if isinstance(node.padding, str):
            padding = node.padding.upper()
        else:
            pad_h, pad_w = np.broadcast_to(np.asarray(node.padding, int), (2,))
            padding = ((int(pad_h), int(pad_h)), (int(pad_w), int(pad_w)))
        layer = SpikingConv(
            weight.shape[1],
            weight.shape[0],
            kernel,
            rngs=rngs,
            neuron=neuron,
            stride=_square(node.stride, "stride", where),
            padding=padding,
            pool=None if pool is None else pool[0],
            pool_window=2 if pool is None else pool[1],
            hardware=hardware,
        )
        layer.kernel = nnx.Param(weight.transpose(2, 3, 1, 0) * gain)
    else:
        if len(shape) != 1 or weight.ndim != 2 or weight.shape[1] != shape[0]:
            raise ValueError(f"{where}: weight {weight.shape} for input {shape}; allowed: [F_out, {math.prod(shape)}].")
        if flattened_from is not None:
            weight = weight[:, np.argsort(_chw_order(flattened_from))]
        layer = SpikingDense(
            weight.shape[1], weight.shape[0], rngs=rngs, neuron=neuron, bias=bias is not None, hardware=hardware
        )
        layer.kernel = nnx.Param(weight.T * gain)
    if bias is not None:
        layer.bias = nnx.Param(bias * gain)
    return layer
