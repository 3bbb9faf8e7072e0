"""The `automl` command: the table of subcommands and the `automl plugins` listing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import warnings
from importlib import metadata
from pathlib import Path

import pytest
from conftest import REPO
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
        "dashboard",
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
            command.name in {"tune", "worker", "trials", "export", "report", "dashboard"}
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


# ------------------------------------------------------------------------------ output options
def test_version_is_the_installed_distribution_s(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"automl {metadata.version('automl-keras')}\n"


def test_validate_json_and_quiet(capsys: pytest.CaptureFixture[str], write_space) -> None:  # type: ignore[no-untyped-def]
    path = write_space(
        """
        study: {name: cli, metric: f1_macro}
        data: {source: {sklearn: {name: iris}}}
        model: {mlp: {layers: 1, units: [8, 16], dropout: 0.0}}
        """
    )
    assert main(["validate", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "space": str(path),
        "valid": True,
        "study": "cli",
        "metric": "f1_macro",
        "direction": "maximize",
        "metrics": ["f1_macro"],
        "directions": ["maximize"],
        "slots": 4,  # model, activation, loss, optimizer
        "searched": 2,  # model.mlp.units, optimizer.adam.learning_rate (its default range)
        "rows": 150,  # validate loads the data (iris) and checks it
        "task": "multiclass",
        "problems": [],
    }
    for argv in (["-q", "validate", str(path)], ["validate", str(path), "--quiet"]):
        assert main(argv) == 0
        assert capsys.readouterr() == ("", "")


def test_json_errors_name_every_problem_on_stdout(
    capsys: pytest.CaptureFixture[str], write_space
) -> None:  # type: ignore[no-untyped-def]
    path = write_space("data: {source: {sklearn: {name: iris}}}\nmodel: {mpl: {}}\n")
    assert main(["validate", str(path), "--json"]) == 2
    out, err = capsys.readouterr()
    error = json.loads(out)["error"]
    assert (error["type"], error["exit_code"]) == ("SpecError", 2)
    assert error["problems"] == [
        {
            "path": "model.mpl",
            "line": 2,
            "message": "unknown model family 'mpl'; did you mean 'mlp'? "
            "Available: cnn, cnn1d, embedding_bag, embedding_cnn, embedding_rnn, gru, lstm, mlp, "
            "pretrained, simple_rnn, transformer",
        }
    ]
    assert err.startswith("error: ") and "Traceback" not in err


def test_verbose_errors_show_the_traceback(capsys: pytest.CaptureFixture[str], write_space) -> None:  # type: ignore[no-untyped-def]
    path = write_space("data: {source: {sklearn: {name: iris}}}\nmodel: {mpl: {}}\n")
    assert main(["-v", "validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):\n")
    assert "\nerror: " in err


LIGHT = """
import json, sys
from automl.cli import main
checks = (["validate", sys.argv[1], "--no-data"], ["space", sys.argv[1], "--json"])
checks += (["plugins", "--json"],)
for argv in checks:
    assert main(argv) == 0, argv
heavy = {m.split(".")[0] for m in sys.modules} & {"keras", "tensorflow", "sklearn", "torch", "jax"}
assert main(["validate", sys.argv[1]]) == 0  # with the data: its loader, not a DL framework
heavy |= {m.split(".")[0] for m in sys.modules} & {"keras", "tensorflow", "torch", "jax"}
print(json.dumps(sorted(heavy)), file=sys.stderr)
"""


def test_validate_space_and_plugins_import_no_framework() -> None:
    space = REPO / "search_spaces" / "tabular_csv.yaml"
    env = {**os.environ, "AUTOML_NO_ENTRY_POINTS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", LIGHT, str(space)], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stderr.splitlines()[-1]) == []


@pytest.mark.slow
def test_tune_into_a_log_has_no_redraws_colours_or_tensorflow_noise(
    write_space, runs_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    path = write_space(
        """
        study: {name: piped, trials: 1, seed: 0}
        data: {source: {sklearn: {name: iris}}}
        training: {epochs: 2}
        model: {mlp: {layers: 1, units: 8}}
        """
    )
    automl = [sys.executable, "-m", "automl.cli"]
    plain = subprocess.run([*automl, "tune", str(path)], capture_output=True, text=True)
    assert plain.returncode == 0, plain.stderr
    (line,) = plain.stderr.splitlines()  # the trial's line and nothing else: no TensorFlow noise
    assert line.startswith("trial 0 complete ") and "(1/1 trials, best " in line
    loud = subprocess.run(
        [*automl, "tune", str(path), "--trials", "2", "-v"], capture_output=True, text=True
    )
    assert loud.returncode == 0, loud.stderr
    assert loud.stdout.count("Epoch 2/2\n") == 1
    for stream in (plain.stdout, plain.stderr, loud.stdout, loud.stderr):
        assert "\r" not in stream and "\x1b[" not in stream


def test_bash_completion_knows_the_subcommands_and_completes_paths(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from automl.cli import COMMANDS

    with pytest.raises(SystemExit) as exited:
        main(["--print-completion", "bash"])
    assert exited.value.code == 0
    script = capsys.readouterr().out
    assert f"_shtab_automl_subparsers=({' '.join(c.name for c in COMMANDS)})" in script
    assert "_shtab_automl_validate_pos_0_COMPGEN=_shtab_compgen_files" in script
    assert "_shtab_automl_predict_pos_0_COMPGEN=_shtab_compgen_dirs" in script
    loaded = subprocess.run(
        ["bash", "-c", "source /dev/stdin && complete -p automl"],
        input=script,
        capture_output=True,
        text=True,
    )
    assert loaded.stdout == "complete -o bashdefault -F _shtab_automl automl\n", loaded.stderr
