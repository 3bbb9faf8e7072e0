"""Error types. Everything the user can cause derives from `AutoMLError`.

Spec and plugin errors stop a run before the first trial; `TrialFailed` fails one trial and the
study goes on (like KerasTuner's split between fatal errors and failed trials).
"""

from __future__ import annotations

from dataclasses import dataclass


class AutoMLError(Exception):
    """Base class of every error automl raises on purpose. The CLI prints it without a traceback."""

    exit_code: int = 1


@dataclass(frozen=True)
class Problem:
    """One problem found in a search-space file: where it is and what is wrong."""

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        return f"{where}{self.path}: {self.message}" if self.path else f"{where}{self.message}"


class SpecError(AutoMLError):
    """A search-space file is invalid: every problem found, each with its YAML path and line."""

    exit_code = 2

    def __init__(self, problems: list[Problem], source: str = "") -> None:
        self.problems = list(problems)
        self.source = source
        count = len(self.problems)
        head = f"{source}: " if source else ""
        noun = "problem" if count == 1 else "problems"
        lines = [f"{head}{count} {noun} in the search space:"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class PluginError(AutoMLError):
    """A plugin could not be loaded or registered something invalid."""

    exit_code = 3


class UnknownComponentError(AutoMLError, KeyError):
    """A component name that no plugin registered."""

    exit_code = 2

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class TrialFailed(AutoMLError):
    """A single trial cannot go on (NaN loss, a component that raised). The study continues."""


class StudyError(AutoMLError):
    """The study cannot run as asked (changed search space, nothing to export, ...)."""

    exit_code = 4


class ExportError(StudyError):
    """An export that cannot be made or whose round-trip check failed (exit status 4)."""


class InputError(AutoMLError):
    """Input for prediction that does not match the schema recorded at export (exit status 2)."""

    exit_code = 2


class ContractError(AutoMLError, AssertionError):
    """A component does not meet the contract of its kind (`automl.testing.check_component`).

    An `AssertionError` too, so pytest shows it as a test failure.
    """


class ReportError(AutoMLError):
    """A report that cannot be built or written as asked (exit status 1)."""


class BackendError(AutoMLError):
    """A feature that the running Keras backend cannot do (e.g. ONNX export on JAX), refused
    before any work starts; it names the backend that can (exit status 2)."""

    exit_code = 2
