"""Each worker gets its share of the CPU threads."""

from __future__ import annotations

import pytest

from automl.errors import AutoMLError
from automl.parallel import thread_env, threads_per_worker


def test_thread_env_caps_every_pool() -> None:
    env = thread_env(3)
    assert env["OMP_NUM_THREADS"] == env["TF_NUM_INTRAOP_THREADS"] == env["MKL_NUM_THREADS"] == "3"
    assert env["TF_NUM_INTEROP_THREADS"] == "2"
    assert threads_per_worker(10_000) == 1
    with pytest.raises(AutoMLError, match=r"threads must be >= 1. Received: threads=0"):
        thread_env(0)
