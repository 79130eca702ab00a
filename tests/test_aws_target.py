"""The aws target's code path, with the local cloud posing as the learner's account (tests/conftest.py).

boto3 honours AWS_ENDPOINT_URL, so `--target aws` talks to the local cloud here: the stacks are
found by prefix (never deployed by the check), exactly as after a learner's `sam deploy`.
"""

from __future__ import annotations

import pytest

from workshop import course
from workshop.grading.runner import run_checks


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


FAKE_SAM = '''#!{python}
"""A stand-in for the SAM CLI: records how it was called; `deploy` creates the named stack as sam would."""
import json, os, sys
with open({log!r}, "a") as log:
    log.write(json.dumps({{"argv": sys.argv[1:], "cwd": os.getcwd()}}) + "\\n")
if sys.argv[1] == "deploy":
    import boto3
    name = sys.argv[sys.argv.index("--stack-name") + 1]
    body = {{"Resources": {{"Topic": {{"Type": "AWS::SNS::Topic"}}}}, "Outputs": {{"Said": {{"Value": "deployed"}}}}}}
    boto3.client("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(body))
'''


@pytest.fixture
def fake_sam(tmp_path, monkeypatch):
    """`sam` on PATH is a script that logs its argv and working folder (no SAM CLI needed)."""
    import json
    import os
    import sys

    bin_dir, log = tmp_path / "bin", tmp_path / "sam-calls.jsonl"
    bin_dir.mkdir()
    script = bin_dir / "sam"
    script.write_text(FAKE_SAM.format(python=sys.executable, log=str(log)))
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return lambda: [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_deploy_on_the_aws_target_runs_sam_build_then_deploy_for_a_file_and_a_relative_folder(
        tmp_path, monkeypatch, fake_sam, cloud, posing_as_an_account, unique):
    """Issue 14, failure 4: `workshop deploy FILE --target aws` crashed (no `deployer`), and a relative
    folder reached `sam build --template-file` twice (the path given relative to the folder sam ran in)."""
    from typer.testing import CliRunner

    from workshop.cli import app
    from workshop.deploy.targets import AwsTarget

    service = tmp_path / "shop" / "services" / "cart"
    service.mkdir(parents=True)
    (service / "template.yaml").write_text("Resources: {}\n")
    monkeypatch.chdir(tmp_path)
    try:
        one = CliRunner().invoke(app, ["deploy", "shop/services/cart/template.yaml", "--stack", f"{unique}-file",
                                       "--target", "aws"])
        assert one.exit_code == 0, one.output
        assert f"{unique}-file" in one.output and "Said = deployed" in one.output
        tree = CliRunner().invoke(app, ["deploy", "shop", "--stack", unique, "--target", "aws"])
        assert tree.exit_code == 0, tree.output
        calls = fake_sam()
        assert [c["argv"][0] for c in calls] == ["build", "deploy", "build", "deploy"]
        for build, deploy in (calls[0:2], calls[2:4]):
            template = build["argv"][build["argv"].index("--template-file") + 1]
            assert template == str(service.resolve() / "template.yaml")  # absolute: one path, not two
            assert build["cwd"] == deploy["cwd"] == str(service.resolve())  # sam deploy finds .aws-sam/ there
            assert "--no-confirm-changeset" in deploy["argv"] and "CAPABILITY_IAM" in deploy["argv"]
        assert calls[3]["argv"][calls[3]["argv"].index("--stack-name") + 1] == f"{unique}-cart"
    finally:
        session = AwsTarget().session()
        for name in (f"{unique}-file", f"{unique}-cart"):
            session.client("cloudformation").delete_stack(StackName=name)


def test_without_the_sam_cli_the_aws_deploy_says_how_to_get_it(tmp_path, monkeypatch):
    from workshop.deploy.targets import AwsTarget, DeployError

    monkeypatch.setenv("PATH", str(tmp_path))
    (tmp_path / "template.yaml").write_text("Resources: {}\n")
    with pytest.raises(DeployError, match="SAM CLI"):
        AwsTarget().deploy_template(tmp_path / "template.yaml", "anything")


def test_the_aws_target_refuses_what_it_cannot_do_with_a_typed_error(tmp_path):
    from workshop.deploy.targets import AwsTarget, NotOnThisTarget

    aws = AwsTarget()
    with pytest.raises(NotOnThisTarget, match="sam build"):
        aws.validate_tree(tmp_path)
    with pytest.raises(NotOnThisTarget, match="workshop clean"):
        aws.destroy_prefix("me")
    with pytest.raises(NotOnThisTarget, match="prod account"):
        aws.session("prod")
    assert AwsTarget(profiles={"prod": "my-prod"}).profiles["prod"] == "my-prod"
