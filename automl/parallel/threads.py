"""CPU threads per worker: each of N workers gets its share of the cores (BLAS, OpenMP, TF)."""

from __future__ import annotations

import contextlib
import os
import sys

from automl.errors import AutoMLError

THREAD_VARS = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
)


def thread_env(threads: int) -> dict[str, str]:
    """Environment variables that cap a worker's CPU threads (BLAS, OpenMP, TensorFlow)."""
    if threads < 1:
        raise AutoMLError(f"threads must be >= 1. Received: threads={threads}")
    env = {name: str(threads) for name in THREAD_VARS}
    env["TF_NUM_INTEROP_THREADS"] = str(min(threads, 2))
    return env


def limit_threads(threads: int | None) -> None:
    """Cap this process's CPU threads; call it before TensorFlow is imported."""
    if not threads:
        return
    os.environ.update(thread_env(threads))
    if "tensorflow" in sys.modules:  # already imported: tell it directly (before its first op)
        import tensorflow as tf

        with contextlib.suppress(RuntimeError):
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(min(threads, 2))


def threads_per_worker(jobs: int) -> int:
    """The CPU cores divided among `jobs` workers (at least 1 each)."""
    return max(1, (os.cpu_count() or 1) // jobs)
