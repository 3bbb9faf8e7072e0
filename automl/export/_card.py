"""The model card: `model.json` (what `automl.load` and `automl predict` read) and `MODEL_CARD.md`.

It records the trial, its scores, an evaluation on the held-out split with scikit-learn, the input
schema inputs are checked against, the plugins that supplied the components (so a missing one can
be named at load time) and the package versions.
"""

from __future__ import annotations

import datetime as _dt
import json
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

import keras
import numpy as np
from sklearn import metrics

from automl import forecast
from automl.data import Partition, Splits
from automl.decision import class_indices
from automl.export._config import components_used, recorded_config
from automl.export._estimate import Assessment
from automl.export._markdown import model_card_markdown
from automl.export._source import ExportedModel
from automl.measures import MEASURE_ROWS, metric_values
from automl.plugins import Catalog
from automl.spec import Spec
from automl.trial import as_float_inputs

# distributions whose versions matter for reloading a model
VERSIONED = (
    "automl-keras",
    "keras",
    "tensorflow",
    "optuna",
    "numpy",
    "scikit-learn",
    "jax",
    "torch",
    "onnx",
    "onnxruntime",
    "tf2onnx",
)


def package_versions() -> dict[str, str]:
    """Versions of the packages that matter for reloading a model (those installed)."""
    out = {"python": platform.python_version()}
    for dist in VERSIONED:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return out


def plugins_used(components: list[tuple[str, str]], catalog: Catalog) -> list[dict[str, Any]]:
    """The plugins that supplied `components` (`(kind, name)` pairs), with their distributions.

    Recorded in `model.json` so that loading the model where a plugin is missing can name the
    package to install.
    """
    seen: dict[str, dict[str, Any]] = {}
    for kind, name in components:
        if name not in catalog[kind]:
            continue
        owner = catalog[kind].owner(name)
        info = catalog.plugins.get(owner)
        entry = seen.setdefault(
            owner,
            {
                "plugin": owner,
                "source": info.source if info else "unknown",
                "distribution": info.distribution if info else None,
                "version": info.version if info else None,
                "components": [],
            },
        )
        entry["components"].append(f"{kind}:{name}")
    return list(seen.values())


def evaluation(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    task: str,
    labels: list[str] | None,
    threshold: float | None = None,
) -> dict[str, Any]:
    """scikit-learn scores on one split: confusion matrix, per-class precision/recall; or errors.

    Class decisions are the model's (`automl.decision.class_indices` at `threshold`)."""
    if task == "regression":
        pred = np.asarray(y_pred, dtype="float64").reshape(-1)
        return {
            "rows": len(y_true),
            "mae": float(metrics.mean_absolute_error(y_true, pred)),
            "rmse": float(np.sqrt(metrics.mean_squared_error(y_true, pred))),
            "r2": float(metrics.r2_score(y_true, pred)) if len(y_true) > 1 else None,
        }
    if not len(y_true):
        return {"rows": 0}
    k = np.asarray(y_pred).shape[1]
    names = labels or [str(i) for i in range(k)]
    pred = class_indices(y_pred, threshold)
    precision, recall, f1, support = metrics.precision_recall_fscore_support(
        y_true, pred, labels=list(range(k)), zero_division=0
    )
    return {
        "rows": len(y_true),
        "accuracy": float(metrics.accuracy_score(y_true, pred)),
        "confusion_matrix": metrics.confusion_matrix(y_true, pred, labels=list(range(k))).tolist(),
        "confusion_matrix_labels": names,
        "per_class": {
            name: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, name in enumerate(names)
        },
    }


def input_schema(splits: Splits) -> dict[str, Any]:
    """What `automl predict` checks inputs against: shape, dtype, columns, the source's notes."""
    shape = list(splits.input_shape)
    kind = {1: "tabular", 3: "image"}.get(len(shape), "tensor")
    dtype = "string" if splits.x_train.dtype.kind in "OUS" else "float32"
    schema: dict[str, Any] = dict(splits.schema)
    schema.update({"kind": schema.get("kind", kind), "shape": shape, "dtype": dtype})
    if splits.feature_names and len(shape) == 1 and len(splits.feature_names) == shape[0]:
        schema["feature_names"] = list(splits.feature_names)
    return schema


def build_card(
    spec: Spec,
    catalog: Catalog,
    exported: ExportedModel,
    partition: Partition,
    assessment: Assessment,
) -> dict[str, Any]:
    """The contents of `model.json`, all but `formats` (added once every file is written)."""
    trial, retrained, splits = exported.trial, exported.retrained, partition.fold(0)
    schema = input_schema(splits)
    return {
        "study": spec.study.name,
        "space_file": spec.path,
        "trial": trial.number,
        "params": dict(trial.params),
        "config": recorded_config(trial),
        "metric": spec.study.metric,
        "direction": spec.study.direction,
        **_objectives(spec, trial),
        "validation_score": exported.validation_score,
        "estimate": assessment.estimate,
        "test_score": assessment.test_score,
        "test_interval": assessment.test_interval,
        "gap": assessment.gap,
        "threshold": assessment.threshold,
        "export": _export_section(exported),
        "retrained": retrained,
        "evaluation": _evaluation_section(spec, catalog, exported, partition, assessment),
        "task": partition.task,
        "input_shape": list(splits.input_shape),
        "input_dtype": schema["dtype"],
        "class_labels": splits.class_names,
        "feature_names": splits.feature_names,
        "input_schema": schema,
        "data": {
            "name": splits.name,
            "development_rows": len(partition.x),
            "folds": len(partition.folds),
            "train_rows": len(splits.x_train),
            "validation_rows": len(splits.x_val),
            "test_rows": len(splits.x_test),
        },
        "epochs": trial.user_attrs.get("epochs"),
        "best_epoch": trial.user_attrs.get("best_epoch"),
        "training_seconds": {
            "trial": trial.user_attrs.get("train_seconds"),
            "retrain": retrained["seconds"] if retrained else None,
        },
        "parameters": {
            "total": int(exported.model.count_params()),
            "trainable": int(sum(np.prod(w.shape) for w in exported.model.trainable_weights)),
        },
        "plugins": plugins_used(_components(spec, trial), catalog),
        "keras_backend": keras.backend.backend(),
        "versions": package_versions(),
        "exported_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def _evaluation_section(
    spec: Spec,
    catalog: Catalog,
    exported: ExportedModel,
    partition: Partition,
    assessment: Assessment,
) -> dict[str, Any]:
    """`evaluation`: scikit-learn's scores of the model's decisions on `assessment.split`; a
    forecast's errors beside the naive baselines' on the same rows, scaled (MASE) by the series
    the model was trained on."""
    if partition.task == "forecast" and len(assessment.y):
        ev = forecast.evaluation(assessment.trained, assessment.x, assessment.y, assessment.output)
    else:
        ev = evaluation(
            assessment.y, assessment.output, partition.task, partition.test.class_names,
            assessment.threshold_value,
        )  # fmt: skip
    return {
        "split": assessment.split,
        **ev,
        **_held_out_objectives(spec, catalog, exported, partition, assessment),
    }


def _held_out_objectives(
    spec: Spec,
    catalog: Catalog,
    exported: ExportedModel,
    partition: Partition,
    assessment: Assessment,
) -> dict[str, Any]:
    """With several objectives, `{"objectives": {metric: value}}` on the split `evaluation`
    describes (the measures of the model, such as its latency, taken again on this machine)."""
    if not spec.study.multi_objective or not len(assessment.y):
        return {}
    values = metric_values(
        spec.study.metrics,
        catalog,
        exported.model,
        assessment.y,
        predictions=lambda: assessment.output,
        rows=as_float_inputs(assessment.x[:MEASURE_ROWS]),
        splits=assessment.trained,
    )
    return {"objectives": values}


def _export_section(exported: ExportedModel) -> dict[str, Any]:
    """What the exported model is: kind, members and weights, size (latency: added later)."""
    return {
        "kind": exported.kind,
        "members": exported.members,
        "parameters": int(exported.model.count_params()),
        "selection": exported.selection,
    }


def _components(spec: Spec, trial: Any) -> list[tuple[str, str]]:
    """The trial's components and every metric of the study."""
    used = components_used(trial, spec.study.metric)
    return used + [("metric", m) for m in spec.study.metrics[1:]] if used else used


def _objectives(spec: Spec, trial: Any) -> dict[str, Any]:
    """With several objectives: their names, directions and the trial's validation values."""
    if not spec.study.multi_objective:
        return {}
    return {
        "metrics": list(spec.study.metrics),
        "directions": list(spec.study.directions),
        "validation_values": dict(zip(spec.study.metrics, trial.values, strict=True)),
    }


def write_card(directory: Path, card: dict[str, Any]) -> None:
    """`model.json` and `MODEL_CARD.md` into `directory`."""
    (directory / "model.json").write_text(json.dumps(card, indent=2, default=str) + "\n")
    (directory / "MODEL_CARD.md").write_text(model_card_markdown(card))
