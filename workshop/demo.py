"""`make demo`: start the local cloud, grade every module's reference solution, show the scorecard."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from . import course
from .grading.report import print_run
from .grading.runner import run_checks
from .localcloud import control

FIGURES = course.ROOT / "docs" / "data" / "bench.json"


def main() -> int:
    console = Console()
    state = Path(tempfile.mkdtemp(prefix="workshop-demo-")) / "cloud"  # never disturbs a learner's cloud
    with console.status("Starting the local cloud…"):
        info, _ = control.up(state)
    console.print(f"Local cloud on {info.url} (no AWS account, no Docker)\n")
    runs = []
    try:
        modules = course.modules()
        with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                      TimeElapsedColumn(), console=console) as bar:
            task = bar.add_task("grading the reference solutions", total=len(modules))
            for module in modules:
                bar.update(task, description=f"module {module.number}: deploying and checking the solution")
                runs.append(run_checks(module, module.solution, cloud_url=info.url, stack_prefix=f"demo-{module.number}"))
                bar.advance(task)
    finally:
        control.down(state)
    for run in runs:
        print_run(run, console)
    scorecard = Table(title="Scorecard: every module's reference solution on the local target")
    for column in ("module", "title", "points", "time"):
        scorecard.add_column(column)
    for run in runs:
        earned, total = run.score
        scorecard.add_row(run.module.number, run.module.title, f"{earned}/{total}", f"{run.seconds:.1f} s")
    console.print(scorecard)
    show_figures(console)
    return 0 if runs and all(r.passed for r in runs) else 1


def show_figures(console: Console) -> None:
    """The latest `make bench` figures beside the talk's."""
    try:
        data = json.loads(FIGURES.read_text())
    except (OSError, ValueError):
        console.print("[dim]No measured figures yet: run `make bench`.[/]")
        return
    table = Table(title=f"Measured figures ({data.get('measured_on') or 'not measured yet'}) beside the talk's")
    for column in ("what", "measured here", "the talk"):
        table.add_column(column)
    for row in data.get("rows", []):
        table.add_row(row["label"], row.get("measured", "—"), row.get("talk", "—"))
    console.print(table)


if __name__ == "__main__":
    sys.exit(main())
