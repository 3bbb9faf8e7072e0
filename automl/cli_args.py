"""The options the `automl` subcommands share, their argument types, and loading the space."""

from __future__ import annotations

import argparse
from typing import Any

from automl.console import keras_verbosity
from automl.plugins import Catalog
from automl.spec import Spec, load_spec, open_space, parse_duration


def add_plugin(p: argparse.ArgumentParser, also: bool = False) -> None:
    p.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="PATH_OR_MODULE",
        help=("also " if also else "") + "load a local plugin (.py file or module); repeatable",
    )


def add_storage(p: argparse.ArgumentParser) -> None:
    p.add_argument("--storage", help="Optuna storage URL (default: runs/<study>/journal.log)")


def add_space(p: argparse.ArgumentParser, storage: bool = True) -> None:
    """The search-space file, `--plugin` and (for commands that open the study) `--storage`."""
    p.add_argument("space", help="the YAML search-space file")
    add_plugin(p)
    if storage:
        add_storage(p)


def add_output_options(p: argparse.ArgumentParser, suppress: bool = False) -> None:
    """`-q` and `-v`, on `automl` itself and after every subcommand (`automl tune X -q`)."""
    # after a subcommand, SUPPRESS: an unset option does not reset what `automl -q ...` set
    quiet, verbose = (argparse.SUPPRESS,) * 2 if suppress else (False, 0)
    p.add_argument("-q", "--quiet", action="store_true", default=quiet, help="results, errors only")
    p.add_argument(
        "-v", "--verbose", action="count", default=verbose, help="Keras, TF logs, tracebacks"
    )


def add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="machine-readable output on stdout")


def say(args: argparse.Namespace, text: str) -> None:
    """A status line on stdout, unless `-q`."""
    if not args.quiet:
        print(text)


def duration(value: str) -> float | None:
    """`--timeout 10m` -> seconds; a bad or non-positive duration is a usage error (exit 2)."""
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def positive_int(value: str) -> int:
    """`--trials N`: a whole number >= 1, else a usage error (exit 2)."""
    if not value.strip().isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {value!r}")
    return int(value)


def add_budget(p: argparse.ArgumentParser, trials_help: str, timeout_help: str) -> None:
    p.add_argument("--trials", type=positive_int, help=trials_help)
    p.add_argument("--timeout", type=duration, help=timeout_help)


def run_options(args: argparse.Namespace) -> dict[str, Any]:
    """The options `tune` and `worker` share (checked by argparse before the space loads)."""
    return {
        "trials": args.trials,
        "timeout": args.timeout,
        "storage": args.storage,
        "verbose": keras_verbosity(args.verbose),
    }


def load_args(args: argparse.Namespace) -> Spec:
    return load_spec(args.space, tuple(args.plugin))


def open_args(args: argparse.Namespace) -> tuple[Spec, Catalog]:
    return open_space(args.space, tuple(args.plugin))


def space_rows(spec: Spec) -> list[dict[str, Any]]:
    from automl.space import describe_space

    return describe_space(spec)
