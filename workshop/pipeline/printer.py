"""A dry run shown as a Rich table: a row per step, then what waits, what failed and what a reviewer would note."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from .run import BuildResult, CheckResult, DeployResult, PipelineRun, StepResult

STATUS_STYLE = {"succeeded": "green", "deployed": "green", "passed": "green", "built": "green", "failed": "red",
                "waiting": "yellow", "blocked": "yellow", "skipped": "dim"}


def _styled(status: str) -> str:
    return f"[{STATUS_STYLE.get(status, '')}]{status}[/]"


def print_run(result: PipelineRun, console: Console) -> None:
    table = Table(title=f"Pipeline dry run of {result.workflow.name}" + (" (approved)" if result.approved else ""))
    for column in ("job", "needs", "environment", "step", "account", "stack / build", "status"):
        table.add_column(column, overflow="fold")
    for job in result.jobs:
        first = True
        steps: list[StepResult | None] = [*job.steps] or [None]
        for step in steps:
            cells = ["", "", "", str(job.status)]
            if isinstance(step, CheckResult):
                again = " [dim](not re-run: these files passed before)[/]" if step.remembered else ""
                cells = [("smoke test: " if step.smoke else "unit tests: ") + step.step + again, "", "", str(step.status)]
            elif isinstance(step, BuildResult):
                cells = [f"sam build {step.template}", "", step.build, str(step.status)]
            elif isinstance(step, DeployResult):
                cells = [f"sam deploy {step.template}", step.account_name,
                         f"{step.stack_name} ({step.build or 'unbuilt source'})", str(step.status)]
            table.add_row(job.job if first else "", ", ".join(job.needs) if first else "",
                          (job.environment or "") if first else "", *cells[:3], _styled(cells[3]))
            first = False
    console.print(table)
    for job_id, role, sub in result.assumed:
        console.print(f"[dim]{job_id} ran as {role} (OIDC sub {sub})[/]")
    for job in result.jobs:
        if job.message:
            console.print(f"{_styled(str(job.status))} {job.job}: {job.message}")
    for note in result.notes():
        console.print(f"[yellow]Note:[/] {note}")
    if result.stopped_at_gate:
        console.print(f"[yellow]Stopped at the gate:[/] {', '.join(result.waiting)} waits for a reviewer; "
                      "run again with --approve to play the reviewer.")
    elif result.ok:
        console.print("[green]Every job succeeded.[/]")
