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
from automl.data import Splits
from automl.export._config import components_used, recorded_config
from automl.export._source import ExportedModel
from automl.export._usage import files_markdown, loading_markdown
from automl.measures import MEASURE_ROWS, metric_values
from automl.plugins import Catalog
from automl.spec import Spec
from automl.trial import as_float_inputs, predict_output

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


def held_out(splits: Splits) -> tuple[str, np.ndarray, np.ndarray]:
    """The split the exported model is evaluated and checked on: test, else validation."""
    if len(splits.x_test) > 0:
        return "test", splits.x_test, splits.y_test
    return "validation", splits.x_val, splits.y_val


def evaluate(
    model: keras.Model, splits: Splits, spec: Spec, catalog: Catalog
) -> tuple[dict[str, Any], float | None]:
    """The card's `evaluation` on the held-out split, and the test score (None without test).

    With several objectives, `evaluation.objectives` has each one on the held-out split (the
    measures of the model, such as its latency, taken again on this machine).
    """
    split, x, y = held_out(splits)
    pred = predict_output(model, x, splits.task)
    values = metric_values(
        spec.study.metrics,
        catalog,
        model,
        y,
        predictions=lambda: pred,
        rows=as_float_inputs(x[:MEASURE_ROWS]),
        splits=splits,
    )
    test_score = values[spec.study.metric] if split == "test" else None
    if splits.task == "forecast":  # with the naive baselines on the same split
        evaluated = {"split": split, **forecast.evaluation(splits, x, y, pred)}
    else:
        evaluated = {"split": split, **evaluation(y, pred, splits.task, splits.class_names)}
    if spec.study.multi_objective:
        evaluated["objectives"] = values
    return evaluated, test_score


def evaluation(
    y_true: np.ndarray, y_pred: np.ndarray, task: str, labels: list[str] | None
) -> dict[str, Any]:
    """scikit-learn scores on one split: confusion matrix, per-class precision/recall; or errors."""
    if task == "regression":
        pred = np.asarray(y_pred, dtype="float64").reshape(-1)
        return {
            "rows": len(y_true),
            "mae": float(metrics.mean_absolute_error(y_true, pred)),
            "rmse": float(np.sqrt(metrics.mean_squared_error(y_true, pred))),
            "r2": float(metrics.r2_score(y_true, pred)) if len(y_true) > 1 else None,
        }
    k = np.asarray(y_pred).shape[1]
    names = labels or [str(i) for i in range(k)]
    pred = np.asarray(y_pred).argmax(axis=1)
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
    splits: Splits,
    evaluated: dict[str, Any],
    test_score: float | None,
) -> dict[str, Any]:
    """The contents of `model.json`, all but `formats` (added once every file is written)."""
    trial, retrained = exported.trial, exported.retrained
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
        "test_score": test_score,
        "retrained": retrained,
        "evaluation": evaluated,
        "task": splits.task,
        "input_shape": list(splits.input_shape),
        "input_dtype": schema["dtype"],
        "class_labels": splits.class_names,
        "feature_names": splits.feature_names,
        "input_schema": schema,
        "data": {
            "name": splits.name,
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


# --- MODEL_CARD.md -----------------------------------------------------------------------------


def model_card_markdown(card: dict[str, Any]) -> str:
    """A short human-readable summary of `model.json`."""
    lines = [f"# Model card: {card['study']}, trial {card['trial']}", "", *_summary(card)]
    lines += ["", "## Parameters", ""]
    lines += [f"- `{k}`: {v}" for k, v in card["params"].items()] or ["- (none searched)"]
    lines += ["", f"## Evaluation on the {card['evaluation']['split']} split", ""]
    lines += _evaluation(card["evaluation"])
    lines += ["", "## Files", "", *files_markdown(card)]
    lines += ["", "## Loading", "", "With automl: `automl.load(DIR).predict(x)`, or"]
    lines += ["`automl predict DIR INPUT`. With each format's own library:", ""]
    lines += loading_markdown(card)
    lines += [f"Keras backend {card['keras_backend']}; versions in `model.json`.", ""]
    return "\n".join(lines)


def _num(v: Any) -> str:
    return f"{v:.4f}" if isinstance(v, float) else "-" if v is None else str(v)


def _summary(card: dict[str, Any]) -> list[str]:
    """The bullet points under the title: data, input, scores, weights, classes."""
    data, schema = card["data"], card["input_schema"]
    names = schema.get("feature_names") or []
    columns = f", columns {', '.join(names[:12])}" + (" ..." if len(names) > 12 else "")
    lines = [
        f"- Task: {card['task']}; data: {data['name'] or '-'} "
        f"({data['train_rows']} train / {data['validation_rows']} validation / "
        f"{data['test_rows']} test rows)",
        f"- Input: {schema['kind']}, shape {tuple(schema['shape'])}, {schema['dtype']}"
        + (columns if names else ""),
        f"- Validation {card['metric']}: {_num(card['validation_score'])}; "
        f"test {card['metric']}: {_num(card['test_score'])}",
    ]
    if card.get("parameters"):
        count = card["parameters"]
        lines.append(f"- Model: {count['total']:,} parameters ({count['trainable']:,} trainable)")
    r = card["retrained"]
    if r:
        lines.append(
            f"- Retrained on train + validation ({r['train_rows']} rows) for {r['epochs']} epochs "
            f"in {r['seconds']:.1f}s; the validation score is the tuned trial's"
        )
    else:
        lines.append(
            f"- Weights of the tuned trial (trained {_num(card['training_seconds']['trial'])}s)"
        )
    if card["class_labels"]:
        lines.append(f"- Classes: {', '.join(card['class_labels'])}")
    return lines


def _evaluation(ev: dict[str, Any]) -> list[str]:
    """Per-class precision and recall for classifiers; MAE, RMSE and R2 for regression; the
    errors of a forecast beside its naive baselines'."""
    if "baselines" in ev:
        rows = {"this model": ev, **ev["baselines"]}
        lines = ["| forecast | MAE | RMSE | MAPE | MASE |", "|---|---|---|---|---|"]
        return lines + [
            f"| {name} | {_num(e['mae'])} | {_num(e['rmse'])} | {_num(e['mape'])} | "
            f"{_num(e['mase'])} |"
            for name, e in rows.items()
        ]
    if "per_class" not in ev:
        return [f"MAE {_num(ev['mae'])}, RMSE {_num(ev['rmse'])}, R2 {_num(ev['r2'])}"]
    lines = ["| class | precision | recall | support |", "|---|---|---|---|"]
    lines += [
        f"| {name} | {m['precision']:.3f} | {m['recall']:.3f} | {m['support']} |"
        for name, m in ev["per_class"].items()
    ]
    return [
        *lines,
        "",
        "Confusion matrix (rows: true class, columns: predicted) is in `model.json`.",
    ]
