"""What counts as a learner's source in a shop tree: the one list of folders every tool and check skips.

Build output (`.aws-sam`), caches and environments are never the learner's code. Test folders
are source, but not part of a deployed shop: templates and service code are looked for outside them.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

NOT_SOURCE = frozenset({
    ".aws-sam", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".git", ".venv", "node_modules",
})
TEST_FOLDERS = frozenset({"tests"})


def is_ignored(relative: Path, skip_tests: bool = False) -> bool:
    """Whether a path (relative to its tree's root) lies in a folder that is not source."""
    skipped = NOT_SOURCE | TEST_FOLDERS if skip_tests else NOT_SOURCE
    folders = relative.parts[:-1]
    return bool(skipped.intersection(folders)) or relative.name in NOT_SOURCE


def source_files(root: Path, pattern: str = "*", skip_tests: bool = False) -> list[Path]:
    """The files under root matching a glob pattern (`*.py`, `template.y*ml`), ignored folders left out, sorted."""
    return sorted(p for p in root.rglob(pattern)
                  if p.is_file() and not is_ignored(p.relative_to(root), skip_tests))


def copy_ignoring(extra: Iterable[str] = ()) -> Callable[[str, list[str]], set[str]]:
    """An `ignore=` for shutil.copytree that leaves out the folders that are not source (and `extra` patterns)."""
    return shutil.ignore_patterns(*NOT_SOURCE, *extra)
