"""What the command line shows: TensorFlow's start-up noise filtered out, terminals, errors.

TensorFlow (2.21 here) writes its start-up lines (oneDNN notices, "Could not find cuda drivers",
"All log messages before absl::InitializeLog() ...", cuDNN/cuFFT/cuBLAS factory clashes, "failed
call to cuInit") from C++ before its logging is set up, so `TF_CPP_MIN_LOG_LEVEL` cannot hide them.
`automl` therefore runs TensorFlow's first import (and its device scan) with file descriptor 2
pointed at a temporary file and writes back every line but those (`filter_tensorflow_startup`);
`-v` keeps them. Also here: terminal detection (no redraws or colour codes in a log), Keras'
verbosity, the one-line and JSON forms of an error, shell completion. Only the standard library
and `automl.errors` are imported here: this runs before anything loads TensorFlow.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import re
import sys
import tempfile
from collections.abc import Iterator, Sequence
from types import ModuleType
from typing import IO, Any

# the lines TensorFlow (and XLA, absl) print at import time whatever the log level
STARTUP_NOISE = re.compile(
    r"WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|[IW]\d{4} [\d:.]+\s+\d+ [\w./-]+:\d+\] "  # absl's format: I0000 00:00:17.7 123 x.cc:31]
    r"|\d{4}-\d\d-\d\d [\d:.]+: [IW] [\w./-]+:\d+\] "  # TensorFlow's own format
    r"|.*Unable to register cu(DNN|FFT|BLAS) factory"  # E-level, harmless: plugins loaded twice
    r"|.*computation placer already registered"
    r"|.*failed call to cuInit"  # E-level, on every machine without a GPU driver
    r"|INFO: Created TensorFlow Lite XNNPACK delegate for CPU"
)


def is_terminal(stream: IO[Any] | None = None) -> bool:
    """True when `stream` (default: stdout) is an interactive terminal, not a pipe or a file."""
    stream = sys.stdout if stream is None else stream
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # replaced or closed streams
        return False


def keep_line(line: str) -> bool:
    """False for a line of TensorFlow's start-up noise."""
    return STARTUP_NOISE.match(line) is None


@contextlib.contextmanager
def filtered_stderr() -> Iterator[None]:
    """Run the block with file descriptor 2 captured; then write back what is not noise.

    Python-level writes to `sys.stderr` inside the block (warnings) are captured too and written
    back in order, so nothing but the noise is lost.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            text = captured.read().decode("utf-8", errors="replace")
            kept = [line for line in text.splitlines(keepends=True) if keep_line(line)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


class _FilteredFirstImport(importlib.abc.MetaPathFinder):
    """A finder that, the first time `tensorflow` is imported, runs its import filtered."""

    def __init__(self, package: str) -> None:
        self.package = package

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.package:
            return None
        sys.meta_path.remove(self)  # once: the package's own submodules import normally
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        run = spec.loader.exec_module

        def exec_module(module: ModuleType) -> None:
            with filtered_stderr():
                run(module)
                # the device scan prints cuInit's complaint; thread settings stay changeable
                with contextlib.suppress(Exception):
                    module.config.list_physical_devices()

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


# set by `filter_tensorflow_startup`, so that processes it spawns (trial isolation) filter too
FILTER_ENV = "AUTOML_FILTER_TF_STARTUP"


def filter_tensorflow_startup() -> None:
    """Hide TensorFlow's start-up noise: set its log level and filter its first import.

    Does nothing once TensorFlow is imported; calling it twice installs one filter. Child
    processes inherit the wish through `FILTER_ENV` (see `filter_if_inherited`).
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ[FILTER_ENV] = "1"
    if "tensorflow" in sys.modules:
        return
    if not any(isinstance(f, _FilteredFirstImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _FilteredFirstImport("tensorflow"))


def keras_verbosity(verbose: int) -> int:
    """Keras `fit(verbose=...)` for `-v`: its live bar on a terminal, one line per epoch in a log.

    Keras' bar redraws with carriage returns and colour codes whether or not stdout is a
    terminal; `verbose=2` prints a plain line per epoch.
    """
    if verbose <= 0:
        return 0
    return 1 if is_terminal(sys.stdout) else 2


def one_line_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    line: str | None = None,
) -> str:
    """A warning (e.g. a plugin that failed to load) as one `warning: ...` line, no source line."""
    return f"warning: {message}\n"


@contextlib.contextmanager
def setup_output(verbose: int) -> Iterator[None]:
    """The command line's output for one command: warnings as one line each and, unless `-v`,
    TensorFlow's start-up noise and Python-level notices filtered."""
    import logging
    import warnings

    # not TF_ENABLE_ONEDNN_OPTS=0: it hides a notice but halves CPU training speed (measured:
    # 360-407 against 175-183 ms/step for the same fit); the notice is filtered like the others
    if verbose == 0:
        filter_tensorflow_startup()
        # tf.function retracing notices: one model per trial retraces by design
        logging.getLogger("tensorflow").setLevel(logging.ERROR)
    formatted, warnings.formatwarning = warnings.formatwarning, one_line_warning
    try:
        yield
    finally:
        warnings.formatwarning = formatted


def filter_if_inherited() -> None:
    """In a process started by a filtering `automl` (a spawned trial), filter as it does."""
    if os.environ.get(FILTER_ENV) == "1":
        filter_tensorflow_startup()


class PrintCompletion(argparse.Action):
    """`automl --print-completion bash`: a completion script from the parser (shtab), then exit.

    Positional arguments that name files or folders (the space file, an artifact folder, the
    input of `predict`) complete as paths; subcommands and options from the parser itself.
    """

    SHELLS = ("bash", "zsh", "tcsh")
    PATHS = {"space": "FILE", "input": "FILE", "model_dir": "DIRECTORY"}

    def __init__(self, option_strings: list[str], dest: str, **kwargs: Any) -> None:
        kwargs.setdefault("choices", self.SHELLS)
        kwargs.setdefault("help", "print a shell completion script and exit")
        super().__init__(option_strings, dest, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        import shtab

        for action in _all_actions(parser):
            if not action.option_strings and action.dest in self.PATHS:
                action.complete = getattr(shtab, self.PATHS[action.dest])  # type: ignore[attr-defined]
        print(shtab.complete(parser, shell=str(values)), end="")
        parser.exit()


def _all_actions(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """Every action of `parser` and of its subcommands' parsers."""
    found = list(parser._actions)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found += _all_actions(sub)
    return found
