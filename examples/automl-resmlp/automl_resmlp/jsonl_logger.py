"""An opt-in lifecycle plugin: one JSON line per finished trial.

Enable it per run (`automl tune SPACE --plugin automl_resmlp.jsonl_logger`) or per file
(`plugins: [automl_resmlp.jsonl_logger]` in the YAML). Lines go to `$AUTOML_JSONL` when set, else
`runs/<study>/trials.jsonl`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from automl import hookimpl

_current: dict[str, Any] = {}  # the study being tuned in this process: its name and log path


def log_path(study_name: str) -> Path:
    """Where the lines of `study_name` go."""
    from automl.storage import runs_dir

    env = os.environ.get("AUTOML_JSONL")
    return Path(env) if env else runs_dir() / study_name / "trials.jsonl"


@hookimpl
def on_study_start(study: Any, spec: Any) -> None:
    _current.update(study=study.study_name, path=log_path(study.study_name))


@hookimpl
def on_trial_end(trial: Any) -> None:
    study_name = _current.get("study", "study")
    path: Path = _current.get("path") or log_path(study_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    duration = (
        (trial.datetime_complete - trial.datetime_start).total_seconds()
        if trial.datetime_complete and trial.datetime_start
        else None
    )
    line = {
        "study": study_name,
        "trial": trial.number,
        "state": trial.state.name.lower(),
        "value": trial.value,
        "params": trial.params,
        "seconds": duration,
        "reason": trial.user_attrs.get("fail_reason") or trial.user_attrs.get("pruned_reason"),
    }
    with path.open("a") as f:
        f.write(json.dumps(line, default=str) + "\n")
