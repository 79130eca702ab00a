"""SAM deploy into the local cloud, over a small app of the tests' own (tests/fixtures/echo)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
import pytest

from workshop.deploy.local import DeployError
from workshop.deploy.template import TemplateError, parse

ECHO = Path(__file__).parent.parent / "fixtures" / "echo"


@pytest.fixture(scope="module")
def echo(local):
    info = local.deployer().deploy(ECHO / "template.yaml", "echo-dev")
    yield info
    local.deployer().destroy("echo-dev")


def invoke(session, name, event):
    response = session.client("lambda").invoke(FunctionName=name, Payload=json.dumps(event), LogType="Tail")
    return response, json.loads(response["Payload"].read())


def test_template_reading_keeps_dates_as_strings_and_expands_short_tags():
    doc = parse("Resources:\n  R:\n    Type: X\n    Properties:\n      Version: 2012-10-17\n"
                "      A: !Ref B\n      C: !GetAtt T.Arn\n      D: !Sub 'x${B}'\n      E: !If [c, 1, 2]\n")
    props = doc["Resources"]["R"]["Properties"]
    assert props == {"Version": "2012-10-17", "A": {"Ref": "B"}, "C": {"Fn::GetAtt": ["T", "Arn"]},
                     "D": {"Fn::Sub": "x${B}"}, "E": {"Fn::If": ["c", 1, 2]}}


def test_invalid_yaml_is_a_clear_error():
    with pytest.raises(TemplateError, match="not valid YAML"):
        parse("Resources: [unclosed")


def test_outputs_are_resolved_and_point_at_the_local_gateway(echo, cloud):
    assert echo.status == "CREATE_COMPLETE"
    assert echo.outputs["ApiUrl"].startswith(f"{cloud.url}/_aws/execute-api/")
    assert echo.outputs["ApiUrl"].endswith("/Prod/")
    assert echo.outputs["TableName"].startswith("echo-dev-Table-")


def test_a_false_condition_skips_its_resource_and_memory_follows_the_mapping(echo, local):
    assert "ProdOnlyAlarmTopic" not in {r["logicalId"] for r in echo.resources}
    config = local.session().client("lambda").get_function_configuration(FunctionName=echo.outputs["EchoFunctionName"])
    assert config["MemorySize"] == 256
    prod = local.deployer("prod").deploy(ECHO / "template.yaml", "echo-prod", {"Stage": "prod"})
    try:
        assert {"ProdOnlyAlarmTopic", "ProdOnlyErrorsAlarm"} <= {r["logicalId"] for r in prod.resources}
        alarms = local.session("prod").client("cloudwatch").describe_alarms()["MetricAlarms"]
        assert [a["MetricName"] for a in alarms] == ["Errors"]
        assert not local.session("dev").client("cloudwatch").describe_alarms()["MetricAlarms"]
        lam = local.session("prod").client("lambda")
        assert lam.get_function_configuration(FunctionName=prod.outputs["EchoFunctionName"])["MemorySize"] == 1024
    finally:
        local.deployer("prod").destroy("echo-prod")


def test_a_prod_stack_is_invisible_from_dev(local):
    local.deployer("prod").deploy(ECHO / "template.yaml", "only-in-prod", {"Stage": "prod"})
    try:
        assert "only-in-prod" in local.deployer("prod").stacks()
        assert "only-in-prod" not in local.deployer("dev").stacks()
        sts = local.session("prod").client("sts")
        assert sts.get_caller_identity()["Account"] == "222222222222"
    finally:
        local.deployer("prod").destroy("only-in-prod")


def test_boto3_invoke_runs_the_handler_with_logs(echo, local):
    session = local.session()
    name = echo.outputs["EchoFunctionName"]
    response, tables = invoke(session, name, {"action": "tables"})
    assert echo.outputs["TableName"] in tables  # the handler reached the local DynamoDB with no code change
    response, error = invoke(session, name, {"action": "boom"})
    assert response["FunctionError"] == "Unhandled" and error["errorMessage"] == "boom on purpose"
    events = session.client("logs").filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
    messages = [e["message"] for e in events]
    assert any(m.startswith("START RequestId:") for m in messages)
    assert any(m.startswith("REPORT RequestId:") and "Init Duration" in m for m in messages)
    assert "echo: init" in messages


def test_a_handler_is_killed_at_its_timeout(echo, local):
    response, error = invoke(local.session(), echo.outputs["SlowFunctionName"], {})
    assert response["FunctionError"] == "Unhandled"
    assert error["errorMessage"].endswith("Task timed out after 1.00 seconds")


def test_the_api_serves_proxy_routes_and_answers_unknown_ones_as_api_gateway(echo):
    url = echo.outputs["ApiUrl"]
    body = httpx.get(url + "echo/hello").json()
    assert body["word"] == "hello" and body["remaining"] > 0
    assert httpx.post(url + "any/deep/path", content=b"x").status_code == 200
    missing = httpx.get(url + "nowhere")
    assert missing.status_code == 403 and missing.json() == {"message": "Missing Authentication Token"}


def test_an_unchanged_redeploy_changes_nothing_and_a_code_change_updates_in_place(local, tmp_path):
    app = tmp_path / "app"
    shutil.copytree(ECHO, app)
    deployer = local.deployer()
    first = deployer.deploy(app / "template.yaml", "echo-update")
    try:
        again = deployer.deploy(app / "template.yaml", "echo-update")
        assert not again.changed
        source = app / "src" / "echo.py"
        source.write_text(source.read_text().replace('"word":', '"version": 2, "word":'))
        updated = deployer.deploy(app / "template.yaml", "echo-update")
        assert updated.changed and updated.status == "UPDATE_COMPLETE"
        assert updated.outputs["ApiUrl"] == first.outputs["ApiUrl"]  # the same API, updated in place
        assert httpx.get(updated.outputs["ApiUrl"] + "echo/x").json()["version"] == 2
    finally:
        deployer.destroy("echo-update")


def test_a_template_that_cannot_deploy_names_the_resource_and_leaves_no_stack(local, tmp_path):
    (tmp_path / "template.yaml").write_text(
        "Resources:\n  Broken:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      BillingMode: PAY_PER_REQUEST\n")
    with pytest.raises(DeployError, match="Broken"):
        local.deployer().deploy(tmp_path / "template.yaml", "broken-stack")
    assert "broken-stack" not in local.deployer().stacks()


def test_a_missing_code_uri_is_a_clear_error(local, tmp_path):
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n"
        "    Properties:\n      Runtime: python3.12\n      Handler: app.handler\n      CodeUri: nowhere/\n")
    with pytest.raises(DeployError, match="Fn: CodeUri .*nowhere does not exist"):
        local.deployer().deploy(tmp_path / "template.yaml", "no-code")


def test_a_requirement_the_course_does_not_have_is_named(local, tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("def handler(e, c):\n    return 1\n")
    (tmp_path / "src" / "requirements.txt").write_text("surely-not-a-real-package-name==1.0\n")
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n"
        "    Properties:\n      Runtime: python3.12\n      Handler: app.handler\n      CodeUri: src/\n")
    with pytest.raises(DeployError, match="surely-not-a-real-package-name"):
        local.deployer().deploy(tmp_path / "template.yaml", "no-req")


def test_the_public_powertools_layer_resolves_to_the_installed_package(local, tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(
        "from aws_lambda_powertools import Logger\nlogger = Logger(service='t')\n"
        "def handler(e, c):\n    logger.info('hello')\n    return 'ok'\n")
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n"
        "    Properties:\n      Runtime: python3.12\n      Handler: app.handler\n      CodeUri: src/\n"
        "      Layers:\n        - !Sub arn:aws:lambda:${AWS::Region}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-x86_64:7\n"
        "Outputs:\n  Name:\n    Value: !Ref Fn\n")
    info = local.deployer().deploy(tmp_path / "template.yaml", "powertools")
    try:
        lam = local.session().client("lambda")
        config = lam.get_function_configuration(FunctionName=info.outputs["Name"])
        assert config["Layers"][0]["Arn"].endswith(":layer:AWSLambdaPowertoolsPythonV3-python312-x86_64:7")
        _, result = invoke(local.session(), info.outputs["Name"], {})
        assert result == "ok"
    finally:
        local.deployer().destroy("powertools")


def test_a_layer_of_our_own_is_on_the_path(local, tmp_path):
    (tmp_path / "layer" / "python" / "shared_things").mkdir(parents=True)
    (tmp_path / "layer" / "python" / "shared_things" / "__init__.py").write_text("ANSWER = 42\n")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("import shared_things\ndef handler(e, c):\n    return shared_things.ANSWER\n")
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Shared:\n    Type: AWS::Serverless::LayerVersion\n"
        "    Properties:\n      LayerName: shared-things\n      ContentUri: layer/\n"
        "  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Runtime: python3.12\n"
        "      Handler: app.handler\n      CodeUri: src/\n      Layers: [!Ref Shared]\n"
        "Outputs:\n  Name:\n    Value: !Ref Fn\n  LayerArn:\n    Value: !Ref Shared\n")
    info = local.deployer().deploy(tmp_path / "template.yaml", "own-layer")
    try:
        assert ":layer:shared-things:" in info.outputs["LayerArn"]
        _, result = invoke(local.session(), info.outputs["Name"], {})
        assert result == 42
    finally:
        local.deployer().destroy("own-layer")


def test_a_parameter_outside_its_allowed_values_is_refused(local):
    with pytest.raises(DeployError, match="Parameter 'Stage' must be one of AllowedValues"):
        local.deployer().deploy(ECHO / "template.yaml", "echo-qa", {"Stage": "qa"})
    assert "echo-qa" not in local.deployer().stacks()


def test_an_oidc_provider_from_a_template_exists(local, tmp_path):
    (tmp_path / "template.yaml").write_text(
        "Resources:\n  GitHub:\n    Type: AWS::IAM::OIDCProvider\n    Properties:\n"
        "      Url: https://token.actions.githubusercontent.com\n      ClientIdList: [sts.amazonaws.com]\n"
        "      ThumbprintList: [6938fd4d98bab03faadb97b34396831e3780aea1]\n"
        "Outputs:\n  Arn:\n    Value: !GetAtt GitHub.Arn\n")
    info = local.deployer("dev").deploy(tmp_path / "template.yaml", "oidc")
    iam = local.session("dev").client("iam")
    assert [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]] == [info.outputs["Arn"]]
    local.deployer("dev").destroy("oidc")
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []


def test_a_resource_type_the_local_cloud_lacks_is_named_not_faked(local, tmp_path):
    (tmp_path / "template.yaml").write_text(
        "Resources:\n  Index:\n    Type: AWS::Kendra::Index\n    Properties:\n      Name: i\n      Edition: DEVELOPER_EDITION\n"
        "      RoleArn: arn:aws:iam::123456789012:role/r\n")
    with pytest.raises(DeployError, match="Index \\(AWS::Kendra::Index\\) is not available on the local target"):
        local.deployer().deploy(tmp_path / "template.yaml", "kendra")
