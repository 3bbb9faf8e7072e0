"""The lifecycle hooks as typed methods, so that a plugin's exception is reported as its own.

The core calls `LifecycleHooks(catalog).on_trial_end(trial)` rather than `pm.hook.on_trial_end`
directly: each method calls pluggy's hook (wrappers, call order and argument passing are
pluggy's), and only the handling of an exception is automl's:

- in `on_trial_start` and `on_epoch_end` it fails that trial: `TrialFailed` naming the plugin;
- in `on_trial_end`, `on_study_start` and `on_study_end` it is a `RuntimeWarning` naming the
  plugin, and the implementations pluggy had not reached yet still run (below).

The plugin is the one whose hookimpl function is in the traceback (a plain implementation before a
wrapper that only passed the exception on), else the innermost plugin module in the traceback.
"""

from __future__ import annotations

import inspect
import traceback
import warnings
from types import CodeType
from typing import TYPE_CHECKING, Any

import optuna
import pluggy

from automl.errors import TrialFailed
from automl.plugins import Catalog, info_of

if TYPE_CHECKING:
    from pluggy import HookImpl

    from automl.space import TrialConfig
    from automl.spec import Spec

#: Lifecycle hooks called while a trial runs: an exception in one fails that trial.
IN_TRIAL_HOOKS = ("on_trial_start", "on_epoch_end")


class LifecycleHooks:
    """One typed method per lifecycle hook, each a call of pluggy's `pm.hook.<name>(...)`.

    After an exception in a warning hook, the rest are called through
    `pm.subset_hook_caller(name, remove_plugins=...)` without the plugins pluggy had already
    called (it calls the last registered first, wrappers outermost), so every implementation
    runs at most once: a wrapper wraps the first call only. When a wrapper itself raises, nothing
    is called again, since whether the others ran depends on where it raised.

    Args:
        catalog: the plugin manager and plugin infos of this run.
    """

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    def on_study_start(self, study: optuna.Study, spec: Spec) -> None:
        """Once per run, before its first trial. A plugin's exception is a warning."""
        self._call_each("on_study_start", study=study, spec=spec)

    def on_trial_start(self, trial: optuna.Trial, config: TrialConfig) -> None:
        """A trial's configuration is sampled. A plugin's exception fails the trial."""
        self._call_in_trial("on_trial_start", trial=trial, config=config)

    def on_epoch_end(self, trial: optuna.Trial, epoch: int, logs: dict[str, float]) -> None:
        """After each training epoch. A plugin's exception fails the trial."""
        self._call_in_trial("on_epoch_end", trial=trial, epoch=epoch, logs=logs)

    def on_trial_end(self, trial: optuna.trial.FrozenTrial) -> None:
        """A trial finished in any state. A plugin's exception is a warning."""
        self._call_each("on_trial_end", trial=trial)

    def on_study_end(self, study: optuna.Study) -> None:
        """Once when a run stops. A plugin's exception is a warning."""
        self._call_each("on_study_end", study=study)

    # ----------------------------------------------------------------------------- calling
    def _call_in_trial(self, name: str, **kwargs: Any) -> None:
        caller = getattr(self._catalog.pm.hook, name)
        try:
            caller(**kwargs)
        except (TrialFailed, optuna.TrialPruned):
            raise  # a plugin may fail or prune the trial on purpose
        except Exception as exc:
            raise TrialFailed(self._message(name, exc, self._culprit(caller, exc))) from exc

    def _call_each(self, name: str, **kwargs: Any) -> None:
        pm = self._catalog.pm
        caller: pluggy.HookCaller = getattr(pm.hook, name)
        called: list[object] = []
        while True:
            try:
                caller(**kwargs)
                return
            except Exception as exc:
                culprit = self._culprit(caller, exc)
                warnings.warn(self._message(name, exc, culprit), RuntimeWarning, stacklevel=3)
                if culprit is None or culprit.wrapper or culprit.hookwrapper:
                    return
                order = list(reversed(caller.get_hookimpls()))  # pluggy's call order
                called += [impl.plugin for impl in order[: order.index(culprit) + 1]]
                caller = pm.subset_hook_caller(name, remove_plugins=called)

    # ------------------------------------------------------------------------------ blame
    def _culprit(self, caller: pluggy.HookCaller, exc: BaseException) -> HookImpl | None:
        """The hookimpl that raised `exc`: its function's frame in the traceback."""
        impls = caller.get_hookimpls()
        by_code = {code: impl for impl in impls for code in _codes(impl.function)}
        plain = wrapper = None
        for frame, _ in traceback.walk_tb(exc.__traceback__):
            impl = by_code.get(frame.f_code)
            if impl is not None and (impl.wrapper or impl.hookwrapper):
                wrapper = impl
            elif impl is not None:
                plain = impl
        if plain or wrapper:
            return plain or wrapper
        owner = self._catalog.plugin_in_traceback(exc.__traceback__)
        return next((impl for impl in impls if impl.plugin_name == owner), None)

    def _message(self, name: str, exc: BaseException, culprit: HookImpl | None) -> str:
        """`plugin 'x' (local /p/x.py) raised in on_epoch_end: ValueError: ...`."""
        who = "a plugin"
        if culprit is not None:
            who = info_of(self._catalog.plugins, culprit.plugin_name).describe()
        return f"{who} raised in {name}: {type(exc).__name__}: {exc}"


def _codes(function: object) -> set[CodeType]:
    """The code objects a hookimpl runs as: the function itself and what it decorates."""
    codes = set()
    for candidate in (function, inspect.unwrap(function)):  # type: ignore[arg-type]
        code = getattr(getattr(candidate, "__func__", candidate), "__code__", None)
        if isinstance(code, CodeType):
            codes.add(code)
    return codes
