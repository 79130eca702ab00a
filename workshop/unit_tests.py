"""A project's own unit tests, run in a process of their own, and not run again on the same bytes.

A pytest run that passes leaves a record of what it read under its tree's root: every file it
opened or imported and every folder it listed (collection lists the test folders), each with a
digest. A later run with the same command, folder, environment and interpreter that would read
the same bytes passed before and is not started again (pytest-testmon's idea, for a whole run).
Failures are never recorded, so a failing run always runs again and shows fresh output. Records
are relative to the root, so the same service in another copy of the tree is recognised.

Used by module 01's "does the service stand alone" checkpoint and the pipeline dry run's tests
step. The store is the course state (`.workshop/unit-test-passes`), shared between processes:
records are written whole (write, then rename).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from . import kept
from .tree import NOT_SOURCE, is_ignored

RECORDS_KEPT = 16  # passing records per command: a learner going back and forth, the fairness suite's copies


PASSES = "unit-test-passes"


def _store() -> Path:
    return kept.root() / PASSES


def folder_digest(root: Path) -> str:
    """A digest of every file under root (relative path and bytes): the same folder, the same digest."""
    digest = hashlib.sha256(f"{sys.version}\0{sys.executable}\0".encode())
    for path in sorted(p for p in root.rglob("*") if not is_ignored(p.relative_to(root))):
        name = path.relative_to(root).as_posix().encode() + b"\0"
        if path.is_symlink():  # a link is what it says, wherever it leads (or fails to)
            digest.update(b"link\0" + name + os.readlink(path).encode() + b"\0")
        elif path.is_file():
            digest.update(name + path.read_bytes() + b"\0")
    return digest.hexdigest()


def passed_before(key: str) -> bool:
    """Whether a deterministic judgement keyed by a digest of everything it reads passed before."""
    return (_store() / key).exists()


def remember_pass(key: str) -> None:
    """Record a pass (never a failure: a failing judgement always runs again and shows fresh evidence)."""
    _store().mkdir(parents=True, exist_ok=True)
    (_store() / key).touch()


# -- what a run read ---------------------------------------------------------------------------

def _file_digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _listing_digest(folder: Path) -> str | None:
    try:
        names = sorted(p.name for p in folder.iterdir() if p.name not in NOT_SOURCE)
    except OSError:
        return None
    return hashlib.sha256("\0".join(names).encode()).hexdigest()


def _counts(relative: str) -> bool:
    return not is_ignored(Path(relative))  # caches and build output are derived


def _evidence(root: Path, reads: dict[str, list[str]]) -> dict[str, dict[str, str | None]]:
    return {"files": {r: _file_digest(root / r) for r in reads["files"] if _counts(r)},
            "folders": {r: _listing_digest(root / r) for r in reads["folders"] if _counts(r)}}


def _still_true(root: Path, record: dict[str, dict[str, str | None]]) -> bool:
    return (all(_file_digest(root / r) == d for r, d in record["files"].items())
            and all(_listing_digest(root / r) == d for r, d in record["folders"].items()))


class UnitTestRun:
    """`python -m pytest ...` in `cwd`, started now, unless its record says these bytes passed before.

    `root` is the tree whose files count (the repository, or a service folder copied alone); what
    the run reads outside it is the interpreter's and its packages'. `key_env` is the environment
    the command was given (a workflow step's `env:`), part of what makes two runs the same.
    """

    def __init__(self, arguments: list[str], cwd: Path, root: Path, key_env: dict[str, str] | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.root, self.cwd = root.resolve(), cwd.resolve()
        where = self.cwd.relative_to(self.root).as_posix() if self.cwd.is_relative_to(self.root) else str(self.cwd)
        self.key = hashlib.sha256(json.dumps(
            [sys.version, sys.executable, arguments, where, sorted((key_env or {}).items())]).encode()).hexdigest()
        self.remembered = any(_still_true(self.root, record) for record in self._records())
        handle, reads = tempfile.mkstemp(prefix="workshop-reads-", suffix=".json")
        os.close(handle)  # the test process writes it
        self._reads = Path(reads)
        self._process: subprocess.Popen[str] | None = None
        if not self.remembered:
            recording = {**(env if env is not None else os.environ), "WORKSHOP_READS_ROOT": str(self.root),
                         "WORKSHOP_READS_TO": str(self._reads)}
            command = [sys.executable, *_with_recorder(arguments)]
            self._process = subprocess.Popen(command, cwd=self.cwd, env=recording, stdout=subprocess.PIPE,
                                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)

    def _records(self) -> list[dict]:
        records = []
        for path in kept.newest_first(f"{PASSES}/{self.key}")[:RECORDS_KEPT]:
            try:
                records.append(json.loads(path.read_text()))
            except (OSError, ValueError):
                continue  # a record being replaced, or damaged: the run happens
        return records

    def result(self, timeout: float) -> tuple[int, str]:
        """(exit code, output); raises subprocess.TimeoutExpired after killing a run that hangs."""
        try:
            if self._process is None:
                return 0, "passed before with these very files"
            try:
                output, _ = self._process.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.communicate()
                raise
            if self._process.returncode == 0:
                self._remember()
            return self._process.returncode, output
        finally:
            self._reads.unlink(missing_ok=True)

    def close(self) -> None:
        """Stop a run nobody waited for, and forget its scratch file."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.communicate()
        self._reads.unlink(missing_ok=True)

    def _remember(self) -> None:
        try:
            reads = json.loads(self._reads.read_text())
        except (OSError, ValueError):
            return  # the run did not say what it read (it replaced pytest's plugins): nothing to trust
        record = _evidence(self.root, reads)
        if not record["files"]:
            return  # it read nothing of the tree (its tests live elsewhere): nothing it could vouch for
        text = json.dumps(record, sort_keys=True)
        kept.keep(f"{PASSES}/{self.key}", f"{hashlib.sha256(text.encode()).hexdigest()}.json", text.encode(),
                  RECORDS_KEPT)


def _with_recorder(arguments: list[str]) -> list[str]:
    """`-m pytest ARGS` with the read recorder loaded (as early as plugins load)."""
    if arguments[:2] == ["-m", "pytest"]:
        return [*arguments[:2], "-p", "workshop.read_recorder", *arguments[2:]]
    return arguments
