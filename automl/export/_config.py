"""The trial configuration as export reads it, in one place.

A trial records its configuration as the user attribute `config`: today the dict `sample_config`
returns (`{"training": {...}, "slots": {"model": {"name", "params"}, ...}}`), soon the JSON of
`automl.space.TrialConfig`. Everything export needs from it goes through these functions, so
that change is an edit to this module only.
"""

from __future__ import annotations

from typing import Any

from optuna.trial import FrozenTrial

from automl.errors import ExportError
from automl.space import TrialConfig
from automl.spec import SLOT_KINDS


def recorded_config(trial: FrozenTrial) -> dict[str, Any] | None:
    """The configuration as the trial recorded it (JSON), for `model.json`; None if it did not."""
    return trial.user_attrs.get("config")


def trial_config(trial: FrozenTrial) -> TrialConfig:
    """The configuration to build and train the trial's model again."""
    config = recorded_config(trial)
    if not config:
        raise ExportError(
            f"trial {trial.number} did not record its configuration: it cannot be retrained"
        )
    return config


def configured_epochs(config: TrialConfig) -> int:
    """The epoch budget the configuration was tuned with."""
    return int(config["training"]["epochs"])


def components_used(trial: FrozenTrial, metric: str) -> list[tuple[str, str]]:
    """`(kind, name)` of every component of the trial's configuration, then of its metric.

    Empty when the trial recorded no configuration.
    """
    config = recorded_config(trial)
    if not config:
        return []
    slots = [
        (SLOT_KINDS[key.split(".")[0]][0], chosen["name"])
        for key, chosen in config.get("slots", {}).items()
    ]
    return [*slots, ("metric", metric)]
