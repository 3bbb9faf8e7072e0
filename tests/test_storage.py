"""Storages, the sampler and pruner table, and `open_study` (create, resume, refuse a changed
space)."""

from __future__ import annotations

import inspect
import shutil
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState
from pg_server import postgres_server  # noqa: F401 (fixture)
from workers_util import open_rdb

from automl.errors import AutoMLError, StudyError
from automl.samplers import PRUNERS, SAMPLERS, option_names
from automl.spec import load_spec
from automl.storage import (
    checkpoint_path,
    display_url,
    heartbeat_settings,
    journal_path,
    make_pruner,
    oof_path,
    open_study,
    study_dir,
)
from automl.study import tune

TINY = """
study: {name: tiny, metric: accuracy, trials: 2, seed: 0, sampler: random, pruner: none}
data: {source: {sklearn: {name: iris}}, folds: 1}
training: {epochs: 1, batch_size: 32}
model:
  mlp: {layers: 1, units: 8}
optimizer: adam
"""


def test_paths_of_a_study(write_space, runs_dir: Path) -> None:
    spec = load_spec(write_space(TINY))
    assert study_dir(spec) == runs_dir / "tiny"
    assert checkpoint_path(spec, 7) == runs_dir / "tiny" / "trials" / "00007" / "fold-0.keras"
    assert checkpoint_path(spec, 7, 3) == runs_dir / "tiny" / "trials" / "00007" / "fold-3.keras"
    assert oof_path(spec, 7) == runs_dir / "tiny" / "trials" / "00007" / "oof.npy"
    assert journal_path(spec) == runs_dir / "tiny" / "journal.log"
    assert journal_path(spec, "elsewhere/j.log") == Path("elsewhere/j.log")
    assert journal_path(spec, "sqlite:///x.db") is None
    assert journal_path(spec, "postgresql://host/db") is None


def test_a_study_of_several_metrics_has_their_directions_and_names(write_space) -> None:
    text = TINY.replace("metric: accuracy", "metric: [accuracy, params]")
    text = text.replace("sampler: random, ", "")
    study = open_study(load_spec(write_space(text)))
    assert study.directions == [
        optuna.study.StudyDirection.MAXIMIZE,
        optuna.study.StudyDirection.MINIMIZE,
    ]
    assert study.metric_names == ["accuracy", "params"]  # what optuna-dashboard shows
    assert isinstance(study.pruner, optuna.pruners.NopPruner)
    assert isinstance(study.sampler, optuna.samplers.TPESampler)  # the default, multi-objective
    again = open_study(load_spec(write_space(text)), create=False)
    assert again.metric_names == ["accuracy", "params"]


def test_one_table_of_samplers_and_pruners_with_their_optuna_classes() -> None:
    assert sorted(SAMPLERS) == ["cmaes", "gp", "grid", "nsgaii", "qmc", "random", "tpe"]
    assert sorted(PRUNERS) == [
        "hyperband",
        "median",
        "none",
        "patient",
        "percentile",
        "successive_halving",
        "threshold",
    ]
    assert all(issubclass(c, optuna.samplers.BaseSampler) for c in SAMPLERS.values())
    assert all(issubclass(c, optuna.pruners.BasePruner) for c in PRUNERS.values())
    assert SAMPLERS["tpe"] is optuna.samplers.TPESampler
    assert PRUNERS["none"] is optuna.pruners.NopPruner
    expected = list(inspect.signature(optuna.pruners.PercentilePruner.__init__).parameters)[1:]
    assert option_names(PRUNERS["percentile"]) == expected
    assert "self" not in option_names(SAMPLERS["tpe"]) and "seed" in option_names(SAMPLERS["tpe"])


def test_options_that_optuna_rejects_are_an_automl_error(write_space) -> None:
    text = TINY.replace("pruner: none", "pruner: {percentile: {percentile: 150.0}}")
    spec = load_spec(write_space(text))
    with pytest.raises(
        AutoMLError,
        match=r"^pruner 'percentile': Percentile must be between 0 and 100 inclusive, "
        r"but got percentile=150.0.$",
    ):
        make_pruner(spec)


def test_open_study_refuses_a_changed_space_and_a_missing_study(write_space) -> None:
    path = write_space(TINY)
    with pytest.raises(
        StudyError, match=r"^no study named 'tiny' in the storage yet: run `automl tune` first$"
    ):
        open_study(load_spec(path), create=False)
    study = open_study(load_spec(path))
    assert study.user_attrs["metric"] == "accuracy"
    assert study.direction == optuna.study.StudyDirection.MAXIMIZE
    path.write_text(TINY.replace("units: 8", "units: 12"))
    with pytest.raises(
        StudyError, match=r"changed since it began:\n  - slots\.model\.mlp\.units: was 8, now 12"
    ):
        open_study(load_spec(path))


def test_heartbeat_settings_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    assert heartbeat_settings() == (10, 30)
    monkeypatch.setenv("AUTOML_HEARTBEAT_INTERVAL", "5")
    monkeypatch.setenv("AUTOML_GRACE_PERIOD", "5")
    with pytest.raises(AutoMLError, match=r"`heartbeat interval < grace period` must hold"):
        heartbeat_settings()
    monkeypatch.setenv("AUTOML_GRACE_PERIOD", "soon")
    with pytest.raises(
        AutoMLError, match=r"whole number of seconds. Received: AUTOML_GRACE_PERIOD='soon'"
    ):
        heartbeat_settings()


@pytest.mark.parametrize("value", ["0", "-3"])
def test_grace_period_must_be_positive(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("AUTOML_GRACE_PERIOD", value)
    with pytest.raises(
        AutoMLError, match=rf"must be >= 1. Received: AUTOML_GRACE_PERIOD='{value}'"
    ):
        heartbeat_settings()


@pytest.mark.slow
def test_workers_starting_at_once_on_a_fresh_database(postgres_server: str) -> None:  # noqa: F811
    """Optuna creates the tables when a storage opens; three at once race (a unique violation in
    pg_type): the workers retry instead of dying."""
    import multiprocessing
    import uuid

    import psycopg2

    for _ in range(3):
        name = f"t_{uuid.uuid4().hex[:12]}"
        conn = psycopg2.connect(f"{postgres_server}/postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE {name}")
        conn.close()
        with multiprocessing.get_context("spawn").Pool(3) as pool:
            assert pool.map(open_rdb, [f"{postgres_server}/{name}"] * 3) == ["ok"] * 3


IRIS = """
study:
  {{name: samplers, metric: accuracy, trials: 2, seed: 0, sampler: {sampler}, pruner: {pruner}}}
data: {{source: {{sklearn: {{name: iris}}}}, folds: 1}}
training: {{epochs: 2, batch_size: 32}}
model:
  mlp: {{layers: 1, units: [4, 8], dropout: 0.0}}
optimizer:
  adam: {{learning_rate: {{low: 0.001, high: 0.01, step: 0.001}}}}
"""


@pytest.mark.slow
@pytest.mark.parametrize("sampler", ["tpe", "random", "grid", "cmaes", "qmc", "gp"])
def test_every_sampler_runs_a_study(sampler: str, write_space) -> None:
    import importlib.util

    from automl.errors import AutoMLError

    path = write_space(IRIS.format(sampler=sampler, pruner="none"))
    if sampler == "gp" and importlib.util.find_spec("torch") is None:
        with pytest.raises(AutoMLError, match="sampler 'gp' needs a package that is not installed"):
            tune(path, progress=False)
        return
    result = tune(path, progress=False)
    assert [t.state for t in result.study.trials] == [TrialState.COMPLETE] * 2
    assert type(result.study.sampler).__name__.lower().startswith(sampler[:3])


@pytest.mark.slow
@pytest.mark.parametrize(
    "pruner", ["none", "median", "percentile", "successive_halving", "hyperband", "patient"]
)
def test_every_pruner_runs_a_study(pruner: str, write_space) -> None:
    options = {
        "percentile": "{percentile: {percentile: 25.0}}",
        "patient": "{patient: {patience: 1}}",
    }
    result = tune(
        write_space(IRIS.format(sampler="random", pruner=options.get(pruner, pruner))),
        progress=False,
    )
    assert len(result.study.trials) == 2
    assert all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in result.study.trials)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://user:secret@db:5432/automl", "postgresql://user:***@db:5432/automl"),
        ("postgresql://user:se@cret@db/automl", "postgresql://user:***@db/automl"),
        ("postgresql://db/automl", "postgresql://db/automl"),
        ("sqlite:///runs/x.db", "sqlite:///runs/x.db"),
    ],
)
def test_a_password_never_shows_in_a_message(url: str, shown: str) -> None:
    assert display_url(url) == shown


def test_checkpoints_are_deleted_only_inside_the_study_folder(
    write_space, runs_dir: Path, tmp_path: Path
) -> None:
    """A trial folder that is a link to elsewhere, or a `trials` folder that is one, is never
    followed: only real folders inside runs/<study>/ are deleted."""
    from automl.objective import prune_checkpoints

    spec = load_spec(write_space(IRIS.format(sampler="random", pruner="none")))
    study = open_study(spec)
    outside = tmp_path / "precious"
    (outside / "00003").mkdir(parents=True)
    (outside / "00003" / "keep.txt").write_text("mine")
    trials = runs_dir / spec.study.name / "trials"
    trials.mkdir(parents=True)
    (trials / "00001").mkdir()
    (trials / "00002").symlink_to(outside / "00003")
    prune_checkpoints(study, spec)  # no finished trial: none is kept
    assert not (trials / "00001").exists()
    assert (trials / "00002").is_symlink()
    assert (outside / "00003" / "keep.txt").read_text() == "mine"
    shutil.rmtree(trials)
    trials.symlink_to(outside)  # the whole trials folder leads out of the study's folder
    prune_checkpoints(study, spec)
    assert (outside / "00003" / "keep.txt").read_text() == "mine"
