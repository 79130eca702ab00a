"""Results kept between processes, under the course state (`.workshop/<kind>/<key>`): a deploy's
transform results and code zips, the records of unit-test runs that passed, what a checker tool
printed for the files it was given. `WORKSHOP_KEPT` puts them elsewhere: the test suite shares
one store between learners' checkouts that each have a state of their own.

Each is deterministic in what its key digests, so a later check may use it instead of doing
the work again. Written whole (write, then rename: other processes read these), the oldest
dropped beyond a limit; a store that cannot be written only makes the next deploy slower.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from .course import state_root


def root() -> Path:
    return Path(os.environ["WORKSHOP_KEPT"]) if os.environ.get("WORKSHOP_KEPT") else state_root()


def _path(kind: str, key: str) -> Path:
    return root() / kind / key


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
        for path in (root() / kind).iterdir():
            if not path.name.endswith(".partial"):
                try:
                    found.append((path.stat().st_mtime, path))
                except OSError:
                    continue  # removed by another process meanwhile
    except OSError:
        return []
    return [path for _, path in sorted(found, reverse=True)]


def run(tool: str, arguments: list[str], cwd: Path, inputs: list[Path], timeout: float,
        limit: int = 64) -> subprocess.CompletedProcess[str]:
    """`tool arguments...` in cwd, or what it printed the last time it read the same bytes.

    For a checker whose answer depends only on the files it is given (cfn-lint on templates,
    check-jsonschema on workflows): the key digests the tool's installed version, the arguments
    and each input's path (relative to cwd) and bytes, so a re-check of unchanged files, or a copy
    of them elsewhere, does not start the tool again. `inputs` must name every file it reads.
    """
    version = metadata.version(tool)
    digest = hashlib.sha256(json.dumps([tool, version, arguments]).encode())
    for path in inputs:
        named = path.relative_to(cwd) if path.is_relative_to(cwd) else path
        digest.update(f"\0{named.as_posix()}\0".encode())
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"\0missing")
    kind, key = f"tool-runs/{tool}", digest.hexdigest()
    if (found := read(kind, key)) is not None:
        answer = json.loads(found)
        return subprocess.CompletedProcess([tool, *arguments], answer["returncode"], answer["stdout"], answer["stderr"])
    executable = Path(sys.executable).parent / tool
    done = subprocess.run([str(executable) if executable.exists() else tool, *arguments], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL)
    keep(kind, key, json.dumps({"returncode": done.returncode, "stdout": done.stdout,
                                "stderr": done.stderr}).encode(), limit)
    return done
