"""The course meta-test: each module's start fails what its module.toml says; its solution passes all.

A checkpoint that cannot fail is a defect; so is one our own solution cannot pass.
"""

from __future__ import annotations

import ast

import pytest

from workshop import course
from workshop.grading.runner import run_checks

MODULES = course.modules()


def _explain(run) -> str:
    lines = [f"{v.id} {v.status}: {v.message}" for v in run.verdicts]
    return "\n".join(lines + ([f"error: {run.error}"] if run.error else []))


def test_there_are_modules():
    assert MODULES, "no modules/NN-*/module.toml found"


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.name)
def test_every_checkpoint_in_the_manifest_has_exactly_one_test(module):
    assert module.checks_file.exists(), f"{module.checks_file} is missing"
    marked = []
    for node in ast.walk(ast.parse(module.checks_file.read_text())):
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                if isinstance(decorator, ast.Call) and getattr(decorator.func, "attr", "") == "checkpoint":
                    points = next((k.value.value for k in decorator.keywords if k.arg == "points"), 1)
                    marked.append((decorator.args[0].value, points))
    assert sorted(marked) == sorted((c.id, c.points) for c in module.checkpoints)
    assert module.hints, "a module needs hints for `workshop hint`"
    assert any(c.fails_at_start for c in module.checkpoints), "start/ must fail something"


@pytest.mark.slow
@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.name)
def test_start_fails_exactly_the_checkpoints_its_manifest_names(module, cloud):
    run = run_checks(module, module.start, cloud_url=cloud.url, stack_prefix=f"meta-start-{module.number}")
    assert run.error is None, _explain(run)
    failing = {v.id for v in run.verdicts if v.status != "pass"}
    expected = {c.id for c in module.checkpoints if c.fails_at_start}
    assert failing == expected, _explain(run)
    for verdict in run.verdicts:
        if verdict.id in expected:  # failed as a verdict on the tree, not as a checker that broke or skipped
            assert verdict.status == "fail", _explain(run)
            assert verdict.message.strip(), verdict
            assert "Traceback" not in verdict.message, verdict.message


@pytest.mark.slow
@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.name)
def test_solution_passes_every_checkpoint(module, cloud):
    run = run_checks(module, module.solution, cloud_url=cloud.url, stack_prefix=f"meta-solution-{module.number}")
    assert run.passed, _explain(run)
    assert run.score == (module.points, module.points)
