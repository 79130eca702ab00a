"""The course as its manifests describe it: modules, checkpoints, hints, and a learner's progress."""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULES_DIR = ROOT / "modules"
CHECKS_DIR = ROOT / "checks"


class CourseError(Exception):
    pass


@dataclass(frozen=True)
class Checkpoint:
    id: str
    title: str
    points: int
    fails_at_start: bool


@dataclass(frozen=True)
class StartChange:
    """One path that module N's start changes relative to module N-1's solution, and why."""
    path: str  # a file or a folder, relative to the shop tree
    why: str


@dataclass(frozen=True)
class Module:
    number: str
    slug: str
    title: str
    summary: str
    broken: str
    path: Path
    checkpoints: tuple[Checkpoint, ...]
    hints: tuple[str, ...] = field(default=())
    builds_on: str | None = None  # the module whose solution this start begins from
    start_changes: tuple[StartChange, ...] = field(default=())

    @property
    def name(self) -> str:
        return f"{self.number}-{self.slug}"

    @property
    def start(self) -> Path:
        return self.path / "start"

    @property
    def solution(self) -> Path:
        return self.path / "solution"

    @property
    def checks_file(self) -> Path:
        return CHECKS_DIR / f"test_{self.number}_{self.slug.replace('-', '_')}.py"

    @property
    def points(self) -> int:
        return sum(c.points for c in self.checkpoints)

    def workspace(self, root: Path | None = None) -> Path:
        return (root or workspace_root()) / self.name


def load_module(path: Path) -> Module:
    manifest = path / "module.toml"
    try:
        data = tomllib.loads(manifest.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CourseError(f"{manifest}: {exc}") from None
    return Module(
        number=str(data["number"]),
        slug=data["slug"],
        title=data["title"],
        summary=data.get("summary", ""),
        broken=data.get("broken", ""),
        path=path,
        checkpoints=tuple(
            Checkpoint(c["id"], c["title"], int(c.get("points", 1)), bool(c.get("fails_at_start", False)))
            for c in data.get("checkpoints", [])
        ),
        hints=tuple(h["text"] for h in data.get("hints", [])),
        builds_on=str(data["start"]["builds_on"]) if "builds_on" in data.get("start", {}) else None,
        start_changes=tuple(StartChange(c["path"].strip("/"), c.get("why", ""))
                            for c in data.get("start", {}).get("changes", [])),
    )


def modules() -> list[Module]:
    return [load_module(p) for p in sorted(MODULES_DIR.glob("[0-9][0-9]-*")) if (p / "module.toml").exists()]


def module(number: str) -> Module:
    wanted = number.zfill(2)
    for m in modules():
        if m.number == wanted or m.name == number:
            return m
    known = ", ".join(m.number for m in modules()) or "none"
    raise CourseError(f"no module {number!r} (modules: {known})")


def find_course_root(start: Path | None = None) -> Path | None:
    """The nearest folder at or above start holding a copy of the course, as git finds its repository.

    A copy of the course has modules/ and checks/conftest.py side by side (this repository, or a
    learner's clone of it). So `workshop check 01` works from workspace/01-bounded-context/services/cart.
    """
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "modules").is_dir() and (folder / "checks" / "conftest.py").is_file():
            return folder
    return None


def course_root() -> Path:
    """Where workspace/ and .workshop/ live: the course above the current folder, else the current folder."""
    return find_course_root() or Path.cwd()


def workspace_root() -> Path:
    return Path(os.environ.get("WORKSHOP_WORKSPACE", course_root() / "workspace"))


def state_root() -> Path:
    return Path(os.environ.get("WORKSHOP_STATE", course_root() / ".workshop"))


class Progress:
    """`.workshop/progress.json`: per module, started, hints seen, the last check's score."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or state_root() / "progress.json"
        try:
            self.data: dict[str, dict] = json.loads(self.path.read_text())
        except (OSError, ValueError):
            self.data = {}

    def of(self, number: str) -> dict:
        return self.data.setdefault(number, {})

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=2, sort_keys=True))
        tmp.replace(self.path)
