"""--prod-profile: on the aws target, aws(service, account="prod") is the learner's second account.

Without it, a checkpoint that reads the second account is "not gradable on this target"
(checks/support.py: not_gradable_here), never a failure or an error. Run through the checks'
own pytest plugin, against the local cloud posing as two accounts (dev and prod profiles).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from workshop import course

CHECKPOINT = '''import pytest


@pytest.mark.checkpoint("99.1", points=2)
def test_reads_the_prod_account(aws):
    assert aws("sts", account="prod").get_caller_identity()["Account"] == "222222222222"
    assert aws("sts").get_caller_identity()["Account"] == "111111111111"
'''


def run_checkpoint(tmp_path, cloud, *options: str) -> dict:
    (tmp_path / "test_prod.py").write_text(CHECKPOINT)
    (tmp_path / "credentials").write_text("[dev]\naws_access_key_id = LOCALKEY111111111111\naws_secret_access_key = x\n"
                                          "[prod]\naws_access_key_id = LOCALKEY222222222222\naws_secret_access_key = x\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_ENDPOINT_URL": cloud.url, "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
                "AWS_CONFIG_FILE": os.devnull, "AWS_PROFILE": "dev", "AWS_DEFAULT_REGION": "us-east-1",
                "PYTHONPATH": str(course.ROOT)})
    results = tmp_path / "verdicts.json"
    subprocess.run([sys.executable, "-m", "pytest", str(tmp_path / "test_prod.py"), "-q", "-p", "no:cacheprovider",
                    "-p", "checks.conftest", "--rootdir", str(tmp_path), "--target", "aws", "--workspace", str(tmp_path),
                    "--results", str(results), *options], env=env, cwd=tmp_path, capture_output=True, timeout=300)
    return json.loads(results.read_text())["verdicts"][0]


def test_the_prod_profile_grades_the_second_account(tmp_path, cloud):
    verdict = run_checkpoint(tmp_path, cloud, "--prod-profile", "prod")
    assert verdict["status"] == "pass", verdict


def test_without_a_prod_profile_the_checkpoint_is_not_gradable_here(tmp_path, cloud):
    verdict = run_checkpoint(tmp_path, cloud)
    assert verdict["status"] == "skip"
    assert verdict["message"].startswith("not gradable on this target") and "--prod-profile" in verdict["message"]


@pytest.mark.slow
def test_module_06_reference_solution_on_aws_without_a_second_account_scores_full_marks_of_what_it_can_grade(
        cloud, monkeypatch, tmp_path):
    """Issue 14, failure 6: it scored 11/17 and exited 1, results.json calling each skip an error."""
    from workshop.grading.report import exercism_results
    from workshop.grading.runner import run_checks

    for name, value in (("AWS_ENDPOINT_URL", cloud.url), ("AWS_ACCESS_KEY_ID", "LOCALKEY600000000006"),
                        ("AWS_SECRET_ACCESS_KEY", "x"), ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    module = course.module("06")
    run = run_checks(module, module.solution, target="aws", stack_prefix="me")
    assert run.exit_code == 0, [(v.id, v.status, v.message) for v in run.verdicts]
    assert run.not_gradable and all(v.status == "pass" for v in run.graded)
    results = exercism_results([run])
    assert results["status"] == "pass" and all(t["status"] == "pass" for t in results["tests"])
    assert {g["name"].split()[0] for g in results["not_gradable"]} == {v.id for v in run.not_gradable}
