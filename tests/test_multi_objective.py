"""A real two-objective study with a constraint, end to end: the objective's values, the front,
the leaderboard, `automl trials --pareto`, export of a chosen point and the report.

One study (iris, accuracy vs parameter count, 8 trials of 1 epoch) is tuned once for the module
(half a minute on 2 busy cores: marked slow);
the parameter count of a one-layer MLP on iris is 4u + u + 3u + 3 = 8u + 3 for u units, an
independent check of the `params` measure.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from optuna.trial import TrialState
from study_util import tune_space

from automl.cli import main
from automl.errors import ExportError, StudyError
from automl.export import export_model
from automl.leaderboard import leaderboard, pareto_front
from automl.spec import load_spec
from automl.storage import open_study

SPACE = """
study:
  name: pareto
  metric: [accuracy, params]
  constraints: {params: {max: 300}}
  trials: 8
  sampler: random
  seed: 0
  keep_checkpoints: 1
data: {source: {sklearn: {name: iris}}, test: 0.2}
training: {epochs: 1, batch_size: 16, early_stopping: false}
model:
  mlp: {layers: 1, units: {low: 4, high: 64, log: true}, dropout: 0.0}
optimizer:
  adam: {learning_rate: 0.05}
"""
MAX_PARAMS = 300
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def space(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tune_space(tmp_path_factory.mktemp("pareto"), SPACE)[0]


@pytest.fixture
def study(space: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("AUTOML_RUNS_DIR", str(space.parent / "runs"))
    return open_study(load_spec(str(space)), create=False)


def _dominates(a: list[float], b: list[float]) -> bool:
    """accuracy is maximized, params minimized."""
    no_worse = a[0] >= b[0] and a[1] <= b[1]
    return no_worse and (a[0] > b[0] or a[1] < b[1])


def test_each_trial_returns_both_objectives_and_its_constraint(study) -> None:  # type: ignore[no-untyped-def]
    assert [d.name for d in study.directions] == ["MAXIMIZE", "MINIMIZE"]
    assert study.metric_names == ["accuracy", "params"]  # what optuna-dashboard shows
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    assert len(complete) == 8
    for t in complete:
        units = t.params["model.mlp.units"]
        assert t.values[1] == 8 * units + 3
        assert t.user_attrs["metrics"] == {"accuracy": t.values[0], "params": t.values[1]}
        assert t.constraints == {"params": t.values[1] - MAX_PARAMS}
        assert t.intermediate_values == {}  # Optuna cannot prune several objectives
        assert len(t.user_attrs["history"]["score"]) == 1  # the accuracy of every epoch
    infeasible = [t for t in complete if t.values[1] > MAX_PARAMS]
    assert infeasible and len(infeasible) < len(complete)  # the seed gives both kinds
    for t in infeasible:
        assert t.user_attrs["infeasible"] == (
            f"violates study.constraints: params {t.values[1]:g} > max {MAX_PARAMS}"
        )


def test_the_front_is_the_non_dominated_feasible_trials(study) -> None:  # type: ignore[no-untyped-def]
    feasible = [
        t for t in study.trials if t.state == TrialState.COMPLETE and t.values[1] <= MAX_PARAMS
    ]
    brute_force = {
        t.number for t in feasible if not any(_dominates(o.values, t.values) for o in feasible)
    }
    front = pareto_front(study)
    assert {t.number for t in front} == brute_force == {t.number for t in study.best_trials}
    assert [t.values[0] for t in front] == sorted((t.values[0] for t in front), reverse=True)
    rows = leaderboard(study)
    assert {r["trial"] for r in rows if r["rank"] == 1} == brute_force
    assert {r["trial"] for r in rows if r["state"] == "infeasible"} == {
        t.number for t in study.trials if t.values and t.values[1] > MAX_PARAMS
    }
    assert all(r["rank"] is None for r in rows if r["state"] == "infeasible")
    ranks = [r["rank"] for r in rows if r["rank"] is not None]
    assert ranks == sorted(ranks)  # front 1 first, then front 2, ...


def test_every_point_of_the_front_keeps_its_checkpoint(space: Path, study) -> None:  # type: ignore[no-untyped-def]
    kept = {int(p.name) for p in (space.parent / "runs" / "pareto" / "trials").iterdir()}
    front = {t.number for t in pareto_front(study)}
    assert len(front) > 1  # more than keep_checkpoints: 1
    assert kept == front  # the top trial is on the front; dominated ones were deleted


def test_trials_pareto_shows_the_front_with_both_objectives(
    space: Path, study, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    assert main(["trials", str(space), "--pareto"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["rank", "trial", "accuracy", "params"]
    shown = [int(line.split()[1]) for line in lines[1:]]
    assert shown == [t.number for t in pareto_front(study)]
    assert main(["trials", str(space), "--pareto", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [set(r["values"]) for r in rows] == [{"accuracy", "params"}] * len(shown)


def test_export_needs_a_point_of_the_front(
    space: Path, study, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    assert main(["export", str(space), "--out", str(tmp_path / "best")]) == 4
    err = capsys.readouterr().err
    assert err.startswith(
        "error: study 'pareto' has 2 objectives (accuracy (maximize), params (minimize)), so no "
        "single best trial: choose a point of its Pareto front with --trial N:\n"
    )
    listed = [line for line in err.splitlines() if line.startswith("  trial ")]
    assert [int(line.split()[1].rstrip(":")) for line in listed] == [
        t.number for t in pareto_front(study)
    ]
    assert not (tmp_path / "best").exists()


def test_export_refuses_an_infeasible_trial_and_exports_a_chosen_point(
    space: Path, study, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    bad = next(t for t in study.trials if t.values and t.values[1] > MAX_PARAMS)
    with pytest.raises(StudyError, match=rf"^trial {bad.number} violates study\.constraints: "):
        export_model(str(space), tmp_path / "bad", trial=bad.number)
    point = pareto_front(study)[-1]  # the smallest model of the front
    card = json.loads(
        (
            export_model(str(space), tmp_path / "point", trial=point.number) / "model.json"
        ).read_text()
    )
    assert card["trial"] == point.number
    assert card["metrics"] == ["accuracy", "params"]
    assert card["validation_values"] == {"accuracy": point.values[0], "params": point.values[1]}
    assert card["validation_score"] == pytest.approx(point.values[0])
    assert card["evaluation"]["objectives"]["params"] == point.values[1]
    assert card["evaluation"]["objectives"]["accuracy"] == card["test_score"]
    # 5 folds (data.folds: auto on iris), but params is measured: one refit, not 5x the params
    assert card["data"]["folds"] == 5 and card["export"]["kind"] == "single"
    assert card["parameters"]["total"] == point.values[1]
    with pytest.raises(ExportError, match=r"--ensemble would multiply what params measured"):
        export_model(str(space), tmp_path / "ensemble", ensemble=2)


def test_the_report_plots_the_front(space: Path, study) -> None:  # type: ignore[no-untyped-def]
    from automl.report import report_for_space

    html = report_for_space(str(space), None, None, ()).read_text()
    section = html.split("<h3>Pareto front</h3>", 1)[1].split("</section>", 1)[0]
    assert 'class="plotly-graph-div"' in section  # a figure, not a note
    point = pareto_front(study)[0]
    row = html.split(f'data-trial="{point.number}">', 1)[1].split("</tr>", 1)[0]
    assert f"<td>{point.values[0]:.4f}</td><td>{point.values[1]:.4f}</td>" in row  # both shown
    assert "Pareto-optimal trials: " + ", ".join(str(t.number) for t in study.best_trials) in html
