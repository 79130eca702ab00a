"""Results kept between processes, under the course state (`.workshop/<kind>/<key>`): a deploy's
transform results and code zips, the records of unit-test runs that passed.

Each is deterministic in what its key digests, so a later check may use it instead of doing
the work again. Written whole (write, then rename: other processes read these), the oldest
dropped beyond a limit; a store that cannot be written only makes the next deploy slower.
"""

from __future__ import annotations

import os
from pathlib import Path

from .course import state_root


def _path(kind: str, key: str) -> Path:
    return state_root() / kind / key


def read(kind: str, key: str) -> bytes | None:
    try:
        return _path(kind, key).read_bytes()
    except OSError:
        return None


def keep(kind: str, key: str, data: bytes, limit: int) -> None:
    path = _path(kind, key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        partial.write_bytes(data)
        partial.replace(path)
        for old in newest_first(kind)[limit:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass


def newest_first(kind: str) -> list[Path]:
    """What is kept of a kind, the newest first."""
    found = []
    try:
        for path in (state_root() / kind).iterdir():
            if not path.name.endswith(".partial"):
                try:
                    found.append((path.stat().st_mtime, path))
                except OSError:
                    continue  # removed by another process meanwhile
    except OSError:
        return []
    return [path for _, path in sorted(found, reverse=True)]
