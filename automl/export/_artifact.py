"""`export_model`: the best trial (or an ensemble) -> a verified artifact directory, in steps."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import keras
import numpy as np

from automl.errors import ExportError
from automl.export._atomic import atomic_directory
from automl.export._card import build_card, write_card
from automl.export._estimate import assess
from automl.export._formats import check_inputs_supported, parse_formats, raw_predict, write_format
from automl.export._source import choose_model
from automl.plugins import load_catalog
from automl.spec import Spec, open_space
from automl.trial import forward

# rows of the held-out split used for the round-trip check of each format
CHECK_ROWS = 1024
# the latency measurement: single-row calls (median of this many), and a batch of this many rows
LATENCY_CALLS, LATENCY_BATCH = 20, 256


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
        formats: extra formats besides `keras` (`saved_model`, `onnx`, `tflite`, `all`).
            Defaults to `None` (`keras` only).
        verbose: Keras fit verbosity when retraining. Defaults to `0`.
        ensemble: greedy ensemble selection over the top `ensemble` trials. Defaults to `None`.
    """
    chosen_formats = parse_formats(formats)
    out = Path(out)
    if out.exists() and not force:
        raise ExportError(f"{out} already exists: pass --force to replace it")
    if isinstance(space, Spec):
        spec, catalog = space, load_catalog(space.plugins)
    else:
        spec, catalog = open_space(space, plugins)
    exported, partition = choose_model(
        spec, catalog, number=trial, storage=storage, retrain=retrain, verbose=verbose,
        ensemble=ensemble,
    )  # fmt: skip
    metric = catalog["metric"].get(spec.study.metric)
    assessment = assess(exported, partition, metric, spec.study.seed)
    test_x = partition.test.x_test
    check_x = np.asarray((test_x if len(test_x) else partition.x)[:CHECK_ROWS])
    check_inputs_supported(chosen_formats, check_x)
    reference = raw_predict(exported.model, check_x).astype("float64")
    card = build_card(spec, catalog, exported, partition, assessment)
    card["export"]["latency_ms"] = latency(exported.model, check_x)
    with atomic_directory(out) as directory:
        card["formats"] = {
            fmt: write_format(fmt, exported.model, directory, check_x, reference)
            for fmt in chosen_formats
        }
        write_card(directory, card)
    return out


def latency(model: keras.Model, x: np.ndarray) -> dict[str, Any]:
    """Milliseconds of the Keras model: one row (median of single-row calls), and per row in a
    batch (after one warm-up call each)."""
    batch = x[:LATENCY_BATCH]
    one = batch[:1]
    forward(model, one)
    times = []
    for _ in range(LATENCY_CALLS):
        started = time.perf_counter()
        forward(model, one)
        times.append(time.perf_counter() - started)
    forward(model, batch)
    started = time.perf_counter()
    forward(model, batch)
    per_row = (time.perf_counter() - started) / len(batch)
    return {
        "one_row": round(1000 * float(np.median(times)), 3),
        "per_row": round(1000 * per_row, 4),
        "batch": len(batch),
    }
