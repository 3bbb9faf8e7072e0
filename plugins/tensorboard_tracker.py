"""TensorBoard tracker: per-trial event files with every epoch's logs and the HParams data.

Opt-in: `plugins: [automl_plugins.tensorboard_tracker]` in the YAML file, or
`automl tune SPACE --plugin automl_plugins.tensorboard_tracker`. It needs the `tensorboard`
package (`pip install 'automl-keras[tensorboard]'`) but not TensorFlow: it writes with
TensorBoard's own event-file writer and protobuf summaries (what `torch.utils.tensorboard` uses),
so it works on every Keras backend and never initializes TensorFlow or an accelerator.

Where: `runs/<study>/tensorboard/trial-<n>/` (`$AUTOML_RUNS_DIR` replaces `runs`), or
`$AUTOML_TENSORBOARD_DIR/<study>/trial-<n>/`. View them with
`tensorboard --logdir runs/<study>/tensorboard`.

What:
- trial start: the trial's configuration as JSON text (tag `config`);
- every epoch: each number in the epoch's logs (`loss`, `val_loss`, `score`, ...), step = epoch;
- trial end: the HParams session of the trial (its Optuna parameters plus `state`) and the final
  value of the study's metric (tag `final/<metric>`), so the HParams dashboard lists every trial,
  pruned and failed ones included;
- study end: the HParams experiment at the study's folder (each parameter's domain, the metrics).

A write that fails while a trial trains is a warning, and that trial writes nothing more: a
logging hiccup never fails a trial.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import warnings
from pathlib import Path
from typing import Any

from automl import PluginError, hookimpl

PLUGIN = "automl_plugins.tensorboard_tracker"
DIR_ENV = "AUTOML_TENSORBOARD_DIR"
EXPERIMENT_SUFFIX = ".automl-experiment"  # the study-level HParams file, rewritten at study end
STATES = ("complete", "pruned", "fail", "running", "waiting")

try:
    import tensorboard  # noqa: F401  (first: a missing package fails on this line)
    from tensorboard.compat.proto import event_pb2, summary_pb2

    # `tensorboard.plugins.hparams.api` re-exports this module plus a Keras callback that imports
    # TensorFlow; the summaries themselves are plain protobuf.
    from tensorboard.plugins.hparams import summary_v2 as hp
    from tensorboard.plugins.scalar.summary_v2 import scalar_pb
    from tensorboard.plugins.text.summary_v2 import text_pb
    from tensorboard.summary.writer.event_file_writer import EventFileWriter
except ImportError as exc:
    raise PluginError(
        f"the TensorBoard tracker ({PLUGIN}) needs the package 'tensorboard', which cannot be "
        f"imported here ({type(exc).__name__}: {exc}): install it with "
        f"`pip install 'automl-keras[tensorboard]'` (TensorFlow is not needed), or remove "
        f"{PLUGIN} from `plugins:` in the search space or from --plugin"
    ) from exc

_state: dict[str, Any] = {"study": None, "metric": None}  # this process's study (on_study_start)
_writers: dict[tuple[str, int], EventFileWriter] = {}  # open per-epoch writers, by (study, trial)
_broken: set[tuple[str, int]] = set()  # trials whose writes failed: they write nothing more


# ---------------------------------------------------------------------------------- places
def runs_dir() -> Path:
    """automl's runs folder: `$AUTOML_RUNS_DIR`, else `./runs`."""
    return Path(os.environ.get("AUTOML_RUNS_DIR", "runs"))


def study_log_dir(study_name: str) -> Path:
    """A study's `--logdir`: `$AUTOML_TENSORBOARD_DIR/<study>`, else `runs/<study>/tensorboard`."""
    root = os.environ.get(DIR_ENV)
    return Path(root) / study_name if root else runs_dir() / study_name / "tensorboard"


def trial_log_dir(study_name: str, number: int) -> Path:
    """One TensorBoard run per trial: `<study log dir>/trial-<n>`."""
    return study_log_dir(study_name) / f"trial-{number}"


# ---------------------------------------------------------------------------------- hooks
@hookimpl
def on_study_start(study: Any, spec: Any) -> None:
    """Remember the study and its metric (trial ends only get the trial)."""
    _state.update(study=study.study_name, metric=spec.study.metric)
    study_log_dir(study.study_name).mkdir(parents=True, exist_ok=True)


@hookimpl
def on_trial_start(trial: Any, config: Any) -> None:
    """Write the trial's configuration as JSON text (step 0)."""
    key = (trial.study.study_name, trial.number)
    _broken.discard(key)
    text = json.dumps(config_json(config), indent=2, sort_keys=True, default=str)
    code = "\n".join("    " + line for line in text.splitlines())  # a Markdown code block
    _guarded(key, "write the configuration", lambda: _write(key, 0, text_pb("config", code)))


@hookimpl
def on_epoch_end(trial: Any, epoch: int, logs: dict[str, Any]) -> None:
    """Write every number of the epoch's logs as a scalar at step `epoch`."""
    key = (trial.study.study_name, trial.number)
    summary = summary_pb2.Summary()
    for name, value in logs.items():
        number = _number(value)
        if number is not None:
            summary.value.extend(scalar_pb(name, number).value)
    _guarded(key, f"write epoch {epoch}", lambda: _write(key, epoch, summary))


@hookimpl
def on_trial_end(trial: Any) -> None:
    """Close the epoch writer; write the HParams session and the final metric value."""
    study_name = _study_name()
    key = (study_name, trial.number)
    writer = _writers.pop(key, None)
    _broken.discard(key)
    if writer is not None:
        writer.close()
    start = trial.datetime_start.timestamp() if trial.datetime_start else time.time()
    session = hp.hparams_pb(
        hparams_of(trial), trial_id=f"trial-{trial.number}", start_time_secs=start
    )
    events = [event_pb2.Event(wall_time=time.time(), step=0, summary=session)]
    if trial.value is not None:
        last = max(trial.intermediate_values, default=0)
        final = scalar_pb(_final_tag(), float(trial.value))
        events.append(event_pb2.Event(wall_time=time.time(), step=last, summary=final))
    out = EventFileWriter(str(trial_log_dir(*key)), filename_suffix=".hparams")
    for event in events:
        out.add_event(event)
    out.close()


@hookimpl
def on_study_end(study: Any) -> None:
    """(Re)write the HParams experiment: every parameter seen, with its domain, and the metrics."""
    study_name = study.study_name
    folder = study_log_dir(study_name)
    folder.mkdir(parents=True, exist_ok=True)
    domains: dict[str, Any] = {}
    for trial in study.get_trials(deepcopy=False):
        for name, distribution in trial.distributions.items():
            domains.setdefault(name, _domain(distribution))
    hparams = [hp.HParam(name, domain) for name, domain in sorted(domains.items())]
    hparams.append(hp.HParam("state", hp.Discrete(list(STATES))))
    metric = _state["metric"] or "value"
    metrics = [
        hp.Metric(_final_tag(), display_name=metric, description="the trial's final value"),
        hp.Metric("val_loss", display_name="val_loss (last epoch)"),
        hp.Metric("loss", display_name="loss (last epoch)"),
    ]
    for old in folder.glob(f"*{EXPERIMENT_SUFFIX}"):
        old.unlink(missing_ok=True)  # TensorBoard reads the first experiment of a run only
    writer = EventFileWriter(str(folder), filename_suffix=EXPERIMENT_SUFFIX)
    summary = hp.hparams_config_pb(hparams, metrics)
    writer.add_event(event_pb2.Event(wall_time=time.time(), step=0, summary=summary))
    writer.close()


# -------------------------------------------------------------------------------- helpers
def config_json(config: Any) -> Any:
    """The JSON-able form of a trial configuration (a dict, or an object with `to_json()`)."""
    return config.to_json() if hasattr(config, "to_json") else config


def hparams_of(trial: Any) -> dict[str, bool | float | int | str]:
    """A finished trial's HParams values: its Optuna parameters (other types as text) and state."""
    values: dict[str, bool | float | int | str] = {}
    for name, value in trial.params.items():
        values[name] = value if isinstance(value, (bool, int, float, str)) else str(value)
    values["state"] = trial.state.name.lower()
    return values


def _domain(distribution: Any) -> Any:
    """The HParams domain of an Optuna distribution (`None` when choices mix types)."""
    import optuna.distributions as od

    if isinstance(distribution, od.IntDistribution):
        return hp.IntInterval(int(distribution.low), int(distribution.high))
    if isinstance(distribution, od.FloatDistribution):
        return hp.RealInterval(float(distribution.low), float(distribution.high))
    if isinstance(distribution, od.CategoricalDistribution):
        choices = list(distribution.choices)
        for kind in (bool, str):
            if all(type(c) is kind for c in choices):
                return hp.Discrete(choices)
        numbers = [c for c in choices if isinstance(c, (int, float)) and not isinstance(c, bool)]
        if len(numbers) == len(choices):
            return hp.Discrete([float(c) for c in numbers])
    return None


def _final_tag() -> str:
    return f"final/{_state['metric'] or 'value'}"


def _study_name() -> str:
    name = _state["study"]
    if name is None:
        raise RuntimeError(
            f"{PLUGIN}: on_trial_end ran before on_study_start in this process, so the study "
            "(and its log folder) is unknown"
        )
    return str(name)


def _number(value: Any) -> float | None:
    """A log value as a float, or `None` when it is not a number (such logs are skipped)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _write(key: tuple[str, int], step: int, summary: Any) -> None:
    """Append one event to the trial's epoch writer (opened on first use) and flush it."""
    writer = _writers.get(key)
    if writer is None:
        folder = trial_log_dir(*key)
        folder.mkdir(parents=True, exist_ok=True)
        writer = _writers[key] = EventFileWriter(str(folder))
    writer.add_event(event_pb2.Event(wall_time=time.time(), step=step, summary=summary))
    writer.flush()  # TensorBoard shows the epoch now; it also survives a killed process


def _guarded(key: tuple[str, int], what: str, action: Any) -> None:
    """Run `action`; a failure is one warning and stops this trial's writes (never fails it)."""
    if key in _broken:
        return
    try:
        action()
    except Exception as exc:
        _broken.add(key)
        writer = _writers.pop(key, None)
        if writer is not None:
            with contextlib.suppress(Exception):  # it is broken already
                writer.close()
        warnings.warn(
            f"{PLUGIN}: could not {what} of trial {key[1]} of study {key[0]!r} under "
            f"{trial_log_dir(*key)}: {type(exc).__name__}: {exc}. The trial goes on; its "
            "TensorBoard logs stop here.",
            RuntimeWarning,
            stacklevel=2,
        )
