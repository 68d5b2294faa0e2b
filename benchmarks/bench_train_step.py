"""Training-step throughput: hwsnn against snnTorch and a hand-written JAX scan.

Run:  python benchmarks/bench_train_step.py            (all cases; needs the 'bench' extra)
      python benchmarks/bench_train_step.py --case a --rounds 5
      python benchmarks/bench_train_step.py --no-snntorch   (hwsnn and the hand-written scan only)

Cases (beta 0.95, fast_sigmoid slope 25, Adam, cross-entropy on spike counts, random input spikes):
  a  LIF MLP 128-128-10, T=500, batch 16: per-step overhead dominates (goal: >= 5x snnTorch)
  b  LIF MLP 784-1000-10, T=25, batch 128: matmul-bound (goal: within 10% of the hand-written scan)
  c  conv SNN 28x28x1 -> 12C5-MP2 -> 32C5-MP2 -> FC10, T=8, batch 32 (hand-written reference:
     lax.conv layer by layer)
The hand-written scan runs twice: jitted with XLA's defaults (what a practitioner writes) and with
hwsnn's compiler options (hwsnn.compile: convolutions kept out of YNNPACK on CPU), the second
measuring hwsnn's own overhead for the same compiled math.
Implementations are run alternately, round by round, in one process; each reports the median
seconds per training step over all its timed steps.
"""

from __future__ import annotations

import argparse
import statistics
import time

import handwritten
import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from hwsnn.compile import compiler_options
from hwsnn.layers import SNN, Flatten, SpikingConv, SpikingDense
from hwsnn.neurons import LIF, fast_sigmoid
from hwsnn.train.losses import ce_count
from hwsnn.train.step import init_state, make_objective, make_train_step

NEURON = LIF(beta=0.95, surrogate=fast_sigmoid(25.0))
CASES = {
    "a": dict(kind="mlp", sizes=(128, 128, 10), T=500, B=16),
    "b": dict(kind="mlp", sizes=(784, 1000, 10), T=25, B=128),
    "c": dict(kind="conv", T=8, B=32),
}


def hwsnn_model(case, execution="auto", remat=None):
    rngs = nnx.Rngs(0)
    if case["kind"] == "mlp":
        s = case["sizes"]
        layers = [SpikingDense(a, b, rngs=rngs, neuron=NEURON) for a, b in zip(s[:-1], s[1:])]
        return SNN(layers, (s[0],), case["T"], spiking_input=True, execution=execution, remat=remat)
    layers = [
        SpikingConv(1, 12, 5, rngs=rngs, padding="VALID", pool="max", neuron=NEURON),
        SpikingConv(12, 32, 5, rngs=rngs, padding="VALID", pool="max", neuron=NEURON),
        Flatten(),
        SpikingDense(512, 10, rngs=rngs, neuron=NEURON),
    ]
    return SNN(layers, (28, 28, 1), case["T"], spiking_input=True, execution=execution)


def input_spikes(case):
    shape = (case["T"], case["B"]) + ((case["sizes"][0],) if case["kind"] == "mlp" else (28, 28, 1))
    rng = np.random.default_rng(0)
    return (rng.random(shape) < 0.2).astype(np.float32), rng.integers(0, 10, case["B"]).astype(np.int32)


def hwsnn_runner(case, x, y, execution="auto", remat=None):
    model = hwsnn_model(case, execution, remat)
    optimizer = optax.adam(1e-3)
    graphdef, state = init_state(model, optimizer)
    step = make_train_step(
        graphdef, optimizer, make_objective(ce_count), lambda x, t, k: x, case["T"], jax.random.PRNGKey(0)
    )
    x, y = jnp.asarray(x), jnp.asarray(y)
    holder = {"state": state}

    def run(n):
        s = holder["state"]
        for _ in range(n):
            s, metrics = step(s, x, y)
        jax.block_until_ready(s)
        holder["state"] = s

    return run


def handwritten_runner(case, x, y, compiler_options=None):
    optimizer = optax.adam(1e-3)
    if case["kind"] == "mlp":
        params = handwritten.init_mlp(jax.random.PRNGKey(0), case["sizes"])
        step = handwritten.make_step(optimizer, compiler_options=compiler_options)
    else:
        params = handwritten.init_conv(jax.random.PRNGKey(0))
        step = handwritten.make_step(optimizer, handwritten.conv_forward, compiler_options=compiler_options)
    holder = {"p": params, "o": optimizer.init(params)}
    x, y = jnp.asarray(x), jnp.asarray(y)

    def run(n):
        p, o = holder["p"], holder["o"]
        for _ in range(n):
            p, o, loss = step(p, o, x, y)
        jax.block_until_ready(p)
        holder["p"], holder["o"] = p, o

    return run


def snntorch_runner(case, x, y):
    import snntorch
    import torch
    from snntorch import surrogate

    torch.set_num_threads(2)
    grad = surrogate.fast_sigmoid(slope=25)
    if case["kind"] == "mlp":
        s = case["sizes"]
        synapses = [torch.nn.Linear(a, b) for a, b in zip(s[:-1], s[1:])]
    else:
        synapses = [
            torch.nn.Sequential(torch.nn.Conv2d(1, 12, 5), torch.nn.MaxPool2d(2)),
            torch.nn.Sequential(torch.nn.Conv2d(12, 32, 5), torch.nn.MaxPool2d(2), torch.nn.Flatten()),
            torch.nn.Linear(512, 10),
        ]
    leaks = [snntorch.Leaky(beta=0.95, spike_grad=grad) for _ in synapses]
    net = torch.nn.ModuleList(synapses + leaks)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    xt = torch.from_numpy(x if case["kind"] == "mlp" else x.transpose(0, 1, 4, 2, 3).copy())
    yt = torch.from_numpy(y).long()

    def one_step():
        mems = [leak.reset_mem() for leak in leaks]
        counts = 0
        for t in range(xt.shape[0]):
            h = xt[t]
            for i, (syn, leak) in enumerate(zip(synapses, leaks)):
                h, mems[i] = leak(syn(h), mems[i])
            counts = counts + h
        loss = torch.nn.functional.cross_entropy(counts, yt)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    def run(n):
        for _ in range(n):
            one_step()

    return run


def measure(runners: dict, steps: int, rounds: int) -> dict[str, float]:
    for run in runners.values():
        run(2)  # compile / warm up
    times = {name: [] for name in runners}
    for _ in range(rounds):
        for name, run in runners.items():
            start = time.perf_counter()
            run(steps)
            times[name].append((time.perf_counter() - start) / steps)
    return {name: statistics.median(t) for name, t in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", choices=["a", "b", "c", "all"], default="all")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=None, help="steps per round (default per case)")
    parser.add_argument(
        "--no-snntorch", action="store_true", help="leave snnTorch out (a machine without the bench extra)"
    )
    parser.add_argument(
        "--compare-execution",
        action="store_true",
        help="also time hwsnn's 'layer' and 'time' execution orders side by side",
    )
    args = parser.parse_args()
    cases = ["a", "b", "c"] if args.case == "all" else [args.case]
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}, {jax.device_count()} device(s)")
    for name in cases:
        case = CASES[name]
        x, y = input_spikes(case)
        runners = {"hwsnn": hwsnn_runner(case, x, y)}
        if not args.no_snntorch:
            runners["snntorch"] = snntorch_runner(case, x, y)
        if args.compare_execution:
            for order in ("layer", "time"):
                runners[f"hwsnn_{order}"] = hwsnn_runner(case, x, y, order)
        runners["handwritten_jax"] = handwritten_runner(case, x, y)
        runners["handwritten_jax_options"] = handwritten_runner(case, x, y, compiler_options())
        steps = args.steps or {"a": 3, "b": 5, "c": 5}[name]
        med = measure(runners, steps, args.rounds)
        line = ", ".join(f"{k} {1e3 * v:.1f} ms" for k, v in med.items())
        print(f"case {name} {case}: median per step: {line}")
        if "snntorch" in med:
            print(f"  speed-up over snnTorch: {med['snntorch'] / med['hwsnn']:.2f}x")
        print(
            f"  hwsnn / hand-written JAX time: {med['hwsnn'] / med['handwritten_jax']:.3f} "
            f"(plain jax.jit), {med['hwsnn'] / med['handwritten_jax_options']:.3f} (with hwsnn's compiler options)"
        )


if __name__ == "__main__":
    main()
