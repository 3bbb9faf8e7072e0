"""`study.isolation: process`: each trial runs in a fresh spawned process, so whatever memory a
trial leaks goes back to the system when it ends. The parent only asks, beats and tells.

What runs in the child is given as a picklable callable `run(trial_id, number) -> value(s)` (a
module-level function, or a `functools.partial` of one): this module knows nothing of how a
trial is built.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from multiprocessing.connection import Connection

import optuna

from automl.console import filter_if_inherited
from automl.errors import TrialFailed
from automl.parallel.signals import interrupt_reason
from automl.spec import Spec, read_yaml

# a spawned child imports this module (to find `_child`) before it unpickles the trial's body,
# which imports Keras: hide TensorFlow's start-up lines there too when the parent does
filter_if_inherited()

#: a trial's value, or one value per objective of a multi-objective study
Values = float | tuple[float, ...]
TrialBody = Callable[[int, int], Values]


def extra_plugins(spec: Spec) -> tuple[str, ...]:
    """The `--plugin` modules of `spec` (those not already listed in its YAML file)."""
    if not spec.path:
        return tuple(spec.plugins)
    data, _ = read_yaml(spec.path)
    listed = data.get("plugins") or []
    return tuple(spec.plugins[len(listed) :])


class IsolatedObjective:
    """An Optuna objective that runs `run(trial_id, trial_number)` in a fresh spawned process.

    The child's outcome comes back as the parent's: a score, `optuna.TrialPruned`,
    `KeyboardInterrupt` or `TrialFailed` (also when the child dies, with its exit status).

    Args:
        run: the trial's body in the child; picklable (spawn imports it by name).
    """

    def __init__(self, run: TrialBody) -> None:
        self.run = run
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # inherited by the children

    def __call__(self, trial: optuna.Trial) -> Values:
        ctx = multiprocessing.get_context("spawn")
        receive, send = ctx.Pipe(duplex=False)
        process = ctx.Process(
            target=_child, args=(self.run, trial._trial_id, trial.number, send), daemon=True
        )
        process.start()
        send.close()
        try:
            message = receive.recv()
        except EOFError:
            message = None
        except KeyboardInterrupt as exc:
            process.terminate()
            process.join()
            trial.set_user_attr("interrupted", True)
            trial.set_user_attr("fail_reason", interrupt_reason(exc))
            raise
        finally:
            receive.close()
        process.join()
        return _outcome(trial, message, process.exitcode)


def _outcome(trial: optuna.Trial, message: tuple[str, object] | None, code: int | None) -> Values:
    """The child's message as the parent's return value or exception."""
    if message is None:
        reason = f"the trial process died (exit status {code})"
        trial.set_user_attr("fail_reason", reason)
        raise TrialFailed(reason)
    kind, payload = message
    if kind == "complete":
        if isinstance(payload, tuple):
            return tuple(float(v) for v in payload)
        return float(payload)  # type: ignore[arg-type]
    if kind == "pruned":
        raise optuna.TrialPruned(payload)
    if kind == "interrupted":
        raise KeyboardInterrupt(*([payload] if payload else []))
    raise TrialFailed(str(payload))


def _child(run: TrialBody, trial_id: int, number: int, send: Connection) -> None:
    """The body of one isolated trial, in its own process: run it, send how it ended."""
    try:
        send.send(("complete", run(trial_id, number)))
    except optuna.TrialPruned as exc:
        send.send(("pruned", str(exc)))
    except KeyboardInterrupt as exc:
        send.send(("interrupted", exc.args[0] if exc.args else None))
    except Exception as exc:
        send.send(("fail", f"{type(exc).__name__}: {exc}"))
    finally:
        send.close()
