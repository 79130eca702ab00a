"""The course is progressive: module N's start is module N-1's solution plus only module N's problem.

Each module.toml from 02 on declares, in its `[start]` table, the paths its start changes
relative to the solution it builds on (`builds_on`), one line each on why. These tests prove
the declaration exact: every file that differs (added, removed or modified) lies under a
declared path, and every declared path covers at least one differing file. Module 01's start
is the flat shop the course begins from and declares nothing.
"""

from __future__ import annotations

import filecmp
from pathlib import Path, PurePosixPath

import pytest

from workshop import course
from workshop.tree import NOT_SOURCE

MODULES = course.modules()
IGNORED = NOT_SOURCE
LATER = [m for m in MODULES if m.number != "01"]


def files_of(tree: Path) -> set[str]:
    """Every file of a shop tree, as a posix path relative to it."""
    return {p.relative_to(tree).as_posix() for p in tree.rglob("*")
            if (p.is_file() or p.is_symlink()) and not IGNORED.intersection(p.relative_to(tree).parts)}


def differing(before: Path, after: Path) -> set[str]:
    """The paths that were added, removed or modified between two trees."""
    old, new = files_of(before), files_of(after)
    changed = {p for p in old & new if not filecmp.cmp(before / p, after / p, shallow=False)}
    return (old ^ new) | changed


def covers(declared: str, path: str) -> bool:
    return PurePosixPath(path) == PurePosixPath(declared) or PurePosixPath(declared) in PurePosixPath(path).parents


def test_module_01_starts_from_the_flat_shop():
    first = course.module("01")
    assert first.builds_on is None and not first.start_changes, "module 01 starts the course: it builds on nothing"


@pytest.mark.parametrize("module", LATER, ids=lambda m: m.name)
def test_start_builds_on_the_previous_solution(module):
    previous = f"{int(module.number) - 1:02d}"
    assert module.builds_on == previous, (
        f"{module.path.name}/module.toml: [start] builds_on = {module.builds_on!r}, expected {previous!r}")
    assert module.start_changes, f"{module.path.name}/module.toml declares no [[start.changes]]"
    assert all(c.why.strip() for c in module.start_changes), "every declared change says why"


@pytest.mark.parametrize("module", LATER, ids=lambda m: m.name)
def test_start_is_the_previous_solution_plus_exactly_the_declared_paths(module):
    previous = course.module(module.builds_on or f"{int(module.number) - 1:02d}")
    changed = differing(previous.solution, module.start)
    declared = [c.path for c in module.start_changes]
    undeclared = sorted(p for p in changed if not any(covers(d, p) for d in declared))
    unused = sorted(d for d in declared if not any(covers(d, p) for p in changed))
    assert not undeclared, (
        f"{module.name}/start differs from {previous.name}/solution in paths its module.toml does not declare: "
        + ", ".join(undeclared))
    assert not unused, f"{module.name}/module.toml declares paths that do not differ: " + ", ".join(unused)


def test_the_comparison_sees_added_removed_and_modified_files(tmp_path):
    before, after = tmp_path / "before", tmp_path / "after"
    for tree in (before, after):
        (tree / "svc").mkdir(parents=True)
        (tree / "svc" / "same.py").write_text("x = 1\n")
        (tree / "svc" / "__pycache__").mkdir()
        (tree / "svc" / "__pycache__" / "same.cpython-311.pyc").write_bytes(bytes([len(tree.name)]))
    (before / "svc" / "gone.py").write_text("")
    (after / "svc" / "new.py").write_text("")
    (before / "svc" / "edited.py").write_text("a\n")
    (after / "svc" / "edited.py").write_text("b\n")
    assert differing(before, after) == {"svc/gone.py", "svc/new.py", "svc/edited.py"}
    assert covers("svc", "svc/new.py") and covers("svc/new.py", "svc/new.py")
    assert not covers("sv", "svc/new.py") and not covers("svc/new", "svc/new.py")
