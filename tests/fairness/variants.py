"""What every module's fairness tests share: a variant of the solution, its verdicts, the judgement.

A wrong refactor must fail the checkpoints it violates (saying what it saw) and pass the ones it
does not touch; a correct alternative must pass every checkpoint. A verdict must be about the
tree's behaviour, never about a stack that did not deploy or a checker that broke.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from workshop.course import Module
from workshop.grading.runner import CheckRun, run_checks
from workshop.tree import copy_ignoring

LIMIT = 900  # seconds for one case: generous, the machine is shared; the point is "bounded"


@dataclass
class Case:
    change: Callable[[Path], None]
    fails: list[str] = field(default_factory=list)  # a wrong refactor: checkpoints it must fail
    passes: list[str] = field(default_factory=list)  # ...and the ones it must still pass
    words: str = ""  # words a failing verdict must hold: it fails for this mistake, not another
    # checkpoint -> words its own failing verdict must hold: each named checkpoint fails for this mistake
    because: dict[str, str] = field(default_factory=dict)
    deploys: bool = True  # False: the mistake is a template that does not deploy, so deploy errors are expected


def replace_in(path: Path, old: str, new: str, count: int = 1) -> None:
    """Replace text that must stand exactly `count` times: a changed fixture fails loudly."""
    text = path.read_text()
    assert text.count(old) == count, f"the fixture changed: {old!r} is in {path} {text.count(old)} times, not {count}"
    path.write_text(text.replace(old, new))


def replace_all_in(path: Path, old: str, new: str) -> None:
    """Replace every occurrence of text that must stand at least once."""
    text = path.read_text()
    assert old in text, f"the fixture changed: {old!r} not in {path}"
    path.write_text(text.replace(old, new))


def overlay(tree: Path, files: Path) -> None:
    """Copy a folder of fixture files over the tree."""
    shutil.copytree(files, tree, dirs_exist_ok=True)


def solution_with(module: Module, change: Callable[[Path], None], tmp_path: Path) -> Path:
    tree = tmp_path / "shop"
    shutil.copytree(module.solution, tree, ignore=copy_ignoring())
    change(tree)
    return tree


def explain(run: CheckRun) -> str:
    lines = [f"did not deploy: {path}: {error}" for path, error in run.deploy_errors.items()]
    lines += [f"{v.id} {v.status}: {v.message}" for v in run.verdicts]
    return "\n".join(lines + ([f"error: {run.error}"] if run.error else []))


def run(module: Module, tree: Path, cloud, prefix: str, only: list[str] | None = None,
        deploys: bool = True) -> CheckRun:
    """The module's checkpoints on the tree, in bounded time.

    The cases of a module check under one stack prefix, as a learner re-checks one workspace:
    the check's incremental deploy replaces the stacks this case changed, deletes those it
    removed and leaves the others (their functions warm) as the case before left them. A verdict
    that depended on what an earlier case deployed would be a defect of that incremental deploy,
    which learners meet on every re-check (the meta-test checks each start and solution fresh).
    """
    started = time.monotonic()
    result = run_checks(module, tree, cloud_url=cloud.url, stack_prefix=prefix, only=only)
    elapsed = time.monotonic() - started
    print(f"\n[{prefix}] {elapsed:.0f} s: " + ", ".join(f"{v.id} {v.status}" for v in result.verdicts))
    for verdict in result.verdicts:
        if verdict.status != "pass":
            message = re.sub(r"\s+", " ", verdict.message)[:300]
            print(f"    {verdict.id}: {message}")
    assert elapsed < LIMIT
    assert result.error is None, explain(result)
    if deploys:  # a variant is judged on its stacks; one whose mistake is a template that does not deploy is not
        assert not result.deploy_errors, explain(result)
    assert all("Traceback" not in v.message for v in result.verdicts), explain(result)
    return result


def judge_wrong(case: Case, result: CheckRun) -> None:
    status = {v.id: v for v in result.verdicts}
    assert all(status[i].status == "fail" and status[i].message.strip() for i in case.fails), explain(result)
    assert all(status[i].status == "pass" for i in case.passes), explain(result)
    assert not case.words or any(case.words in status[i].message for i in case.fails), explain(result)
    assert set(case.because) <= set(case.fails), "a case names words only for checkpoints it must fail"
    for checkpoint, words in case.because.items():  # failing is not enough: it fails at what it violates
        assert words in status[checkpoint].message, f"{checkpoint} must say {words!r}\n" + explain(result)


def judge_correct(module: Module, result: CheckRun) -> None:
    assert result.passed, explain(result)
    assert result.score == (module.points, module.points), explain(result)


def tests_for(module: Module, wrong: dict[str, Case], correct: dict[str, Case]):
    """The two fairness tests of a module, over its wrong refactors and its correct alternatives."""
    import pytest

    @pytest.mark.slow
    @pytest.mark.parametrize("name", list(wrong))
    def test_a_wrong_refactor_fails_the_checkpoint_it_violates(name, cloud, tmp_path):
        case = wrong[name]
        tree = solution_with(module, case.change, tmp_path)
        judge_wrong(case, run(module, tree, cloud, f"fair{module.number}", case.fails + case.passes, deploys=case.deploys))

    @pytest.mark.slow
    @pytest.mark.parametrize("name", list(correct))
    def test_a_correct_alternative_passes_every_checkpoint(name, cloud, tmp_path):
        tree = solution_with(module, correct[name].change, tmp_path)
        judge_correct(module, run(module, tree, cloud, f"fair{module.number}"))

    return test_a_wrong_refactor_fails_the_checkpoint_it_violates, test_a_correct_alternative_passes_every_checkpoint
