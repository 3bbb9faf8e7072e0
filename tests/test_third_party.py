"""The example third-party package, pip-installed for real: discovered, tunable, exported, reloaded.

pip installs `examples/automl-resmlp` into a private `--target` directory that this module puts on
`sys.path` (and on `PYTHONPATH` for subprocesses): the same files and entry point metadata as an
install into the venv, without changing what the rest of the suite sees.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import yaml

from automl.cli import main
from automl.errors import SpecError
from automl.plugins import load_catalog

pytestmark = pytest.mark.slow  # builds and pip-installs a package

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "automl-resmlp"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """`pip install` the example package into a private directory put on sys.path."""
    root = tmp_path_factory.mktemp("third_party")
    source = root / "src"
    shutil.copytree(
        EXAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__")
    )
    target = root / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.syspath_prepend(str(target))
        mp.delenv("AUTOML_DISABLE_PLUGINS", raising=False)
        mp.delenv("AUTOML_NO_ENTRY_POINTS", raising=False)
        yield target


def _env(site: Path, **extra: str) -> dict[str, str]:
    """The environment of a subprocess that sees the installed example, with no AUTOML_ switch."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("AUTOML_") or k == "AUTOML_RUNS_DIR"
    }
    env.update(PYTHONPATH=os.pathsep.join([str(site), str(REPO)]), **extra)
    return env


def test_installed_package_is_discovered(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    catalog = load_catalog()
    info = catalog.plugins["resmlp"]
    assert (info.source, info.distribution, info.version) == (
        "entry point",
        "automl-resmlp",
        "0.1.0",
    )
    assert info.location == "automl_resmlp.plugin"
    assert info.hooks == ["register_losses", "register_metrics", "register_model_families"]
    assert [(c.kind, c.name) for c in catalog.components_of("resmlp")] == [
        ("model_family", "resmlp"),
        ("loss", "poly1"),
        ("metric", "g_mean"),
    ]
    assert main(["plugins", "--json"]) == 0
    row = next(r for r in json.loads(capsys.readouterr().out) if r["name"] == "resmlp")
    family = next(c for c in row["components"] if c["name"] == "resmlp")
    assert {p["name"]: p["range"] for p in family["params"]}["units"] == {
        "low": 16,
        "high": 128,
        "log": True,
    }
    assert main(["plugins"]) == 0
    assert (
        "resmlp  [entry point, automl-resmlp 0.1.0]  automl_resmlp.plugin"
        in capsys.readouterr().out
    )


def test_disabling_the_package_hides_its_components(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from automl_resmlp import SPACE

    from automl.spec import load_spec

    monkeypatch.setenv("AUTOML_DISABLE_PLUGINS", "resmlp")
    with pytest.raises(SpecError, match=r"unknown model family 'resmlp'; did you mean 'mlp'\?"):
        load_spec(SPACE)


def test_example_components_pass_the_contract(site: Path) -> None:
    import automl_resmlp.plugin as plugin

    from automl.testing import check_component, collect_components

    components = collect_components(plugin)
    assert len(components) == 3
    for component in components:
        check_component(component)


def test_example_package_runs_its_own_contract_tests(site: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            str(EXAMPLE / "tests" / "test_contract.py"),
        ],
        env=_env(site),
        capture_output=True,
        text=True,
        cwd=site.parent,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "6 passed" in result.stdout


def test_two_trials_export_and_reload(site: Path, tmp_path: Path, runs_dir: Path) -> None:
    from automl_resmlp import SPACE

    from automl.data import load_splits
    from automl.export import export_model
    from automl.serving import load_keras_model
    from automl.spec import open_space
    from automl.study import tune
    from automl.trial import predict_output

    data = yaml.safe_load(SPACE.read_text())
    data["training"]["epochs"] = 1
    # one hold-out: the export is the tuned trial's own checkpoint, so it must give back the
    # card's validation score exactly (a bag of fold models is scored by its estimate instead)
    data["data"]["folds"] = 1
    space = tmp_path / "wine_resmlp.yaml"
    space.write_text(yaml.safe_dump(data))
    spec, catalog = open_space(space, plugins=("automl_resmlp.jsonl_logger",))
    result = tune(spec, trials=2, progress=False, catalog=catalog)
    assert [r["state"] for r in result.leaderboard] == ["complete", "complete"]
    assert spec.study.metric == "g_mean" and spec.study.direction == "maximize"
    lines = (runs_dir / "wine-resmlp" / "trials.jsonl").read_text().splitlines()
    assert [json.loads(line)["state"] for line in lines] == ["complete", "complete"]

    out = export_model(spec, tmp_path / "best")
    card = json.loads((out / "model.json").read_text())
    used = {p["plugin"]: p for p in card["plugins"]}
    assert used["resmlp"]["distribution"] == "automl-resmlp"
    assert used["resmlp"]["version"] == "0.1.0"
    assert "model_family:resmlp" in used["resmlp"]["components"]
    assert "metric:g_mean" in used["resmlp"]["components"]

    model = load_keras_model(out / "model.keras", card)
    splits = load_splits(spec, catalog)
    probs = predict_output(model, splits.x_val, splits.task)
    metric = catalog["metric"].get("g_mean")
    assert metric.score(splits.y_val, probs) == pytest.approx(card["validation_score"], abs=1e-9)
    np.save(tmp_path / "x_val.npy", splits.x_val)
    np.save(tmp_path / "probs.npy", probs)

    # One fresh process: without its plugins the error names the missing package; once the
    # installed plugins are loaded (which registers the package's Keras classes), it reloads.
    script = (
        "import json, os, numpy as np\n"
        "from automl.plugins import load_catalog\n"
        "from automl.serving import load_keras_model\n"
        "from automl.errors import AutoMLError\n"
        "from automl.trial import predict_output\n"
        f"out = {str(out)!r}\n"
        "card = json.load(open(out + '/model.json'))\n"
        "os.environ['AUTOML_NO_ENTRY_POINTS'] = '1'\n"
        "load_catalog()\n"
        "try:\n"
        "    load_keras_model(out + '/model.keras', card)\n"
        "except AutoMLError as exc:\n"
        "    print('ERROR', exc)\n"
        "del os.environ['AUTOML_NO_ENTRY_POINTS']\n"
        "load_catalog()\n"
        "model = load_keras_model(out + '/model.keras', card)\n"
        f"x = np.load({str(tmp_path / 'x_val.npy')!r})\n"
        f"np.save({str(tmp_path / 'fresh.npy')!r}, predict_output(model, x, card['task']))\n"
    )
    fresh = subprocess.run(
        [sys.executable, "-c", script], env=_env(site), capture_output=True, text=True
    )
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr[-3000:]
    assert "ERROR" in fresh.stdout, fresh.stdout
    assert "custom Keras object package 'automl_resmlp'" in fresh.stdout
    assert "(automl-resmlp==0.1.0)" in fresh.stdout
    np.testing.assert_allclose(np.load(tmp_path / "fresh.npy"), probs, rtol=1e-5, atol=1e-6)
