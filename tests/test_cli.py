"""The `automl` command: the table of subcommands and the `automl plugins` listing."""

from __future__ import annotations

import json
import textwrap
import warnings
from pathlib import Path

import pytest
from plugin_util import LOCAL

from automl.cli import main


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


def test_plugins_lists_a_disabled_plugin_as_blocked(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUTOML_DISABLE_PLUGINS", "automl_plugins.activations")
    monkeypatch.setenv("AUTOML_NO_ENTRY_POINTS", "1")
    assert main(["plugins"]) == 0
    text = capsys.readouterr().out
    assert "automl_plugins.activations  [built-in, automl-keras" in text
    block = text.split("automl_plugins.activations  [built-in", 1)[1].split("\n")
    assert block[1] == "  BLOCKED: switched off by AUTOML_DISABLE_PLUGINS"
    assert main(["plugins", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    blocked = rows["automl_plugins.activations"]
    assert (blocked["blocked"], blocked["components"], blocked["hooks"]) == (True, [], [])
    assert rows["automl_plugins.models"]["blocked"] is False


# ------------------------------------------------------------------------------ the table
def test_every_subcommand_is_one_table_entry() -> None:
    from automl.cli import COMMANDS, build_parser

    assert [c.name for c in COMMANDS] == [
        "tune",
        "worker",
        "validate",
        "space",
        "trials",
        "export",
        "predict",
        "report",
        "plugins",
    ]
    parser = build_parser()
    for command in COMMANDS:
        argv = {"predict": ["predict", "DIR", "x.csv"], "plugins": ["plugins"]}.get(
            command.name, [command.name, "space.yaml"]
        )
        if command.name == "export":
            argv += ["--out", "o"]
        args = parser.parse_args([*argv, "--plugin", "a.py", "--plugin", "b"])
        assert args.command == command.name and args.plugin == ["a.py", "b"]
        assert hasattr(args, "storage") == (
            command.name in {"tune", "worker", "trials", "export", "report"}
        )


def test_validate_and_space_print_the_checked_space(
    capsys: pytest.CaptureFixture[str], write_space
) -> None:  # type: ignore[no-untyped-def]
    path = write_space(
        """
        study: {name: cli, metric: accuracy}
        data: {source: {sklearn: {name: iris}}}
        model: {mlp: {layers: 1, units: [8, 16], dropout: 0.0}}
        """
    )
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{path}: OK (study 'cli', metric accuracy [maximize], ")
    assert out.endswith(" searched parameters)\n")
    assert main(["space", str(path), "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["model.mlp.units"]["searched"] is True
    assert rows["model.mlp.layers"]["searched"] is False


def test_errors_are_one_line_with_the_exit_status_of_their_kind(
    capsys: pytest.CaptureFixture[str], write_space
) -> None:  # type: ignore[no-untyped-def]
    path = write_space("data: {source: {sklearn: {name: iris}}}\nmodel: {mpl: {}}\n")
    assert main(["validate", str(path)]) == 2  # SpecError
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "unknown model family 'mpl'; did you mean 'mlp'?" in err
    with pytest.raises(SystemExit) as usage:  # a usage error, checked before the space
        main(["tune", str(path), "--timeout", "5q"])
    assert usage.value.code == 2
    assert capsys.readouterr().err.endswith(
        "automl tune: error: argument --timeout: expected a duration such as 90, '90s', '20m' "
        "or '1h', got '5q'\n"
    )
    assert main(["validate", str(path), "--plugin", str(path.with_name("nope.py"))]) == 3
    assert "error: plugin file not found: " in capsys.readouterr().err
