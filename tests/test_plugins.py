"""Plugin discovery, isolation and control, with real distributions on sys.path and real trials.

Installed plugins are simulated the way pip leaves them (see `plugin_util.make_dist`).
"""

from __future__ import annotations

import json
import textwrap
import warnings
from pathlib import Path

import pytest
from plugin_util import GOOD, IRIS_SPACE, LOCAL, fake_site, make_dist

from automl.cli import main
from automl.describe import describe_plugins, format_plugins
from automl.errors import PluginError, SpecError
from automl.plugins import load_catalog


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh directory on sys.path for fake installed distributions."""
    return fake_site(tmp_path, monkeypatch)


# ------------------------------------------------------------------------------ discovery
def test_builtins_are_plugins_with_origin_and_hooks(catalog) -> None:  # type: ignore[no-untyped-def]
    models = catalog.plugins["automl_plugins.models"]
    assert models.source == "built-in" and models.distribution == "automl-keras"
    assert models.hooks == ["register_model_families"]
    assert catalog["model_family"].owner("mlp") == "automl_plugins.models"


def test_entry_point_plugin_is_found_with_distribution_and_version(site: Path) -> None:
    make_dist(site, "automl-sq", "sq", "automl_fake_sq", GOOD.format(name="sq_loss"))
    catalog = load_catalog()
    info = catalog.plugins["sq"]
    assert (info.source, info.distribution, info.version) == ("entry point", "automl-sq", "0.3.1")
    assert info.hooks == ["on_study_end", "register_losses"]
    assert catalog["loss"].owner("sq_loss") == "sq"
    row = next(r for r in describe_plugins(catalog) if r["name"] == "sq")
    (comp,) = row["components"]
    assert comp["params"][0] == {
        "name": "scale",
        "type": "float",
        "default": 1.0,
        "range": {"low": 0.5, "high": 2.0},
        "bounds": None,
        "choices": None,
        "help": "Multiplier.",
    }
    assert "loss sq_loss (regression): Squared error" in format_plugins([row])


def test_switches_disable_one_or_all_entry_points(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_dist(site, "automl-sw", "sw", "automl_fake_sw", GOOD.format(name="sw_loss"))
    assert "sw_loss" in load_catalog()["loss"]
    for env, value in [
        ("AUTOML_DISABLE_PLUGINS", "other, sw"),
        ("AUTOML_DISABLE_PLUGINS", "automl_sw"),  # the distribution name works too
        ("AUTOML_NO_ENTRY_POINTS", "1"),
    ]:
        with monkeypatch.context() as m:
            m.setenv(env, value)
            catalog = load_catalog()
            assert "sw" not in catalog.plugins and "sw_loss" not in catalog["loss"]
    assert "sw_loss" not in load_catalog(entry_points=False)["loss"]


def test_a_builtin_can_be_disabled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOML_DISABLE_PLUGINS", "automl_plugins.optimizers")
    catalog = load_catalog(entry_points=False)
    assert len(catalog["optimizer"]) == 0 and len(catalog["loss"]) > 0


def test_disabled_plugins_are_blocked_in_pluggy_and_never_imported(
    site: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    make_dist(site, "automl-off", "off", "automl_fake_off", "raise ImportError('not imported')")
    (tmp_path / "tiny_plugin.py").write_text(textwrap.dedent(LOCAL))
    monkeypatch.setenv("AUTOML_DISABLE_PLUGINS", "automl-off,automl_plugins.metrics,tiny_plugin.py")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the broken module would warn if it were imported
        catalog = load_catalog([str(tmp_path / "tiny_plugin.py")])
    assert sorted(catalog.blocked) == ["automl_plugins.metrics", "off", "tiny_plugin.py"]
    assert all(catalog.pm.is_blocked(name) for name in catalog.blocked)
    assert not set(catalog.blocked) & set(catalog.plugins)
    assert len(catalog["metric"]) == 0 and "tiny" not in catalog["model_family"]
    assert catalog.blocked["off"].distribution == "automl-off"
    import automl_plugins.metrics as metrics

    assert catalog.pm.register(metrics, name="automl_plugins.metrics") is None  # pluggy refuses


# ------------------------------------------------------------------------------ isolation
def test_plugin_that_fails_to_import_is_reported_and_the_rest_loads(
    site: Path, write_space, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    make_dist(
        site,
        "automl-broken",
        "brokenplug",
        "automl_fake_broken",
        "raise ImportError('needs libfoo')",
    )
    with pytest.warns(RuntimeWarning) as record:
        catalog = load_catalog()
    message = str(record[0].message)
    assert message == (
        "plugin 'brokenplug' from distribution 'automl-broken' failed to import: ImportError: "
        "needs libfoo. Disable it with AUTOML_DISABLE_PLUGINS=brokenplug "
        "(or AUTOML_NO_ENTRY_POINTS=1 to skip all installed plugins), "
        "or uninstall it with `pip uninstall automl-broken`."
    )
    assert [p.name for p in catalog.broken()] == ["brokenplug"]
    assert "mlp" in catalog["model_family"]

    path = write_space(IRIS_SPACE.format(name="b", extra="", model="{wide_net: {}}"))
    with (
        pytest.warns(RuntimeWarning),
        pytest.raises(
            SpecError,
            match=r"unknown model family 'wide_net'.*plugins that failed to load: brokenplug",
        ),
    ):
        from automl.spec import load_spec

        load_spec(path)

    with pytest.warns(RuntimeWarning):
        assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "brokenplug  [entry point, automl-broken 0.3.1]" in out
    assert "FAILED: plugin 'brokenplug' from distribution 'automl-broken' failed to import" in out


def test_plugin_that_raises_while_registering_is_skipped_whole(site: Path) -> None:
    make_dist(
        site,
        "automl-halfway",
        "halfway",
        "automl_fake_halfway",
        GOOD.format(name="half_loss")
        + "\n@hookimpl\ndef register_metrics(register):\n    raise KeyError('config missing')\n",
    )
    with pytest.warns(
        RuntimeWarning,
        match=r"plugin 'halfway' from distribution 'automl-halfway' failed in register_metrics: "
        r"KeyError: 'config missing'\. Disable it",
    ):
        catalog = load_catalog()
    assert "half_loss" not in catalog["loss"]  # nothing of a broken plugin is half-registered
    assert catalog.pm.get_plugin("halfway") is None  # nor do its lifecycle hooks run
    assert catalog.plugins["halfway"].error


def test_misspelled_hook_is_an_error_naming_plugin_and_closest_hook(site: Path) -> None:
    make_dist(
        site,
        "automl-typo",
        "typo",
        "automl_fake_typo",
        "from automl import hookimpl\n@hookimpl\ndef register_model_family(register): pass\n",
    )
    with pytest.raises(
        PluginError,
        match=r"plugin 'typo' \(entry point of automl-typo 0.3.1\) has a @hookimpl "
        r"'register_model_family' that matches no automl hook; did you mean "
        r"'register_model_families'\? Disable it with AUTOML_DISABLE_PLUGINS=typo",
    ):
        load_catalog()


def test_duplicate_component_names_both_plugins(site: Path) -> None:
    make_dist(site, "automl-dup", "dup", "automl_fake_dup", GOOD.format(name="mse"))
    with pytest.raises(
        PluginError,
        match=r"duplicate loss 'mse': registered by plugin 'automl_plugins.losses' and by plugin "
        r"'dup'.*plugin 'automl_plugins.losses' \(built-in of automl-keras.*plugin 'dup' "
        r"\(entry point of automl-dup 0.3.1\)",
    ):
        load_catalog()


def test_installed_plugin_with_bad_hook_arguments_is_skipped(site: Path) -> None:
    make_dist(
        site,
        "automl-args",
        "args",
        "automl_fake_args",
        "from automl import hookimpl\n@hookimpl\ndef on_trial_end(trial, run): pass\n",
    )
    with pytest.warns(
        RuntimeWarning,
        match=r"plugin 'args' \(entry point of automl-args 0.3.1\) has an invalid @hookimpl "
        r"on_trial_end\(trial, run\): argument\(s\) run are not provided by the hook",
    ):
        catalog = load_catalog()
    assert catalog.pm.get_plugin("args") is None and catalog.plugins["args"].error


# ------------------------------------------------------------------------------ local plugins
def test_local_plugin_from_cli_option_and_from_yaml(write_space, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from automl.spec import load_spec, open_space

    (tmp_path / "tiny_plugin.py").write_text(textwrap.dedent(LOCAL))
    path = write_space(IRIS_SPACE.format(name="loc", extra="", model="{tiny: {}}"))
    with pytest.raises(SpecError, match="unknown model family 'tiny'"):
        load_spec(path)
    _, catalog = open_space(path, plugins=(str(tmp_path / "tiny_plugin.py"),))
    assert catalog["model_family"].owner("tiny") == "tiny_plugin.py"
    assert catalog.plugins["tiny_plugin.py"].source == "local"

    path = write_space(
        IRIS_SPACE.format(name="loc", extra="plugins: [tiny_plugin.py]", model="{tiny: {}}")
    )
    _, catalog = open_space(path)  # the relative path is resolved against the YAML file's folder
    assert catalog.plugins["tiny_plugin.py"].location == str(
        (tmp_path / "tiny_plugin.py").resolve()
    )


def test_local_plugin_by_module_name(site: Path, write_space) -> None:  # type: ignore[no-untyped-def]
    from automl.spec import open_space

    (site / "automl_fake_local_mod.py").write_text(textwrap.dedent(LOCAL))
    path = write_space(
        IRIS_SPACE.format(name="mod", extra="plugins: [automl_fake_local_mod]", model="tiny")
    )
    _, catalog = open_space(path)
    assert catalog["model_family"].owner("tiny") == "automl_fake_local_mod"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("1 / 0\n", r"plugin file .*bad.py failed to import: ZeroDivisionError: division by zero"),
        (
            "from automl import hookimpl\n@hookimpl\ndef on_trial_ended(trial):\n    pass\n",
            r"plugin 'bad.py' \(local .*bad.py\) has a @hookimpl 'on_trial_ended' that matches no "
            r"automl hook; did you mean 'on_trial_end'\?",
        ),
        (
            "from automl import hookimpl\n@hookimpl\ndef on_trial_end(trial, study):\n    pass\n",
            r"plugin 'bad.py' \(local .*\) has an invalid @hookimpl on_trial_end\(trial, study\): "
            r"argument\(s\) study are not provided by the hook on_trial_end\(trial\)",
        ),
        (
            "from automl import hookimpl\n"
            "@hookimpl\ndef register_losses(register): register('mse')\n",
            r"plugin 'bad.py' \(local .*\) failed in register_losses: .*registered 'mse' as a "
            r"loss, but it is not an instance of BaseLoss",
        ),
    ],
    ids=["import", "unknown-hook", "bad-arguments", "not-a-component"],
)
def test_broken_local_plugin_stops_with_a_plugin_error(
    tmp_path: Path, source: str, message: str
) -> None:
    (tmp_path / "bad.py").write_text(source)
    with pytest.raises(PluginError, match=message):
        load_catalog([str(tmp_path / "bad.py")], entry_points=False)


def test_missing_local_plugin(tmp_path: Path) -> None:
    with pytest.raises(PluginError, match=r"plugin file not found: .*nope.py"):
        load_catalog([str(tmp_path / "nope.py")], entry_points=False)
    with pytest.raises(
        PluginError,
        match=r"plugin module 'automl_no_such_module' failed to import: ModuleNotFoundError",
    ):
        load_catalog(["automl_no_such_module"], entry_points=False)


def test_plugin_error_raised_on_import_is_shown_as_its_message(tmp_path: Path) -> None:
    (tmp_path / "needs_extra.py").write_text(
        "from automl.errors import PluginError\n"
        "raise PluginError(\"the tracker needs mlflow: pip install 'automl-keras[mlflow]'\")\n"
    )
    with pytest.raises(PluginError) as info:
        load_catalog([str(tmp_path / "needs_extra.py")], entry_points=False)
    assert str(info.value) == (
        f"plugin file {tmp_path / 'needs_extra.py'} failed to import: "
        "the tracker needs mlflow: pip install 'automl-keras[mlflow]'"
    )


# ------------------------------------------------------------------------------ trials
FLAKY = """
import json
from pathlib import Path
from automl import BaseModelFamily, hookimpl

LOG = Path(__file__).with_name("events.jsonl")
calls = []

class Flaky(BaseModelFamily):
    name = "flaky"
    help = "Raises on its first build, works afterwards."

    def build(self, inputs, ctx, **params):
        import keras
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom on the first build")
        return ctx.activate(keras.layers.Dense(4)(inputs))

@hookimpl
def register_model_families(register):
    register(Flaky())

@hookimpl
def on_trial_end(trial):
    with LOG.open("a") as f:
        f.write(json.dumps({"trial": trial.number, "state": trial.state.name}) + "\\n")
"""


def test_component_that_raises_fails_its_trial_with_the_plugin_named(
    write_space, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    plugin = str(tmp_path / "flaky_plugin.py")
    (tmp_path / "flaky_plugin.py").write_text(textwrap.dedent(FLAKY))
    path = str(write_space(IRIS_SPACE.format(name="flaky", extra="", model="flaky")))
    assert main(["tune", path, "--plugin", plugin, "--trials", "2", "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["trials", path, "--json", "--plugin", plugin]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {row["trial"]: row["state"] for row in rows} == {0: "fail", 1: "complete"}
    failed = next(row for row in rows if row["state"] == "fail")  # the study went on after it
    assert failed["reason"] == (
        "TrialFailed: model family 'flaky' (plugin 'flaky_plugin.py') raised RuntimeError: "
        "boom on the first build"
    )
    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert events == [{"trial": 0, "state": "FAIL"}, {"trial": 1, "state": "COMPLETE"}]


EXPLODING_LOSS = """
import keras
from automl import BaseLoss, hookimpl

@keras.saving.register_keras_serializable(package="exploding_loss")
class Exploding(keras.losses.Loss):
    def call(self, y_true, y_pred):
        raise ValueError("exploding loss")

class ExplodingLoss(BaseLoss):
    name = "exploding"
    help = "Builds fine, raises while training."

    def build(self, task, n_classes, **params):
        return Exploding()

@hookimpl
def register_losses(register):
    register(ExplodingLoss())
"""


def test_code_that_raises_during_fit_is_blamed_on_its_own_plugin(
    write_space, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from automl.study import tune

    (tmp_path / "exploding.py").write_text(textwrap.dedent(EXPLODING_LOSS))
    space = IRIS_SPACE.format(name="boom", extra="plugins: [exploding.py]", model="mlp")
    path = write_space(space.replace("loss: crossentropy", "loss: exploding"))
    (row,) = tune(str(path), trials=1, progress=False).leaderboard
    assert row["state"] == "fail"
    assert row["reason"] == (
        "TrialFailed: plugin 'exploding.py' raised ValueError: exploding loss (inside the model "
        "family 'mlp' of plugin 'automl_plugins.models')"
    )
