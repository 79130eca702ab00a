"""GitHub Classroom as a real file: workshop/classroom/autograding.yml, validated and run locally.

The workflow is checked against GitHub's workflow schema (check-jsonschema's vendored copy),
and a module's step runs here as a runner would run it: bash, a GITHUB_OUTPUT file, the
result decoded as Classroom's reporter (classroom-resources/autograding-grading-reporter)
decodes it: base64 JSON whose tests carry name, status, line_no and score, totalled against
max_score.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from workshop import course

WORKFLOW = course.ROOT / "workshop" / "classroom" / "autograding.yml"
SCHEMA = json.loads((Path(__file__).parent / "grading" / "exercism_v3.schema.json").read_text())


def steps() -> list[dict]:
    return yaml.safe_load(WORKFLOW.read_text())["jobs"]["run-autograding-tests"]["steps"]


def test_the_autograding_workflow_is_a_valid_github_workflow():
    done = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                           str(WORKFLOW)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_it_grades_every_module_and_hands_each_result_to_the_reporter():
    by_id = {s.get("id"): s for s in steps()}
    reporter = next(s for s in steps() if s.get("uses", "").startswith("classroom-resources/autograding-grading-reporter"))
    runners = reporter["with"]["runners"].split(",")
    for m in course.modules():
        step = by_id[f"module{m.number}"]
        assert f"workshop check {m.number} --json results-{m.number}.json" in step["run"]
        assert f"module{m.number}" in runners
        assert reporter["env"][f"MODULE{m.number}_RESULTS"] == f"${{{{ steps.module{m.number}.outputs.result }}}}"


@pytest.mark.slow
def test_a_module_step_runs_locally_and_the_reporter_reads_full_marks_with_lines(tmp_path, cloud):
    repo = tmp_path / "learner"
    repo.mkdir()
    for name in ("modules", "checks"):
        (repo / name).symlink_to(course.ROOT / name)
    (repo / ".venv" / "bin").mkdir(parents=True)
    (repo / ".venv" / "bin" / "workshop").symlink_to(Path(sys.executable).parent / "workshop")
    module = course.module("01")
    shutil.copytree(module.solution, repo / "workspace" / module.name, ignore=shutil.ignore_patterns("__pycache__", ".aws-sam"))
    state = tmp_path / "state"
    state.mkdir()
    (state / "cloud").symlink_to(os.environ["WORKSHOP_TEST_CLOUD_STATE"])  # the tests' running cloud
    output = tmp_path / "github_output"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "WORKSHOP_"))}
    env.update({"GITHUB_OUTPUT": str(output), "WORKSHOP_STATE": str(state), "PYTHONPATH": str(course.ROOT)})
    step = next(s for s in steps() if s.get("id") == "module01")
    done = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=repo, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    key, _, value = output.read_text().strip().partition("=")
    assert key == "result"
    results = json.loads(base64.b64decode(value))
    jsonschema.validate(results, SCHEMA)
    assert results["status"] == "pass", results
    assert all(test["line_no"] > 0 for test in results["tests"])  # else the reporter prints "line undefined"
    assert sum(test["score"] for test in results["tests"]) == results["max_score"] == module.points
