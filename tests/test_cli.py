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
    assert shown.exit_code == 0, shown.output
    # module 01 moves every file: the files on one side only are listed, not dumped
    assert "Only in solution:" in shown.output and "  services/cart/template.yaml" in shown.output
    assert "Only in yours:" in shown.output and "AWSTemplateFormatVersion" not in shown.output


def test_solution_of_one_file_is_a_unified_diff_with_prefixes(isolated):
    later = course.modules()[1]  # its start and solution share files
    runner.invoke(app, ["start", later.number])
    workspace = isolated / "workspace" / later.name
    mine = next(p for p in sorted(workspace.rglob("*.py")) if (later.solution / p.relative_to(workspace)).exists())
    rel = mine.relative_to(workspace).as_posix()
    mine.write_text(mine.read_text() + "LEARNER_LINE = 1\n")
    shown = runner.invoke(app, ["solution", later.number, "--yes", "--file", rel], env={"COLUMNS": "60"})
    assert f"--- yours/{rel}" in shown.output and f"+++ solution/{rel}" in shown.output
    assert "-LEARNER_LINE = 1" in shown.output


def test_the_tree_diff_lists_one_sided_files_and_colours_lines(tmp_path):
    from rich.console import Console

    from workshop.course_diff import show, tree_changes
    left, right = tmp_path / "l", tmp_path / "r"
    for root in (left, right):
        root.mkdir()
        (root / "same.py").write_text("x = 1\n")
    (left / "a.py").write_text("old\n")
    (right / "a.py").write_text("new\n")
    (left / "mine.py").write_text("only mine " * 50 + "\n")
    (right / "theirs.py").write_text("only theirs\n")
    changes = tree_changes(left, right)
    assert [(c.path, c.kind) for c in changes] == [("a.py", "modified"), ("mine.py", "only-left"), ("theirs.py", "only-right")]
    console = Console(record=True, width=40, force_terminal=True)
    show(changes, console)
    text = console.export_text(clear=False)
    assert "-old" in text and "+new" in text and "only mine" not in text
    assert "Only in solution: (1 files)" in text and "Only in yours: (1 files)" in text
    assert "  theirs.py" in text and "  mine.py" in text
    styles = console.export_html(inline_styles=True)
    assert "color: #008000" in styles and "color: #800000" in styles  # green + and red -


def test_a_long_diff_off_a_terminal_is_summarised_per_file(tmp_path, monkeypatch):
    from rich.console import Console

    from workshop import course_diff
    left, right = tmp_path / "l", tmp_path / "r"
    for root, word in ((left, "old"), (right, "new")):
        root.mkdir()
        (root / "big.py").write_text("".join(f"{word} {i}\n" for i in range(50)))
    monkeypatch.setattr(course_diff, "LONG", 20)
    console = Console(record=True, width=80, force_terminal=False)
    course_diff.show(course_diff.tree_changes(left, right), console)
    text = console.export_text()
    assert "~ big.py  +50 -50" in text and "--file PATH" in text and "old 7" not in text


def test_reset_puts_the_start_back_says_so_and_clears_progress(isolated):
    runner.invoke(app, ["start", MODULE.number])
    workspace = isolated / "workspace" / MODULE.name
    untouched = runner.invoke(app, ["reset", MODULE.number, "--yes"])
    assert untouched.exit_code == 0 and "already matched the start" in untouched.output
    (workspace / "extra.py").write_text("x = 1\n")
    progress_file = isolated / "state" / "progress.json"
    progress = json.loads(progress_file.read_text())
    progress[MODULE.number]["score"] = [14, 14]
    progress_file.write_text(json.dumps(progress))
    declined = runner.invoke(app, ["reset", MODULE.number], input="n\n")
    assert "Nothing reset." in declined.output and (workspace / "extra.py").exists()
    done = runner.invoke(app, ["reset", MODULE.number, "--yes"])
    assert done.exit_code == 0 and not (workspace / "extra.py").exists()
    said = " ".join(done.output.split())  # the console wraps at its width
    assert "1 of yours removed" in said and "Cleared the recorded progress" in said
    assert "score" not in json.loads(progress_file.read_text())[MODULE.number]
    listed = runner.invoke(app, ["list"], env={"COLUMNS": "160"})
    assert "14/14" not in listed.output


def test_an_unknown_module_is_a_clear_error():
    result = runner.invoke(app, ["start", "42"])
    assert result.exit_code == 2 and "no module '42'" in result.output


def test_checking_a_module_never_started_says_how_to_start_it(monkeypatch):
    monkeypatch.setattr("workshop.cli._cloud_url", lambda: "http://127.0.0.1:9")
    result = runner.invoke(app, ["check", MODULE.number])
    assert result.exit_code == 2 and f"workshop start {MODULE.number}" in result.output


def test_the_checkpoints_match_their_manifest():
    assert tamper.verify_checks() == [], "run `make manifest` after changing checks/ or the workshop code they run"


def test_a_changed_checkpoint_is_reported_as_tampering(tmp_path):
    import shutil
    copy = tmp_path / "checks"
    shutil.copytree(course.CHECKS_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    tamper.write_manifest(copy)
    assert tamper.verify_checks(copy) == []
    (copy / "conftest.py").write_text((copy / "conftest.py").read_text() + "\n# always pass\n")
    (copy / "test_99_extra.py").write_text("def test_x(): pass\n")
    assert tamper.verify_checks(copy) == ["checks/conftest.py changed", "checks/test_99_extra.py added"]


def test_a_changed_workshop_module_that_the_checks_run_is_reported_as_tampering(tmp_path, monkeypatch):
    """The checks call the deploy and the target (workshop/deploy/...): editing those changes a grade too."""
    import shutil
    checks, package = tmp_path / "checks", tmp_path / "workshop"
    shutil.copytree(course.CHECKS_DIR, checks, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(tamper.PACKAGE_DIR, package, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(tamper, "PACKAGE_DIR", package)
    covered = {p.relative_to(package).as_posix() for p in tamper.workshop_modules_used_by(checks)}
    assert {"deploy/target.py", "deploy/local_target.py", "tree.py", "grading/runner.py"} <= covered
    assert "localcloud/patches/iam.py" in covered  # loaded by pkgutil, found all the same
    assert "bench.py" not in covered
    tamper.write_manifest(checks)
    assert tamper.verify_checks(checks) == []
    (package / "bench.py").write_text("# not graded\n")
    assert tamper.verify_checks(checks) == []
    target = package / "deploy" / "local_target.py"
    target.write_text(target.read_text().replace("grading_deploys = True", "grading_deploys = False"))
    assert tamper.verify_checks(checks) == ["workshop/deploy/local_target.py changed"]


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
