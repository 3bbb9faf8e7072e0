"""Plugin discovery, isolation and control, with real distributions on sys.path and real trials.

Installed plugins are simulated the way pip leaves them: a module plus a `<name>.dist-info` folder
with `METADATA` and `entry_points.txt`, on a directory added to `sys.path`.
"""

from __future__ import annotations

import json
import textwrap
import warnings
from pathlib import Path

import pytest

from automl.cli import main
from automl.errors import PluginError, SpecError
from automl.plugins import describe_plugins, format_plugins, load_catalog

IRIS_SPACE = """
study: {{name: {name}, metric: accuracy, trials: 2, sampler: random, pruner: none, seed: 0}}
data: {{source: {{sklearn: {{name: iris}}}}, validation: 0.3, test: 0.0}}
training: {{epochs: 1, batch_size: 32}}
{extra}
model: {model}
loss: crossentropy
optimizer: adam
"""


def make_dist(root: Path, dist: str, ep_name: str, module: str, source: str) -> Path:
    """Write an installed-looking distribution whose entry point `ep_name` is `module`."""
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"{dist.replace('-', '_')}-0.3.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.3.1\n")
    (info / "entry_points.txt").write_text(f"[automl]\n{ep_name} = {module}\n")
    return root


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh directory on sys.path for fake installed distributions."""
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.delenv("AUTOML_DISABLE_PLUGINS", raising=False)
    monkeypatch.delenv("AUTOML_NO_ENTRY_POINTS", raising=False)
    return root


GOOD = """
from automl import BaseLoss, hookimpl, float_param

class Squared(BaseLoss):
    name = "{name}"
    help = "Squared error under another name."
    tasks = ("regression",)
    params = (float_param("scale", 1.0, "Multiplier.", low=0.5, high=2.0),)

    def build(self, task, n_classes, **params):
        return "mse"

@hookimpl
def register_losses(register):
    register(Squared())

@hookimpl
def on_study_end(study):
    pass
"""


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
LOCAL = """
from automl import BaseModelFamily, hookimpl, int_param

class Tiny(BaseModelFamily):
    name = "tiny"
    help = "One Dense layer."
    params = (int_param("units", 8, "Units.", low=4, high=16),)

    def build(self, inputs, ctx, **params):
        import keras
        return ctx.activate(keras.layers.Dense(params["units"])(inputs))

@hookimpl
def register_model_families(register):
    register(Tiny())
"""


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


BUGGY_HOOKS = """
from automl import hookimpl

@hookimpl
def on_epoch_end(trial, epoch, logs):
    if trial.number == 0:
        raise ValueError("logger lost its connection")

@hookimpl
def on_trial_end(trial):
    raise OSError("disk full")
"""


def test_lifecycle_hook_that_raises_is_named_and_the_study_goes_on(
    write_space, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from automl.study import tune

    (tmp_path / "buggy_hooks.py").write_text(textwrap.dedent(BUGGY_HOOKS))
    path = write_space(
        IRIS_SPACE.format(name="hooks", extra="plugins: [buggy_hooks.py]", model="mlp")
    )
    with pytest.warns(
        RuntimeWarning,
        match=r"plugin 'buggy_hooks.py' \(local .*\) raised in on_trial_end: OSError: disk full",
    ):
        result = tune(str(path), trials=2, progress=False)
    states = {row["trial"]: (row["state"], row["reason"]) for row in result.leaderboard}
    assert states[1] == ("complete", None)
    state, reason = states[0]
    assert state == "fail"
    assert reason.startswith("TrialFailed: plugin 'buggy_hooks.py' (local ")
    assert reason.endswith("raised in on_epoch_end: ValueError: logger lost its connection")


# ------------------------------------------------------------------------------ automl plugins
def test_cli_plugins_json_lists_every_plugin_with_components(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "tiny_plugin.py").write_text(textwrap.dedent(LOCAL))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["plugins", "--json", "--plugin", str(tmp_path / "tiny_plugin.py")]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["tiny_plugin.py"]["source"] == "local"
    assert rows["tiny_plugin.py"]["hooks"] == ["register_model_families"]
    (tiny,) = rows["tiny_plugin.py"]["components"]
    assert tiny["kind"] == "model_family" and tiny["params"][0]["range"] == {"low": 4, "high": 16}
    mlp = next(c for c in rows["automl_plugins.models"]["components"] if c["name"] == "mlp")
    assert {p["name"] for p in mlp["params"]} >= {"layers", "units"}
    metric = next(
        c for c in rows["automl_plugins.metrics"]["components"] if c["name"] == "accuracy"
    )
    assert metric["direction"] == "maximize"

    assert main(["plugins", "--plugin", str(tmp_path / "tiny_plugin.py")]) == 0
    text = capsys.readouterr().out
    assert "tiny_plugin.py  [local]" in text
    assert "model family tiny: One Dense layer." in text
    assert "units  int         default 8         search 4..16" in text


# ------------------------------------------------------------------------------ automl.testing
def _builtin_components() -> list[object]:
    catalog = load_catalog(entry_points=False)
    params = []
    for registry in catalog.registries.values():
        for component in registry:
            params.append(pytest.param(component, id=f"{component.kind}:{component.name}"))
    return params


@pytest.mark.parametrize("component", _builtin_components())
def test_builtin_components_pass_the_contract(component) -> None:  # type: ignore[no-untyped-def]
    from automl.testing import check_component

    data_params = {"name": "iris"} if component.name == "sklearn" else None
    check_component(component, data_params=data_params)


def test_contract_rejects_unregistered_keras_class() -> None:
    import keras

    from automl import BaseModelFamily
    from automl.testing import ContractError, check_component

    class Doubler(keras.layers.Layer):  # not registered: cannot reload from model.keras
        def call(self, x):  # type: ignore[no-untyped-def]
            return x * 2.0

    class Unsaveable(BaseModelFamily):
        name = "unsaveable"
        help = "Uses an unregistered custom layer."

        def build(self, inputs, ctx, **params):  # type: ignore[no-untyped-def]
            return Doubler()(keras.layers.Dense(3)(inputs))

    with pytest.raises(
        ContractError,
        match=r"model_family 'unsaveable': a model with its layers does not reload from a \.keras "
        r"file; register custom Keras classes with keras\.saving\.register_keras_serializable",
    ):
        check_component(Unsaveable())


@pytest.mark.parametrize(
    ("attrs", "message"),
    [
        ({"name": "my.metric"}, r"expected a name of letters, digits.*Received: name='my.metric'"),
        ({"help": ""}, r"expected a one-line `help`"),
        ({"direction": "up"}, r"expected direction 'maximize' or 'minimize'\. Received: 'up'"),
        ({"tasks": ("ranking",)}, r"expected `tasks` to be a non-empty subset"),
        (
            {"params": ("float_param('t', 2.0, 'Threshold.', bounds=(0, 1))",)},
            r"parameter 't': the default value is invalid: expected a value in \[0, 1\], got 2\.0",
        ),
        (
            {"params": ("float_param('t', 0.5, 'Threshold.', low=0.9, high=0.1)",)},
            r"parameter 't': `low <= high` must hold, but got \(low=0\.9, high=0\.1\)",
        ),
        (
            {"params": ("int_param('k', 3, 'K.', low=1, high=20, bounds=(1, 10))",)},
            r"parameter 'k': the default range leaves the bounds: "
            r"expected a value in \[1, 10\], got 20",
        ),
        ({"inverted": True}, r"expected perfect predictions to score at least as well as random"),
    ],
    ids=["name", "help", "direction", "tasks", "default", "range", "bounds", "behaviour"],
)
def test_contract_rejects_bad_declarations(attrs: dict[str, object], message: str) -> None:
    import numpy as np

    from automl import BaseMetric, float_param, int_param
    from automl.testing import ContractError, check_component

    namespace = {"float_param": float_param, "int_param": int_param}
    inverted = bool(attrs.pop("inverted", False))
    if "params" in attrs:
        attrs["params"] = tuple(eval(p, namespace) for p in attrs["params"])  # type: ignore[union-attr]

    class Acc(BaseMetric):
        name = "acc"
        help = "Accuracy."
        tasks = ("multiclass",)

        def score(self, y_true, y_pred):  # type: ignore[no-untyped-def]
            hit = float(np.mean(np.argmax(y_pred, axis=1) == y_true))
            return 1.0 - hit if inverted else hit

    for key, value in attrs.items():
        setattr(Acc, key, value)
    with pytest.raises(ContractError, match=message):
        check_component(Acc())


def test_contract_helpers_collect_and_parametrize(tmp_path: Path) -> None:
    from automl.testing import (
        check_plugin_hooks,
        collect_components,
        param_sets,
        parametrize_components,
    )

    (tmp_path / "tiny_plugin.py").write_text(textwrap.dedent(LOCAL))
    plugin = str(tmp_path / "tiny_plugin.py")
    assert check_plugin_hooks(plugin) == ["register_model_families"]
    (tiny,) = collect_components(plugin)
    assert param_sets(tiny) == [{"units": 8}, {"units": 4}, {"units": 16}]
    mark = parametrize_components(plugin)
    assert mark.args[0] == "component" and mark.kwargs["ids"] == ["model_family:tiny"]
    (tmp_path / "typo.py").write_text(
        "from automl import hookimpl\n@hookimpl\ndef on_study_ended(study): pass\n"
    )
    with pytest.raises(PluginError, match="did you mean 'on_study_end'"):
        check_plugin_hooks(str(tmp_path / "typo.py"))
