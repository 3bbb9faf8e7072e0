"""`automl dashboard SPACE`: Optuna's own live web UI (optuna-dashboard) over a study's storage.

optuna-dashboard is an optional extra (`pip install 'automl-keras[dashboard]'`); without it the
command says how to install it. It listens on 127.0.0.1 by default: the study's parameters and
trial notes are nobody else's business unless `--host` says so.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from automl.errors import AutoMLError, StudyError

HELP = "serve optuna-dashboard on a study (live: history, importances, trials)"
INSTALL = "pip install 'automl-keras[dashboard]' (or pip install optuna-dashboard)"


def arguments(
    add_space: Callable[[argparse.ArgumentParser], None],
) -> Callable[[argparse.ArgumentParser], None]:
    """The subcommand's arguments: the CLI's shared SPACE, --plugin, --storage, then ours."""

    def add(p: argparse.ArgumentParser) -> None:
        add_space(p)
        p.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
        p.add_argument("--port", type=int, default=8080, help="port to listen on (8080)")

    return add


def run(args: argparse.Namespace) -> int:
    """The `automl dashboard` handler: serve until Ctrl-C."""
    serve(args.space, storage=args.storage, plugins=args.plugin, host=args.host, port=args.port)
    return 0


def serve(
    space: str | Path | Mapping[str, Any],
    *,
    storage: str | None = None,
    plugins: Iterable[str] = (),
    host: str = "127.0.0.1",
    port: int = 8080,
) -> None:
    """Serve optuna-dashboard on the study of `space` until interrupted.

    Args:
        space: the search space (YAML path or dict) whose study to show.
        storage: an Optuna storage URL or journal path. Defaults to `None`: `study.storage`,
            else `runs/<study>/journal.log`.
        plugins: local plugins the space needs. Defaults to `()`.
        host: the address to listen on. Defaults to `"127.0.0.1"` (this machine only).
        port: the port. Defaults to `8080`.
    """
    try:
        import optuna_dashboard
    except ImportError:
        raise AutoMLError(
            f"`automl dashboard` needs optuna-dashboard, which is not installed: {INSTALL}"
        ) from None
    store = _study_storage(space, storage, tuple(plugins))
    url = f"http://{host}:{port}/dashboard/"
    print(f"optuna-dashboard on {url} (Ctrl-C to stop)", flush=True)
    try:
        optuna_dashboard.run_server(store, host=host, port=port)
    except OSError as exc:
        raise AutoMLError(
            f"cannot serve on {host}:{port}: {exc.strerror or exc}; choose another --port"
        ) from None
    except KeyboardInterrupt:
        pass


def _study_storage(space: str | Path | Mapping[str, Any], storage: str | None, plugins: Any) -> Any:
    """The storage of the study of `space`, which must exist (never created here)."""
    import optuna

    from automl.spec import load_spec
    from automl.storage import journal_path, open_storage

    spec = load_spec(space, plugins)
    journal = journal_path(spec, storage)
    if journal is not None and not journal.exists():
        raise StudyError(
            f"study {spec.study.name!r} has no journal at {journal} yet: run `automl tune` first"
        )
    store = open_storage(spec, storage)
    try:
        optuna.load_study(study_name=spec.study.name, storage=store)
    except KeyError:
        raise StudyError(
            f"no study named {spec.study.name!r} in {storage or spec.study.storage}: "
            "run `automl tune` first"
        ) from None
    return store


__all__ = ["HELP", "arguments", "run", "serve"]
