"""The crash-safe journal: torn records are set aside, glued records are recovered, a failed
write leaves the file as it was; every finished trial stays readable."""

from __future__ import annotations

import errno
import json
import os
import warnings
from pathlib import Path

import optuna
import pytest
from optuna.storages.journal import JournalFileBackend, JournalStorage

from automl import journal
from automl.errors import StorageError
from automl.journal import SafeJournalFileBackend, parse_line

RECORD = b'{"op_code":0,"worker_id":"w","study_name":"s","directions":[1]}\n'


def finished_study(path: Path, trials: int = 3) -> optuna.Study:
    """A real study with `trials` finished trials in a journal file (the stock backend)."""
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(
        study_name="s", storage=JournalStorage(JournalFileBackend(str(path)))
    )
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=trials)
    return study


def values(path: Path) -> list[float | None]:
    storage = JournalStorage(SafeJournalFileBackend(str(path)))
    return [t.value for t in optuna.load_study(study_name="s", storage=storage).trials]


def test_parse_line_whole_torn_and_glued() -> None:
    assert parse_line(RECORD) == (
        {"op_code": 0, "worker_id": "w", "study_name": "s", "directions": [1]},
        True,
    )
    assert parse_line(RECORD[:-1]) == (None, False)  # no newline: torn (or being written)
    assert parse_line(RECORD[:20] + b"\n") == (None, False)
    glued = RECORD[:30] + RECORD  # a torn record, then a whole one on the same line
    assert parse_line(glued) == (parse_line(RECORD)[0], False)


def test_a_torn_tail_is_set_aside_and_cut_off(tmp_path: Path) -> None:
    path = tmp_path / "journal.log"
    expected = [t.value for t in finished_study(path).trials]
    intact = path.read_bytes()
    torn = b'{"op_code":5,"worker_id":"w","trial_id":3,"va'  # a write killed half-way
    with path.open("ab") as handle:
        handle.write(torn)
    with pytest.warns(UserWarning, match=r"a torn record, removed \(45 bytes at byte \d+"):
        assert values(path) == expected
    assert path.read_bytes() == intact
    side = (tmp_path / "journal.log.torn").read_bytes()
    header = f"# automl: a torn record, removed from {path} at byte {len(intact)} (45 bytes)\n"
    assert side == header.encode() + torn + b"\n"


def test_a_record_glued_to_a_torn_one_is_recovered_and_kept_aside_once(tmp_path: Path) -> None:
    """Optuna's own writer appends right after a torn record: the line holds both, and Optuna
    can no longer read the file. The whole record at the end of the line is read; the line is
    copied aside once, not on every open."""
    path = tmp_path / "journal.log"
    expected = [t.value for t in finished_study(path, trials=2).trials]
    glued = RECORD.replace(b'"s"', b'"second"')  # another study created after the tear
    with path.open("ab") as handle:
        handle.write(b'{"op_code":5,"worker_id":"w","tri' + glued + RECORD.replace(b'"s"', b'"t"'))
    with pytest.raises(json.JSONDecodeError):  # what Optuna itself makes of the file
        JournalStorage(JournalFileBackend(str(path)))
    with pytest.warns(UserWarning, match="a bad line, skipped"):
        storage = JournalStorage(SafeJournalFileBackend(str(path)))
    names = [s.study_name for s in storage.get_all_studies()]
    assert names == ["s", "second", "t"]
    assert values(path) == expected
    side = (tmp_path / "journal.log.torn").read_text()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # reopening neither warns nor copies again
        assert values(path) == expected
    assert (tmp_path / "journal.log.torn").read_text() == side
    assert side.count("# automl: a bad line, skipped") == 1


def test_a_failed_write_leaves_the_file_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk half-way through a record (ENOSPC): the file is cut back, the error names
    it, and the next write (space freed) goes on after the last whole record."""
    path = tmp_path / "journal.log"
    finished_study(path, trials=2)
    before = path.read_bytes()
    real_write_all = journal._write_all

    def disk_full(fd: int, data: bytes) -> None:
        os.write(fd, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    storage = JournalStorage(SafeJournalFileBackend(str(path)))
    study = optuna.load_study(study_name="s", storage=storage)
    monkeypatch.setattr(journal, "_write_all", disk_full)
    with pytest.raises(
        StorageError,
        match=rf"cannot write to the journal file {path}: the disk is full.*\(ENOSPC\)\. "
        "The record was not written and the file is as it was before it",
    ):
        study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)
    assert path.read_bytes() == before
    monkeypatch.setattr(journal, "_write_all", real_write_all)
    study = optuna.load_study(
        study_name="s", storage=JournalStorage(SafeJournalFileBackend(str(path)))
    )
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)
    states = [t.state.name for t in study.trials]
    assert states == ["COMPLETE", "COMPLETE", "COMPLETE"]


def test_two_readers_number_records_alike_across_a_bad_line(tmp_path: Path) -> None:
    """Records are numbered by whole records only, so a process that read up to a point and one
    that reads from the start agree (no record applied twice, none skipped)."""
    path = tmp_path / "journal.log"
    finished_study(path, trials=1)
    with path.open("ab") as handle:
        handle.write(b"garbage that is no record\n")
    with pytest.warns(UserWarning):
        early = JournalStorage(SafeJournalFileBackend(str(path)))
        study = optuna.load_study(study_name="s", storage=early)
    later_writer = JournalStorage(SafeJournalFileBackend(str(path)))
    optuna.load_study(study_name="s", storage=later_writer).optimize(
        lambda t: t.suggest_float("x", 0, 1), n_trials=2
    )
    assert [t.number for t in study.trials] == [0, 1, 2]  # the early reader caught up exactly
    assert [t.value for t in study.trials] == [t.value for t in values_trials(path)]


def values_trials(path: Path) -> list[optuna.trial.FrozenTrial]:
    storage = JournalStorage(SafeJournalFileBackend(str(path)))
    return optuna.load_study(study_name="s", storage=storage).trials


def test_a_file_that_is_not_a_journal_is_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "README.md"
    path.write_text("# notes\n")
    with pytest.raises(StorageError, match=r"README.md: expected an Optuna journal file"):
        SafeJournalFileBackend(str(path))
    assert path.read_text() == "# notes\n"
    assert not (tmp_path / "README.md.torn").exists()
