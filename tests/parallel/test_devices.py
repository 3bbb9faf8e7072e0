"""`tune --gpus`: which GPU and memory settings each worker process gets (checked on CPU through
the environment the real workers see), and JAX's persistent compilation cache."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import keras
import optuna
import pytest
from workers_util import journal

from automl.cli import main
from automl.errors import AutoMLError
from automl.parallel import GpuPlan, parse_gpus, plan_gpus, visible_gpus

GPU_VARS = ("CUDA_VISIBLE_DEVICES", "TF_FORCE_GPU_ALLOW_GROWTH", "XLA_PYTHON_CLIENT_MEM_FRACTION")


def test_round_robin_with_memory_growth_and_a_jax_fraction_per_packed_trial() -> None:
    plan = GpuPlan(("0", "1"), per_gpu=2)
    assert plan.slots == 4
    assert [plan.gpu(slot) for slot in range(5)] == ["0", "1", "0", "1", "0"]
    assert plan.env(3) == {
        "CUDA_VISIBLE_DEVICES": "1",
        "TF_FORCE_GPU_ALLOW_GROWTH": "true",
        "XLA_PYTHON_CLIENT_MEM_FRACTION": "0.45",
    }
    assert GpuPlan(("3",), per_gpu=1).env(0) == {
        "CUDA_VISIBLE_DEVICES": "3",
        "TF_FORCE_GPU_ALLOW_GROWTH": "true",
    }  # one trial per GPU: JAX keeps its own default share
    fractions = [GpuPlan(("0",), k).env(0)["XLA_PYTHON_CLIENT_MEM_FRACTION"] for k in (3, 4, 8)]
    assert fractions == ["0.30", "0.22", "0.11"]  # floor(90 / K) percent


def test_jobs_default_to_gpus_times_trials_per_gpu() -> None:
    assert plan_gpus(None, 1, None) == (None, 1)
    assert plan_gpus(None, 1, 3) == (None, 3)
    assert plan_gpus("0,1", 3, None) == (GpuPlan(("0", "1"), 3), 6)
    assert plan_gpus("1", 2, 1) == (GpuPlan(("1",), 2), 1)


@pytest.mark.parametrize(
    ("gpus", "per_gpu", "jobs", "message"),
    [
        ("0,1", 1, 3, r"--jobs 3 on 2 GPU\(s\) would run more than --trials-per-gpu 1 trials on "
         r"one GPU\. Expected --jobs <= 2"),
        (None, 2, None, r"--trials-per-gpu needs --gpus"),
        ("0", 0, None, r"`--trials-per-gpu >= 1` must hold\. Received: 0"),
        ("0,x", 1, None, r"expected `all` or comma-separated GPU indices or UUIDs \(e\.g\. 0,1\)\. "
         r"Received: --gpus '0,x'"),
        ("1,1", 1, None, r"--gpus lists a GPU twice\. Received: --gpus '1,1'"),
    ],
)  # fmt: skip
def test_bad_gpu_options_are_refused(
    gpus: str | None, per_gpu: int, jobs: int | None, message: str
) -> None:
    with pytest.raises(AutoMLError, match=message):
        plan_gpus(gpus, per_gpu, jobs)


def test_all_means_the_visible_gpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2, 5")
    assert visible_gpus() == ["2", "5"]
    assert parse_gpus("all") == ["2", "5"]
    assert parse_gpus("GPU-8f3e,1") == ["GPU-8f3e", "1"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "-1")
    with pytest.raises(AutoMLError, match=r"--gpus all: no GPU is visible"):
        parse_gpus("all")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    monkeypatch.setenv("PATH", "/nonexistent")  # no nvidia-smi, as on this machine
    assert visible_gpus() == []


def test_the_cli_refuses_bad_gpu_options_before_loading_anything(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["tune", "no-such-space.yaml", "--gpus", "0", "--jobs", "2"])
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: --jobs 2 on 1 GPU(s) would run more than --trials-per-gpu 1")


ENV_PLUGIN = f"""
import itertools
import os
from automl import hookimpl

@hookimpl
def on_trial_start(trial, config):
    trial.set_user_attr("env", {{k: os.environ.get(k) for k in {GPU_VARS!r}}})
"""

SPACE = """
study: {name: gpus, trials: 4, sampler: random, pruner: none, seed: 0, recycle_after: 1}
plugins: [env_plugin.py]
data: {source: {sklearn: {name: iris}}}
training: {epochs: 1, batch_size: 32, early_stopping: false}
model: {mlp: {layers: 1, units: {low: 4, high: 16}}}
"""


@pytest.mark.slow
def test_each_worker_sees_its_own_gpu_also_when_recycled(tmp_path: Path, runs_dir: Path) -> None:
    (tmp_path / "env_plugin.py").write_text(ENV_PLUGIN)
    space = tmp_path / "gpus.yaml"
    space.write_text(SPACE)
    # on this CPU-only machine the workers train on the CPU; what matters is what they were given
    assert main(["tune", str(space), "--gpus", "0,1", "--no-progress"]) == 0

    trials = optuna.load_study(study_name="gpus", storage=journal(runs_dir, "gpus")).trials
    assert [t.state.name for t in trials] == ["COMPLETE"] * 4
    assert len({t.user_attrs["worker"] for t in trials}) == 4  # recycled after every trial
    envs = [t.user_attrs["env"] for t in trials]
    assert {e["CUDA_VISIBLE_DEVICES"] for e in envs} == {"0", "1"}
    assert all(e["TF_FORCE_GPU_ALLOW_GROWTH"] == "true" for e in envs)
    assert all(e["XLA_PYTHON_CLIENT_MEM_FRACTION"] is None for e in envs)
    for gpu in ("0", "1"):  # a replacement worker takes its predecessor's GPU: never two at once
        spans = sorted(
            (t.datetime_start, t.datetime_complete)
            for t in trials
            if t.user_attrs["env"]["CUDA_VISIBLE_DEVICES"] == gpu
        )
        assert all(end <= start for (_, end), (start, _) in itertools.pairwise(spans))


@pytest.mark.backends
def test_jax_keeps_compilations_under_the_study(tmp_path: Path, runs_dir: Path) -> None:
    space = tmp_path / "cache.yaml"
    space.write_text(SPACE.replace("name: gpus", "name: cache").replace("recycle_after: 1", ""))
    (tmp_path / "env_plugin.py").write_text(ENV_PLUGIN)
    assert main(["tune", str(space), "--trials", "1", "--no-progress"]) == 0
    cache = runs_dir / "cache" / "jax_cache"
    if keras.backend.backend() == "jax":
        assert len(os.listdir(cache)) > 0
    else:
        assert not cache.exists()
