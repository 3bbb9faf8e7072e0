"""Best trial -> a self-contained artifact directory: `model.keras` + `model.json`.

The model takes raw inputs (the fitted preprocessing layers are inside it). The directory is
written to a temporary sibling and moved into place only once complete.
"""

from __future__ import annotations

import datetime as _dt
import json
import platform
import re
import shutil
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from optuna.trial import FrozenTrial, TrialState

from automl.errors import StudyError
from automl.spec import Spec, load_spec
from automl.study import checkpoint_path, load_splits, open_study, ranked


def package_versions() -> dict[str, str]:
    """Versions of the packages that matter for reloading a model."""
    out = {"python": platform.python_version()}
    for dist in ("automl-keras", "keras", "tensorflow", "optuna", "numpy", "scikit-learn", "jax", "torch"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return out


def plugins_used(config: dict[str, Any] | None, catalog: Any) -> list[dict[str, Any]]:
    """The plugins that supplied the components of `config`, with their distributions.

    Recorded in `model.json` so that loading the model where a plugin is missing can name the
    package to install.
    """
    if not config:
        return []
    from automl.spec import SLOT_KINDS

    seen: dict[str, dict[str, Any]] = {}
    for key, chosen in config.get("slots", {}).items():
        kind = SLOT_KINDS[key.split(".")[0]][0]
        if chosen["name"] not in catalog[kind]:
            continue
        owner = catalog[kind].owner(chosen["name"])
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
        entry["components"].append(f"{kind}:{chosen['name']}")
    return list(seen.values())


_MISSING_CLASS = re.compile(r"registered_name'?:\s*'([\w.]+)>([\w.]+)'")


def load_keras_model(path: str | Path, card: dict[str, Any] | None = None) -> Any:
    """Load a `.keras` file in safe mode; a custom class whose plugin is missing names the package."""
    import keras

    try:
        return keras.saving.load_model(path, safe_mode=True)
    except (TypeError, ValueError) as exc:
        text = str(exc)
        if "Could not locate" not in text and "registered_name" not in text:
            raise
        match = _MISSING_CLASS.search(text)
        package = match.group(1) if match else None
        needed = [
            p for p in (card or {}).get("plugins", []) if p.get("source") != "built-in"
        ]
        hint = ", ".join(
            f"{p['distribution'] or p['plugin']}" + (f"=={p['version']}" if p.get("version") else "")
            for p in needed
        )
        what = f"the custom Keras object package {package!r}" if package else "a custom Keras object"
        raise StudyError(
            f"{path} uses {what} that is not registered here: install the plugin that provides it"
            + (f" ({hint})" if hint else "")
            + " and make sure it is not disabled (AUTOML_DISABLE_PLUGINS, AUTOML_NO_ENTRY_POINTS)."
        ) from exc


def choose_trial(study: Any, spec: Spec, number: int | None) -> FrozenTrial:
    """The best complete trial, or trial `number` (which must be complete)."""
    complete = ranked(study, spec.study.direction)
    if not complete:
        raise StudyError(f"study {spec.study.name!r} has no finished trial to export yet: run `automl tune` first")
    if number is None:
        return complete[0]
    for t in study.get_trials(deepcopy=False):
        if t.number == number:
            if t.state != TrialState.COMPLETE:
                raise StudyError(f"trial {number} is {t.state.name.lower()}, not complete: it has no model")
            return t
    raise StudyError(f"study {spec.study.name!r} has no trial {number}")


def export_model(
    space: str | Path | Spec,
    out: str | Path,
    trial: int | None = None,
    storage: str | None = None,
    plugins: tuple[str, ...] = (),
    force: bool = False,
) -> Path:
    """Write `out/model.keras` and `out/model.json` for the best (or the given) trial."""
    import keras

    from automl.trial import predict_output

    spec = space if isinstance(space, Spec) else load_spec(space, plugins)
    assert spec.catalog is not None
    out = Path(out)
    if out.exists() and not force:
        raise StudyError(f"{out} already exists: pass --force to replace it")
    study = open_study(spec, storage, create=False)
    chosen = choose_trial(study, spec, trial)
    ckpt = checkpoint_path(spec, chosen.number)
    if not ckpt.exists():
        raise StudyError(
            f"the checkpoint of trial {chosen.number} is not on this machine ({ckpt}); only the top "
            f"{spec.study.keep_checkpoints} trials keep one (study.keep_checkpoints)"
        )
    model = load_keras_model(ckpt)
    splits = load_splits(spec, spec.catalog)
    metric = spec.catalog["metric"].get(spec.study.metric)
    val_score = float(metric.score(splits.y_val, predict_output(model, splits.x_val, splits.task)))
    test_score = None
    if len(splits.x_test):
        test_score = float(metric.score(splits.y_test, predict_output(model, splits.x_test, splits.task)))
    card = {
        "study": spec.study.name,
        "space_file": spec.path,
        "trial": chosen.number,
        "params": dict(chosen.params),
        "config": chosen.user_attrs.get("config"),
        "metric": spec.study.metric,
        "direction": spec.study.direction,
        "validation_score": val_score,
        "test_score": test_score,
        "task": splits.task,
        "input_shape": list(splits.input_shape),
        "input_dtype": str(np.asarray(splits.x_train).dtype),
        "class_labels": splits.class_names,
        "feature_names": splits.feature_names,
        "input_schema": splits.schema,
        "epochs": chosen.user_attrs.get("epochs"),
        "plugins": plugins_used(chosen.user_attrs.get("config"), spec.catalog),
        "keras_backend": keras.backend.backend(),
        "versions": package_versions(),
        "exported_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        shutil.copy2(ckpt, tmp / "model.keras")
        (tmp / "model.json").write_text(json.dumps(card, indent=2, default=str) + "\n")
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
