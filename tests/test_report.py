"""`automl report`: the HTML page of a study, built from real Optuna studies and opened in a real
headless Chromium (no network) that must render every figure without a JavaScript error.

The browser tests skip when selenium, chromium or chromedriver is missing, except under `CI=true`
(`.ci/run` installs them), where their absence fails.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import shutil
import textwrap
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState, create_trial

import automl

# the core's internals this file uses, in one place
from automl.leaderboard import leaderboard
from automl.report import (
    ReportError,
    _plots,
    build_report,
    read_card,
    report_for_space,
    trial_curves,
    write_report,
)

optuna.logging.set_verbosity(optuna.logging.ERROR)

PLOTLY_JS_BANNER = "* plotly.js v"  # the licence header that opens plotly.js, once per copy
EVIL = "ValueError: <b>bold</b> & <script>window.__pwned = 1</script>"
DIST = {"x": FloatDistribution(0.0, 1.0), "n": IntDistribution(1, 8)}


# --- studies built through Optuna's API (fast, no training) --------------------------------------


def _history(i: int) -> dict[str, list[float]]:
    return {
        "loss": [1.0, 0.6, 0.4 - i / 100],
        "val_loss": [1.1, 0.7, 0.5 - i / 100],
        "score": [0.3, 0.5, 0.5 + i / 20],
    }


def synthetic_study(complete: int = 5, with_params: bool = True) -> optuna.Study:
    """`complete` finished trials (with a `history`), one pruned and one failed (HTML in its
    reason), in memory."""
    study = optuna.create_study(direction="maximize", study_name="synth")
    dist = DIST if with_params else {}
    for i in range(complete):
        params = {"x": i / 5, "n": i + 1} if with_params else {}
        study.add_trial(
            create_trial(
                params=params,
                distributions=dist,
                value=0.5 + i / 20,
                user_attrs={"history": _history(i)},
            )
        )
    params = {"x": 0.9, "n": 2} if with_params else {}
    study.add_trial(
        create_trial(
            state=TrialState.PRUNED,
            params=params,
            distributions=dist,
            intermediate_values={0: 0.1, 1: 0.2},
            user_attrs={"pruned_reason": "pruned at epoch 2"},
        )
    )
    study.add_trial(
        create_trial(
            state=TrialState.FAIL,
            params=params,
            distributions=dist,
            user_attrs={"fail_reason": EVIL},
        )
    )
    return study


def multi_objective_study() -> optuna.Study:
    """Two objectives (accuracy up, latency down), six complete trials and one failed one."""
    study = optuna.create_study(directions=["maximize", "minimize"], study_name="multi")
    for i in range(6):
        study.add_trial(
            create_trial(
                params={"x": i / 6, "n": 1 + i % 3},
                distributions=DIST,
                values=[0.6 + i / 20, 1.0 + (i % 3) / 2],
                user_attrs={"history": _history(i)},
            )
        )
    study.add_trial(
        create_trial(
            state=TrialState.FAIL,
            params={"x": 0.5, "n": 1},
            distributions=DIST,
            user_attrs={"fail_reason": "TrialFailed: out of memory"},
        )
    )
    return study


def _rows(study: optuna.Study) -> list[dict[str, Any]]:
    """Leaderboard rows as the core makes them (single objective), by hand for several."""
    if len(study.directions) == 1:
        return leaderboard(study, study.direction.name.lower())
    return [
        {
            "rank": None,
            "trial": t.number,
            "score": t.values,
            "state": t.state.name.lower(),
            "epochs": None,
            "duration": None,
            "params": dict(t.params),
            "reason": t.user_attrs.get("fail_reason"),
        }
        for t in study.trials
    ]


def _report(study: optuna.Study, metrics: list[str] | None = None, **kw: Any) -> str:
    return build_report(
        study,
        title="Report <of> synth",
        metric_names=metrics or ["accuracy"],
        rows=_rows(study),
        **kw,
    )


class _Page(HTMLParser):
    """What the tests look at in a page: figure divs, table rows, section headings, notes."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.figures: list[str] = []
        self.rows: list[str] = []
        self.headings: list[str] = []
        self.notes: list[str] = []
        self.external: list[str] = []
        self._in: str | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "div" and "plotly-graph-div" in (a.get("class") or ""):
            self.figures.append(a["id"] or "")
        if tag == "tr" and "data-trial" in a:
            self.rows.append(a["data-trial"] or "")
        if tag in ("script", "link", "img", "iframe") and (a.get("src") or a.get("href")):
            self.external.append(f"{tag} {a.get('src') or a.get('href')}")
        if tag in ("h3", "p") and (tag == "h3" or a.get("class") == "note"):
            self._in = tag

    def handle_data(self, data: str) -> None:
        if self._in == "h3":
            self.headings.append(data)
        elif self._in == "p":
            self.notes.append(data)
        self._in = None


def _figure_count(text: str) -> int:
    match = re.search(r'<body data-figures="(\d+)">', text)
    assert match, "the page does not say how many figures it has"
    return int(match.group(1))


# --- the page, without a browser -----------------------------------------------------------------


def test_single_objective_page_has_every_section_and_plotly_js_once() -> None:
    study = synthetic_study()
    text = _report(study)
    page = _Page(text)
    assert page.headings == [
        "Optimization history",
        "Parameter importances",
        "Parallel coordinates",
        "Learning curves",
    ]
    assert page.figures == ["figure-1", "figure-2", "figure-3", "figure-4"]
    assert _figure_count(text) == 4
    # one table row per finished trial, the best first, failed and pruned after it
    assert page.rows == ["4", "3", "2", "1", "0", "6", "5"]
    assert text.count(PLOTLY_JS_BANNER) == 1
    assert page.external == []  # nothing loaded from anywhere: no CDN, no MathJax
    assert 4_000_000 < len(text.encode()) < 7_000_000  # plotly.js is ~4.8 MB; the rest is small
    assert "<title>Report &lt;of&gt; synth</title>" in text
    # the failure reason is text, escaped in the table and in the failures section
    assert "<script>window.__pwned" not in text
    escaped = (
        "ValueError: &lt;b&gt;bold&lt;/b&gt; &amp; &lt;script&gt;window.__pwned = 1&lt;/script&gt;"
    )
    assert text.count(escaped) == 2
    assert "<b>fail</b>: 1 trial (6)" in text
    assert "<b>pruned</b>: 1 trial (5): <span class=reason>pruned at epoch 2</span>" in text


def test_history_and_curves_plot_the_trials_values() -> None:
    study = synthetic_study()
    plots = dict(_plots(study, study.trials, ["accuracy"]))
    history = plots["Optimization history"]
    assert list(history.data[0].y) == [t.value for t in study.trials if t.value is not None]
    assert history.layout.yaxis.title.text == "accuracy"
    curves = plots["Learning curves"]
    # 5 complete trials x (loss, val_loss, score) + the pruned trial's score from its reports
    assert len(curves.data) == 5 * 3 + 1
    by_key = {(tr.name, tr.meta): list(tr.y) for tr in curves.data}
    assert by_key[("trial 2 (complete)", "val_loss")] == _history(2)["val_loss"]
    assert by_key[("trial 5 (pruned)", "score")] == [0.1, 0.2]
    assert curves.layout.annotations[1].text == "accuracy (validation)"


def test_importances_need_two_complete_trials() -> None:
    text = _report(synthetic_study(complete=1))
    page = _Page(text)
    assert "Needs at least 2 complete trials (found 1) to estimate importances." in page.notes
    assert "Parameter importances" in page.headings
    assert _figure_count(text) == len(page.figures) == 3  # history, parallel, curves


def test_importances_and_parallel_need_a_searched_parameter() -> None:
    text = _report(synthetic_study(complete=3, with_params=False))
    page = _Page(text)
    assert (
        "Needs a parameter searched by every complete trial (none is) to estimate importances."
        in page.notes
    )
    assert "No parameter." in page.notes
    assert _figure_count(text) == len(page.figures) == 2  # history, curves


def test_conditional_parameters_count_only_when_every_trial_has_them() -> None:
    study = optuna.create_study(direction="minimize")
    for i, family in enumerate(["cnn", "mlp", "cnn"]):
        key = f"model.{family}.units"
        study.add_trial(
            create_trial(
                params={"model": family, key: 8 + i},
                distributions={
                    "model": CategoricalDistribution(["cnn", "mlp"]),
                    key: IntDistribution(4, 16),
                },
                value=float(i),
            )
        )
    plots = dict(_plots(study, study.trials, ["rmse"]))
    importances = plots["Parameter importances"]
    assert list(importances.data[0].y) == ["model"]  # model.*.units is not in every trial


def test_importances_of_equal_scores_are_a_note() -> None:
    study = optuna.create_study()
    for i in range(3):
        study.add_trial(
            create_trial(params={"x": i / 3}, distributions={"x": DIST["x"]}, value=1.0)
        )
    plots = dict(_plots(study, study.trials, ["loss"]))
    assert plots["Parameter importances"] == (
        "Importances could not be estimated: RuntimeError: "
        "Encountered zero total variance in all trees."
    )


def test_empty_study_has_notes_and_no_plotly_js() -> None:
    study = optuna.create_study(study_name="empty")
    text = build_report(study, title="empty", metric_names=["loss"], rows=[])
    page = _Page(text)
    assert page.figures == [] and _figure_count(text) == 0
    assert PLOTLY_JS_BANNER not in text and len(text) < 20_000
    assert "No finished trial yet." in page.notes
    assert "No per-epoch values." in page.notes
    assert "No failed or pruned trial." in page.notes


def test_multi_objective_page_plots_the_pareto_front_and_the_first_objective() -> None:
    study = multi_objective_study()
    text = _report(study, ["accuracy", "latency"])
    page = _Page(text)
    assert page.headings == [
        "Optimization history",
        "Parameter importances",
        "Parallel coordinates",
        "Pareto front",
        "Learning curves",
    ]
    assert _figure_count(text) == len(page.figures) == 5
    plots = dict(_plots(study, study.trials, ["accuracy", "latency"]))
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    history = plots["Optimization history"]
    assert list(history.data[0].y) == [t.values[0] for t in complete]
    assert history.layout.yaxis.title.text == "accuracy"
    pareto = plots["Pareto front"]
    assert (pareto.layout.xaxis.title.text, pareto.layout.yaxis.title.text) == (
        "accuracy",
        "latency",
    )
    best = {t.number for t in study.best_trials}
    assert f"Pareto-optimal trials: {', '.join(str(n) for n in sorted(best))}" in text
    assert "<th>accuracy</th><th>latency</th>" in text


def test_metric_names_must_match_the_objectives() -> None:
    with pytest.raises(ReportError, match=r"2 objective\(s\) \(maximize, minimize\).*got 1"):
        _report(multi_objective_study(), ["accuracy"])


def test_trial_curves_read_history_else_reported_scores() -> None:
    with_history = create_trial(
        value=0.5, user_attrs={"history": {"loss": [1.0, float("nan")], "score": [0.1, 0.5]}}
    )
    assert trial_curves(with_history) == {"loss": [1.0, None], "score": [0.1, 0.5]}
    reported = create_trial(value=0.5, intermediate_values={0: 0.2, 2: 0.4})
    assert trial_curves(reported) == {"score": [0.2, None, 0.4]}
    garbage = create_trial(value=0.5, user_attrs={"history": {"loss": ["a"], "score": "x"}})
    assert trial_curves(garbage) == {}


def test_card_section_shows_the_model_and_warns_of_another_study() -> None:
    card = {
        "study": "other",
        "trial": 3,
        "metric": "accuracy",
        "validation_score": 0.91234,
        "test_score": 0.875,
        "params": {"model.mlp.units": 12, "optimizer": "<adam>"},
        "task": "multiclass",
        "data": {"name": "iris", "train_rows": 90, "validation_rows": 30, "test_rows": 30},
    }
    text = _report(synthetic_study(complete=2), card=card)
    assert "<h2>Exported model</h2>" in text
    assert "Validation accuracy: 0.9123; test accuracy: 0.8750" in text
    assert "(90 train / 30 validation / 30 test rows)" in text
    assert "<code>optimizer</code>=&lt;adam&gt;" in text
    assert "This model card is of study other, not of the study of this report (synth)." in text


def test_write_report_replaces_atomically(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "report.html"
    assert write_report("<p>one</p>", out) == out
    write_report("<p>two</p>", out)
    assert out.read_text() == "<p>two</p>"
    assert sorted(p.name for p in out.parent.iterdir()) == ["report.html"]  # no temp file left
    assert out.stat().st_mode & 0o777 == 0o644
    with pytest.raises(ReportError, match=r"expected a file path .* but it is a directory"):
        write_report("<p/>", tmp_path)


def test_read_card_errors(tmp_path: Path) -> None:
    assert read_card(tmp_path, required=False) is None
    with pytest.raises(
        ReportError, match=r"expected the output of `automl export`.*does not exist"
    ):
        read_card(tmp_path, required=True)
    (tmp_path / "model.json").write_text("{not json")
    with pytest.raises(ReportError, match=r"model.json: expected the JSON model card"):
        read_card(tmp_path, required=False)
    (tmp_path / "model.json").write_text("[1]")
    with pytest.raises(ReportError, match=r"expected a JSON object, but found list"):
        read_card(tmp_path, required=False)


# --- a real study, a real browser ----------------------------------------------------------------

TINY = """
study:
  name: report-iris
  metric: accuracy
  trials: 4
  sampler: {random: {}}
  pruner: none
  seed: 0
data:
  source: {sklearn: {name: iris}}
  folds: 1
preprocessors: [standardize]
model: {mlp: {layers: 1, units: {low: 4, high: 16}}}
optimizer: {adam: {learning_rate: {low: 0.01, high: 0.1, log: true}}}
training: {epochs: 3, batch_size: 8}
"""


@pytest.fixture(scope="module")
def tuned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A tuned 4-trial iris study plus one failed trial added through Optuna, its best model
    exported to `runs/report-iris/best`; yields the space file."""
    root = tmp_path_factory.mktemp("report")
    space = root / "space.yaml"
    space.write_text(textwrap.dedent(TINY).lstrip())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AUTOML_RUNS_DIR", str(root / "runs"))
        result = automl.tune(str(space), trials=4, progress=False)
        first = result.study.trials[0]
        result.study.add_trial(
            create_trial(
                state=TrialState.FAIL,
                params=first.params,
                distributions=first.distributions,
                user_attrs={"fail_reason": EVIL},
            )
        )
        automl.export_model(str(space), str(root / "runs" / "report-iris" / "best"))
        yield space


@pytest.mark.slow
def test_report_for_space_takes_out_and_model_dir(
    tuned: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTOML_RUNS_DIR", str(tuned.parent / "runs"))
    best = tuned.parent / "runs" / "report-iris" / "best"
    out = report_for_space(str(tuned), str(tmp_path / "r.html"), None, (), model_dir=str(best))
    assert out == tmp_path / "r.html"
    assert "<h2>Exported model</h2>" in out.read_text()
    with pytest.raises(ReportError, match=r"model directory .*nowhere: expected the output"):
        report_for_space(str(tuned), str(out), None, (), model_dir=str(tmp_path / "nowhere"))


def _need_browser() -> tuple[str, str]:
    """Chromium and chromedriver paths; skip without them (fail under CI=true)."""
    missing = []
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the Python package selenium (pip install -e '.[dev]')")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if chromium is None:
        missing.append("Debian's chromium (apt-get install chromium)")
    if driver is None:
        missing.append("chromedriver (apt-get install chromium-driver)")
    if missing:
        message = "the browser tests need " + ", ".join(missing)
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; CI installs them in .ci/run, so here it is an error")
        pytest.skip(message)
    assert chromium is not None and driver is not None
    return chromium, driver


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium that cannot resolve any host: a page that needs the network fails."""
    chromium, driver_path = _need_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--window-size=1280,1600",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    yield driver
    driver.quit()


RENDERED = """return [...document.querySelectorAll('.js-plotly-plot')]
    .filter(e => e.querySelector('svg.main-svg')).map(e => e.id)"""


def _open(browser: Any, page: Path) -> list[str]:
    """Load `page`, wait for the figures it announces, return the ids of the rendered ones."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get_log("browser")  # drop what an earlier page logged
    browser.get(page.resolve().as_uri())
    expected = int(browser.execute_script("return document.body.dataset.figures"))
    with contextlib.suppress(TimeoutException):  # the caller's assertion says what rendered
        WebDriverWait(browser, 20).until(lambda d: len(d.execute_script(RENDERED)) >= expected)
    return browser.execute_script(RENDERED)


def _severe(browser: Any) -> list[str]:
    return [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]


@pytest.mark.slow
def test_report_of_a_tuned_study_renders_in_chromium(
    tuned: Path, browser: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from selenium.webdriver.common.by import By

    runs = tuned.parent / "runs"
    monkeypatch.setenv("AUTOML_RUNS_DIR", str(runs))
    out = report_for_space(str(tuned), None, None, ())
    assert out == runs / "report-iris" / "report.html"
    text = out.read_text()
    assert text.count(PLOTLY_JS_BANNER) == 1

    rendered = _open(browser, out)
    assert _severe(browser) == []
    # history, importances, parallel coordinates, learning curves: all four render
    assert rendered == ["figure-1", "figure-2", "figure-3", "figure-4"]
    assert browser.execute_script("return document.body.dataset.figures") == "4"
    assert browser.execute_script("return window.__pwned === undefined")

    rows = browser.find_elements(By.CSS_SELECTOR, "tbody tr")
    assert [r.get_attribute("data-trial") for r in rows][-1] == "4"  # 4 complete, then the failure
    assert len(rows) == 5
    assert EVIL in rows[-1].text  # shown as text, not run
    card = browser.find_element(By.CSS_SELECTOR, "ul.card").text
    exported = json.loads((runs / "report-iris" / "best" / "model.json").read_text())
    assert f"Trial {exported['trial']} of study report-iris" in card
    assert f"Validation accuracy: {exported['validation_score']:.4f}" in card

    # the score curve of each trial is what it reported to Optuna at each epoch
    traces = browser.execute_script(
        "return document.getElementById('figure-4').data.map(t => [t.name, t.meta, t.y])"
    )
    scores = {name: y for name, meta, y in traces if meta == "score"}
    study = optuna.load_study(
        study_name="report-iris",
        storage=optuna.storages.JournalStorage(
            optuna.storages.journal.JournalFileBackend(str(runs / "report-iris" / "journal.log"))
        ),
    )
    for trial in study.trials:
        if trial.state == TrialState.COMPLETE:
            reported = [trial.intermediate_values[s] for s in sorted(trial.intermediate_values)]
            assert scores[f"trial {trial.number} (complete)"] == reported
            assert len(reported) == 3 and all(math.isfinite(v) for v in reported)


def test_multi_objective_report_renders_the_pareto_front_in_chromium(
    browser: Any, tmp_path: Path
) -> None:
    out = write_report(
        _report(multi_objective_study(), ["accuracy", "latency"]), tmp_path / "r.html"
    )
    rendered = _open(browser, out)
    assert _severe(browser) == []
    assert len(rendered) == 5
    axes = browser.execute_script(
        "const l = document.getElementById('figure-4').layout;"
        "return [l.xaxis.title.text, l.yaxis.title.text]"
    )
    assert axes == ["accuracy", "latency"]
