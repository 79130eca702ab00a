"""results.json (exercism v3) and JUnit XML, from verdicts of our own making."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from workshop import course
from workshop.grading.report import exercism_results, junit_document, print_run
from workshop.grading.runner import CheckRun, Status, Verdict, _verdicts

SCHEMA = json.loads((Path(__file__).parent / "exercism_v3.schema.json").read_text())
MODULE = course.modules()[0]


def run_with(statuses: list[str], error: str | None = None) -> CheckRun:
    run = CheckRun(MODULE, Path("ws"), "local", error=error)
    for checkpoint, status in zip(MODULE.checkpoints, statuses, strict=False):
        run.verdicts.append(Verdict(checkpoint.id, checkpoint.title, checkpoint.points, Status(status),
                                    "" if status == "pass" else "saw this\n→ change that", 0.1, "test_x"))
    return run


@pytest.mark.parametrize("statuses, overall", [
    (["pass"] * 6, "pass"),
    (["pass", "fail", "pass", "pass", "error", "pass"], "fail"),
])
def test_results_json_is_exercism_v3(statuses, overall):
    results = exercism_results([run_with(statuses)])
    jsonschema.validate(results, SCHEMA)
    assert results["status"] == overall
    assert [t["name"].split()[0] for t in results["tests"]] == [c.id for c in MODULE.checkpoints]  # file order
    assert all(t["task_id"] == int(MODULE.number) for t in results["tests"])
    failed = results["tests"][1] if overall == "fail" else None
    if failed:
        assert failed["message"] == "saw this\n→ change that"


def test_a_check_that_could_not_run_is_an_error_with_a_message():
    results = exercism_results([run_with([], error="the checkpoints did not finish within 900 s")])
    jsonschema.validate(results, SCHEMA)
    assert results["status"] == "error" and "900 s" in results["message"]


def test_the_schema_rejects_what_exercism_would():
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"version": 2, "status": "pass", "tests": []}, SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"version": 3, "status": "error", "tests": []}, SCHEMA)  # error needs a message


def test_junit_merges_each_modules_suite_and_explains_runs_that_could_not_run():
    suite = ('<testsuites><testsuite name="pytest" tests="1" failures="1" errors="0">'
             '<testcase classname="checks.test_01" name="test_a"><failure message="saw this">saw this</failure>'
             '</testcase></testsuite></testsuites>')
    good = run_with(["fail"])
    good.junit = suite
    broken = run_with([], error="deploy crashed")
    document = ET.fromstring(ET.tostring(junit_document([good, broken])))
    suites = document.findall("testsuite")
    assert [s.get("name") for s in suites] == [f"module-{MODULE.number}"] * 2
    assert suites[0].find("testcase/failure").get("message") == "saw this"
    assert suites[1].find("testcase/error").get("message") == "deploy crashed"


def test_a_checkpoint_with_no_test_is_an_error_not_a_pass():
    verdicts = _verdicts(MODULE, [{"id": MODULE.checkpoints[0].id, "status": "pass", "message": "", "duration": 0, "name": "t"}])
    assert verdicts[0].status == "pass"
    assert all(v.status == "error" and "no checkpoint test" in v.message for v in verdicts[1:])


def test_the_report_shows_every_checkpoint_and_explains_the_failures_first_one_first():
    from rich.console import Console
    console = Console(record=True, width=80)
    print_run(run_with(["pass", "fail", "pass", "pass", "pass", "fail"]), console)
    text = console.export_text()
    for checkpoint in MODULE.checkpoints:
        assert checkpoint.id in text
    assert f"{MODULE.checkpoints[1].id} saw this\n→ change that" in text
    assert text.strip().endswith(f"Start with {MODULE.checkpoints[1].id}: {MODULE.checkpoints[1].title}.")


def test_a_deploy_error_is_shown_once_at_the_top_by_template_path_sorted():
    """Issue 16: one YAML error is reported once, naming the template's path, not under every checkpoint."""
    from rich.console import Console
    run = run_with(["fail"] * 6)
    run.deploy_errors = {"services/payments/template.yaml": "not valid YAML (line 3)",
                         "services/cart/template.yaml": "CodeUri src/ does not exist"}
    console = Console(record=True, width=200)
    print_run(run, console)
    text = console.export_text()
    assert text.count("not valid YAML") == 1 and text.count("CodeUri src/") == 1
    assert text.index("services/cart/template.yaml") < text.index("services/payments/template.yaml") < text.index("01.1")
    results = exercism_results([run])
    assert results["message"].splitlines() == [
        "module 01: Did not deploy: services/cart/template.yaml: CodeUri src/ does not exist",
        "module 01: Did not deploy: services/payments/template.yaml: not valid YAML (line 3)"]
    jsonschema.validate(results, SCHEMA)
    run.junit = '<testsuite name="x" tests="1"><testcase classname="c" name="t"/></testsuite>'
    suite = junit_document([run]).find("testsuite")
    assert suite.find("system-err").text.count("Did not deploy") == 2

def test_a_checkpoint_not_gradable_here_is_out_of_the_score_the_exit_code_and_the_graded_tests():
    """Issue 14, item 6: 06.2 and 06.8 on aws without a second account are neither failures nor errors."""
    run = run_with(["pass", "skip", "pass", "pass", "pass", "pass"])
    skipped = run.verdicts[1]
    skipped.message = "not gradable on this target: it reads your second (prod) account"
    assert run.passed and run.exit_code == 0
    assert run.score == (MODULE.points - skipped.points, MODULE.points - skipped.points)
    results = exercism_results([run])
    jsonschema.validate(results, SCHEMA)
    assert results["status"] == "pass" and results["max_score"] == MODULE.points - skipped.points
    assert skipped.id not in [t["name"].split()[0] for t in results["tests"]]  # Classroom counts all but pass as failed
    assert results["not_gradable"][0]["name"].startswith(skipped.id) and "second (prod)" in results["not_gradable"][0]["message"]
    assert run_with(["fail", "skip"]).exit_code == 1

    from rich.console import Console
    console = Console(record=True, width=200)
    print_run(run, console)
    shown = console.export_text()
    assert "not gradable on this target" in shown and f"{skipped.id} not gradable on local: left out" in shown
    assert "gradable on local passes" in shown


def test_every_graded_test_names_the_line_of_its_checkpoint_function():
    """Classroom's reporter (classroom-resources/autograding-grading-reporter) prints `line <line_no>`."""
    import ast
    checks = course.module("01").checks_file
    functions = {n.name: n.lineno for n in ast.walk(ast.parse(checks.read_text())) if isinstance(n, ast.FunctionDef)}
    raw = [{"id": c.id, "status": "pass", "message": "", "duration": 0.1, "name": name}
           for c, name in zip(course.module("01").checkpoints, [n for n in functions if n.startswith("test_")], strict=False)]
    verdicts = _verdicts(course.module("01"), raw)
    assert all(v.line_no == functions[v.test_name] > 0 for v in verdicts)
    run = CheckRun(course.module("01"), Path("ws"), "aws", verdicts=verdicts)
    assert all(t["line_no"] > 0 for t in exercism_results([run])["tests"])
