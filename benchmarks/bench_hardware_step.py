"""Training-step cost of hardware in the loop: crossbar forward (resummed IR drop, 1-bit sense
amplifiers, programming noise) against the ideal step of the same model, alternated in one run.

Run:  python benchmarks/bench_hardware_step.py [--model mlp|conv|both] [--rounds 5] [--processes 3] [--ramp-steps N]
      python benchmarks/bench_hardware_step.py --stages   (what each non-ideality stage costs per step)
      python benchmarks/bench_hardware_step.py --model conv --learn-scale --weight-clip 2 --ramp-steps 1000000
            (the ADC-less study's recipe while its ramp is under way)

Each model is measured in ``--processes`` fresh Python processes (the same step's time varies from
one process to the next on the same machine), each the median of ``--rounds`` alternated rounds of
``--steps`` steps; the report gives every process's ratio and their median.

Models (batch 64, Adam):
  mlp:  LIF MLP 784-256-10 on rate-coded input, T=8 (both layers on crossbars);
  conv: the default ``TrainConfig`` network that ``hwsnn train --hardware.preset rram-sa`` and
        ``experiments/adc_less`` train (direct-coded 28x28 input, conv 16 and 32 channels, FC 128,
        T=4; every layer whose input is spikes on crossbars, the first conv digital).
Crossbars: the ``rram-sa`` preset (64 x 64 RRAM, 1 Ohm per segment, differential pairs, SA per
column). Goal: at most 1.5x. ``--ramp-steps N`` measures the progressive-training step instead: the
crossbar model's strength follows ``hardware_ramp(0, N)`` (traced, below 1 for the first N steps, so
every non-ideality is blended with its exact counterpart as in ``experiments/adc_less`` (d)).
``--stages`` adds, alternated with those two, the crossbar step with each of the preset's stages
switched off in turn (``CrossbarSpec.without``) and with all of them off (quantised weights on tiled
crossbars with an exact readout): a stage's cost is the full step's time less the step without it.

Why the two differ: each row tile of a crossbar layer needs its own product and readout (the sense
amplifier reads every tile's partial sum), so a layer with R row tiles runs R products with K = 64
(on this CPU about a quarter of the speed of one full product) and R readouts of its [P, M] output;
the weight path (programming-noise draws, the IR-drop kernels of both arrays of every pair) costs a
fixed amount per step. The MLP's first layer has R = 13 tiles and only P = T x B = 512 input
vectors, so both dominate; the conv layer (R = 3, P = 50,176 output pixels) is dominated by building
its receptive fields, which is why they are built per tile, feature-major (``ops.patch_row_tiles``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from hwsnn.allocator import keep_freed_memory
from hwsnn.encoding import encoder_from_name
from hwsnn.hardware.presets import crossbar_preset
from hwsnn.layers import mlp
from hwsnn.neurons import LIF
from hwsnn.train.builders import build_model
from hwsnn.train.config import HardwareConfig, TrainConfig
from hwsnn.train.losses import ce_count
from hwsnn.train.step import hardware_ramp, init_state, make_objective, make_train_step

BATCH = 64
MLP_T = 8


def _mlp(hardware):
    model = mlp(
        [784, 256, 10],
        MLP_T,
        rngs=nnx.Rngs(0),
        spiking_input=True,
        neuron=LIF(beta=0.95, surrogate="fast_sigmoid"),
        hardware=None if hardware is None else crossbar_preset(hardware),
    )
    rng = np.random.default_rng(0)
    x = jnp.asarray((rng.random((MLP_T, BATCH, 784)) < 0.2).astype(np.float32))
    return model, (lambda x, t, k: x), x


def _conv(hardware, **recipe):
    config = TrainConfig(hardware=HardwareConfig(preset=hardware, **(recipe if hardware is not None else {})))
    model = build_model(config, (28, 28, 1), 10)
    x = jnp.asarray(np.random.default_rng(0).random((BATCH, 28, 28, 1)).astype(np.float32))
    return model, encoder_from_name(config.data.encoding), x


def runner(model_name, hardware, ramp_steps=0, without=(), **recipe):
    """A closure running ``n`` training steps of one model (``hardware=None``: the ideal model), the
    crossbars' strength ramped over ``ramp_steps`` steps (0: full strength, static), the stages named
    in ``without`` switched off in every crossbar layer; ``recipe``: conv only, ``HardwareConfig``
    fields (``learn_scale``, ``weight_clip``)."""
    model, encode, x = _mlp(hardware) if model_name == "mlp" else _conv(hardware, **recipe)
    if without:
        for _, layer in nnx.iter_modules(model):
            if getattr(layer, "hardware", None) is not None:
                layer.hardware = layer.hardware.without(*without)
    optimizer = optax.adam(1e-3)
    graphdef, state = init_state(model, optimizer)
    ramp = hardware_ramp(0.0, ramp_steps) if hardware is not None and ramp_steps else None
    step = make_train_step(
        graphdef,
        optimizer,
        make_objective(ce_count),
        encode,
        model.timesteps,
        jax.random.PRNGKey(0),
        hardware_strength=ramp,
    )
    y = jnp.asarray(np.random.default_rng(1).integers(0, 10, BATCH))
    holder = {"state": state}

    def run(n):
        s = holder["state"]
        for _ in range(n):
            s, _ = step(s, x, y)
        jax.block_until_ready(s)
        holder["state"] = s

    return run


def measure(
    model_name: str, preset: str, rounds: int, steps: int, ramp_steps: int, stages: bool, **recipe
) -> dict[str, float]:
    """Median seconds per step of the ideal and the crossbar model (and with ``stages``, the crossbar
    model without each of its stages and without all of them), alternated round by round."""
    runners = {"ideal": runner(model_name, None), "crossbar": runner(model_name, preset, ramp_steps, **recipe)}
    if stages:
        spec = crossbar_preset(preset)
        readout = () if spec.readout.exact else tuple(spec.readout.ramped_by())
        active = tuple(name for stage in spec.stages for name in stage.ramped_by()) + readout
        for stage in active:
            runners[f"without {stage}"] = runner(model_name, preset, ramp_steps, without=(stage,), **recipe)
        runners["without all stages"] = runner(model_name, preset, ramp_steps, without=active, **recipe)
    for run in runners.values():
        run(2)
    times = {name: [] for name in runners}
    for _ in range(rounds):
        for name, run in runners.items():
            start = time.perf_counter()
            run(steps)
            times[name].append((time.perf_counter() - start) / steps)
    return {name: statistics.median(t) for name, t in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=("mlp", "conv", "both"), default="both")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--preset", default="rram-sa")
    parser.add_argument(
        "--ramp-steps", type=int, default=0, help="ramp the crossbars in over N steps (traced strength)"
    )
    parser.add_argument("--learn-scale", action="store_true", help="conv: learn the sense amplifiers' gains")
    parser.add_argument("--weight-clip", type=float, default=None, help="conv: hardware.weight_clip (RMS weights)")
    parser.add_argument("--stages", action="store_true", help="also time the crossbar step without each stage")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    recipe = {"learn_scale": args.learn_scale, "weight_clip": args.weight_clip}
    if args.child:  # one measurement in this process, as JSON on stdout
        keep_freed_memory()  # as the hwsnn command does for training runs (hwsnn.allocator)
        print(
            json.dumps(
                measure(args.model, args.preset, args.rounds, args.steps, args.ramp_steps, args.stages, **recipe)
            )
        )
        return
    for model_name in ("mlp", "conv") if args.model == "both" else (args.model,):
        command = [
            sys.executable,
            __file__,
            "--child",
            "--model",
            model_name,
            "--rounds",
            str(args.rounds),
            "--steps",
            str(args.steps),
            "--preset",
            args.preset,
            "--ramp-steps",
            str(args.ramp_steps),
        ]
        command += ["--learn-scale"] * args.learn_scale + (
            [] if args.weight_clip is None else ["--weight-clip", str(args.weight_clip)]
        )
        command += ["--stages"] * args.stages
        runs = [
            json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout.splitlines()[-1])
            for _ in range(args.processes)
        ]
        label = f"{args.preset}, ramped over {args.ramp_steps} steps" if args.ramp_steps else args.preset
        label += ", learned gains" * args.learn_scale + (
            "" if args.weight_clip is None else f", clip {args.weight_clip:g}"
        )
        for med in runs:
            print(
                f"{model_name}: median per step: ideal {1e3 * med['ideal']:.1f} ms, crossbar ({label}) "
                f"{1e3 * med['crossbar']:.1f} ms; crossbar / ideal: {med['crossbar'] / med['ideal']:.2f}x"
            )
        ratio = statistics.median(med["crossbar"] / med["ideal"] for med in runs)
        print(f"{model_name}: median crossbar / ideal over {len(runs)} processes: {ratio:.2f}x")
        for name in [name for name in runs[0] if name.startswith("without")]:
            times = [1e3 * med[name] for med in runs]
            costs = [1e3 * (med["crossbar"] - med[name]) for med in runs]
            print(
                f"{model_name}: crossbar {name}: {statistics.median(times):.1f} ms per step (processes: "
                f"{', '.join(f'{t:.1f}' for t in times)}); the full step costs {statistics.median(costs):+.1f} ms more"
            )


if __name__ == "__main__":
    main()
