"""Several trained models as ONE Keras model, and greedy ensemble selection (Caruana et al., 2004).

`combine` puts the members side by side as sub-models of one functional model on one input and
averages their outputs with built-in layers only (`Average`, or `Rescaling` by each weight then
`Add`), so the result saves, reloads and converts like any single model: `.keras` in safe mode,
SavedModel, ONNX, TFLite, `automl.load`, `automl predict`. Each member keeps its preprocessing
layers, so the ensemble takes raw inputs.

`greedy_selection` is ensemble selection with replacement from a library of models (Caruana,
Niculescu-Mizil, Crew and Ksikes, "Ensemble selection from libraries of models", ICML 2004):
start empty, repeatedly add the model whose addition gives the best score of the averaged
out-of-fold predictions, and keep the best prefix. A model picked twice weighs twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

#: rounds of greedy selection (auto-sklearn's default ensemble size is 50; a library of a few top
#: trials stops improving long before 25)
ROUNDS = 25


def combine(models: Sequence[keras.Model], weights: Sequence[float]) -> keras.Model:
    """One Keras model whose output is the weighted mean of the members' outputs.

    Args:
        models: the members, each taking the same raw input.
        weights: one per member, summing to 1. Equal weights use `Average`; others scale each
            member's output with `Rescaling(weight)` and sum them with `Add`.
    """
    if len(models) != len(weights) or not models:
        raise ValueError(
            f"expected one weight per member. Received: {len(models)} models, "
            f"{len(weights)} weights"
        )
    if len(models) == 1:
        return models[0]
    first = models[0].inputs[0]
    inputs = keras.Input(shape=tuple(first.shape[1:]), dtype=first.dtype, name="inputs")
    outputs = []
    for i, model in enumerate(models):
        model.name = f"member_{i}"  # sub-models need distinct names
        outputs.append(model(inputs))
    if np.allclose(weights, weights[0]):
        merged = keras.layers.Average(name="output")(outputs)
    else:
        scaled = [
            keras.layers.Rescaling(float(w), name=f"weight_{i}")(out)
            for i, (w, out) in enumerate(zip(weights, outputs, strict=True))
        ]
        merged = keras.layers.Add(name="output")(scaled)
    return keras.Model(inputs, merged, name="automl_ensemble")


def scored_rows(predictions: Sequence[np.ndarray]) -> np.ndarray:
    """The rows every candidate predicted (out-of-fold predictions are NaN elsewhere)."""
    finite = [np.isfinite(p.reshape(len(p), -1)).all(axis=1) for p in predictions]
    return np.logical_and.reduce(finite)


def greedy_selection(
    predictions: Sequence[np.ndarray],
    y: np.ndarray,
    metric: Any,
    maximize: bool,
    rounds: int = ROUNDS,
) -> tuple[list[int], list[float]]:
    """How many times each candidate is picked, and the score after each round.

    Args:
        predictions: each candidate's out-of-fold predictions (same rows, same shape).
        y: the true targets of those rows.
        metric: the study's metric component (`score(y_true, output)`).
        maximize: whether a higher score is better.
        rounds: picks, with replacement. Defaults to `ROUNDS`.

    Returns the counts of the best-scoring prefix (ties: the shorter one) and every round's
    score. Among candidates that score alike the earlier (better ranked) one is picked.
    """
    rows = scored_rows(predictions)
    if not rows.any():
        raise ValueError("the candidates have no out-of-fold prediction on a common row")
    preds = [np.asarray(p, dtype="float64")[rows] for p in predictions]
    y = np.asarray(y)[rows]
    total = np.zeros_like(preds[0])
    counts, best_counts = [0] * len(preds), [0] * len(preds)
    history: list[float] = []
    best: float | None = None
    for r in range(1, rounds + 1):
        scores = [float(metric.score(y, (total + p) / r)) for p in preds]
        pick = int(np.argmax(scores) if maximize else np.argmin(scores))
        total += preds[pick]
        counts[pick] += 1
        history.append(scores[pick])
        if best is None or (scores[pick] > best if maximize else scores[pick] < best):
            best, best_counts = scores[pick], list(counts)
    return best_counts, history


__all__ = ["ROUNDS", "combine", "greedy_selection", "scored_rows"]
