"""The `automl` command: a table of subcommands, each a thin call of the library functions.

Each entry of `COMMANDS` is a name, a help line, a function that adds the subcommand's arguments
and the handler that runs it; `build_parser` and `run` read only the table.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from automl.describe import describe_plugins, format_plugins
from automl.errors import AutoMLError
from automl.plugins import Catalog, load_catalog
from automl.spec import Spec, load_spec, open_space, parse_duration

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


# ------------------------------------------------------------------------------ shared options
def _add_plugin(p: argparse.ArgumentParser, also: bool = False) -> None:
    p.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="PATH_OR_MODULE",
        help=("also " if also else "") + "load a local plugin (.py file or module); repeatable",
    )


def _add_storage(p: argparse.ArgumentParser) -> None:
    p.add_argument("--storage", help="Optuna storage URL (default: runs/<study>/journal.log)")


def _add_space(p: argparse.ArgumentParser, storage: bool = True) -> None:
    """The search-space file, `--plugin` and (for commands that open the study) `--storage`."""
    p.add_argument("space", help="the YAML search-space file")
    _add_plugin(p)
    if storage:
        _add_storage(p)


def _add_verbose(p: argparse.ArgumentParser) -> None:
    p.add_argument("-v", "--verbose", action="count", default=0, help="show Keras training output")


def _add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true")


def _timeout(value: str | None) -> float | None:
    """`--timeout 10m` -> seconds (a clear error for a bad duration)."""
    try:
        return parse_duration(value) if value else None
    except ValueError as exc:
        raise AutoMLError(f"--timeout: {exc}") from None


def _run_options(args: argparse.Namespace) -> dict[str, Any]:
    """The options `tune` and `worker` share; a bad `--timeout` fails before the space loads."""
    return {
        "trials": args.trials,
        "timeout": _timeout(args.timeout),
        "storage": args.storage,
        "verbose": args.verbose,
    }


def _load(args: argparse.Namespace) -> Spec:
    return load_spec(args.space, tuple(args.plugin))


def _open(args: argparse.Namespace) -> tuple[Spec, Catalog]:
    return open_space(args.space, tuple(args.plugin))


def _space_rows(spec: Spec) -> list[dict[str, Any]]:
    from automl.space import describe_space

    return describe_space(spec)


# ---------------------------------------------------------------------------------- validate
def _validate(args: argparse.Namespace) -> int:
    spec = _load(args)
    searched = sum(1 for row in _space_rows(spec) if row["searched"])
    print(
        f"{args.space}: OK (study {spec.study.name!r}, metric {spec.study.metric} "
        f"[{spec.study.direction}], {len(spec.slots)} slots, {searched} searched parameters)"
    )
    return 0


# ------------------------------------------------------------------------------------- space
def _space_arguments(p: argparse.ArgumentParser) -> None:
    _add_space(p, storage=False)
    _add_json(p)


def _space(args: argparse.Namespace) -> int:
    spec = _load(args)
    rows = _space_rows(spec)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    width = max(len(r["name"]) for r in rows)
    rwidth = max(len(r["range"]) for r in rows)
    print(
        f"study {spec.study.name!r}: metric {spec.study.metric} ({spec.study.direction}), "
        f"sampler {spec.study.sampler.name}, pruner {spec.study.pruner.name}"
    )
    for r in rows:
        flag = "search" if r["searched"] else "fixed "
        print(f"  {r['name'].ljust(width)}  {flag}  {r['range'].ljust(rwidth)}  [{r['plugin']}]")
    return 0


# -------------------------------------------------------------------------------------- tune
def _tune_arguments(p: argparse.ArgumentParser) -> None:
    _add_space(p)
    p.add_argument("--trials", type=int, help="total trial budget (overrides study.trials)")
    p.add_argument(
        "--timeout", help="time limit of this run, e.g. 600, 10m, 1h (overrides study.timeout)"
    )
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    _add_verbose(p)
    p.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=1,
        help="worker processes sharing the study, each with its share of the CPU cores",
    )


def _tune(args: argparse.Namespace) -> int:
    from automl.study import tune

    run_options = _run_options(args)
    spec, catalog = _open(args)
    result = tune(
        spec,
        catalog=catalog,
        progress=not args.no_progress,
        print_leaderboard=True,
        jobs=args.jobs,
        **run_options,
    )
    return 130 if result.interrupted else 0


# ------------------------------------------------------------------------------------ worker
def _worker_arguments(p: argparse.ArgumentParser) -> None:
    _add_space(p)
    p.add_argument("--trials", type=int, help="total trial budget of the study (all workers)")
    p.add_argument("--timeout", help="time limit of this worker, e.g. 600, 10m, 1h")
    p.add_argument("--index", type=int, default=0, help="worker number: offsets the sampler seed")
    p.add_argument("--threads", type=int, help="CPU threads for this worker (default: all)")
    _add_verbose(p)


def _worker(args: argparse.Namespace) -> int:
    from automl.parallel import RECYCLE_EXIT, limit_threads, worker_name

    limit_threads(args.threads)  # before TensorFlow is imported (by automl.study, the plugins)
    from automl.study import work

    run_options = _run_options(args)
    outcome = work(*_open(args), index=args.index, **run_options)
    why = "interrupted" if outcome.interrupted else "recycled" if outcome.recycle else "done"
    print(f"worker {worker_name()}: {outcome.ran} trials, {why}", file=sys.stderr)
    return 130 if outcome.interrupted else RECYCLE_EXIT if outcome.recycle else 0


# ------------------------------------------------------------------------------------ trials
def _trials_arguments(p: argparse.ArgumentParser) -> None:
    _add_space(p)
    p.add_argument("--top", type=int, help="only the first K rows")
    _add_json(p)


def _trials(args: argparse.Namespace) -> int:
    from automl.leaderboard import format_leaderboard, leaderboard, trials_json
    from automl.storage import open_study

    spec = _load(args)
    study = open_study(spec, args.storage, create=False)
    rows = leaderboard(study, spec.study.direction)
    if args.top is not None:
        rows = rows[: args.top]
    print(trials_json(rows) if args.json else format_leaderboard(rows, spec.study.metric))
    return 0


# ------------------------------------------------------------------------------------ export
def _export_arguments(p: argparse.ArgumentParser) -> None:
    _add_space(p)
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
    print(export_summary(card, out))
    for fmt in card.get("formats", {}).values():
        print(f"  {fmt['path']}: max abs difference vs Keras {fmt['max_abs_diff']:.2e}")
    return 0


# ----------------------------------------------------------------------------------- predict
def _predict_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model_dir", metavar="DIR", help="the directory `automl export` wrote")
    p.add_argument("input", metavar="INPUT", help="a .csv file, an .npz file or a folder of images")
    p.add_argument("--out", help="write predictions to this .csv or .npz file (default: stdout)")
    _add_plugin(p)


def _predict(args: argparse.Namespace) -> int:
    from automl.serving import load, read_input, write_predictions

    model = load(args.model_dir, tuple(args.plugin))
    x, ids = read_input(args.input, model.schema)
    text = write_predictions(model, x, ids, args.out)
    if text is not None:
        sys.stdout.write(text)
    else:
        print(f"wrote {len(ids)} predictions to {args.out}", file=sys.stderr)
    return 0


# ----------------------------------------------------------------------------------- plugins
def _plugins_arguments(p: argparse.ArgumentParser) -> None:
    _add_plugin(p, also=True)
    _add_json(p)


def _plugins(args: argparse.Namespace) -> int:
    rows = describe_plugins(load_catalog(tuple(args.plugin)))
    print(json.dumps(rows, indent=2, default=str) if args.json else format_plugins(rows))
    return 0


# ------------------------------------------------------------------------------------ report
def _report_arguments(p: argparse.ArgumentParser) -> None:
    _add_space(p)
    p.add_argument("--out", help="the HTML file to write (default: runs/<study>/report.html)")
    p.add_argument(
        "--model",
        help="an exported model directory whose model.json to show "
        "(default: runs/<study>/best when it exists)",
    )


def _report(args: argparse.Namespace) -> int:
    from automl.report import report_for_space

    path = report_for_space(args.space, args.out, args.storage, tuple(args.plugin), args.model)
    print(f"wrote {path}")
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
    Command(
        "validate",
        "check a search-space file without training",
        lambda p: _add_space(p, storage=False),
        _validate,
    ),
    Command("space", "print the effective search space", _space_arguments, _space),
    Command("trials", "print the leaderboard of a study", _trials_arguments, _trials),
    Command("export", "export the best model", _export_arguments, _export),
    Command("predict", "predict with an exported model", _predict_arguments, _predict),
    Command("report", "write a self-contained HTML report of a study", _report_arguments, _report),
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
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_arguments(sub.add_parser(command.name, help=command.help))
    return parser


def run(args: argparse.Namespace) -> int:
    """Execute a parsed command through its handler; returns the exit status."""
    return _BY_NAME[args.command].handler(args)


def _quiet_tensorflow() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    # tf.function retracing notices: one model per trial retraces by design
    logging.getLogger("tensorflow").setLevel(logging.ERROR)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `automl` console script."""
    _quiet_tensorflow()
    args = build_parser().parse_args(argv)
    formatted, warnings.formatwarning = warnings.formatwarning, _format_warning
    try:
        return run(args)
    except AutoMLError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        warnings.formatwarning = formatted


def _format_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    line: str | None = None,
) -> str:
    """A warning (e.g. a plugin that failed to load) as one `warning: ...` line, no source line."""
    return f"warning: {message}\n"


if __name__ == "__main__":
    sys.exit(main())
