"""Verdicts for people (a Rich table) and for machines (exercism v3 results.json, JUnit XML)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from rich.console import Console
from rich.table import Table

from .runner import CheckRun

STYLES = {"pass": "green", "fail": "red", "error": "magenta", "skip": "yellow"}
MARKS = {"pass": "✔ pass", "fail": "✘ fail", "error": "! error", "skip": "- skip"}


def table(run: CheckRun) -> Table:
    earned, total = run.score
    grid = Table(title=f"Module {run.module.number} · {run.module.title} · {run.target}",
                 caption=f"{earned}/{total} points in {run.seconds:.1f} s", expand=False, show_lines=True)
    grid.add_column("id", no_wrap=True)
    grid.add_column("checkpoint")
    grid.add_column("result", no_wrap=True)
    grid.add_column("pts", justify="right")
    for v in run.verdicts:
        grid.add_row(v.id, v.title, f"[{STYLES[v.status]}]{MARKS[v.status]}[/]", f"{v.earned}/{v.points}")
    return grid


def print_run(run: CheckRun, console: Console) -> None:
    """The table, then each failure's own words (full width: they are the point), first one first."""
    if run.verdicts:
        console.print(table(run))
    for v in run.verdicts:
        if v.status != "pass" and v.message:
            console.print(f"[{STYLES[v.status]}]{v.id}[/] {v.message}", highlight=False)
    if run.error:
        console.print(f"[magenta]The check could not run:[/] {run.error}")
    elif all(v.status == "pass" for v in run.verdicts):
        console.print(f"[green bold]All checkpoints of module {run.module.number} pass.[/]")
    else:
        first = next(v for v in run.verdicts if v.status != "pass")
        console.print(f"[bold]Start with {first.id}:[/] {first.title}.")


def exercism_results(runs: list[CheckRun]) -> dict:
    """The exercism test-runner interface, version 3; task_id is the module's number."""
    tests = []
    errors = [f"module {r.module.number}: {r.error}" for r in runs if r.error]
    for run in runs:
        for v in run.verdicts:
            tests.append({
                "name": f"{v.id} {v.title}",
                "status": "error" if v.status == "skip" else v.status,
                "message": v.message or None,
                "output": None,
                "test_code": f"checks/{run.module.checks_file.name}::{v.test_name}" if v.test_name else None,
                "task_id": int(run.module.number),
                "score": v.earned,  # beside exercism's fields: what a points-based reporter totals
            })
    if errors and not tests:
        status = "error"
    elif tests and not errors and all(t["status"] == "pass" for t in tests):
        status = "pass"
    else:
        status = "fail"
    result = {"version": 3, "status": status, "max_score": sum(r.score[1] for r in runs), "tests": tests}
    if errors:
        result["message"] = "; ".join(errors)
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
                root.append(suite)
        else:  # the check could not run: one erroring case says why
            suite = ET.SubElement(root, "testsuite", name=f"module-{run.module.number}", tests="1", errors="1", failures="0")
            case = ET.SubElement(suite, "testcase", classname=f"module-{run.module.number}", name="check")
            ET.SubElement(case, "error", message=run.error or "did not run")
    return root


def write_junit(runs: list[CheckRun], path: Path) -> None:
    ET.ElementTree(junit_document(runs)).write(path, encoding="utf-8", xml_declaration=True)
