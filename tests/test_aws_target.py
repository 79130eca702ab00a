"""The aws target's code path, with the local cloud posing as the learner's account.

boto3 honours AWS_ENDPOINT_URL, so `--target aws` talks to the local cloud here: the stacks are
found by prefix (never deployed by the check), exactly as after a learner's `sam deploy`.
"""

from __future__ import annotations

import pytest

from workshop import course
from workshop.grading.runner import run_checks


@pytest.fixture
def posing_as_an_account(cloud, monkeypatch):
    """The environment a learner's shell has for a real account, pointed at the local cloud."""
    for name, value in (("AWS_ENDPOINT_URL", cloud.url), ("AWS_ACCESS_KEY_ID", "LOCALKEY123456789012"),
                        ("AWS_SECRET_ACCESS_KEY", "local-secret"), ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.mark.slow
@pytest.mark.parametrize("number", ["01", "02", "03"])
def test_checkpoints_on_the_aws_target_use_the_stacks_already_deployed(number, local, posing_as_an_account):
    module = course.module(number)
    prefix = f"mine{number}"
    deployment = local.deploy_tree(module.solution, prefix)
    assert not deployment.errors
    try:
        run = run_checks(module, module.solution, target="aws", stack_prefix=prefix)
        assert run.passed, [(v.id, v.status, v.message) for v in run.verdicts]
        missing = run_checks(module, module.solution, target="aws", stack_prefix="nobody-deployed-this")
        assert not missing.passed
        assert any("no stack named nobody-deployed-this" in v.message for v in missing.verdicts)
    finally:
        local.destroy_prefix(prefix)


@pytest.mark.slow
def test_the_broken_payments_checkpoint_judges_a_real_account_without_deploying(local, posing_as_an_account):
    module = course.module("01")
    assert not local.deploy_tree(module.start, "mine01start").errors
    try:
        run = run_checks(module, module.start, target="aws", stack_prefix="mine01start", only=["01.4"])
        assert [(v.id, v.status) for v in run.verdicts] == [("01.4", "fail")]
        assert "also deploys payments code" in run.verdicts[0].message
    finally:
        local.destroy_prefix("mine01start")
