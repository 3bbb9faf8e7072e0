"""SIGTERM and SIGINT stop a worker cleanly: the running trial is failed with the reason (never
left RUNNING) and no new trial starts."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any


class _Signals:
    """What the handler of `handle_signals` shares with the loops."""

    stop = False  # a signal came: start no new trial
    in_trial = False  # the objective runs: the handler may interrupt it


_state = _Signals()


def stop_requested() -> bool:
    """Whether SIGTERM or SIGINT came since `handle_signals` began."""
    return _state.stop


def interrupt_reason(exc: BaseException) -> str:
    """Why a trial was interrupted, for its `fail_reason`: the signal `handle_signals` raised
    `KeyboardInterrupt` with, or Ctrl-C when Python raised it itself."""
    name = str(exc.args[0]) if exc.args else "SIGINT"
    if name == "SIGINT":
        return "interrupted by the user (Ctrl-C, SIGINT)"
    return f"interrupted by {name}"


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """Mark the code inside (the objective) as the place a signal may interrupt."""
    _state.in_trial = not _state.stop
    try:
        yield
    finally:
        _state.in_trial = False


@contextlib.contextmanager
def handle_signals() -> Iterator[None]:
    """SIGTERM and SIGINT stop the worker cleanly: the running trial is interrupted and failed
    with the reason (not left RUNNING), and no new trial starts.

    The handler raises `KeyboardInterrupt` only inside `interruptible()` (once), never while a
    result is being recorded; elsewhere the loops see `stop_requested()` and return. Where Python
    swallows the exception (a signal landing in a finalizer), the trial ends normally and the
    loop stops. Off the main thread this does nothing (Python delivers signals there only).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        _state.stop = True
        if _state.in_trial:
            _state.in_trial = False
            raise KeyboardInterrupt(signal.Signals(signum).name)

    _state.stop = _state.in_trial = False
    old = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        _state.stop = _state.in_trial = False
