"""Results a deploy keeps between processes, under the course state (`.workshop/<kind>/<key>`).

Each is deterministic in what its key digests, so a later check may use it instead of doing
the work again. Written whole (write, then rename: other processes read these), the oldest
dropped beyond a limit; a store that cannot be written only makes the next deploy slower.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..course import state_root


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
        kept = [p for p in path.parent.iterdir() if not p.name.endswith(".partial")]
        if len(kept) > limit:
            for old in sorted(kept, key=_age)[:len(kept) - limit]:
                old.unlink(missing_ok=True)
    except OSError:
        pass


def _age(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0  # gone already
