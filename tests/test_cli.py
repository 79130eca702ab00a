"""The learner's and the instructor's commands, through Typer's test runner."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from workshop import course
from workshop.cli import app
from workshop.grading import tamper

runner = CliRunner()
MODULE = course.modules()[0]


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKSHOP_WORKSPACE", str(tmp_path / "workspace"))
    monkeypatch.setenv("WORKSHOP_STATE", str(tmp_path / "state"))
    return tmp_path


def test_start_copies_the_start_tree_and_refuses_to_overwrite(isolated):
    result = runner.invoke(app, ["start", MODULE.number])
    assert result.exit_code == 0, result.output
    workspace = isolated / "workspace" / MODULE.name
    assert (workspace / "template.yaml").exists() or any(workspace.rglob("template.yaml"))
    assert "What is broken" in result.output
    again = runner.invoke(app, ["start", MODULE.number])
    assert again.exit_code == 1 and "already exists" in again.output
    (workspace / "mine.txt").write_text("my work")
    assert runner.invoke(app, ["start", MODULE.number, "--force"]).exit_code == 0
    assert not (workspace / "mine.txt").exists()


def test_hints_are_revealed_one_at_a_time_and_recorded(isolated):
    first = runner.invoke(app, ["hint", MODULE.number])
    assert "Hint 1/" in first.output and "Hint 2/" not in first.output
    second = runner.invoke(app, ["hint", MODULE.number])
    assert "Hint 2/" in second.output
    progress = json.loads((isolated / "state" / "progress.json").read_text())
    assert progress[MODULE.number]["hints"] == 2


def test_list_shows_every_module_with_progress():
    runner.invoke(app, ["start", MODULE.number])
    result = runner.invoke(app, ["list"], env={"COLUMNS": "160"})
    for m in course.modules():
        assert m.number in result.output
    assert "yes" in result.output


def test_solution_asks_first_then_shows_a_diff(isolated):
    runner.invoke(app, ["start", MODULE.number])
    declined = runner.invoke(app, ["solution", MODULE.number], input="n\n")
    assert "solution/" not in declined.output
    shown = runner.invoke(app, ["solution", MODULE.number], input="y\n")
    assert "+++ solution/" in shown.output


def test_reset_puts_the_start_back(isolated):
    runner.invoke(app, ["start", MODULE.number])
    workspace = isolated / "workspace" / MODULE.name
    (workspace / "extra.py").write_text("x = 1\n")
    assert runner.invoke(app, ["reset", MODULE.number, "--yes"]).exit_code == 0
    assert not (workspace / "extra.py").exists()


def test_an_unknown_module_is_a_clear_error():
    result = runner.invoke(app, ["start", "42"])
    assert result.exit_code == 2 and "no module '42'" in result.output


def test_checking_a_module_never_started_says_how_to_start_it(monkeypatch):
    monkeypatch.setattr("workshop.cli._cloud_url", lambda: "http://127.0.0.1:9")
    result = runner.invoke(app, ["check", MODULE.number])
    assert result.exit_code == 2 and f"workshop start {MODULE.number}" in result.output


def test_the_checkpoints_match_their_manifest():
    assert tamper.verify_checks() == [], "run `make manifest` after changing checks/"


def test_a_changed_checkpoint_is_reported_as_tampering(tmp_path):
    import shutil
    copy = tmp_path / "checks"
    shutil.copytree(course.CHECKS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    tamper.write_manifest(copy)
    assert tamper.verify_checks(copy) == []
    (copy / "conftest.py").write_text((copy / "conftest.py").read_text() + "\n# always pass\n")
    (copy / "test_99_extra.py").write_text("def test_x(): pass\n")
    assert tamper.verify_checks(copy) == ["conftest.py changed", "test_99_extra.py added"]


def _fake_run(calls):
    from workshop.grading.runner import CheckRun, Verdict

    def run_checks(module, tree, **kwargs):
        calls.append(tree)
        run = CheckRun(module, tree, "local")
        run.verdicts = [Verdict(c.id, c.title, c.points, "pass") for c in module.checkpoints]
        return run
    return run_checks


def test_watch_rechecks_on_enter_in_manual_mode(monkeypatch):
    calls = []
    monkeypatch.setattr("workshop.grading.runner.run_checks", _fake_run(calls))
    monkeypatch.setattr("workshop.cli._cloud_url", lambda: "http://127.0.0.1:9")
    runner.invoke(app, ["start", MODULE.number])
    result = runner.invoke(app, ["watch", MODULE.number, "--manual-run"], input="\n\n")
    assert result.exit_code == 0 and len(calls) == 3 and "stopped watching" in result.output


def test_watch_rechecks_when_a_file_changes(monkeypatch):
    calls = []
    monkeypatch.setattr("workshop.grading.runner.run_checks", _fake_run(calls))
    monkeypatch.setattr("workshop.cli._cloud_url", lambda: "http://127.0.0.1:9")
    monkeypatch.setattr("watchfiles.watch", lambda tree, **kwargs: iter([{("modified", str(tree / "x.py"))}]))
    runner.invoke(app, ["start", MODULE.number])
    result = runner.invoke(app, ["watch", MODULE.number])
    assert result.exit_code == 0 and len(calls) == 2


def test_doctor_reports_this_machine_ready_for_the_local_target():
    result = runner.invoke(app, ["doctor"], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    assert "moto 5.2.5" in result.output and "All good." in result.output
