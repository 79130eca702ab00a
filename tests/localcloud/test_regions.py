"""Regions as on AWS: the tools honour --region, AWS_REGION and AWS_DEFAULT_REGION; a function
sees its Region; an ARN or URI naming another Region reaches that Region's resources.

AWS documents:
- the AWS CLI's choice of Region: the --region option, then AWS_REGION, then AWS_DEFAULT_REGION
  (https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-envvars.html);
- a function's reserved environment variables AWS_REGION and AWS_DEFAULT_REGION, "the AWS Region
  where the Lambda function is executed" (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html);
- an AWS integration's URI `arn:aws:apigateway:{region}:{service}:action/{action}` names the
  Region of the service it calls (https://docs.aws.amazon.com/apigateway/latest/api/API_Integration.html);
- a Task state's Resource is the ARN of the function it invokes, Region included
  (https://docs.aws.amazon.com/step-functions/latest/dg/state-task.html).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from workshop.localcloud.safety import region_of

FIXTURES = Path(__file__).parent.parent / "fixtures"
REMOTE, HERE = "us-west-2", "eu-west-1"


@pytest.mark.parametrize("given, environment, chosen", [
    ("ap-south-1", {"AWS_REGION": HERE, "AWS_DEFAULT_REGION": REMOTE}, "ap-south-1"),
    (None, {"AWS_REGION": HERE, "AWS_DEFAULT_REGION": REMOTE}, HERE),
    (None, {"AWS_DEFAULT_REGION": REMOTE}, REMOTE),
    (None, {}, "us-east-1"),
])
def test_the_region_is_chosen_as_the_aws_cli_chooses_it(monkeypatch, given, environment, chosen):
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert region_of(given) == chosen


def test_a_stack_deployed_with_aws_region_lives_there_and_its_function_sees_it(cloud, local, monkeypatch, unique):
    from workshop import cli

    monkeypatch.setattr(cli, "_cloud_url", lambda: cloud.url)
    result = CliRunner().invoke(cli.app, ["deploy", str(FIXTURES / "hold" / "template.yaml"), "--stack", unique],
                                env={"AWS_REGION": HERE, "AWS_DEFAULT_REGION": None})
    assert result.exit_code == 0, result.output
    from workshop.deploy.targets import LocalTarget

    there, elsewhere = LocalTarget(cloud.url, HERE), LocalTarget(cloud.url, "us-east-1")
    try:
        assert unique in there.deployer().stacks() and unique not in elsewhere.deployer().stacks()
        info = there.deployer().describe(unique)
        assert info.outputs["Region"] == HERE and f":lambda:{HERE}:" in info.outputs["HoldFunctionArn"]
        answer = there.session().client("lambda").invoke(FunctionName=info.outputs["HoldFunctionName"])
        assert json.loads(answer["Payload"].read()) == {"AWS_REGION": HERE, "AWS_DEFAULT_REGION": HERE}
        through_api = httpx.get(info.outputs["ApiUrl"] + "hold").json()
        assert through_api["AWS_REGION"] == HERE
        from workshop.localcloud import control

        monkeypatch.setattr(control, "running", lambda *_: cloud)
        listed = CliRunner().invoke(cli.app, ["cloud", "status"], env={"AWS_REGION": HERE})
        assert unique in listed.output and HERE in listed.output
        assert unique not in CliRunner().invoke(cli.app, ["cloud", "status", "--region", "us-east-1"]).output
    finally:
        there.deployer().destroy(unique)


@pytest.fixture(scope="module")
def two_regions(cloud):
    from workshop.deploy.targets import LocalTarget

    remote_target, caller_target = LocalTarget(cloud.url, REMOTE), LocalTarget(cloud.url, HERE)
    remote = remote_target.deployer().deploy(FIXTURES / "regions" / "remote" / "template.yaml", "regions-remote")
    caller = caller_target.deployer().deploy(FIXTURES / "regions" / "caller" / "template.yaml", "regions-caller", {
        "RemoteRegion": REMOTE, "RemoteTableName": remote.outputs["TableName"],
        "RemoteTableArn": remote.outputs["TableArn"], "RemoteFunctionArn": remote.outputs["FunctionArn"]})
    yield remote_target, remote, caller_target, caller
    caller_target.deployer().destroy("regions-caller")
    remote_target.deployer().destroy("regions-remote")


def test_an_integration_uri_naming_another_region_reads_that_regions_table(two_regions):
    remote_target, remote, _, caller = two_regions
    remote_target.session().client("dynamodb").put_item(
        TableName=remote.outputs["TableName"], Item={"id": {"S": "k1"}, "where": {"S": REMOTE}})
    answer = httpx.get(caller.outputs["ApiUrl"] + "item/k1")
    assert answer.status_code == 200 and answer.json() == {"id": {"S": "k1"}, "where": {"S": REMOTE}}


def test_a_lambda_uri_naming_another_region_invokes_the_function_there(two_regions):
    *_, caller = two_regions
    assert httpx.get(caller.outputs["ApiUrl"] + "function").json()["AWS_REGION"] == REMOTE


def test_a_task_resource_naming_another_region_runs_the_function_there(two_regions):
    *_, caller_target, caller = two_regions
    sfn = caller_target.session().client("stepfunctions")
    arn = caller.outputs["WorkflowArn"]
    assert f":states:{HERE}:" in arn
    execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    for _ in range(600):  # a hang guard, not a measure
        described = sfn.describe_execution(executionArn=execution)
        if described["status"] != "RUNNING":
            break
        time.sleep(0.1)
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"])["AWS_REGION"] == REMOTE


def test_workshop_check_deploys_and_checks_in_the_region_it_is_given(monkeypatch, tmp_path):
    """`workshop check --region R` on the local target: the checkpoints' process works in R."""
    import subprocess
    from types import SimpleNamespace

    from workshop import course
    from workshop.grading import runner

    seen = {}

    def fake_run(command, **kwargs):
        seen.update(command=command, env=kwargs.get("env"))
        return SimpleNamespace(returncode=0, stdout="", stderr="")

    monkeypatch.setattr(subprocess, "run", fake_run)
    runner.run_checks(course.modules()[0], tmp_path, target="local", cloud_url="http://127.0.0.1:9", region=HERE)
    assert seen["env"]["AWS_REGION"] == HERE and seen["command"][-2:] == ["--region", HERE]
