"""The cluster recipes of examples/cluster/ run the worker command of the PostgreSQL tests
(`automl worker SPACE --storage URL --index K`), and that command passes automl's own parser.

The SLURM script runs under bash with the variables SLURM sets, once with a stand-in `automl`
that records its arguments (instant), once with the real one against a real PostgreSQL server
(slow). The Kubernetes manifest is read as Kubernetes reads it: `$(VAR)` in the command is
replaced by the container's environment variable VAR.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from pg_server import postgres_server, postgres_url  # noqa: F401 (fixtures)
from workers_util import write_space

# The only automl imports: the command-line interface (moves with it during refactors).
from automl.cli import build_parser, main

CLUSTER = Path(__file__).resolve().parents[1] / "examples" / "cluster"
SBATCH = CLUSTER / "slurm_workers.sbatch"
MANIFEST = CLUSTER / "k8s-workers.yaml"
URL = "postgresql://automl:secret@dbhost:5432/automl"
WORKER_LINE = (
    'automl worker "$SPACE" --storage "$AUTOML_STORAGE" --index "$SLURM_ARRAY_TASK_ID" '
    '--threads "$SLURM_CPUS_PER_TASK"'
)


# ------------------------------------------------------------------------------- Kubernetes
def _documents() -> dict[str, dict[str, Any]]:
    docs = [d for d in yaml.safe_load_all(MANIFEST.read_text()) if d]
    return {d["kind"]: d for d in docs}


def _container() -> dict[str, Any]:
    (container,) = _documents()["Job"]["spec"]["template"]["spec"]["containers"]
    return container


def _expand(argv: list[str], env: dict[str, str]) -> list[str]:
    """Kubernetes' expansion of `$(VAR)` in a container's command and args."""
    return [re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], arg) for arg in argv]


def test_k8s_manifest_is_an_indexed_job_of_workers() -> None:
    docs = _documents()
    assert set(docs) == {"ConfigMap", "Job"}
    job = docs["Job"]
    assert job["apiVersion"] == "batch/v1"
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed"
    assert 2 <= spec["parallelism"] <= spec["completions"]
    assert spec["template"]["spec"]["restartPolicy"] == "Never"  # podFailurePolicy needs it
    rules = {
        tuple(r["onExitCodes"]["values"]): r["action"]
        for r in spec["podFailurePolicy"]["rules"]
        if "onExitCodes" in r
    }
    assert rules == {(2,): "FailJob", (75,): "Ignore"}  # bad space file; recycled worker


@pytest.mark.parametrize("version", ["1.29.0", "1.33.0"])
def test_k8s_manifest_matches_the_kubernetes_schema(version: str) -> None:
    """Every field is one Kubernetes knows (strict: a misspelt key is an error, not ignored)."""
    kv = pytest.importorskip(
        "kubernetes_validate", reason="kubernetes-validate is missing: pip install '.[dev]'"
    )
    for doc in _documents().values():
        assert kv.validate(doc, version, strict=True) == version[: version.rindex(".")]


def test_k8s_container_runs_the_worker_command_and_it_parses() -> None:
    container = _container()
    argv = container["command"] + container.get("args", [])
    assert argv[:2] == ["automl", "worker"]
    assert argv[argv.index("--storage") + 1] == "$(AUTOML_STORAGE)"
    assert argv[argv.index("--index") + 1] == "$(JOB_COMPLETION_INDEX)"

    env = {e["name"]: e for e in container["env"]}
    assert env["AUTOML_STORAGE"]["valueFrom"]["secretKeyRef"] == {"name": "automl-db", "key": "url"}
    assert env["CPU_THREADS"]["valueFrom"]["resourceFieldRef"]["resource"] == "limits.cpu"
    # Kubernetes leaves a `$(VAR)` it cannot resolve as it is: every one must be defined
    # (JOB_COMPLETION_INDEX is set by the Job controller in Indexed mode)
    referenced = set(re.findall(r"\$\((\w+)\)", " ".join(argv)))
    assert referenced <= set(env) | {"JOB_COMPLETION_INDEX"}

    values = {"AUTOML_STORAGE": URL, "JOB_COMPLETION_INDEX": "5", "CPU_THREADS": "4"}
    args = build_parser().parse_args(_expand(argv, values)[1:])
    assert (args.command, args.storage, args.index, args.threads) == ("worker", URL, 5, 4)
    assert args.space == "/etc/automl/space.yaml"


def test_k8s_space_file_is_the_configmap_and_valid(tmp_path: Path) -> None:
    docs = _documents()
    pod = docs["Job"]["spec"]["template"]["spec"]
    space = _container()["command"][2]
    mount = next(m for m in _container()["volumeMounts"] if space.startswith(m["mountPath"] + "/"))
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    assert volume["configMap"]["name"] == docs["ConfigMap"]["metadata"]["name"]
    key = space[len(mount["mountPath"]) + 1 :]
    path = tmp_path / key
    path.write_text(docs["ConfigMap"]["data"][key])
    assert main(["validate", str(path)]) == 0


# ------------------------------------------------------------------------------------ SLURM
def test_sbatch_script_is_valid_bash_with_its_directives_first() -> None:
    subprocess.run(["bash", "-n", str(SBATCH)], check=True)
    lines = SBATCH.read_text().splitlines()
    assert lines[0] == "#!/bin/bash"
    # sbatch reads #SBATCH lines only up to the first command
    first_command = next(i for i, line in enumerate(lines) if line and not line.startswith("#"))
    directives = [line.split()[1] for line in lines if line.startswith("#SBATCH")]
    assert all(i < first_command for i, line in enumerate(lines) if line.startswith("#SBATCH"))
    options = {d.split("=")[0] for d in directives}
    assert {"--array", "--cpus-per-task", "--ntasks", "--time"} <= options


def test_sbatch_worker_line_is_the_worker_command_and_it_parses() -> None:
    lines = [line.strip() for line in SBATCH.read_text().splitlines()]
    (line,) = [line for line in lines if "automl worker" in line and not line.startswith("#")]
    assert line.startswith(WORKER_LINE)
    words = shlex.split(line.split("||")[0])
    values = {
        "$SPACE": "spaces/digits.yaml",
        "$AUTOML_STORAGE": URL,
        "$SLURM_ARRAY_TASK_ID": "3",
        "$SLURM_CPUS_PER_TASK": "4",
    }
    args = build_parser().parse_args([values.get(w, w) for w in words[1:]])
    assert (args.command, args.space, args.storage, args.index, args.threads) == (
        "worker",
        "spaces/digits.yaml",
        URL,
        3,
        4,
    )


STAND_IN = """#!{python}
# a stand-in for `automl`: records its arguments, exits with the next status of $FAKE_CODES
import json, os, sys
log = os.environ["FAKE_LOG"]
calls = open(log).read().splitlines() if os.path.exists(log) else []
with open(log, "a") as f:
    f.write(json.dumps(sys.argv[1:]) + "\\n")
codes = os.environ["FAKE_CODES"].split(",")
sys.exit(int(codes[min(len(calls), len(codes) - 1)]))
"""


def _run_sbatch(tmp_path: Path, codes: str, *args: str, **env: str) -> tuple[int, list, str]:
    """Run the script as a SLURM array task (id 3, 4 CPUs) with the stand-in `automl`."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "automl"
    fake.write_text(STAND_IN.format(python=sys.executable))
    fake.chmod(0o755)
    log = tmp_path / "calls.jsonl"
    log.unlink(missing_ok=True)
    full_env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "SLURM_ARRAY_TASK_ID": "3",
        "SLURM_CPUS_PER_TASK": "4",
        "AUTOML_STORAGE": URL,
        "FAKE_LOG": str(log),
        "FAKE_CODES": codes,
        **env,
    }
    done = subprocess.run(
        ["bash", str(SBATCH), *args],
        cwd=tmp_path,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    calls = [json.loads(c) for c in log.read_text().splitlines()] if log.exists() else []
    return done.returncode, calls, done.stderr


def test_sbatch_runs_one_worker_per_array_task_and_restarts_a_recycled_one(
    tmp_path: Path,
) -> None:
    (tmp_path / "space.yaml").write_text("data: {source: {sklearn: {name: iris}}}\n")
    status, calls, _ = _run_sbatch(tmp_path, "75,75,0", "space.yaml")
    assert status == 0
    expected = ["worker", "space.yaml", "--storage", URL, "--index", "3", "--threads", "4"]
    assert calls == [expected] * 3  # exit 75 = recycled: started again, until it ends
    args = build_parser().parse_args(calls[0])
    assert (args.space, args.storage, args.index, args.threads) == ("space.yaml", URL, 3, 4)

    status, calls, _ = _run_sbatch(tmp_path, "130", "space.yaml")  # stopped: not restarted
    assert (status, len(calls)) == (130, 1)
    status, calls, _ = _run_sbatch(tmp_path, "0", SPACE="space.yaml")  # $SPACE, no argument
    assert (status, calls) == (0, [expected])


def test_sbatch_refuses_a_missing_space_or_a_non_database_url(tmp_path: Path) -> None:
    (tmp_path / "space.yaml").write_text("data: {source: {sklearn: {name: iris}}}\n")
    status, calls, err = _run_sbatch(tmp_path, "0", "nowhere.yaml")
    assert (status, calls) == (2, [])
    assert "expected the search-space file" in err and "found 'nowhere.yaml'" in err
    status, calls, err = _run_sbatch(tmp_path, "0", "space.yaml", AUTOML_STORAGE="study.db")
    assert (status, calls) == (2, [])
    assert "postgresql://user:pass@dbhost/automl" in err and "found 'study.db'" in err


@pytest.mark.slow
def test_sbatch_array_runs_real_workers_on_postgres(
    tmp_path: Path,
    postgres_url: str,  # noqa: F811
) -> None:
    """Two array tasks of the script at once, with the real `automl`, on a real database:
    they share the budget exactly."""
    space = write_space(tmp_path, "slurm", trials=4)
    env = {
        **os.environ,  # AUTOML_RUNS_DIR of this test included
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "AUTOML_STORAGE": postgres_url,
        "SLURM_CPUS_PER_TASK": "1",
        "TF_CPP_MIN_LOG_LEVEL": "3",
    }
    tasks = [
        subprocess.Popen(
            ["bash", str(SBATCH), space.name],
            cwd=tmp_path,
            env={**env, "SLURM_ARRAY_TASK_ID": str(k)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for k in range(2)
    ]
    outputs = [task.communicate(timeout=300)[0] for task in tasks]
    assert [task.returncode for task in tasks] == [0, 0], outputs
    assert sum(int(re.search(r": (\d+) trials", out).group(1)) for out in outputs) == 4, outputs

    trials = ["trials", str(space), "--storage", postgres_url, "--json"]
    listing = subprocess.run(
        [sys.executable, "-m", "automl.cli", *trials],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    rows = json.loads(listing.stdout)
    assert [row["state"] for row in rows] == ["complete"] * 4, textwrap.shorten(listing.stdout, 500)
