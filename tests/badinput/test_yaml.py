"""Bad search-space files: each is refused by `automl validate` with its line and path."""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from badinput_util import Case, Outcome, check

from automl.errors import SpecError
from automl.spec import load_spec
from automl.storage import open_study

GOOD = """
study:
  name: bad
  trials: 2
data:
  source: {sklearn: {name: iris}}
model:
  mlp: {}
"""

DIGITS_CNN = GOOD.replace("{name: iris}", "{name: digits}").replace("mlp: {}", "cnn: {}")
ALIAS_BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [{', '.join([f'*{p}'] * 10)}]\n"
    for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)


def space(text: str) -> dict[str, str]:
    return {"space.yaml": text}


def validate(id: str, files: dict[str, str | bytes], code: int, place: str, says: str) -> Case:
    return Case(id, ("validate", "space.yaml"), code, place, says, files)


CASES = [
    validate("syntax", space("study: {name: x\n"), 2, "space.yaml", r"YAML syntax error"),
    validate("tab", space("study:\n\tname: x\n"), 2, "line 2", r"YAML syntax error"),
    validate(
        "duplicate_key",
        space(GOOD + "model:\n  mlp: {}\n"),
        2,
        "line 8",
        r"model: duplicate key",
    ),
    validate(
        "python_tag",
        space("study: !!python/object/apply:os.system ['echo owned']\n"),
        2,
        "line 1",
        r"unsupported YAML tag.*no Python tags",
    ),
    validate(
        "not_utf8",
        {"space.yaml": b"study:\n  name: caf\xe9\n"},
        2,
        "line 2",
        r"expected UTF-8 text, got the byte 0xe9",
    ),
    validate("alias_bomb", space(ALIAS_BOMB), 2, "space.yaml", r"nodes"),
    validate("deep_nesting", space("a: " + "[" * 20_000), 2, "line 1", r"nesting at most"),
    validate(
        "too_large", space("# " + "x" * 1_100_000 + "\n"), 2, "space.yaml", r"under 1,000,000"
    ),
    Case(
        "space_is_a_folder",
        ("validate", "folder"),
        2,
        "folder",
        r"expected a YAML file, got a directory",
        {"folder/x.txt": "x"},
    ),
    Case("space_missing", ("validate", "nope.yaml"), 2, "nope.yaml", r"(not found|No such)"),
    validate("empty_file", space(""), 2, "space.yaml", r"data: required key is missing"),
    validate("top_level_list", space("- a\n- b\n"), 2, "space.yaml", r"expected a mapping"),
    validate(
        "unknown_top_key",
        space(GOOD + "trainig: {epochs: 2}\n"),
        2,
        "line 8",
        r"unknown key 'trainig'; did you mean 'training'",
    ),
    validate(
        "misspelled_study_key",
        space(GOOD.replace("trials: 2", "trails: 2")),
        2,
        "line 3",
        r"study\.trails: unknown key 'trails'; did you mean 'trials'",
    ),
    validate(
        "unknown_model",
        space(GOOD.replace("mlp: {}", "mpl: {}")),
        2,
        "line 7",
        r"unknown model family 'mpl'; did you mean 'mlp'",
    ),
    validate(
        "low_above_high",
        space(GOOD.replace("mlp: {}", "mlp: {units: {low: 64, high: 8}}")),
        2,
        "model.mlp.units",
        r"`low <= high` must hold, but got \(low=64, high=8\)",
    ),
    validate(
        "step_does_not_divide",
        space(GOOD.replace("mlp: {}", "mlp: {units: {low: 8, high: 30, step: 8}}")),
        2,
        "model.mlp.units",
        r"step",
    ),
    validate(
        "validation_plus_test",
        space(GOOD.replace("  source:", "  validation: 0.6\n  test: 0.5\n  source:")),
        2,
        "data",
        r"validation \+ test",
    ),
    validate(
        "zero_trials",
        space(GOOD.replace("trials: 2", "trials: 0")),
        2,
        "study.trials",
        r"expected a value > 0, got 0",
    ),
    validate(
        "bad_timeout",
        space(GOOD.replace("trials: 2", "trials: 2\n  timeout: 5q")),
        2,
        "study.timeout",
        r"expected a duration",
    ),
    validate(
        "negative_timeout",
        space(GOOD.replace("trials: 2", "trials: 2\n  timeout: -5")),
        2,
        "study.timeout",
        r"positive duration",
    ),
    validate(
        "escaping_study_name",
        space(GOOD.replace("name: bad", "name: ../escaped")),
        2,
        "study.name",
        r"letters, digits",
    ),
    validate(
        "unknown_sampler",
        space(GOOD.replace("trials: 2", "trials: 2\n  sampler: tpee")),
        2,
        "study.sampler",
        r"unknown sampler 'tpee'; did you mean 'tpe'",
    ),
    validate(
        "unknown_sampler_option",
        space(GOOD.replace("trials: 2", "trials: 2\n  sampler: {tpe: {n_startup: 3}}")),
        2,
        "study.sampler.tpe.n_startup",
        r"unknown key 'n_startup'",
    ),
    validate(
        "unknown_metric",
        space(GOOD.replace("trials: 2", "trials: 2\n  metric: acuracy")),
        2,
        "study.metric",
        r"unknown metric 'acuracy'; did you mean 'accuracy'",
    ),
    validate(
        "metric_does_not_fit_the_task",
        space(GOOD.replace("trials: 2", "trials: 2\n  metric: rmse")),
        2,
        "study.metric",
        r"'rmse' does not fit a multiclass task",
    ),
    validate(
        "loss_does_not_fit_the_task",
        space(GOOD + "loss: mse\n"),
        2,
        "loss.mse",
        r"'mse' does not fit a multiclass task",
    ),
    validate(
        "batch_size_zero",
        space(GOOD + "training: {batch_size: 0}\n"),
        2,
        "training.batch_size",
        r"expected a value in \[1, inf\], got 0",
    ),
    validate(
        "wrong_parameter_type",
        space(GOOD.replace("mlp: {}", "mlp: {units: many}")),
        2,
        "model.mlp.units",
        r"expected an integer",
    ),
    validate(
        "unknown_parameter",
        space(GOOD.replace("mlp: {}", "mlp: {unit: 8}")),
        2,
        "model.mlp.unit",
        r"has no parameter 'unit'; did you mean 'units'",
    ),
    validate(
        "searched_data_source_parameter",
        space(GOOD.replace("{name: iris}", "{name: [iris, wine]}")),
        2,
        "data.source.sklearn.name",
        r"cannot be searched",
    ),
    validate(
        "unknown_activation",
        space(GOOD + "activation: rellu\n"),
        2,
        "activation",
        r"unknown activation 'rellu'; did you mean 'relu'",
    ),
    validate(
        "regularizer_and_regularizers",
        space(GOOD + "regularizer: l2\nregularizers: [dropout]\n"),
        2,
        "regularizers",
        r"either `regularizer`",
    ),
    validate(
        "early_stopping_monitor",
        space(GOOD + "training: {early_stopping: {monitor: acc}}\n"),
        2,
        "training.early_stopping.monitor",
        r"expected score, val_loss or loss",
    ),
    validate(
        "missing_model", space(GOOD.replace("model:\n  mlp: {}\n", "")), 2, "model", r"required"
    ),
    validate("missing_data", space("model: {mlp: {}}\n"), 2, "data", r"required key is missing"),
    validate(
        "lstm_on_tabular_data",
        space(GOOD.replace("mlp: {}", "lstm: {}")),
        2,
        "model.lstm",
        r"lstm needs sequences \(timesteps, features\); the data gives tabular rows",
    ),
    validate(
        "cnn_after_a_flattening_step",
        space(DIGITS_CNN + "preprocessors: [pca]\n"),
        2,
        "model.cnn",
        r"cnn needs images \(height, width, channels\); the data gives tabular rows",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_bad_search_space_is_refused_with_its_place(
    case: Case, run_automl: Callable[[Case], Outcome]
) -> None:
    check(case, run_automl(case))


def test_a_changed_seed_does_not_resume_on_another_split(
    run_automl: Callable[[Case], Outcome], tmp_path: Path
) -> None:
    """The seed sets the data split: a study begun with seed 0 refuses seed 1."""
    (tmp_path / "space.yaml").write_text(GOOD.replace("trials: 2", "trials: 2\n  seed: 0"))
    open_study(load_spec(tmp_path / "space.yaml"))  # begun, no trial run yet
    case = Case(
        "changed_seed",
        ("tune", "space.yaml", "--no-progress"),
        4,
        "seed: was 0, now 1",
        r"changed since it began",
        {"space.yaml": GOOD.replace("trials: 2", "trials: 2\n  seed: 1")},
    )
    check(case, run_automl(case))


@pytest.mark.parametrize("text", [ALIAS_BOMB, "a: " + "[" * 20_000, "a: " + "{b: " * 20_000])
def test_hostile_yaml_is_refused_fast_and_small(text: str, tmp_path: Path) -> None:
    """Well under a second and under 100 MB, whatever the file does."""
    path = tmp_path / "hostile.yaml"
    path.write_text(text)
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(SpecError):
        load_spec(path)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 1.0
    assert peak < 100 * 2**20
