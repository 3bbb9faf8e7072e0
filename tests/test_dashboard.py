"""`automl dashboard`: the real optuna-dashboard on a study's journal; clear errors otherwise."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import optuna
import pytest
from optuna.distributions import IntDistribution

from automl.cli import main
from automl.spec import load_spec
from automl.storage import open_study

SPACE = """
study: {name: dash, metric: accuracy}
data: {source: {sklearn: {name: iris}}}
model: {mlp: {units: {low: 8, high: 64}}}
"""


def _study_with_a_trial(space: Path) -> None:
    """The study of `space` in its journal, with one complete trial (no training needed)."""
    study = open_study(load_spec(space))
    study.add_trial(
        optuna.trial.create_trial(
            params={"model.mlp.units": 16},
            distributions={"model.mlp.units": IntDistribution(8, 64)},
            value=0.9,
        )
    )


def test_without_optuna_dashboard_it_says_how_to_install_it(
    write_space, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "optuna_dashboard", None)
    assert main(["dashboard", str(write_space(SPACE))]) == 1
    assert capsys.readouterr().err == (
        "error: `automl dashboard` needs optuna-dashboard, which is not installed: "
        "pip install 'automl-keras[dashboard]' (or pip install optuna-dashboard)\n"
    )


def test_a_study_that_was_never_tuned_is_refused(
    write_space, runs_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dashboard", str(write_space(SPACE))]) == 4
    journal = runs_dir / "dash" / "journal.log"
    assert capsys.readouterr().err == (
        f"error: study 'dash' has no journal at {journal} yet: run `automl tune` first\n"
    )
    assert not journal.parent.exists()  # nothing created on the way


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get_json(url: str, deadline: float) -> dict:  # type: ignore[type-arg]
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return json.loads(response.read())  # type: ignore[no-any-return]
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


@pytest.mark.slow
def test_the_real_dashboard_serves_the_study_on_localhost(write_space) -> None:
    space = write_space(SPACE)
    _study_with_a_trial(space)
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "automl.cli", "dashboard", str(space), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        studies = _get_json(f"{base}/api/studies", time.monotonic() + 120)["study_summaries"]
        assert [(s["study_name"], s["directions"]) for s in studies] == [("dash", ["maximize"])]
        detail = _get_json(f"{base}/api/studies/{studies[0]['study_id']}", time.monotonic() + 10)
        assert [(t["number"], t["values"], t["state"]) for t in detail["trials"]] == [
            (0, [0.9], "Complete")
        ]
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=30)
    assert f"optuna-dashboard on http://127.0.0.1:{port}/dashboard/ (Ctrl-C to stop)" in out
