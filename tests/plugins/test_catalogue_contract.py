"""Contract tests over every registered component of each kind.

Each component's declared parameters and default ranges are valid, and each component that builds
Keras objects builds, trains one epoch on tiny data inside a real model through the core's
`run_trial`, and survives save + reload with identical predictions.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest

from automl.components import KINDS, TASKS, Param
from automl.data import Splits
from automl.errors import AutoMLError, SpecError
from automl.plugins import load_catalog
from automl.space import TrialConfig
from automl.spec import SLOT_KINDS, load_spec
from automl.trial import predict_output, run_trial

CATALOG = load_catalog()
METRIC_FOR = {
    "binary": "accuracy",
    "multiclass": "accuracy",
    "regression": "rmse",
    "forecast": "mae",
}
LOSS_FOR = {"binary": "crossentropy", "multiclass": "crossentropy", "regression": "mse"}
LOSS_FOR["forecast"] = "mse"
SOURCE_FOR = {"binary": "breast_cancer", "multiclass": "iris", "regression": "diabetes"}
SOURCE_FOR["forecast"] = "diabetes"  # never loaded here: `data.task` says forecast


def every(kind: str, slow: tuple[str, ...] = ()) -> list[Any]:
    marks = {name: pytest.mark.slow for name in slow}
    return [pytest.param(c, id=c.name, marks=marks.get(c.name, ())) for c in CATALOG[kind]]


# ------------------------------------------------------------------------- declared parameters
def check_param(p: Param) -> list[str]:
    problems = []
    if p.type not in ("int", "float", "categorical", "bool", "str", "list"):
        problems.append(f"{p.name}: unknown type {p.type!r}")
    if not p.help:
        problems.append(f"{p.name}: no help")
    why = p.check_value(p.default)
    if why and p.type != "str":
        problems.append(f"{p.name}: default {p.default!r}: {why}")
    if p.type == "str" and p.choices and p.default not in p.choices and p.default != "":
        problems.append(f"{p.name}: default {p.default!r} not in {p.choices}")
    if p.low is not None or p.high is not None:
        if p.low is None or p.high is None or p.low > p.high:
            problems.append(f"{p.name}: range ({p.low}, {p.high})")
        else:
            for bound in (p.low, p.high):
                why = p.check_value(int(bound) if p.type == "int" else bound)
                if why:
                    problems.append(f"{p.name}: range bound {bound}: {why}")
            if p.log and p.low <= 0:
                problems.append(f"{p.name}: log range needs low > 0")
    for choice in p.choices or ():
        why = p.check_value(choice)
        if why:
            problems.append(f"{p.name}: choice {choice!r}: {why}")
    return problems


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_declared_params_are_valid(kind: str) -> None:
    problems = []
    assert len(CATALOG[kind]) > 0
    for component in CATALOG[kind]:
        assert isinstance(component, KINDS[kind])
        if not component.help:
            problems.append(f"{component.name}: no help")
        if not set(component.tasks) <= set(TASKS):
            problems.append(f"{component.name}: tasks {component.tasks}")
        names = [p.name for p in component.params]
        if len(names) != len(set(names)):
            problems.append(f"{component.name}: duplicate params {names}")
        problems += [f"{component.name}.{msg}" for p in component.params for msg in check_param(p)]
    assert problems == []


def test_the_catalogue_is_complete() -> None:
    expected = {
        "data_source": {
            "sklearn",
            "csv",
            "npz",
            "image_folder",
            "keras",
            "text_folder",
            "timeseries",
        },
        "preprocessor": {
            "impute",
            "standardize",
            "min_max",
            "one_hot",
            "pca",
            "rescale",
            "augment",
            "text_vectorization",
        },
        "model_family": {
            "mlp",
            "cnn",
            "cnn1d",
            "simple_rnn",
            "lstm",
            "gru",
            "embedding_bag",
            "embedding_cnn",
            "embedding_rnn",
            "transformer",
            "pretrained",
        },
        "activation": {"sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "swish"},
        "loss": {"mse", "mae", "huber", "crossentropy", "focal"},
        "regularizer": {"none", "l1", "l2", "l1_l2", "dropout", "batch_norm", "gaussian_noise"},
        "optimizer": {"sgd", "momentum", "rmsprop", "adam", "adamw", "nadam"},
        "metric": {
            "accuracy",
            "balanced_accuracy",
            "precision",
            "recall",
            "f1",
            "f1_macro",
            "f1_micro",
            "f1_weighted",
            "precision_macro",
            "recall_weighted",
            "roc_auc",
            "log_loss",
            "mse",
            "rmse",
            "mae",
            "r2",
            "mape",
            "mase",
        },
    }
    for kind, names in expected.items():
        assert names <= set(CATALOG[kind].names()), kind


def test_every_default_space_validates(write_space: Any) -> None:
    """Naming every component with {} (its default ranges) gives a valid spec (the model
    families: every one that takes tabular rows; the others, token families included, are
    refused, each named)."""
    families = CATALOG["model_family"]
    # the families that take token ids need text: tests/test_text.py validates them
    tabular = [
        n
        for n in families.names()
        if families.get(n).input_ranks in (None, (1,)) and not families.get(n).takes_tokens
    ]
    other = sorted(set(families.names()) - set(tabular))
    with pytest.raises(SpecError) as refused:
        load_spec(
            {
                "data": {"source": {"sklearn": {"name": "iris"}}},
                "model": {name: {} for name in other},
            },
            catalog=CATALOG,
        )
    assert sorted(p.path for p in refused.value.problems) == [f"model.{n}" for n in other]
    data = {
        "data": {"source": {"sklearn": {"name": "breast_cancer"}}},
        "preprocessors": [{name: {}} for name in ("impute", "standardize", "pca")],
        "model": {name: {} for name in tabular},
        "activation": {name: {} for name in CATALOG["activation"].names()},
        "loss": {"crossentropy": {}, "focal": {}},
        "regularizers": [{name: {} for name in CATALOG["regularizer"].names()}],
        "optimizer": {name: {} for name in CATALOG["optimizer"].names()},
    }
    spec = load_spec(data, catalog=CATALOG)
    assert spec.data.task == "binary"
    assert len(spec.slot("optimizer").options) == len(CATALOG["optimizer"])


# ------------------------------------------------------------------------- tiny data and specs
def tiny_splits(shape: tuple[int, ...], task: str, nan: bool = False) -> Splits:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, *shape)).astype("float32")
    signal = x.reshape(len(x), -1)[:, :2].sum(axis=1)
    if task == "regression":
        y: np.ndarray = (3.0 * signal + 1.0).astype("float32")
        names = None
    elif task == "forecast":  # each row: a window of 5 values of one column; the next 2 values
        y, names = np.stack([signal, 2.0 * signal], axis=1).astype("float32"), None
    elif task == "binary":
        y, names = (signal > 0).astype("int64"), ["0", "1"]
    else:
        y, names = np.digitize(signal, [-0.5, 0.5]).astype("int64"), ["0", "1", "2"]
    if nan:
        x[::7, 0] = np.nan
    n = 32
    schema = {"window": shape[0], "columns": ["v"], "target_index": 0, "horizon": 2, "period": 1}
    splits = Splits(x[:n], y[:n], x[n:], y[n:], x[:0], y[:0], task, names)
    return dataclasses.replace(splits, schema=schema) if task == "forecast" else splits


WORDS = {1: "good great superb fine", 0: "bad awful dull poor"}


def tiny_text_splits() -> Splits:
    """48 short sentences (a (rows, 1) string matrix) whose words give the class."""
    rng = np.random.default_rng(0)
    y = (np.arange(48) % 2).astype("int64")
    words = {label: text.split() for label, text in WORDS.items()}
    x = np.asarray(
        [[f"the film was {' '.join(rng.choice(words[int(label)], size=3))}"] for label in y],
        dtype=object,
    )
    return Splits(x[:32], y[:32], x[32:], y[32:], x[:0], y[:0], "binary", ["0", "1"])


def tiny_spec(task: str) -> Any:
    data = {
        "study": {"metric": METRIC_FOR[task], "seed": 0},
        "data": {
            "source": {"sklearn": {"name": SOURCE_FOR[task]}},
            **({"task": task} if task == "forecast" else {}),
        },
        "training": {"epochs": 1, "batch_size": 16, "early_stopping": False},
        "model": {"mlp": {}},
        "loss": LOSS_FOR[task],
    }
    return load_spec(data, catalog=CATALOG)


SPECS = {task: tiny_spec(task) for task in TASKS}


def config(**slots: tuple[str, dict[str, Any]]) -> TrialConfig:
    base: dict[str, Any] = {
        "model": ("mlp", {"layers": 1, "units": 8, "dropout": 0.0}),
        "activation": ("relu", {}),
        "loss": ("crossentropy", {}),
        "optimizer": ("adam", {"learning_rate": 1e-2}),
    }
    base.update(slots)
    return TrialConfig.from_json(
        {
            "training": {"epochs": 1, "batch_size": 16},
            "slots": {k: {"name": n, "params": full(k, n, p)} for k, (n, p) in base.items()},
        }
    )


def full(key: str, name: str, params: dict[str, Any]) -> dict[str, Any]:
    """Every declared parameter, as the core passes them: the defaults, then `params`."""
    kind = SLOT_KINDS[key.split(".")[0]][0]
    return {**defaults(kind, name), **params}


def defaults(kind: str, name: str) -> dict[str, Any]:
    return CATALOG[kind].get(name).defaults()


def train_save_reload(cfg: TrialConfig, splits: Splits, tmp_path: Path) -> keras.Model:
    result = run_trial(cfg, SPECS[splits.task], splits, CATALOG)
    assert np.isfinite(result.score)
    assert result.epochs == 1
    path = tmp_path / "model.keras"
    result.model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    before = predict_output(result.model, splits.x_val, splits.task)
    after = predict_output(reloaded, splits.x_val, splits.task)
    np.testing.assert_allclose(after, before, rtol=1e-5, atol=1e-6)
    return reloaded


# ---------------------------------------------------------------------- one test per component
SMALL_MODEL = {
    "mlp": {"layers": 1, "units": 8, "dropout": 0.1},
    "cnn": {
        "blocks": 1,
        "filters": 4,
        "kernel_size": 3,
        "pooling": "max",
        "dense_units": 8,
        "dropout": 0.1,
    },
    "cnn1d": {"blocks": 1, "filters": 4, "kernel_size": 3, "pooling": "avg", "dropout": 0.1},
    "simple_rnn": {"units": 4, "layers": 2, "bidirectional": False, "dropout": 0.1},
    "lstm": {"units": 4, "layers": 1, "bidirectional": False, "dropout": 0.0},
    "gru": {"units": 4, "layers": 1, "bidirectional": True, "dropout": 0.0},
    # no download here: random initial weights; grey 6x6 inputs resized to the smallest size
    "pretrained": {"weights": None, "image_size": 32, "head_units": 8, "trainable_layers": 0},
    "embedding_bag": {"embedding_dim": 8, "units": 8},
    "embedding_cnn": {"embedding_dim": 8, "filters": 8, "blocks": 2},
    "embedding_rnn": {"embedding_dim": 8, "units": 4, "cell": "gru", "bidirectional": False},
    "transformer": {"embedding_dim": 8, "ff_units": 8, "blocks": 1},
}
#: a text preprocessor that outputs token ids, in front of the families that take them
TOKENS = ("text_vectorization", {"max_tokens": 50, "sequence_length": 8, "ngrams": 2})
SHAPE_FOR = {"cnn": (6, 6, 1), "cnn1d": (8, 2), "simple_rnn": (8, 2), "lstm": (8, 2), "gru": (8, 2)}
SHAPE_FOR["pretrained"] = (6, 6, 1)


@pytest.mark.parametrize("family", every("model_family", slow=("pretrained",)))
def test_model_family(family: Any, tmp_path: Path) -> None:
    params = {**family.defaults(), **SMALL_MODEL.get(family.name, {})}
    splits = tiny_splits(SHAPE_FOR.get(family.name, (5,)), "multiclass")
    slots: dict[str, Any] = {"model": (family.name, params)}
    if family.takes_tokens:  # raw text in, token ids through text_vectorization
        splits = tiny_text_splits()
        slots["preprocessors.0"] = (TOKENS[0], full("preprocessors", *TOKENS))
    if family.name == "cnn":  # the image-only preprocessors run here
        for i, name in enumerate(sorted(IMAGE_ONLY)):
            slots[f"preprocessors.{i}"] = (name, defaults("preprocessor", name))
    train_save_reload(config(**slots), splits, tmp_path)


@pytest.mark.parametrize("family", every("model_family"))
def test_model_family_checks_its_input_shape(family: Any) -> None:
    shape = SHAPE_FOR.get(family.name, (5,))
    assert family.check_input(shape) is None
    # the ranks it declares (what `automl validate` checks) are the ranks it takes
    assert family.input_ranks is None or len(shape) in family.input_ranks
    if family.name in SHAPE_FOR:  # image and sequence families reject tabular inputs
        assert family.input_ranks is not None
        assert 1 not in family.input_ranks
        problem = family.check_input((5,))
        assert problem is not None
        assert family.name in problem
        assert "got inputs of shape (5,) (tabular rows)" in problem


def test_cnn_on_tabular_data_fails_the_trial_clearly(tmp_path: Path) -> None:
    from automl.errors import TrialFailed

    cfg = config(model=("cnn", SMALL_MODEL["cnn"]))
    with pytest.raises(TrialFailed, match=r"cnn needs images .* got inputs of shape \(5,\)"):
        run_trial(cfg, SPECS["binary"], tiny_splits((5,), "binary"), CATALOG)


IMAGE_ONLY = {"augment"}  # preprocessors that need images; they run in the cnn test
TEXT_ONLY = {"text_vectorization"}  # it runs in the tests of the families that take tokens
SCHEDULES = ("constant", "exponential", "cosine", "plateau")


def round_robin() -> list[Any]:
    """Rows that together use every activation, regularizer, optimizer (with each LR schedule),
    tabular preprocessor and loss (for each task it fits) at least once: one tiny model per row
    instead of one per component keeps the suite fast."""
    acts = list(CATALOG["activation"])
    regs = list(CATALOG["regularizer"])
    opts = list(CATALOG["optimizer"])
    pres = [p for p in CATALOG["preprocessor"] if p.name not in IMAGE_ONLY | TEXT_ONLY]
    losses = [(loss, task) for loss in CATALOG["loss"] for task in loss.tasks]
    n = max(len(acts), len(regs), len(opts), len(pres), len(losses), len(SCHEDULES))
    rows = []
    for i in range(n):
        act, reg, opt = acts[i % len(acts)], regs[i % len(regs)], opts[i % len(opts)]
        pre, (loss, task) = pres[i % len(pres)], losses[i % len(losses)]
        schedule = SCHEDULES[i % len(SCHEDULES)]
        row_id = f"{act.name}-{reg.name}-{opt.name}:{schedule}-{pre.name}-{loss.name}:{task}"
        rows.append(pytest.param(act, reg, opt, schedule, pre, loss, task, id=row_id))
    return rows


@pytest.mark.parametrize(("act", "reg", "opt", "schedule", "pre", "loss", "task"), round_robin())
def test_components_build_train_and_reload(
    act: Any, reg: Any, opt: Any, schedule: str, pre: Any, loss: Any, task: str, tmp_path: Path
) -> None:
    splits = tiny_splits((5,), task, nan=pre.name == "impute")
    if pre.name == "one_hot":  # an integer column with 3 values becomes 3 one-hot columns
        for part in (splits.x_train, splits.x_val):
            part[:, 4] = np.arange(len(part)) % 3
    opt_params = opt.defaults()
    if "schedule" in opt_params:
        opt_params.update(schedule=schedule, decay_epochs=2, clipnorm=1.0)
    loss_params = loss.defaults()
    if "label_smoothing" in loss_params:
        loss_params["label_smoothing"] = 0.1
    cfg = config(
        activation=(act.name, act.defaults()),
        optimizer=(opt.name, opt_params),
        loss=(loss.name, loss_params),
        **{
            "regularizers.0": (reg.name, reg.defaults()),
            "preprocessors.0": (pre.name, pre.defaults()),
        },
    )
    train_save_reload(cfg, splits, tmp_path)


def test_every_component_is_in_a_round_robin_row() -> None:
    rows = [p.values for p in round_robin()]
    used = {
        kind: {row[i].name for row in rows}
        for i, kind in (
            (0, "activation"),
            (1, "regularizer"),
            (2, "optimizer"),
            (4, "preprocessor"),
            (5, "loss"),
        )
    }
    for kind, names in used.items():
        expected = set(CATALOG[kind].names()) - (
            IMAGE_ONLY | TEXT_ONLY if kind == "preprocessor" else set()
        )
        assert names == expected, kind
    assert {row[3] for row in rows} == set(SCHEDULES)


def test_regularizers_apply_to_recurrent_and_conv_layers(tmp_path: Path) -> None:
    regs = {
        "regularizers.0": ("l2", {"factor": 1e-3}),
        "regularizers.1": ("gaussian_noise", {"stddev": 0.1}),
    }
    model = train_save_reload(
        config(**regs, model=("lstm", SMALL_MODEL["lstm"])), tiny_splits((8, 2), "binary"), tmp_path
    )
    lstm = next(layer for layer in model.layers if type(layer).__name__ == "LSTM")
    assert type(lstm.cell.kernel_regularizer).__name__ == "L2"
    assert any(type(layer).__name__ == "GaussianNoise" for layer in model.layers)


def test_regularizers_combine(tmp_path: Path) -> None:
    cfg = config(
        **{
            "regularizers.0": ("l1_l2", defaults("regularizer", "l1_l2")),
            "regularizers.1": ("dropout", {"rate": 0.2}),
            "regularizers.2": ("batch_norm", {"momentum": 0.9}),
        },
    )
    model = train_save_reload(cfg, tiny_splits((5,), "binary"), tmp_path)
    kinds = {type(layer).__name__ for layer in model.layers}
    assert {"Dropout", "BatchNormalization"} <= kinds
    dense = next(layer for layer in model.layers if type(layer).__name__ == "Dense")
    assert type(dense.kernel_regularizer).__name__ == "L1L2"


@pytest.mark.parametrize("source", every("data_source"))
def test_data_source_declares_task_or_none(source: Any) -> None:
    """task() is cheap and never raises for its defaults when no file is involved."""
    if any(p.name == "path" for p in source.params):
        with pytest.raises(AutoMLError, match=r"needs `path`"):
            source.task(**source.defaults())
    else:
        assert source.task(**source.defaults()) in TASKS


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        ("constant", 0.08),
        ("exponential", 0.08 * 0.5**2),
        ("cosine", 0.08 * 0.5 * (1 + np.cos(np.pi * 2 / 4))),
    ],
)
def test_learning_rate_schedules_run_during_fit(schedule: str, expected: float) -> None:
    params = {
        **defaults("optimizer", "sgd"),
        "learning_rate": 0.08,
        "schedule": schedule,
        "decay_rate": 0.5,
        "decay_epochs": 1 if schedule == "exponential" else 4,
        "clipnorm": 0.5,
    }
    cfg = dataclasses.replace(config(optimizer=("sgd", params)), epochs=3)
    result = run_trial(cfg, SPECS["binary"], tiny_splits((5,), "binary"), CATALOG)
    optimizer = result.model.optimizer
    # the learning rate of the last epoch (index 2)
    assert float(optimizer.learning_rate) == pytest.approx(expected, rel=1e-5)
    assert optimizer.clipnorm == 0.5


def test_plateau_schedule_is_a_reduce_on_plateau_callback() -> None:
    opt = CATALOG["optimizer"].get("adam")
    (callback,) = opt.callbacks(**{**opt.defaults(), "schedule": "plateau", "decay_rate": 0.3})
    assert isinstance(callback, keras.callbacks.ReduceLROnPlateau)
    assert (callback.factor, callback.monitor, callback.patience) == (0.3, "val_loss", 2)
    assert opt.callbacks(**opt.defaults()) == []
