"""The trial configuration as export reads it, in one place.

A trial records its configuration as the user attribute `config`: the JSON of
`automl.space.TrialConfig` (`TrialConfig.from_json` also reads the layout of automl 0.1).
"""

from __future__ import annotations

from typing import Any

from optuna.trial import FrozenTrial

from automl.errors import ExportError
from automl.space import TrialConfig


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
    return TrialConfig.from_json(config)


def configured_epochs(config: TrialConfig) -> int:
    """The epoch budget the configuration was tuned with."""
    return config.epochs


def components_used(trial: FrozenTrial, metric: str) -> list[tuple[str, str]]:
    """`(kind, name)` of every component of the trial's configuration, then of its metric.

    Empty when the trial recorded no configuration.
    """
    config = recorded_config(trial)
    if not config:
        return []
    slots = [(kind, chosen.name) for kind, chosen in TrialConfig.from_json(config).components()]
    return [*slots, ("metric", metric)]
