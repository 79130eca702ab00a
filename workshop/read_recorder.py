"""A pytest plugin (`-p workshop.read_recorder`): what a passing run read under a root.

Loaded by workshop.unit_tests into a learner's test process. With WORKSHOP_READS_ROOT and
WORKSHOP_READS_TO set, it notes every file opened and folder listed under the root (Python's
audit events, raised for every open and listing, whoever makes them), adds the files of the
modules imported, and writes them as JSON when the session passes. Otherwise it does nothing.
"""

from __future__ import annotations

import json
import os
import sys

_ROOT = os.environ.get("WORKSHOP_READS_ROOT")
_TO = os.environ.get("WORKSHOP_READS_TO")
_files: set[str] = set()
_folders: set[str] = set()


def _under_root(path: object) -> str | None:
    if _ROOT is None or not isinstance(path, (str, bytes, os.PathLike)):  # a descriptor: opened by path before
        return None
    try:
        full = os.path.abspath(os.fsdecode(path))
    except (TypeError, ValueError):
        return None
    if full != _ROOT and not full.startswith(_ROOT + os.sep):
        return None
    return os.path.relpath(full, _ROOT)


def _writes_only(mode: object, flags: object) -> bool:
    if isinstance(mode, str):
        return "r" not in mode and "+" not in mode
    return isinstance(flags, int) and flags & os.O_ACCMODE == os.O_WRONLY


def _audit(event: str, args: tuple) -> None:
    if event == "open":
        if _writes_only(*args[1:3]):
            return  # an output, not an input
        relative = _under_root(args[0])
        if relative is not None:
            _files.add(relative)
    elif event in ("os.listdir", "os.scandir"):
        relative = _under_root(args[0] if args and args[0] is not None else ".")
        if relative is not None:
            _folders.add(relative)


if _ROOT and _TO:
    sys.addaudithook(_audit)  # at import, before conftest files and collection


def pytest_sessionfinish(session, exitstatus) -> None:
    if not (_ROOT and _TO) or exitstatus != 0:
        return
    for module in list(sys.modules.values()):  # imported before the hook, or from a cached .pyc
        relative = _under_root(getattr(module, "__file__", None))
        if relative is not None:
            _files.add(relative)
    with open(_TO, "w") as out:  # noqa: PTH123 - the hook sees this open too; it is outside the root
        json.dump({"files": sorted(f for f in _files if os.path.isfile(os.path.join(_ROOT, f))),
                   "folders": sorted(f for f in _folders if os.path.isdir(os.path.join(_ROOT, f)))}, out)
