"""GPUs for worker processes, and JAX's persistent compilation cache.

`tune --gpus 0,1 --trials-per-gpu K` gives each worker process one GPU through its environment,
set before the worker imports anything: `CUDA_VISIBLE_DEVICES` (round-robin over the GPUs), so
the worker sees one device; TensorFlow's memory growth (`TF_FORCE_GPU_ALLOW_GROWTH`), so K
TensorFlow workers can share a GPU; and with K > 1 a fraction of the memory for each JAX worker
(`XLA_PYTHON_CLIENT_MEM_FRACTION` = 0.9 / K, rounded down). PyTorch allocates on demand and
needs nothing. Without `--gpus` the workers inherit this process's devices as they are.

On JAX, a study keeps the XLA compilations in `runs/<study>/jax_cache/`, so a trial whose
architecture an earlier trial (or another worker) compiled skips the compile.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from automl.errors import AutoMLError

#: the share of a GPU's memory the K JAX workers on it take together
JAX_MEMORY_SHARE = 0.9
JAX_CACHE_DIR = "jax_cache"


def visible_gpus() -> list[str]:
    """The GPUs this process may use: `CUDA_VISIBLE_DEVICES` when set, else `nvidia-smi -L`."""
    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    if listed is not None:
        return [g.strip() for g in listed.split(",") if g.strip() and g.strip() != "-1"]
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=index", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in out.splitlines() if line.strip()]


def parse_gpus(value: str) -> list[str]:
    """`--gpus`: "all" (every visible GPU) or a comma-separated list of GPU ids ("0,1")."""
    if value.strip().lower() == "all":
        found = visible_gpus()
        if not found:
            raise AutoMLError(
                "--gpus all: no GPU is visible (CUDA_VISIBLE_DEVICES is empty or unset and "
                "nvidia-smi lists none). Expected at least one GPU. Received: --gpus all"
            )
        return found
    ids = [g.strip() for g in value.split(",")]
    bad = [g for g in ids if not (g.isdigit() or g.startswith(("GPU-", "MIG-")))]
    if not ids or bad:
        raise AutoMLError(
            "--gpus: expected `all` or comma-separated GPU indices or UUIDs (e.g. 0,1). "
            f"Received: --gpus {value!r}"
        )
    if len(set(ids)) != len(ids):
        raise AutoMLError(f"--gpus lists a GPU twice. Received: --gpus {value!r}")
    return ids


@dataclass(frozen=True)
class GpuPlan:
    """Which GPU each worker slot gets, and how many workers share one.

    Args:
        gpus: the GPU ids, in the order workers are assigned (round-robin).
        per_gpu: workers (so trials at once) on one GPU (`--trials-per-gpu`).
    """

    gpus: tuple[str, ...]
    per_gpu: int = 1

    @property
    def slots(self) -> int:
        """Workers the plan has room for: GPUs x trials per GPU."""
        return len(self.gpus) * self.per_gpu

    def gpu(self, slot: int) -> str:
        """The GPU of worker slot `slot` (round-robin)."""
        return self.gpus[slot % len(self.gpus)]

    def env(self, slot: int) -> dict[str, str]:
        """The environment variables that put worker slot `slot` on its GPU."""
        env = {"CUDA_VISIBLE_DEVICES": self.gpu(slot), "TF_FORCE_GPU_ALLOW_GROWTH": "true"}
        if self.per_gpu > 1:
            fraction = math.floor(100 * JAX_MEMORY_SHARE / self.per_gpu) / 100
            env["XLA_PYTHON_CLIENT_MEM_FRACTION"] = f"{fraction:.2f}"
        return env


def plan_gpus(
    gpus: str | None, trials_per_gpu: int, jobs: int | None
) -> tuple[GpuPlan | None, int]:
    """The GPU plan of `--gpus` / `--trials-per-gpu` and the number of workers.

    `jobs` defaults to 1 without GPUs and to GPUs x trials per GPU with them; more workers than
    that would put more trials on a GPU than asked, and is refused.
    """
    if trials_per_gpu < 1:
        raise AutoMLError(f"`--trials-per-gpu >= 1` must hold. Received: {trials_per_gpu}")
    if gpus is None:
        if trials_per_gpu != 1:
            raise AutoMLError(
                f"--trials-per-gpu needs --gpus (which GPUs to pack the trials on). "
                f"Received: --trials-per-gpu {trials_per_gpu} without --gpus"
            )
        return None, 1 if jobs is None else jobs
    plan = GpuPlan(tuple(parse_gpus(gpus)), trials_per_gpu)
    jobs = plan.slots if jobs is None else jobs
    if jobs > plan.slots:
        raise AutoMLError(
            f"--jobs {jobs} on {len(plan.gpus)} GPU(s) would run more than --trials-per-gpu "
            f"{trials_per_gpu} trials on one GPU. Expected --jobs <= {plan.slots}, or raise "
            f"--trials-per-gpu. Received: --jobs {jobs} --gpus {gpus}"
        )
    return plan, jobs


def enable_compilation_cache(study_directory: Path) -> Path | None:
    """On the JAX backend, keep XLA compilations under `<study_directory>/jax_cache`.

    Every compilation is kept (the minimum compile time is 0 s: a small model's train step
    compiles in well under JAX's default threshold of 1 s, yet costs seconds per trial). A
    `JAX_COMPILATION_CACHE_DIR` set by the user wins. Returns the directory, or None when Keras
    does not run on JAX.
    """
    import keras

    if keras.backend.backend() != "jax":
        return None
    import jax
    from jax.experimental.compilation_cache import compilation_cache

    path = Path(os.environ.get("JAX_COMPILATION_CACHE_DIR") or study_directory / JAX_CACHE_DIR)
    path.mkdir(parents=True, exist_ok=True)
    if jax.config.values.get("jax_compilation_cache_dir") != str(path):
        compilation_cache.set_cache_dir(str(path))
        compilation_cache.reset_cache()  # another study's cache may be open in this process
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    return path


__all__ = [
    "GpuPlan",
    "enable_compilation_cache",
    "parse_gpus",
    "plan_gpus",
    "visible_gpus",
]
