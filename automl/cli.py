"""The `automl` command: a table of subcommands, each a thin call of the library functions.

Each entry of `COMMANDS` is a name, a help line, a function that adds the subcommand's arguments
and the handler that runs it; `build_parser` and `run` read only the table.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from automl import __version__, dashboard
from automl.cli_args import (
    add_budget,
    add_devices,
    add_json,
    add_output_options,
    add_plugin,
    add_space,
    load_args,
    open_args,
    run_options,
    say,
    space_rows,
)
from automl.console import PrintCompletion, setup_output
from automl.describe import describe_plugins, format_plugins
from automl.diagnose import run_reported
from automl.errors import INTERRUPTED_EXIT, NO_TRIAL_COMPLETED_EXIT
from automl.plugins import load_catalog

# The handlers of tune, worker, trials, export, predict and space import the modules they call
# when they run: those modules load optuna and Keras, which `automl --help` and `automl validate`
# do not need, and `automl worker` must cap its threads before TensorFlow is imported.


@dataclass(frozen=True)
class Command:
    """One subcommand: its name, help line, arguments and handler (returns the exit status)."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    handler: Callable[[argparse.Namespace], int]


# ---------------------------------------------------------------------------------- validate
def _validate_arguments(p: argparse.ArgumentParser) -> None:
    add_space(p, storage=False)
    add_json(p)
    p.add_argument(
        "--no-data",
        action="store_true",
        help="check the file and the plugins only, without loading the data (fast)",
    )


def _validate(args: argparse.Namespace) -> int:
    spec, catalog = open_args(args)
    rows, task = None, spec.data.task
    if not args.no_data:  # the data checks run at validate time too
        from automl.data import load_partition

        partition = load_partition(spec, catalog)
        rows, task = len(partition.y) + len(partition.test.y_test), partition.task
    searched = sum(1 for row in space_rows(spec) if row["searched"])
    if args.json:
        study: dict[str, Any] = {"study": spec.study.name, "metric": spec.study.metric}
        study.update(direction=spec.study.direction, metrics=list(spec.study.metrics))
        study.update(directions=list(spec.study.directions), slots=len(spec.slots))
        print(json.dumps({"space": args.space, "valid": True, **study, "rows": rows,
                          "task": task, "searched": searched, "problems": []},
                         indent=2))  # fmt: skip
        return 0
    data = f"{rows} rows ({task})" if rows is not None else f"data not loaded ({task or '?'})"
    say(
        args,
        f"{args.space}: OK (study {spec.study.name!r}, {spec.study.describe_metrics()}, "
        f"{data}, {len(spec.slots)} slots, {searched} searched parameters)",
    )
    return 0


# ------------------------------------------------------------------------------------- space
def _space_arguments(p: argparse.ArgumentParser) -> None:
    add_space(p, storage=False)
    add_json(p)


def _space(args: argparse.Namespace) -> int:
    spec = load_args(args)
    rows = space_rows(spec)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    width = max(len(r["name"]) for r in rows)
    rwidth = max(len(r["range"]) for r in rows)
    print(
        f"study {spec.study.name!r}: {spec.study.describe_metrics('()')}, "
        f"sampler {spec.study.sampler.name}, pruner {spec.study.pruner.name}"
    )
    for r in rows:
        flag = "search" if r["searched"] else "fixed "
        print(f"  {r['name'].ljust(width)}  {flag}  {r['range'].ljust(rwidth)}  [{r['plugin']}]")
    return 0


# -------------------------------------------------------------------------------------- tune
def _tune_arguments(p: argparse.ArgumentParser) -> None:
    add_space(p)
    add_budget(
        p,
        "total trial budget (overrides study.trials)",
        "time limit of this run, e.g. 600, 10m, 1h (overrides study.timeout)",
    )
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    add_devices(p)


def _tune(args: argparse.Namespace) -> int:
    from optuna.trial import TrialState

    from automl.parallel.devices import plan_gpus
    from automl.study import tune

    options = run_options(args)
    gpus, jobs = plan_gpus(args.gpus, args.trials_per_gpu, args.jobs)
    spec, catalog = open_args(args)
    result = tune(
        spec,
        catalog=catalog,
        progress=not (args.no_progress or args.quiet),
        print_leaderboard=not args.quiet,
        jobs=jobs,
        gpus=gpus,
        **options,
    )
    if result.interrupted:
        return INTERRUPTED_EXIT
    if not result.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        print(f"error: no trial of study {spec.study.name!r} completed", file=sys.stderr)
        return NO_TRIAL_COMPLETED_EXIT
    return 0


# ------------------------------------------------------------------------------------ worker
def _worker_arguments(p: argparse.ArgumentParser) -> None:
    add_space(p)
    add_budget(
        p,
        "total trial budget of the study (all workers)",
        "time limit of this worker, e.g. 600, 10m, 1h",
    )
    p.add_argument("--index", type=int, default=0, help="worker number: offsets the sampler seed")
    p.add_argument("--threads", type=int, help="CPU threads for this worker (default: all)")


def _worker(args: argparse.Namespace) -> int:
    from automl.parallel import RECYCLE_EXIT, limit_threads, worker_name

    limit_threads(args.threads)  # before TensorFlow is imported (by automl.study, the plugins)
    from automl.study import work

    options = run_options(args)
    outcome = work(*open_args(args), index=args.index, **options)
    why = "interrupted" if outcome.interrupted else "recycled" if outcome.recycle else "done"
    if not args.quiet:
        print(f"worker {worker_name()}: {outcome.ran} trials, {why}", file=sys.stderr)
    return INTERRUPTED_EXIT if outcome.interrupted else RECYCLE_EXIT if outcome.recycle else 0


# ------------------------------------------------------------------------------------ trials
def _trials_arguments(p: argparse.ArgumentParser) -> None:
    add_space(p)
    p.add_argument("--top", type=int, help="only the first K rows")
    p.add_argument("--pareto", action="store_true", help="only the Pareto front (rank 1)")
    add_json(p)


def _trials(args: argparse.Namespace) -> int:
    from automl.forecast import baseline_text
    from automl.leaderboard import format_leaderboard, leaderboard, trials_json
    from automl.storage import open_study

    spec, catalog = open_args(args)
    study = open_study(spec, args.storage, create=False)
    rows = leaderboard(study, spec.study.direction)
    if args.pareto:
        rows = [r for r in rows if r["rank"] == 1]
    if args.top is not None:
        rows = rows[: args.top]
    print(trials_json(rows) if args.json else format_leaderboard(rows, spec.study.metrics))
    print("" if args.json else baseline_text(spec, catalog), end="")
    return 0


# ------------------------------------------------------------------------------------ export
def _export_arguments(p: argparse.ArgumentParser) -> None:
    add_space(p)
    p.add_argument("--out", required=True, help="the artifact directory to write")
    p.add_argument("--trial", type=int, help="export this trial instead of the best")
    p.add_argument("--force", action="store_true", help="replace an existing --out directory")
    p.add_argument(
        "--single",
        "--retrain",
        dest="single",
        action="store_true",
        help="train the trial's configuration again as one model on all training rows "
        "(default: the trial's own weights; its fold models averaged when cross-validated)",
    )
    p.add_argument(
        "--ensemble",
        type=int,
        metavar="N",
        help="greedy ensemble selection over the top N trials' out-of-fold predictions",
    )
    p.add_argument(
        "--format",
        default="keras",
        metavar="FORMATS",
        help="comma-separated: keras (always), saved_model, onnx, tflite, or all",
    )


def _export(args: argparse.Namespace) -> int:
    from automl.export import export_model, export_summary
    from automl.leaderboard import format_values

    out = export_model(
        args.space,
        args.out,
        trial=args.trial,
        storage=args.storage,
        plugins=tuple(args.plugin),
        force=args.force,
        retrain=args.single,
        formats=args.format,
        ensemble=args.ensemble,
    )
    card = json.loads((out / "model.json").read_text())
    say(args, export_summary(card, out))
    if card["evaluation"].get("objectives"):  # several objectives, each on the held-out split
        print(f"  {card['evaluation']['split']}: {format_values(card['evaluation']['objectives'])}")
    for fmt in card.get("formats", {}).values():
        say(args, f"  {fmt['path']}: max abs difference vs Keras {fmt['max_abs_diff']:.2e}")
    for fmt, why in card.get("skipped_formats", {}).items():
        say(args, f"  {fmt}: skipped ({why})")
    return 0


# ----------------------------------------------------------------------------------- predict
def _predict_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model_dir", metavar="DIR", help="the directory `automl export` wrote")
    p.add_argument("input", metavar="INPUT", help="a .csv file, an .npz file or a folder of images")
    p.add_argument("--out", help="write predictions to this .csv or .npz file (default: stdout)")
    add_plugin(p)


def _predict(args: argparse.Namespace) -> int:
    from automl.serving import load, read_input, write_predictions

    model = load(args.model_dir, tuple(args.plugin))
    x, ids = read_input(args.input, model.schema)
    text = write_predictions(model, x, ids, args.out)
    if text is not None:
        sys.stdout.write(text)
    elif not args.quiet:
        print(f"wrote {len(ids)} predictions to {args.out}", file=sys.stderr)
    return 0


# ----------------------------------------------------------------------------------- plugins
def _plugins_arguments(p: argparse.ArgumentParser) -> None:
    add_plugin(p, also=True)
    add_json(p)


def _plugins(args: argparse.Namespace) -> int:
    rows = describe_plugins(load_catalog(tuple(args.plugin)))
    print(json.dumps(rows, indent=2, default=str) if args.json else format_plugins(rows))
    return 0


# ------------------------------------------------------------------------------------ report
def _report_arguments(p: argparse.ArgumentParser) -> None:
    add_space(p)
    p.add_argument("--out", help="the HTML file to write (default: runs/<study>/report.html)")
    p.add_argument(
        "--model",
        help="an exported model directory whose model.json to show "
        "(default: runs/<study>/best when it exists)",
    )


def _report(args: argparse.Namespace) -> int:
    from automl.report import report_for_space

    path = report_for_space(args.space, args.out, args.storage, tuple(args.plugin), args.model)
    say(args, f"wrote {path}")
    return 0


COMMANDS: tuple[Command, ...] = (
    Command("tune", "run (or resume) a study", _tune_arguments, _tune),
    Command(
        "worker",
        "run trials of a shared study until its budget is used "
        "(start one per machine against one --storage)",
        _worker_arguments,
        _worker,
    ),
    Command("validate", "check a search-space file, no training", _validate_arguments, _validate),
    Command("space", "print the effective search space", _space_arguments, _space),
    Command("trials", "print the leaderboard of a study", _trials_arguments, _trials),
    Command("export", "export the best model", _export_arguments, _export),
    Command("predict", "predict with an exported model", _predict_arguments, _predict),
    Command("report", "write a self-contained HTML report of a study", _report_arguments, _report),
    Command("dashboard", dashboard.HELP, dashboard.arguments(add_space), dashboard.run),
    Command(
        "plugins",
        "list plugins: origin, hooks, components, default ranges",
        _plugins_arguments,
        _plugins,
    ),
)
_BY_NAME = {command.name: command for command in COMMANDS}


# -------------------------------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand of `COMMANDS`."""
    parser = argparse.ArgumentParser(
        prog="automl", description="Tune Keras models from YAML search spaces."
    )
    parser.add_argument("--version", action="version", version=f"automl {__version__}")
    parser.add_argument("--print-completion", action=PrintCompletion)
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")
    add_output_options(parser)
    debug = argparse.ArgumentParser(add_help=False)  # --debug before or after the subcommand
    debug.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command_parser = sub.add_parser(command.name, help=command.help, parents=[debug])
        command.add_arguments(command_parser)
        add_output_options(command_parser, suppress=True)
    return parser


def run(args: argparse.Namespace) -> int:
    """Execute a parsed command through its handler; returns the exit status."""
    return _BY_NAME[args.command].handler(args)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `automl` console script."""
    args = build_parser().parse_args(argv)
    with setup_output(args.verbose):
        return run_reported(
            lambda: run(args),
            debug=getattr(args, "debug", False) or bool(args.verbose),
            as_json=getattr(args, "json", False),
        )


if __name__ == "__main__":
    sys.exit(main())
