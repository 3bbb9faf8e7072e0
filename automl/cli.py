"""The `automl` command: thin argument parsing over the library functions."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import warnings
from collections.abc import Sequence

from automl.errors import AutoMLError


def _common(p: argparse.ArgumentParser, storage: bool = True) -> None:
    p.add_argument("space", help="the YAML search-space file")
    p.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="PATH_OR_MODULE",
        help="load a local plugin (.py file or module); repeatable",
    )
    if storage:
        p.add_argument("--storage", help="Optuna storage URL (default: runs/<study>/journal.log)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="automl", description="Tune Keras models from YAML search spaces."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("tune", help="run (or resume) a study")
    _common(p)
    p.add_argument("--trials", type=int, help="total trial budget (overrides study.trials)")
    p.add_argument(
        "--timeout", help="time limit of this run, e.g. 600, 10m, 1h (overrides study.timeout)"
    )
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.add_argument("-v", "--verbose", action="count", default=0, help="show Keras training output")
    p.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=1,
        help="worker processes sharing the study, each with its share of the CPU cores",
    )

    p = sub.add_parser(
        "worker",
        help="run trials of a shared study until its budget is used "
        "(start one per machine against one --storage)",
    )
    _common(p)
    p.add_argument("--trials", type=int, help="total trial budget of the study (all workers)")
    p.add_argument("--timeout", help="time limit of this worker, e.g. 600, 10m, 1h")
    p.add_argument("--index", type=int, default=0, help="worker number: offsets the sampler seed")
    p.add_argument("--threads", type=int, help="CPU threads for this worker (default: all)")
    p.add_argument("-v", "--verbose", action="count", default=0, help="show Keras training output")

    p = sub.add_parser("validate", help="check a search-space file without training")
    _common(p, storage=False)

    p = sub.add_parser("space", help="print the effective search space")
    _common(p, storage=False)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("trials", help="print the leaderboard of a study")
    _common(p)
    p.add_argument("--top", type=int, help="only the first K rows")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("export", help="export the best model")
    _common(p)
    p.add_argument("--out", required=True, help="the artifact directory to write")
    p.add_argument("--trial", type=int, help="export this trial instead of the best")
    p.add_argument("--force", action="store_true", help="replace an existing --out directory")
    p.add_argument(
        "--retrain",
        action="store_true",
        help="train the trial's configuration again on train+validation, then test",
    )
    p.add_argument(
        "--format",
        default="keras",
        metavar="FORMATS",
        help="comma-separated: keras (always), saved_model, onnx, tflite, or all",
    )

    p = sub.add_parser("predict", help="predict with an exported model")
    p.add_argument("model_dir", metavar="DIR", help="the directory `automl export` wrote")
    p.add_argument("input", metavar="INPUT", help="a .csv file, an .npz file or a folder of images")
    p.add_argument("--out", help="write predictions to this .csv or .npz file (default: stdout)")
    p.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="PATH_OR_MODULE",
        help="load a local plugin (.py file or module); repeatable",
    )

    p = sub.add_parser("plugins", help="list plugins: origin, hooks, components, default ranges")
    p.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="PATH_OR_MODULE",
        help="also load a local plugin (.py file or module); repeatable",
    )
    p.add_argument("--json", action="store_true")
    return parser


def _quiet_tensorflow() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    # tf.function retracing notices: one model per trial retraces by design
    logging.getLogger("tensorflow").setLevel(logging.ERROR)


def _timeout(value: str | None) -> float | None:
    """`--timeout 10m` -> seconds (a clear error for a bad duration)."""
    from automl.spec import parse_duration

    try:
        return parse_duration(value) if value else None
    except ValueError as exc:
        raise AutoMLError(f"--timeout: {exc}") from None


def run(args: argparse.Namespace) -> int:
    """Execute a parsed command; returns the exit status."""
    from automl.spec import load_spec

    plugins = tuple(args.plugin)
    if args.command == "validate":
        spec = load_spec(args.space, plugins)
        searched = sum(1 for row in _rows(spec) if row["searched"])
        print(
            f"{args.space}: OK (study {spec.study.name!r}, metric {spec.study.metric} "
            f"[{spec.study.direction}], {len(spec.slots)} slots, {searched} searched parameters)"
        )
        return 0
    if args.command == "space":
        spec = load_spec(args.space, plugins)
        rows = _rows(spec)
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
            print(
                f"  {r['name'].ljust(width)}  {flag}  {r['range'].ljust(rwidth)}  [{r['plugin']}]"
            )
        return 0
    if args.command == "tune":
        from automl.spec import open_space
        from automl.study import tune

        timeout = _timeout(args.timeout)
        spec, catalog = open_space(args.space, plugins)
        result = tune(
            spec,
            catalog=catalog,
            trials=args.trials,
            timeout=timeout,
            storage=args.storage,
            progress=not args.no_progress,
            verbose=args.verbose,
            print_leaderboard=True,
            jobs=args.jobs,
        )
        return 130 if result.interrupted else 0
    if args.command == "worker":
        from automl.spec import open_space
        from automl.workers import RECYCLE_EXIT, limit_threads, work, worker_name

        limit_threads(args.threads)  # before TensorFlow is imported (by the plugins)
        timeout = _timeout(args.timeout)
        spec, catalog = open_space(args.space, plugins)
        outcome = work(
            spec,
            catalog,
            trials=args.trials,
            timeout=timeout,
            storage=args.storage,
            index=args.index,
            verbose=args.verbose,
        )
        why = "interrupted" if outcome.interrupted else "recycled" if outcome.recycle else "done"
        print(f"worker {worker_name()}: {outcome.ran} trials, {why}", file=sys.stderr)
        return 130 if outcome.interrupted else RECYCLE_EXIT if outcome.recycle else 0
    if args.command == "trials":
        from automl.study import format_leaderboard, leaderboard, open_study, trials_json

        spec = load_spec(args.space, plugins)
        study = open_study(spec, args.storage, create=False)
        rows = leaderboard(study, spec.study.direction)
        if args.top is not None:
            rows = rows[: args.top]
        print(trials_json(rows) if args.json else format_leaderboard(rows, spec.study.metric))
        return 0
    if args.command == "export":
        from automl.export import export_model

        out = export_model(
            args.space,
            args.out,
            trial=args.trial,
            storage=args.storage,
            plugins=plugins,
            force=args.force,
            retrain=args.retrain,
            formats=args.format,
        )
        card = json.loads((out / "model.json").read_text())
        test = card["test_score"]
        how = " (retrained on train+validation)" if card.get("retrained") else ""
        print(
            f"exported trial {card['trial']}{how} to {out}: validation {card['metric']} "
            f"{card['validation_score']:.4f}"
            + (f", test {card['metric']} {test:.4f}" if test is not None else "")
        )
        for fmt in card.get("formats", {}).values():
            print(f"  {fmt['path']}: max abs difference vs Keras {fmt['max_abs_diff']:.2e}")
        return 0
    if args.command == "predict":
        from automl.serving import load, read_input, write_predictions

        model = load(args.model_dir, plugins)
        x, ids = read_input(args.input, model.schema)
        text = write_predictions(model, x, ids, args.out)
        if text is not None:
            sys.stdout.write(text)
        else:
            print(f"wrote {len(ids)} predictions to {args.out}", file=sys.stderr)
        return 0
    if args.command == "plugins":
        from automl.plugins import describe_plugins, format_plugins, load_catalog

        rows = describe_plugins(load_catalog(plugins))
        print(json.dumps(rows, indent=2, default=str) if args.json else format_plugins(rows))
        return 0
    raise AssertionError(args.command)


def _rows(spec: object) -> list[dict[str, object]]:
    from automl.space import describe_space

    return describe_space(spec)  # type: ignore[arg-type]


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


def _format_warning(message: Warning | str, category: type[Warning], *args: object) -> str:
    """A warning (e.g. a plugin that failed to load) as one `warning: ...` line, no source line."""
    return f"warning: {message}\n"


if __name__ == "__main__":
    sys.exit(main())
