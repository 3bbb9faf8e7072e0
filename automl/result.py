"""What `tune` returns: the study, its leaderboard, and the best model one call away.

`TuneResult.best_model()` and `.export(dir)` go through `automl.export` (the same choice of trial
and weights as `automl export`), so the Python API and the command line cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import optuna
from optuna.trial import FrozenTrial

from automl.errors import AutoMLError
from automl.export import choose_model, export_model
from automl.leaderboard import pareto_front, ranked
from automl.plugins import Catalog, load_catalog
from automl.spec import Spec


class Leaderboard(list[dict[str, Any]]):
    """The leaderboard rows (best first, then pruned and failed trials): a plain list of dicts
    (`rank`, `trial`, `score`, `state`, `epochs`, `duration`, `params`, `reason`, ...)."""

    def to_pandas(self) -> Any:
        """A pandas DataFrame: one row per trial, one column per field and per parameter."""
        try:
            import pandas as pd
        except ImportError:
            raise AutoMLError(
                "Leaderboard.to_pandas() needs pandas: pip install pandas "
                "(or pip install 'automl-keras[pandas]')"
            ) from None
        records = [
            {**{k: v for k, v in row.items() if k != "params"}, **row.get("params", {})}
            for row in self
        ]
        return pd.DataFrame.from_records(records)


@dataclass
class TuneResult:
    """What `tune` returns: the study, its spec and the rows of its leaderboard.

    Args:
        study: the Optuna study (all its trials, in its storage).
        spec: the search space it was tuned on.
        leaderboard: the rows, best first (`.to_pandas()` for a DataFrame).
        interrupted: Ctrl-C or SIGTERM stopped the run (running the same call again resumes).
        catalog: the registries the spec was resolved against.
        storage: the storage URL or journal path given to `tune`. Defaults to `None`: the
            spec's, else `runs/<study>/journal.log`.
    """

    study: optuna.Study
    spec: Spec
    leaderboard: Leaderboard = field(default_factory=Leaderboard)
    interrupted: bool = False
    catalog: Catalog | None = None
    storage: str | None = None

    @property
    def best_trial(self) -> FrozenTrial | None:
        """The best complete feasible trial, if any (with several objectives: the trial of the
        Pareto front with the best first objective)."""
        top = ranked(self.study)
        return top[0] if top else None

    @property
    def pareto_front(self) -> list[FrozenTrial]:
        """The trials no other complete feasible trial dominates (`leaderboard.pareto_front`)."""
        return pareto_front(self.study)

    def best_model(self, *, trial: int | None = None, retrain: bool = False) -> keras.Model:
        """The Keras model of the best trial (or trial `trial`), preprocessing layers inside: it
        takes raw inputs, as `automl export` would write it.

        Args:
            trial: the trial number. Defaults to `None`: the best trial.
            retrain: train its configuration again on train + validation for its best epoch
                count (`automl export --retrain`). Defaults to `False`: its checkpoint.
        """
        catalog = self.catalog if self.catalog is not None else load_catalog(self.spec.plugins)
        exported, _ = choose_model(
            self.spec, catalog, number=trial, storage=self.storage, retrain=retrain, verbose=0
        )
        return exported.model

    def export(
        self,
        out: str | Path,
        *,
        trial: int | None = None,
        force: bool = False,
        retrain: bool = False,
        formats: str | Iterable[str] | None = None,
    ) -> Path:
        """Write the verified artifact directory of `automl export` (see `automl.export_model`).

        Args:
            out: the directory to write.
            trial: the trial number. Defaults to `None`: the best trial.
            force: replace an existing `out`. Defaults to `False`.
            retrain: train the trial's configuration again on train + validation. Defaults to
                `False`.
            formats: extra formats (`saved_model`, `onnx`, `tflite`, `all`). Defaults to `None`.
        """
        return export_model(
            self.spec,
            out,
            trial=trial,
            storage=self.storage,
            force=force,
            retrain=retrain,
            formats=formats,
        )

    def __repr__(self) -> str:
        best = self.best_trial
        shown = f"{best.value:.4g} (trial {best.number})" if best is not None else "none yet"
        return (
            f"TuneResult(study={self.spec.study.name!r}, trials={len(self.leaderboard)}, "
            f"best {self.spec.study.metric}={shown})"
        )


__all__ = ["Leaderboard", "TuneResult"]
