"""The lifecycle hook facade: pluggy calls, a plugin's exception named, the others still run.

Unit tests use real plugin modules on a real pluggy manager (`load_catalog` with local files);
one real tune run checks the behaviour end to end.
"""

from __future__ import annotations

import inspect
import textwrap
import warnings
from pathlib import Path

import optuna
import pytest
from plugin_util import IRIS_SPACE

from automl import hookspecs
from automl.errors import TrialFailed
from automl.hooks import IN_TRIAL_HOOKS, LifecycleHooks
from automl.plugins import load_catalog

# Plugins whose hooks record into the `trial` argument (a list here), so the order is visible.
PLAIN = """
from automl import hookimpl

@hookimpl
def on_trial_end(trial):
    trial.append("{name}")
"""

RAISES = """
import optuna
from automl import hookimpl

def _write(trial):
    raise OSError("disk full")

@hookimpl
def on_trial_end(trial):
    _write(trial)

@hookimpl
def on_epoch_end(trial, epoch, logs):
    if epoch == 1:
        raise optuna.TrialPruned("pruned by the plugin")
    _write(trial)
"""

NEW_WRAPPER = """
from automl import hookimpl

@hookimpl(wrapper=True)
def on_trial_end(trial):
    trial.append("new:before")
    try:
        return (yield)
    except Exception as exc:
        trial.append("new:saw " + type(exc).__name__)
        raise
    finally:
        trial.append("new:after")
"""

OLD_WRAPPER = """
from automl import hookimpl

@hookimpl(hookwrapper=True)
def on_trial_end(trial):
    trial.append("old:before")
    outcome = yield
    trial.append("old:after " + ("error" if outcome.exception else "ok"))
"""

BROKEN_WRAPPER = """
from automl import hookimpl

@hookimpl(wrapper=True)
def on_trial_end(trial):
    raise RuntimeError("wrapper bug")
    yield
"""


def catalog_of(tmp_path: Path, **sources: str):  # type: ignore[no-untyped-def]
    """A real catalog with the built-ins and these local plugins, registered in this order."""
    paths = []
    for name, source in sources.items():
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
        paths.append(str(tmp_path / f"{name}.py"))
    return load_catalog(paths, entry_points=False)


def test_one_typed_method_per_lifecycle_hook_with_the_hookspec_arguments() -> None:
    lifecycle = [n for n in hookspecs.hook_names() if n not in hookspecs.REGISTRATION_HOOKS]
    methods = [n for n in vars(LifecycleHooks) if not n.startswith("_")]
    assert methods == lifecycle
    for name in lifecycle:
        args = list(inspect.signature(getattr(LifecycleHooks, name)).parameters)
        assert args == ["self", *inspect.signature(getattr(hookspecs, name)).parameters], name
    assert set(IN_TRIAL_HOOKS) == {"on_trial_start", "on_epoch_end"}


def test_wrappers_run_around_the_others_as_with_pluggy(tmp_path: Path) -> None:
    catalog = catalog_of(
        tmp_path,
        first=PLAIN.format(name="first"),
        wrap_new=NEW_WRAPPER,
        wrap_old=OLD_WRAPPER,
        third=PLAIN.format(name="third"),
    )
    direct: list[str] = []
    catalog.pm.hook.on_trial_end(trial=direct)
    events: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        LifecycleHooks(catalog).on_trial_end(trial=events)
    assert (
        events
        == direct
        == [
            "old:before",
            "new:before",
            "third",
            "first",
            "new:after",
            "old:after ok",
        ]
    )


def test_an_exception_in_a_warning_hook_names_the_plugin_and_the_rest_run_once(
    tmp_path: Path,
) -> None:
    catalog = catalog_of(
        tmp_path,
        first=PLAIN.format(name="first"),
        second=RAISES,
        wrap_new=NEW_WRAPPER,
        wrap_old=OLD_WRAPPER,
        third=PLAIN.format(name="third"),
    )
    events: list[str] = []
    with pytest.warns(RuntimeWarning) as record:
        LifecycleHooks(catalog).on_trial_end(trial=events)
    (warning,) = record
    assert str(warning.message) == (
        f"plugin 'second.py' (local {tmp_path.resolve() / 'second.py'}) raised in on_trial_end: "
        "OSError: disk full"
    )
    assert events == [
        "old:before",
        "new:before",
        "third",
        "new:saw OSError",  # the wrappers see the exception, as pluggy gives it to them
        "new:after",
        "old:after error",
        "first",  # not reached by pluggy's call: called on its own, once
    ]


def test_a_wrapper_that_raises_is_named_and_nothing_runs_twice(tmp_path: Path) -> None:
    catalog = catalog_of(tmp_path, first=PLAIN.format(name="first"), broken_wrapper=BROKEN_WRAPPER)
    events: list[str] = []
    with pytest.warns(
        RuntimeWarning,
        match=r"^plugin 'broken_wrapper.py' \(local .*\) raised in on_trial_end: RuntimeError: "
        r"wrapper bug$",
    ):
        LifecycleHooks(catalog).on_trial_end(trial=events)
    assert events == []


def test_an_exception_in_an_in_trial_hook_fails_the_trial_naming_the_plugin(
    tmp_path: Path,
) -> None:
    hooks = LifecycleHooks(catalog_of(tmp_path, second=RAISES))
    with pytest.raises(TrialFailed) as info:
        hooks.on_epoch_end(trial=[], epoch=0, logs={"score": 0.5})
    assert str(info.value) == (
        f"plugin 'second.py' (local {tmp_path.resolve() / 'second.py'}) raised in on_epoch_end: "
        "OSError: disk full"
    )
    assert isinstance(info.value.__cause__, OSError)
    with pytest.raises(optuna.TrialPruned, match="pruned by the plugin"):
        hooks.on_epoch_end(trial=[], epoch=1, logs={"score": 0.5})


BUGGY_HOOKS = """
from automl import hookimpl

@hookimpl
def on_epoch_end(trial, epoch, logs):
    if trial.number == 0:
        raise ValueError("logger lost its connection")

@hookimpl
def on_trial_end(trial):
    raise OSError("disk full")
"""


def test_lifecycle_hook_that_raises_is_named_and_the_study_goes_on(
    write_space, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from automl.study import tune

    (tmp_path / "buggy_hooks.py").write_text(textwrap.dedent(BUGGY_HOOKS))
    path = write_space(
        IRIS_SPACE.format(name="hooks", extra="plugins: [buggy_hooks.py]", model="mlp")
    )
    with pytest.warns(
        RuntimeWarning,
        match=r"plugin 'buggy_hooks.py' \(local .*\) raised in on_trial_end: OSError: disk full",
    ):
        result = tune(str(path), trials=2, progress=False)
    states = {row["trial"]: (row["state"], row["reason"]) for row in result.leaderboard}
    assert states[1] == ("complete", None)
    state, reason = states[0]
    assert state == "fail"
    assert reason.startswith("TrialFailed: plugin 'buggy_hooks.py' (local ")
    assert reason.endswith("raised in on_epoch_end: ValueError: logger lost its connection")
