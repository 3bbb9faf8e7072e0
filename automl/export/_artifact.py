"""`export_model`: the best trial (or an ensemble) -> a verified artifact directory, in steps."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from automl.custom_objects import keras_imports
from automl.errors import ExportError
from automl.export._atomic import atomic_directory
from automl.export._card import build_card, write_card
from automl.export._estimate import assess
from automl.export._formats import (
    parse_formats,
    plan_formats,
    raw_predict,
    require_backend,
    write_format,
)
from automl.export._source import choose_model
from automl.export._usage import loading_snippets
from automl.measures import epoch_metric
from automl.plugins import Catalog, load_catalog
from automl.spec import Spec, open_space

# rows of the held-out split used for the round-trip check of each format
CHECK_ROWS = 1024


def _opened(
    space: str | Path | Mapping[str, Any] | Spec, plugins: tuple[str, ...]
) -> tuple[Spec, Catalog]:
    """The space and its plugin catalog, from a file, a dict or an already loaded `Spec`."""
    if isinstance(space, Spec):
        return space, load_catalog(space.plugins)
    return open_space(space, plugins)


def export_model(
    space: str | Path | Mapping[str, Any] | Spec,
    out: str | Path,
    trial: int | None = None,
    storage: str | None = None,
    plugins: tuple[str, ...] = (),
    force: bool = False,
    retrain: bool = False,
    formats: str | Iterable[str] | None = None,
    verbose: int = 0,
    ensemble: int | None = None,
) -> Path:
    """Write a verified artifact directory for the best (or the given) trial, or an ensemble.

    Args:
        space: a YAML path or a loaded `Spec`.
        out: the directory to write.
        trial: the trial number to export. Defaults to `None` (the best trial).
        storage: an Optuna storage URL. Defaults to `None` (the study's journal file).
        plugins: local plugin modules or .py files. Defaults to `()`.
        force: replace an existing `out`. Defaults to `False`.
        retrain: (`--single`) train the trial's configuration again on every development row
            for its best epoch count. Defaults to `False`: the trial's own weights (its fold
            models averaged, for a cross-validated study).
        formats: extra formats besides `keras` (`saved_model`, `onnx`, `tflite`, `all`: every
            format this model can be exported to, the others listed in the card as skipped).
            Defaults to `None` (`keras` only).
        verbose: Keras fit verbosity when retraining. Defaults to `0`.
        ensemble: greedy ensemble selection over the top `ensemble` trials. Defaults to `None`.
    """
    parse_formats(formats)  # a misspelled format fails before anything else
    require_backend(formats)  # so does one the Keras backend cannot write (onnx on JAX)
    out = Path(out)
    if out.exists() and not force:
        raise ExportError(f"{out} already exists: pass --force to replace it")
    spec, catalog = _opened(space, plugins)
    exported, partition = choose_model(
        spec, catalog, number=trial, storage=storage, retrain=retrain, verbose=verbose,
        ensemble=ensemble,
    )  # fmt: skip
    # the first metric of the predictions (`assess` fits it to each score's training rows)
    metric = epoch_metric(spec, catalog, partition.development())
    assessment = assess(exported, partition, metric, spec.study.seed)
    test_x = partition.test.x_test
    check_x = np.asarray((test_x if len(test_x) else partition.x)[:CHECK_ROWS])
    chosen_formats, card_skipped = plan_formats(formats, check_x)
    reference = raw_predict(exported.model, check_x).astype("float64")
    card = build_card(spec, catalog, exported, partition, assessment)
    with atomic_directory(out) as directory:
        card["formats"] = {
            fmt: write_format(fmt, exported.model, directory, check_x, reference)
            for fmt in chosen_formats
        }
        card["skipped_formats"] = card_skipped
        card["keras_imports"] = keras_imports(directory / "model.keras")
        card["loading"] = loading_snippets(card, out)
        write_card(directory, card)
    return out
