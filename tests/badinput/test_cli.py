"""Bad command lines and studies that cannot run as asked: usage errors exit 2 before the space
is read; a study where no trial completed exits 8."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from badinput_util import Case, Outcome, check

from automl.errors import NO_TRIAL_COMPLETED_EXIT

SPACE = """
study: {name: cli, trials: 1}
data: {source: {sklearn: {name: iris}}}
training: {epochs: 1}
model: {mlp: {layers: 1, units: 4}}
"""
BROKEN = """
from automl import hookimpl
from automl.components import BaseModelFamily


class Broken(BaseModelFamily):
    name = "broken"
    help = "Raises while building."

    def build(self, inputs, ctx, **params):
        raise RuntimeError("cannot be built")


@hookimpl
def register_model_families(register):
    register(Broken())
"""
FILES = {"space.yaml": SPACE}


def usage(id: str, argv: tuple[str, ...], place: str, says: str) -> Case:
    return Case(id, argv, 2, place, says, FILES)


CASES = [
    usage(
        "trials_zero",
        ("tune", "space.yaml", "--trials", "0"),
        "--trials",
        r"expected a whole number >= 1, got '0'",
    ),
    usage(
        "trials_negative",
        ("tune", "space.yaml", "--trials", "-3"),
        "--trials",
        r"expected a whole number >= 1, got '-3'",
    ),
    usage(
        "trials_not_a_number",
        ("tune", "space.yaml", "--trials", "many"),
        "--trials",
        r"got 'many'",
    ),
    usage(
        "trials_fraction",
        ("tune", "space.yaml", "--trials", "1.5"),
        "--trials",
        r"got '1.5'",
    ),
    usage(
        "worker_trials_zero",
        ("worker", "space.yaml", "--trials", "0"),
        "--trials",
        r"expected a whole number >= 1",
    ),
    usage(
        "timeout_zero",
        ("tune", "space.yaml", "--timeout", "0"),
        "--timeout",
        r"expected a positive duration, got '0'",
    ),
    usage(
        "timeout_negative",
        ("tune", "space.yaml", "--timeout=-5m"),
        "--timeout",
        r"got '-5m'",
    ),
    usage(
        "timeout_unit",
        ("tune", "space.yaml", "--timeout", "5q"),
        "--timeout",
        r"expected a duration such as 90, '90s', '20m' or '1h', got '5q'",
    ),
    usage("unknown_command", ("tunee", "space.yaml"), "tunee", r"invalid choice"),
    Case(
        "trials_of_a_study_never_run",
        ("trials", "space.yaml"),
        4,
        "'cli'",
        r"no study named 'cli' in the storage yet: run `automl tune` first",
        FILES,
    ),
    Case(
        "export_of_a_study_never_run",
        ("export", "space.yaml", "--out", "best"),
        4,
        "'cli'",
        r"no study named 'cli'",
        FILES,
    ),
    Case(
        "predict_without_input",
        ("predict", "best", "nope.csv"),
        7,
        "best",
        r"is not an exported model: expected model.json",
        FILES,
    ),
    Case(
        "bad_heartbeat_setting",
        ("tune", "space.yaml", "--no-progress"),
        1,
        "AUTOML_HEARTBEAT_INTERVAL",
        r"must be a whole number of seconds. Received: AUTOML_HEARTBEAT_INTERVAL='soon'",
        FILES,
        {"AUTOML_HEARTBEAT_INTERVAL": "soon"},
    ),
    Case(
        "every_trial_failed",
        ("tune", "space.yaml", "--no-progress"),
        NO_TRIAL_COMPLETED_EXIT,
        "'cli'",
        r"no trial of study 'cli' completed",
        {
            "space.yaml": SPACE.replace("mlp: {layers: 1, units: 4}", "broken: {}")
            + "plugins: [broken.py]\n",
            "broken.py": BROKEN,
        },
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_bad_command_line_is_refused_with_its_place(
    case: Case, run_automl: Callable[[Case], Outcome]
) -> None:
    check(case, run_automl(case))


def test_every_trial_failed_still_prints_the_reasons_and_the_leaderboard(
    run_automl: Callable[[Case], Outcome],
) -> None:
    outcome = run_automl(CASES[-1])
    assert "trial 0 failed: TrialFailed: model family 'broken'" in outcome.err
    assert "RuntimeError: cannot be built" in outcome.err
    assert "fail" in outcome.out.splitlines()[-1]
