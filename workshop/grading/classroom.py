"""`workshop grade`: every module of a class of learner repositories, and the class summary."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rich.table import Table

from .. import course
from . import runner


@dataclass
class LearnerRow:
    learner: str
    cells: list[str]  # per module: "got/of", "error", or "—" when not started
    earned: int
    total: int


@dataclass
class ClassGrade:
    modules: list[course.Module]
    rows: list[LearnerRow] = field(default_factory=list)
    runs: list[runner.CheckRun] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.runs) and all(run.passed for run in self.runs)

    def table(self) -> Table:
        summary = Table(title="Class summary")
        summary.add_column("learner")
        for m in self.modules:
            summary.add_column(m.number, justify="right")
        summary.add_column("total", justify="right")
        for row in self.rows:
            summary.add_row(row.learner, *row.cells, f"{row.earned}/{row.total}")
        return summary


def grade_class(repos: list[Path], target: str, cloud_url: str | None,
                graded: Callable[[str], None] = lambda _: None) -> ClassGrade:
    """Check each repository's `workspace/NN-slug/` that exists; `graded(label)` after each module."""
    grade = ClassGrade(course.modules())
    for repo in repos:
        cells, earned, total = [], 0, 0
        for m in grade.modules:
            tree = repo / "workspace" / m.name
            if tree.exists():
                run = runner.run_checks(m, tree, target=target, cloud_url=cloud_url,
                                        stack_prefix=f"g-{repo.name[:20]}-{m.number}")
                grade.runs.append(run)
                got, of = run.score
                cells.append(f"{got}/{of}" if not run.error else "error")
                earned += got
            else:
                cells.append("—")
            total += m.points
            graded(f"{repo.name} · module {m.number}")
        grade.rows.append(LearnerRow(repo.name, cells, earned, total))
    return grade
