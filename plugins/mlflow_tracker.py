"""MLflow tracker: one parent run per study, one nested child run per trial.

Opt-in: `plugins: [automl_plugins.mlflow_tracker]` in the YAML file, or
`automl tune SPACE --plugin automl_plugins.mlflow_tracker`. It needs MLflow's client
(`pip install 'automl-keras[mlflow]'`, which installs the light `mlflow-skinny`; a full `mlflow`
works too).

Where: `$MLFLOW_TRACKING_URI` when set (a server, a database, ...), else a local SQLite store,
`runs/mlruns/mlflow.db` (`$AUTOML_RUNS_DIR` replaces `runs`), with artifacts in
`runs/mlruns/artifacts/`. (MLflow 3 refuses its old `./mlruns` file store unless
`MLFLOW_ALLOW_FILE_STORE=true`; SQLite needs only SQLAlchemy and Alembic, which Optuna brings.)
View with the full `mlflow` package: `mlflow ui --backend-store-uri sqlite:///runs/mlruns/mlflow.db`.

What:
- the experiment is named after the study;
- the study's parent run has the tag `automl.study=<name>`: a resumed study, and every worker of a
  shared one, finds it again by that tag (it is created when none exists); its end logs
  `best_<metric>` and the tag `automl.best_trial`;
- each trial is a child run `trial-<n>` (tags `mlflow.parentRunId`, `automl.trial`) with the
  trial's Optuna parameters, `config.json` (the whole configuration) as an artifact, each epoch's
  logs as metrics (step = epoch), and at its end the final value as the metric `<metric>`, the
  tags `automl.state` and `automl.reason` (why it failed or was pruned), and the run status
  FINISHED (complete), KILLED (pruned) or FAILED.

A logging call that fails while a trial trains is a warning, and that trial logs nothing more until
its end: a tracking hiccup never fails a trial.
"""

from __future__ import annotations

import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from automl import PluginError, hookimpl

PLUGIN = "automl_plugins.mlflow_tracker"
STUDY_TAG = "automl.study"
TRIAL_TAG = "automl.trial"
PARENT_TAG = "mlflow.parentRunId"
STATUS = {"COMPLETE": "FINISHED", "PRUNED": "KILLED", "FAIL": "FAILED"}
MAX_TAG = 5000  # MLflow's tag values hold 8000 characters; fail reasons are cut well before

try:
    import mlflow  # noqa: F401  (first: a missing package fails on this line)
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient
except ImportError as exc:
    raise PluginError(
        f"the MLflow tracker ({PLUGIN}) needs MLflow's client, which cannot be imported here "
        f"({type(exc).__name__}: {exc}): install it with `pip install 'automl-keras[mlflow]'` "
        f"(the light mlflow-skinny; a full mlflow works too), or remove {PLUGIN} from "
        "`plugins:` in the search space or from --plugin"
    ) from exc


@dataclass
class StudyRuns:
    """Where one study's runs live: the store, its experiment and the study's parent run."""

    study: str
    client: MlflowClient
    uri: str
    experiment_id: str
    parent_id: str
    metric: str


_studies: dict[str, StudyRuns] = {}  # by study name, in this process
_runs: dict[tuple[str, int], str] = {}  # child run ids by (study, trial number)
_broken: set[tuple[str, int]] = set()  # trials whose logging failed: nothing more until their end
_state: dict[str, Any] = {"study": None}  # this process's study (trial ends only get the trial)


# ---------------------------------------------------------------------------------- places
def runs_dir() -> Path:
    """automl's runs folder: `$AUTOML_RUNS_DIR`, else `./runs`."""
    return Path(os.environ.get("AUTOML_RUNS_DIR", "runs"))


def default_store() -> Path:
    """The folder of the local store used when `$MLFLOW_TRACKING_URI` is not set."""
    return runs_dir() / "mlruns"


def tracking_uri() -> str:
    """`$MLFLOW_TRACKING_URI`, else `sqlite:///<absolute runs dir>/mlruns/mlflow.db`."""
    uri = os.environ.get("MLFLOW_TRACKING_URI")
    if uri:
        return uri
    return "sqlite:///" + (default_store().resolve() / "mlflow.db").as_posix()


# ---------------------------------------------------------------------------------- hooks
@hookimpl
def on_study_start(study: Any, spec: Any) -> None:
    """Find (or create) the experiment and the study's parent run; mark it running."""
    _state["study"] = study.study_name
    directions = ",".join(d.name.lower() for d in study.directions)
    runs = open_study_runs(study.study_name, spec.study.metric, directions)
    runs.client.update_run(runs.parent_id, status="RUNNING")


@hookimpl
def on_trial_start(trial: Any, config: Any) -> None:
    """Open the trial's child run with its parameters and configuration."""
    study_name = trial.study.study_name
    key = (study_name, trial.number)
    _broken.discard(key)

    def log() -> None:
        runs = open_study_runs(study_name)  # an isolated trial process had no on_study_start
        run_id = _child_run(runs, trial.number, trial.datetime_start)
        params = [Param(name, str(value)) for name, value in trial.params.items()]
        runs.client.log_batch(run_id, params=params)
        runs.client.log_dict(run_id, config_json(config), "config.json")

    _guarded(key, "open the trial's run", log)


@hookimpl
def on_epoch_end(trial: Any, epoch: int, logs: dict[str, Any]) -> None:
    """Log every number of the epoch's logs as a metric at step `epoch`."""
    key = (trial.study.study_name, trial.number)
    run_id = _runs.get(key)
    if run_id is None or key in _broken:
        return
    stamp = int(time.time() * 1000)
    metrics = [
        Metric(name, number, stamp, epoch)
        for name, number in ((name, _number(value)) for name, value in logs.items())
        if number is not None
    ]
    client = _studies[key[0]].client
    _guarded(key, f"log epoch {epoch}", lambda: client.log_batch(run_id, metrics=metrics))


@hookimpl
def on_trial_end(trial: Any) -> None:
    """Log the final value, state and reason; close the child run with its status."""
    study_name = _study_name()
    key = (study_name, trial.number)
    _broken.discard(key)
    runs = open_study_runs(study_name)
    run_id = _child_run(runs, trial.number, trial.datetime_start)
    logged = runs.client.get_run(run_id).data.params
    params = [Param(k, str(v)) for k, v in trial.params.items() if k not in logged]
    state = trial.state.name
    tags = [RunTag("automl.state", state.lower())]
    reason = trial.user_attrs.get("fail_reason") or trial.user_attrs.get("pruned_reason")
    if reason:
        tags.append(RunTag("automl.reason", str(reason)[:MAX_TAG]))
    metrics = []
    end = trial.datetime_complete.timestamp() if trial.datetime_complete else time.time()
    if trial.value is not None:
        last = max(trial.intermediate_values, default=0)
        metrics.append(Metric(runs.metric, float(trial.value), int(end * 1000), last))
    runs.client.log_batch(run_id, metrics=metrics, params=params, tags=tags)
    runs.client.set_terminated(run_id, STATUS.get(state, "KILLED"), int(end * 1000))
    _runs.pop(key, None)


@hookimpl
def on_study_end(study: Any) -> None:
    """Log the best value so far on the parent run and mark it finished."""
    runs = open_study_runs(study.study_name)
    complete = [t for t in study.get_trials(deepcopy=False) if t.value is not None]
    if complete and len(study.directions) == 1:
        best = study.best_trial
        stamp = int(time.time() * 1000)
        runs.client.log_batch(
            runs.parent_id,
            metrics=[Metric(f"best_{runs.metric}", float(best.value), stamp, len(study.trials))],
            tags=[RunTag("automl.best_trial", str(best.number))],
        )
    runs.client.set_terminated(runs.parent_id, "FINISHED")


# ------------------------------------------------------------------------------ the store
def open_study_runs(study_name: str, metric: str | None = None, directions: str = "") -> StudyRuns:
    """The study's experiment and parent run in the current store, found by name and tag or
    created; cached per process (and per store, so a changed `$MLFLOW_TRACKING_URI` is seen)."""
    uri = tracking_uri()
    cached = _studies.get(study_name)
    if cached is not None and cached.uri == uri:
        return cached
    if not os.environ.get("MLFLOW_TRACKING_URI"):
        default_store().mkdir(parents=True, exist_ok=True)
    client = MlflowClient(tracking_uri=uri)
    experiment_id = _experiment(client, study_name)
    found = client.search_runs(
        [experiment_id],
        filter_string=f"tags.`{STUDY_TAG}` = {_quote(study_name)}",
        order_by=["attributes.start_time ASC"],
        max_results=1,
    )
    if found:  # the first one, should two workers have created it at the same moment
        parent_id = found[0].info.run_id
        metric = metric or found[0].data.tags.get("automl.metric") or "value"
    else:
        metric = metric or "value"
        tags = {STUDY_TAG: study_name, "automl.metric": metric}
        if directions:
            tags["automl.direction"] = directions
        parent_id = client.create_run(experiment_id, tags=tags, run_name=study_name).info.run_id
    runs = StudyRuns(study_name, client, uri, experiment_id, parent_id, metric)
    _studies[study_name] = runs
    return runs


def _experiment(client: MlflowClient, name: str) -> str:
    """The id of the experiment named `name`, created (artifacts in the local store) if absent."""
    experiment = client.get_experiment_by_name(name)
    if experiment is None:
        location = None
        if not os.environ.get("MLFLOW_TRACKING_URI"):
            location = (default_store().resolve() / "artifacts").as_uri()
        try:
            return str(client.create_experiment(name, artifact_location=location))
        except MlflowException:  # another worker created it first
            experiment = client.get_experiment_by_name(name)
            if experiment is None:
                raise
    if experiment.lifecycle_stage == "deleted":
        raise RuntimeError(
            f"{PLUGIN}: the MLflow experiment {name!r} in {client.tracking_uri} is deleted. "
            f"Expected an active experiment for the study; restore it (`mlflow experiments "
            f"restore --experiment-id {experiment.experiment_id}`) or delete it for good "
            "(`mlflow gc`)."
        )
    return str(experiment.experiment_id)


def _child_run(runs: StudyRuns, number: int, started: Any) -> str:
    """The trial's child run: cached, found by its tags, or created."""
    key = (runs.study, number)
    run_id = _runs.get(key)
    if run_id is not None:
        return run_id
    found = runs.client.search_runs(
        [runs.experiment_id],
        filter_string=(
            f"tags.`{PARENT_TAG}` = '{runs.parent_id}' and tags.`{TRIAL_TAG}` = '{number}'"
        ),
        max_results=1,
    )
    if found:
        run_id = found[0].info.run_id
    else:
        start = int(started.timestamp() * 1000) if started else None
        run_id = runs.client.create_run(
            runs.experiment_id,
            start_time=start,
            tags={PARENT_TAG: runs.parent_id, TRIAL_TAG: str(number)},
            run_name=f"trial-{number}",
        ).info.run_id
    _runs[key] = run_id
    return run_id


# -------------------------------------------------------------------------------- helpers
def config_json(config: Any) -> Any:
    """The JSON-able form of a trial configuration (a dict, or an object with `to_json()`)."""
    return config.to_json() if hasattr(config, "to_json") else config


def _study_name() -> str:
    name = _state["study"]
    if name is None:
        raise RuntimeError(
            f"{PLUGIN}: on_trial_end ran before on_study_start in this process, so the study "
            "(and its MLflow runs) is unknown"
        )
    return str(name)


def _quote(value: str) -> str:
    """A string literal for an MLflow filter."""
    if "'" not in value:
        return f"'{value}'"
    if '"' not in value:
        return f'"{value}"'
    raise ValueError(f"{PLUGIN}: a study name with both quote characters: {value!r}")


def _number(value: Any) -> float | None:
    """A log value as a float, or `None` when it is not a number (such logs are skipped)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _guarded(key: tuple[str, int], what: str, action: Any) -> None:
    """Run `action`; a failure is one warning and stops this trial's logging until its end."""
    if key in _broken:
        return
    try:
        action()
    except Exception as exc:
        _broken.add(key)
        warnings.warn(
            f"{PLUGIN}: could not {what} for trial {key[1]} of study {key[0]!r} in the MLflow "
            f"store {tracking_uri()}: {type(exc).__name__}: {exc}. The trial goes on; its MLflow "
            "run gets nothing more until the trial ends.",
            RuntimeWarning,
            stacklevel=2,
        )
