"""`automl.console`: TensorFlow's start-up lines filtered, everything else kept; terminals."""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest

from automl.console import filtered_stderr, keep_line, keras_verbosity

# lines TensorFlow 2.21 printed on this machine at `import tensorflow` and at its device scan
NOISE = [
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n",
    "I0000 00:00:1795525281.715255   13457 port.cc:153] oneDNN custom operations are on. You "
    "may see slightly different numerical results due to floating-point round-off errors.\n",
    "I0000 00:00:1795525281.715675   13457 cudart_stub.cc:31] Could not find cuda drivers on "
    "your machine, GPU will not be used.\n",
    "E0000 00:00:1795525871.725656    1908 cuda_platform.cc:52] failed call to cuInit: INTERNAL: "
    "CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)\n",
    "2025-09-17 14:44:05.157831: I external/local_xla/xla/tsl/cuda/cudart_stub.cc:32] Could not "
    "find cuda drivers on your machine, GPU will not be used.\n",
    "E0000 00:00:1758131045.203198 3722035 cuda_dnn.cc:8579] Unable to register cuDNN factory: "
    "Attempting to register factory for plugin cuDNN when one has already been registered\n",
]
KEPT = [
    "warning: plugin 'broken' failed to import\n",
    "E0000 00:00:1795525871.725656    1908 op_kernel.cc:1857] OP_REQUIRES failed: out of memory\n",
    "Traceback (most recent call last):\n",
]


@pytest.mark.parametrize("line", NOISE)
def test_tensorflow_start_up_lines_are_noise(line: str) -> None:
    assert keep_line(line) is False


@pytest.mark.parametrize("line", KEPT)
def test_other_lines_are_kept(line: str) -> None:
    assert keep_line(line) is True


def test_filtered_stderr_writes_back_everything_but_the_noise(
    capfd: pytest.CaptureFixture[str],
) -> None:
    with filtered_stderr():
        os.write(2, "".join([NOISE[0], KEPT[0], NOISE[2], KEPT[1]]).encode())
    assert capfd.readouterr().err == KEPT[0] + KEPT[1]


def test_the_first_tensorflow_import_prints_nothing_once_filtered() -> None:
    code = (
        "from automl.console import filter_tensorflow_startup\n"
        "filter_tensorflow_startup()\n"
        "import tensorflow as tf\n"
        "tf.config.threading.set_intra_op_parallelism_threads(1)  # the device scan allows it\n"
        "tf.zeros(3)\n"
        "print(tf.config.threading.get_intra_op_parallelism_threads())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert (done.stdout, done.stderr) == ("1\n", "")


def test_keras_prints_one_line_per_epoch_when_stdout_is_not_a_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert [keras_verbosity(v) for v in (0, 1, 2)] == [0, 2, 2]


def test_keras_shows_its_bar_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdout", Terminal())
    assert [keras_verbosity(v) for v in (0, 1)] == [0, 1]
