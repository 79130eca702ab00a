"""Verdicts for people (a Rich table) and for machines (exercism v3 results.json, JUnit XML)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .runner import CheckRun, Status

STYLES = {Status.PASS: "green", Status.FAIL: "red", Status.ERROR: "magenta", Status.SKIP: "yellow"}
MARKS = {Status.PASS: "✔ pass", Status.FAIL: "✘ fail", Status.ERROR: "! error", Status.SKIP: "– not gradable on this target"}


def table(run: CheckRun) -> Table:
    earned, total = run.score
    caption = f"{earned}/{total} points in {run.seconds:.1f} s"
    if run.not_gradable:
        caption += f" ({', '.join(v.id for v in run.not_gradable)} not gradable on {run.target}: left out)"
    grid = Table(title=f"Module {run.module.number} · {run.module.title} · {run.target}",
                 caption=caption, expand=False, show_lines=True)
    grid.add_column("id", no_wrap=True)
    grid.add_column("checkpoint")
    grid.add_column("result", no_wrap=True)
    grid.add_column("pts", justify="right")
    for v in run.verdicts:
        points = "—" if v.status is Status.SKIP else f"{v.earned}/{v.points}"
        grid.add_row(v.id, v.title, f"[{STYLES[v.status]}]{MARKS[v.status]}[/]", points)
    return grid


def print_run(run: CheckRun, console: Console) -> None:
    """What did not deploy (once), the table, then each failure's own words (full width: they are the point)."""
    for line in deploy_error_lines(run):
        console.print(line, style="red", highlight=False, markup=False)
    if run.verdicts:
        console.print(table(run))
    for v in run.verdicts:
        if v.status is not Status.PASS and v.message:
            console.print(f"[{STYLES[v.status]}]{v.id}[/] {escape(v.message)}", highlight=False)  # [dev.deploy.parameters] is text
    for v in run.verdicts:  # what a passing checkpoint measured (informational figures): the learner reads it here
        if v.status == "pass" and v.message:
            console.print(f"[dim]{v.id} measured:[/] {escape(v.message)}", highlight=False)
    if run.error:
        console.print(f"[magenta]The check could not run:[/] {run.error}")
    elif run.passed and run.not_gradable:
        console.print(f"[green bold]Every checkpoint of module {run.module.number} gradable on {run.target} passes.[/]")
    elif run.passed or not run.verdicts:
        console.print(f"[green bold]All checkpoints of module {run.module.number} pass.[/]")
    else:
        first = next(v for v in run.graded if v.status is not Status.PASS)
        console.print(f"[bold]Start with {first.id}:[/] {first.title}.")


def deploy_error_lines(run: CheckRun) -> list[str]:
    """One line per template of the workspace that did not deploy, by its path, sorted."""
    return [f"Did not deploy: {path}: {message}" for path, message in sorted(run.deploy_errors.items())]


def exercism_results(runs: list[CheckRun]) -> dict:
    """The exercism test-runner interface, version 3; task_id is the module's number.

    v3 knows pass, fail and error only. A checkpoint not gradable on this target is none of
    them, and Classroom's reporter counts every status but pass as failed, so it is left out of
    `tests` and of `max_score`, and listed under `not_gradable` (beside exercism's fields, as
    `score` and `line_no` are).
    """
    tests, not_gradable = [], []
    errors = [f"module {r.module.number}: {r.error}" for r in runs if r.error]
    deploy_errors = [f"module {r.module.number}: {line}" for r in runs for line in deploy_error_lines(r)]
    for run in runs:
        for v in run.verdicts:
            test_code = f"checks/{run.module.checks_file.name}::{v.test_name}" if v.test_name else None
            if v.status is Status.SKIP:
                not_gradable.append({"name": f"{v.id} {v.title}", "message": v.message or None,
                                     "test_code": test_code, "task_id": int(run.module.number), "points": v.points})
                continue
            tests.append({
                "name": f"{v.id} {v.title}",
                "status": str(v.status),
                "message": v.message or None,
                "output": None,
                "test_code": test_code,
                "task_id": int(run.module.number),
                "line_no": v.line_no,  # Classroom's reporter prints "line <line_no>" after each test
                "score": v.earned,  # beside exercism's fields: what a points-based reporter totals
            })
    if errors and not tests:
        status = "error"
    elif tests and not errors and all(t["status"] == "pass" for t in tests):
        status = "pass"
    else:
        status = "fail"
    result = {"version": 3, "status": status, "max_score": sum(r.score[1] for r in runs), "tests": tests}
    if not_gradable:
        result["not_gradable"] = not_gradable
    if errors or deploy_errors:
        result["message"] = "\n".join(deploy_errors + errors)
    return result


def write_results(runs: list[CheckRun], path: Path) -> None:
    path.write_text(json.dumps(exercism_results(runs), indent=2, ensure_ascii=False))


def junit_document(runs: list[CheckRun]) -> ET.Element:
    """One <testsuites> holding each module's suite as pytest wrote it (short messages, no tracebacks)."""
    root = ET.Element("testsuites")
    for run in runs:
        if run.junit:
            parsed = ET.fromstring(run.junit)
            suites = [parsed] if parsed.tag == "testsuite" else list(parsed)
            for suite in suites:
                suite.set("name", f"module-{run.module.number}")
                if run.deploy_errors:  # once per module, beside its cases
                    ET.SubElement(suite, "system-err").text = "\n".join(deploy_error_lines(run))
                root.append(suite)
        else:  # the check could not run: one erroring case says why
            suite = ET.SubElement(root, "testsuite", name=f"module-{run.module.number}", tests="1", errors="1", failures="0")
            case = ET.SubElement(suite, "testcase", classname=f"module-{run.module.number}", name="check")
            ET.SubElement(case, "error", message=run.error or "did not run")
    return root


def write_junit(runs: list[CheckRun], path: Path) -> None:
    ET.ElementTree(junit_document(runs)).write(path, encoding="utf-8", xml_declaration=True)
