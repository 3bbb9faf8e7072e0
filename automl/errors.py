"""Error types and exit statuses. Everything the user can cause derives from `AutoMLError`.

Spec and plugin errors stop a run before the first trial; `TrialFailed` fails one trial and the
study goes on (like KerasTuner's split between fatal errors and failed trials). Each error kind
has the exit status the command line returns for it; `EXIT_CODES` lists them all (the README's
"Errors and exit codes" table is checked against it).
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
    #: found in the data the file names (an unreadable CSV), not in the file itself
    data: bool = False

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
        if self.problems and all(p.data for p in self.problems):
            self.exit_code = DataError.exit_code  # only the data is at fault


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


class DataError(AutoMLError, ValueError):
    """The data set cannot be used as given: an unreadable file, one class, NaN in features,
    arrays of the wrong shape given to `tune(x=..., y=...)` or `AutoClassifier.fit`, ...

    Raised before the first trial (and by `automl validate`), naming the file and the columns.
    A `ValueError` too, as scikit-learn expects of an estimator's bad input.
    """

    exit_code = 5


class StorageError(AutoMLError):
    """A study's storage (journal file, database URL, runs folder) cannot be opened, read or
    written; the message names the file or URL."""

    exit_code = 6


class ArtifactError(AutoMLError):
    """An exported model directory that cannot be loaded: a truncated `model.keras`, a corrupt
    `model.json`, a layer refused by Keras safe mode."""

    exit_code = 7


#: `automl tune` ran, but no trial of the study completed (every one failed or was pruned).
NO_TRIAL_COMPLETED_EXIT = 8
#: an exception automl did not expect (a bug): one line, the traceback with `--debug`.
INTERNAL_ERROR_EXIT = 70
#: stopped by Ctrl-C (SIGINT) or SIGTERM; the next run resumes.
INTERRUPTED_EXIT = 130

EXIT_CODES: dict[int, str] = {
    0: "done",
    1: "any other error automl reports (a report that cannot be written, a bad setting)",
    2: "the search space or the command line is invalid (`automl validate` problems, an unknown "
    "component, a bad option), or the input of `automl predict` does not fit the model",
    3: "a plugin failed to load or registered something invalid",
    4: "the study cannot run as asked: a changed search space, nothing to export",
    5: "the data cannot be used: unreadable, one class, NaN or inf in features, too few rows",
    6: "a file, folder or storage cannot be read or written (journal file, database URL, runs "
    "folder, a full disk)",
    7: "an exported model cannot be loaded (truncated model.keras, corrupt model.json, a layer "
    "refused by safe mode)",
    NO_TRIAL_COMPLETED_EXIT: "`automl tune` finished but no trial completed",
    INTERNAL_ERROR_EXIT: "an internal error (a bug): run again with --debug for the traceback",
    INTERRUPTED_EXIT: "interrupted by Ctrl-C or SIGTERM (the next run resumes)",
}
