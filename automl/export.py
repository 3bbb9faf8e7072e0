"""Best trial -> a self-contained, verified artifact directory.

The directory holds `model.keras` (always; the fitted preprocessing layers are inside it, so the
model takes raw inputs), optionally a TensorFlow SavedModel, an ONNX file and a TFLite/LiteRT
file, plus the model card `model.json` and `MODEL_CARD.md`. Every file written is loaded back and
its predictions on the test split are compared with the Keras model; a format that disagrees is
an error, not a silent file. The directory is written to a temporary sibling and moved into place
only once complete.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import difflib
import json
import platform
import re
import shutil
import tempfile
import time
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from optuna.trial import FrozenTrial, TrialState

from automl.data import Splits, load_splits
from automl.errors import AutoMLError, ExportError, StudyError
from automl.plugins import load_catalog
from automl.spec import Spec, open_space
from automl.study import checkpoint_path, open_study, ranked

FORMATS = ("keras", "saved_model", "onnx", "tflite")
FORMAT_ALIASES = {
    "savedmodel": "saved_model",
    "tf_saved_model": "saved_model",
    "litert": "tflite",
    "tf_lite": "tflite",
}
# where each format lives inside the artifact directory
FORMAT_FILES = {
    "keras": "model.keras",
    "saved_model": "saved_model",
    "onnx": "model.onnx",
    "tflite": "model.tflite",
}
# rows of the test split used for the round-trip check of each format
CHECK_ROWS = 1024


def package_versions() -> dict[str, str]:
    """Versions of the packages that matter for reloading a model."""
    out = {"python": platform.python_version()}
    for dist in (
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
    ):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return out


def plugins_used(
    config: dict[str, Any] | None, catalog: Any, metric: str | None = None
) -> list[dict[str, Any]]:
    """The plugins that supplied the components of `config` (and the metric), with distributions.

    Recorded in `model.json` so that loading the model where a plugin is missing can name the
    package to install.
    """
    if not config:
        return []
    from automl.space import TrialConfig

    used = [(kind, c.name) for kind, c in TrialConfig.from_json(config).components()]
    if metric is not None:
        used.append(("metric", metric))
    seen: dict[str, dict[str, Any]] = {}
    for kind, name in used:
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


_MISSING_CLASS = re.compile(r"registered_name'?:\s*'([\w.]+)>([\w.]+)'")


def load_keras_model(path: str | Path, card: dict[str, Any] | None = None) -> Any:
    """Load a `.keras` file in safe mode; a missing plugin class names the package to install."""
    import keras

    try:
        return keras.saving.load_model(path, safe_mode=True)
    except (TypeError, ValueError) as exc:
        text = str(exc)
        if "Could not locate" not in text and "registered_name" not in text:
            raise
        match = _MISSING_CLASS.search(text)
        package = match.group(1) if match else None
        needed = [p for p in (card or {}).get("plugins", []) if p.get("source") != "built-in"]
        hint = ", ".join(
            f"{p['distribution'] or p['plugin']}"
            + (f"=={p['version']}" if p.get("version") else "")
            for p in needed
        )
        what = (
            f"the custom Keras object package {package!r}" if package else "a custom Keras object"
        )
        raise StudyError(
            f"{path} uses {what} that is not registered here: install the plugin that provides it"
            + (f" ({hint})" if hint else "")
            + " and make sure it is not disabled (AUTOML_DISABLE_PLUGINS, AUTOML_NO_ENTRY_POINTS)."
        ) from exc


def parse_formats(formats: str | Iterable[str] | None) -> tuple[str, ...]:
    """`"keras,onnx"` (or a list) -> the formats in canonical order; `keras` is always included.

    Args:
        formats: comma-separated names or a sequence of names; `all` selects every format.
            Defaults to `None` (`keras` only).
    """
    if formats is None:
        return ("keras",)
    names = formats.split(",") if isinstance(formats, str) else list(formats)
    chosen = {"keras"}
    for raw in names:
        name = raw.strip().lower()
        if not name:
            continue
        if name == "all":
            chosen.update(FORMATS)
            continue
        name = FORMAT_ALIASES.get(name, name)
        if name not in FORMATS:
            close = difflib.get_close_matches(name, [*FORMATS, *FORMAT_ALIASES], n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ExportError(
                f"Unknown export format. Expected one of {', '.join(FORMATS)} (or all).{hint} "
                f"Received: format={raw.strip()!r}"
            )
        chosen.add(name)
    return tuple(f for f in FORMATS if f in chosen)


def choose_trial(study: Any, spec: Spec, number: int | None) -> FrozenTrial:
    """The best complete trial, or trial `number` (which must be complete)."""
    complete = ranked(study, spec.study.direction)
    if not complete:
        raise StudyError(
            f"study {spec.study.name!r} has no finished trial to export yet: "
            "run `automl tune` first"
        )
    if number is None:
        return complete[0]
    for t in study.get_trials(deepcopy=False):
        if t.number == number:
            if t.state != TrialState.COMPLETE:
                raise StudyError(
                    f"trial {number} is {t.state.name.lower()}, not complete: it has no model"
                )
            return t
    raise StudyError(f"study {spec.study.name!r} has no trial {number}")


def retrain_model(
    spec: Spec, catalog: Any, chosen: FrozenTrial, splits: Splits, verbose: int = 0
) -> tuple[Any, dict[str, Any]]:
    """Train the configuration of `chosen` again on train + validation for its best epoch count.

    The preprocessors are refit on train + validation (`build_model` fits them on the train part
    of the splits it is given). There is no early stopping: the epoch count is the one at which
    the trial scored best on validation. Returns the model and a summary for the model card.
    """
    from automl.space import TrialConfig
    from automl.trial import compile_model, fit_model, trial_seed

    stored = chosen.user_attrs.get("config")
    if not stored:
        raise ExportError(
            f"trial {chosen.number} did not record its configuration: it cannot be retrained"
        )
    config = TrialConfig.from_json(stored)
    epochs = int(
        chosen.user_attrs.get("best_epoch") or chosen.user_attrs.get("epochs") or config.epochs
    )
    merged = dataclasses.replace(
        splits,
        x_train=np.concatenate([splits.x_train, splits.x_val]),
        y_train=np.concatenate([splits.y_train, splits.y_val]),
    )
    started = time.perf_counter()
    model, _, callbacks = compile_model(config, merged, catalog, trial_seed(spec, chosen.number))
    history = fit_model(model, config, spec, merged, epochs, callbacks, verbose)
    losses = history.history.get("loss", [])
    if losses and not np.isfinite(losses[-1]):
        raise ExportError(
            f"retraining trial {chosen.number} diverged: the loss became {losses[-1]}"
        )
    return model, {
        "epochs": epochs,
        "train_rows": len(merged.x_train),
        "seconds": round(time.perf_counter() - started, 3),
        "final_loss": float(losses[-1]) if losses else None,
    }


def evaluation(
    y_true: np.ndarray, y_pred: np.ndarray, task: str, labels: list[str] | None
) -> dict[str, Any]:
    """scikit-learn scores on one split: confusion matrix, per-class precision/recall; or errors."""
    from sklearn import metrics

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
    dtype = "string" if np.asarray(splits.x_train).dtype.kind in "OUS" else "float32"
    schema: dict[str, Any] = dict(splits.schema)
    schema.update({"kind": schema.get("kind", kind), "shape": shape, "dtype": dtype})
    if splits.feature_names and len(shape) == 1 and len(splits.feature_names) == shape[0]:
        schema["feature_names"] = list(splits.feature_names)
    return schema


# --- formats: write, load back, predict -------------------------------------------------------


def _raw_predict(model: Any, x: np.ndarray) -> np.ndarray:
    from automl.trial import as_float_inputs

    return np.asarray(model.predict(as_float_inputs(x), batch_size=1024, verbose=0))


def _write_keras(model: Any, path: Path, x: np.ndarray) -> np.ndarray:
    model.save(path)
    return _raw_predict(load_keras_model(path), x)


def _write_saved_model(model: Any, path: Path, x: np.ndarray) -> np.ndarray:
    import tensorflow as tf  # TensorFlow-only format: imported lazily

    model.export(str(path), format="tf_saved_model", verbose=False)
    loaded = tf.saved_model.load(str(path))
    return np.asarray(loaded.serve(tf.constant(_feed(x))))


def _feed(x: np.ndarray) -> np.ndarray:
    """float32 for numeric models, str for text (categorical) inputs."""
    return x.astype("float32") if x.dtype.kind in "iufb" else x.astype(str)


def _write_onnx(model: Any, path: Path, x: np.ndarray) -> np.ndarray:
    """ONNX via a frozen TF graph, so preprocessing constants become initializers, not inputs.

    Keras' own `model.export(format="onnx")` hands tf2onnx a function whose captured constants
    (e.g. the mean and variance of a `Normalization` layer) end up as extra graph inputs that
    every caller would have to feed. Freezing the concrete function first turns them into
    constants inside the graph.
    """
    import keras

    try:
        import onnx
        import onnxruntime as ort
        import tf2onnx
    except ImportError as exc:
        raise ExportError(
            f"the onnx format needs the export extra: pip install 'automl-keras[export]' ({exc})"
        ) from exc
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf
        from tensorflow.python.framework.convert_to_constants import (
            convert_variables_to_constants_v2,
        )

        spec = tf.TensorSpec((None, *x.shape[1:]), tf.float32, name="inputs")
        concrete = tf.function(lambda t: model(t, training=False)).get_concrete_function(spec)
        frozen = convert_variables_to_constants_v2(concrete)
        tf_logger = tf.get_logger()
        level = tf_logger.level
        tf_logger.setLevel("ERROR")  # tf2onnx's own use of deprecated TF1 helpers
        try:
            model_proto, _ = tf2onnx.convert.from_graph_def(
                frozen.graph.as_graph_def(),
                input_names=[t.name for t in frozen.inputs],
                output_names=[t.name for t in frozen.outputs],
            )
        finally:
            tf_logger.setLevel(level)
        _rename_io(model_proto, "inputs", "outputs")
        onnx.save(model_proto, str(path))
    else:
        model.export(str(path), format="onnx", verbose=False)
    graph_inputs = [i.name for i in onnx.load(str(path)).graph.input]
    if len(graph_inputs) != 1:
        raise ExportError(
            "the ONNX graph must take the model input only (preprocessing constants belong inside "
            f"the graph). Received: graph inputs={graph_inputs}"
        )
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return np.asarray(session.run(None, {graph_inputs[0]: x.astype("float32")})[0])


def _rename_io(model_proto: Any, input_name: str, output_name: str) -> None:
    """Give the graph's single input and output plain names (tf2onnx keeps `inputs:0`)."""
    graph = model_proto.graph
    renames = {graph.input[0].name: input_name, graph.output[0].name: output_name}
    for node in graph.node:
        node.input[:] = [renames.get(n, n) for n in node.input]
        node.output[:] = [renames.get(n, n) for n in node.output]
    graph.input[0].name = input_name
    graph.output[0].name = output_name


def _write_tflite(model: Any, path: Path, x: np.ndarray) -> np.ndarray:
    import warnings

    import tensorflow as tf  # TensorFlow-only format: imported lazily

    model.export(str(path), format="litert", verbose=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf.lite.Interpreter's move-to-LiteRT notice
        interpreter = tf.lite.Interpreter(model_path=str(path))
    detail = interpreter.get_input_details()[0]
    interpreter.resize_tensor_input(detail["index"], x.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(detail["index"], _feed(x))
    interpreter.invoke()
    return np.asarray(interpreter.get_tensor(interpreter.get_output_details()[0]["index"]))


WRITERS = {
    "keras": _write_keras,
    "saved_model": _write_saved_model,
    "onnx": _write_onnx,
    "tflite": _write_tflite,
}


def tolerance(reference: np.ndarray) -> float:
    """Allowed max absolute difference: float32 round-off, scaled for regression in target units."""
    scale = float(np.max(np.abs(reference))) if reference.size else 1.0
    return 1e-4 * max(1.0, scale)


def write_format(
    fmt: str, model: Any, directory: Path, x: np.ndarray, reference: np.ndarray
) -> dict[str, Any]:
    """Write one format into `directory`, load it back and compare its predictions on `x`."""
    path = directory / FORMAT_FILES[fmt]
    started = time.perf_counter()
    try:
        got = WRITERS[fmt](model, path, x)
    except AutoMLError:
        raise
    except Exception as exc:
        raise ExportError(f"the {fmt} export failed: {type(exc).__name__}: {exc}") from exc
    got = got.reshape(reference.shape) if got.size == reference.size else got
    if got.shape != reference.shape:
        raise ExportError(
            f"the {fmt} file predicts the wrong shape: expected {reference.shape}. "
            f"Received: shape={got.shape}"
        )
    diff = float(np.max(np.abs(got.astype("float64") - reference))) if reference.size else 0.0
    allowed = tolerance(reference)
    if not diff <= allowed:
        raise ExportError(
            f"the {fmt} file does not reproduce the Keras model: max absolute difference "
            f"{diff:.3g} "
            f"on {len(x)} test rows exceeds {allowed:.3g}"
        )
    return {
        "path": FORMAT_FILES[fmt],
        "max_abs_diff": diff,
        "tolerance": allowed,
        "checked_rows": len(x),
        "seconds": round(time.perf_counter() - started, 3),
    }


# --- the artifact ------------------------------------------------------------------------------


def export_model(
    space: str | Path | Spec,
    out: str | Path,
    trial: int | None = None,
    storage: str | None = None,
    plugins: tuple[str, ...] = (),
    force: bool = False,
    retrain: bool = False,
    formats: str | Iterable[str] | None = None,
    verbose: int = 0,
) -> Path:
    """Write a verified artifact directory for the best (or the given) trial.

    Args:
        space: a YAML path or a loaded `Spec`.
        out: the directory to write.
        trial: the trial number to export. Defaults to `None` (the best trial).
        storage: an Optuna storage URL. Defaults to `None` (the study's journal file).
        plugins: local plugin modules or .py files.
        force: replace an existing `out`. Defaults to `False`.
        retrain: train the trial's configuration again on train + validation for its best
            epoch count, then evaluate on test. Defaults to `False` (the trial's own weights).
        formats: extra formats besides `keras` (`saved_model`, `onnx`, `tflite`, `all`).
            Defaults to `None` (`keras` only).
        verbose: Keras fit verbosity when retraining.
    """
    import keras

    from automl.trial import predict_output

    chosen_formats = parse_formats(formats)
    out = Path(out)
    if out.exists() and not force:
        raise ExportError(f"{out} already exists: pass --force to replace it")
    if isinstance(space, Spec):
        spec, catalog = space, load_catalog(space.plugins)
    else:
        spec, catalog = open_space(space, plugins)
    study = open_study(spec, storage, create=False)
    chosen = choose_trial(study, spec, trial)
    splits = load_splits(spec, catalog)
    metric = catalog["metric"].get(spec.study.metric)

    retrained: dict[str, Any] | None = None
    if retrain:
        model, retrained = retrain_model(spec, catalog, chosen, splits, verbose)
        # the retrained model has seen the validation split: its validation score would flatter it
        val_score = float(chosen.value) if chosen.value is not None else None
    else:
        ckpt = checkpoint_path(spec, chosen.number)
        if not ckpt.exists():
            raise ExportError(
                f"the checkpoint of trial {chosen.number} is not on this machine ({ckpt}); "
                "only the "
                f"top {spec.study.keep_checkpoints} trials keep one (study.keep_checkpoints). "
                "Pass --retrain to train its configuration again instead."
            )
        model = load_keras_model(ckpt)
        val_score = float(
            metric.score(splits.y_val, predict_output(model, splits.x_val, splits.task))
        )

    has_test = len(splits.x_test) > 0
    eval_x, eval_y = (splits.x_test, splits.y_test) if has_test else (splits.x_val, splits.y_val)
    eval_pred = predict_output(model, eval_x, splits.task)
    test_score = float(metric.score(splits.y_test, eval_pred)) if has_test else None
    check_x = np.asarray(eval_x[:CHECK_ROWS])
    text_only = {
        "onnx": "tf2onnx cannot convert the string ops",
        "tflite": "the string ops need TFLite's Flex delegate, which tf.lite.Interpreter lacks",
    }
    refused = [f for f in chosen_formats if f in text_only]
    if refused and check_x.dtype.kind not in "iufb":
        raise ExportError(
            f"{' and '.join(refused)} need numeric inputs and this model takes text "
            f"(categorical) columns: {'; '.join(text_only[f] for f in refused)}. Export "
            f"keras and saved_model instead. Received: formats={list(chosen_formats)}"
        )
    reference = _raw_predict(model, check_x).astype("float64")

    schema = input_schema(splits)
    card: dict[str, Any] = {
        "study": spec.study.name,
        "space_file": spec.path,
        "trial": chosen.number,
        "params": dict(chosen.params),
        "config": chosen.user_attrs.get("config"),
        "metric": spec.study.metric,
        "direction": spec.study.direction,
        "validation_score": val_score,
        "test_score": test_score,
        "retrained": retrained,
        "evaluation": {
            "split": "test" if has_test else "validation",
            **evaluation(eval_y, eval_pred, splits.task, splits.class_names),
        },
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
        "epochs": chosen.user_attrs.get("epochs"),
        "best_epoch": chosen.user_attrs.get("best_epoch"),
        "training_seconds": {
            "trial": chosen.user_attrs.get("train_seconds"),
            "retrain": retrained["seconds"] if retrained else None,
        },
        "plugins": plugins_used(chosen.user_attrs.get("config"), catalog, spec.study.metric),
        "keras_backend": keras.backend.backend(),
        "versions": package_versions(),
        "exported_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        card["formats"] = {
            fmt: write_format(fmt, model, tmp, check_x, reference) for fmt in chosen_formats
        }
        (tmp / "model.json").write_text(json.dumps(card, indent=2, default=str) + "\n")
        (tmp / "MODEL_CARD.md").write_text(model_card_markdown(card))
        _move_into_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _move_into_place(tmp: Path, out: Path) -> None:
    """Rename `tmp` to `out`; a replaced `out` (--force) is set aside first and deleted last."""
    old = None
    if out.exists() or out.is_symlink():
        old = out.with_name(f".{out.name}.replaced.{tmp.name}")
        out.rename(old)
    try:
        tmp.rename(out)
    except BaseException:
        if old is not None:
            old.rename(out)
        raise
    if old is not None:
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink()


def model_card_markdown(card: dict[str, Any]) -> str:
    """A short human-readable summary of `model.json`."""

    def num(v: Any) -> str:
        return f"{v:.4f}" if isinstance(v, float) else "-" if v is None else str(v)

    ev = card["evaluation"]
    schema = card["input_schema"]
    lines = [
        f"# Model card: {card['study']}, trial {card['trial']}",
        "",
        f"- Task: {card['task']}; data: {card['data']['name'] or '-'} "
        f"({card['data']['train_rows']} train / {card['data']['validation_rows']} validation / "
        f"{card['data']['test_rows']} test rows)",
        f"- Input: {schema['kind']}, shape {tuple(schema['shape'])}, {schema['dtype']}"
        + (
            f", columns {', '.join(schema['feature_names'][:12])}"
            + (" ..." if len(schema["feature_names"]) > 12 else "")
            if schema.get("feature_names")
            else ""
        ),
        f"- Validation {card['metric']}: {num(card['validation_score'])}; "
        f"test {card['metric']}: {num(card['test_score'])}",
    ]
    if card["retrained"]:
        r = card["retrained"]
        lines.append(
            f"- Retrained on train + validation ({r['train_rows']} rows) for {r['epochs']} epochs "
            f"in {r['seconds']:.1f}s; the validation score is the tuned trial's"
        )
    else:
        lines.append(
            f"- Weights of the tuned trial (trained {num(card['training_seconds']['trial'])}s)"
        )
    if card["class_labels"]:
        lines.append(f"- Classes: {', '.join(card['class_labels'])}")
    lines += ["", "## Parameters", ""]
    lines += [f"- `{k}`: {v}" for k, v in card["params"].items()] or ["- (none searched)"]
    lines += ["", f"## Evaluation on the {ev['split']} split", ""]
    if "per_class" in ev:
        lines += ["| class | precision | recall | support |", "|---|---|---|---|"]
        lines += [
            f"| {name} | {m['precision']:.3f} | {m['recall']:.3f} | {m['support']} |"
            for name, m in ev["per_class"].items()
        ]
        lines += ["", "Confusion matrix (rows: true class, columns: predicted) is in `model.json`."]
    else:
        lines.append(f"MAE {num(ev['mae'])}, RMSE {num(ev['rmse'])}, R2 {num(ev['r2'])}")
    lines += ["", "## Files", "", "| file | max abs difference vs Keras |", "|---|---|"]
    lines += [f"| `{f['path']}` | {f['max_abs_diff']:.2e} |" for f in card["formats"].values()]
    lines += [
        "",
        "Load with `automl.load(DIR).predict(x)` or `automl predict DIR INPUT`. "
        f"Keras backend {card['keras_backend']}; versions in `model.json`.",
        "",
    ]
    return "\n".join(lines)
