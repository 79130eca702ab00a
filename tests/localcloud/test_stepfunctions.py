"""Step Functions that really run (patches/stepfunctions.py), over fixture apps of the tests' own.

tests/fixtures/sfn-orders: a SAM state machine (DefinitionUri, DefinitionSubstitutions) that
reserves a unit with a conditional DynamoDB update, calls a flaky Lambda (retried with backoff),
then either finishes or calls a declining Lambda whose failure is caught and compensated.
tests/fixtures/sfn-plain: a CloudFormation state machine with Definition as an object.

The first tests pin what moto 5.2.5 does without the patch; they fail loudly when an upgrade
changes it, so the patch can be re-measured (or dropped).
"""

from __future__ import annotations

import datetime
import importlib
import importlib.util
import inspect
import json
import pkgutil
import re
import threading
import time
from pathlib import Path

import pytest
from botocore.config import Config

from workshop.localcloud.patches import stepfunctions as patch

FIXTURES = Path(__file__).parent.parent / "fixtures"
ORDERS = FIXTURES / "sfn-orders" / "template.yaml"
PLAIN = FIXTURES / "sfn-plain" / "template.yaml"


# -- what moto does on its own ---------------------------------------------------------------

def test_moto_executes_state_machines_only_with_the_config_flag():
    from moto.stepfunctions import responses

    source = inspect.getsource(responses.get_backend)
    assert 'default_user_config.get("stepfunctions"' in source and "execute_state_machine" in source
    assert "stepfunctions_parser_backends" in source


def test_moto_cloudformation_state_machines_go_to_the_backend_that_does_not_execute():
    from moto.stepfunctions.models import StateMachine

    create = inspect.getsource(StateMachine.create_from_cloudformation_json)
    assert "stepfunctions_backends[account_id][region_name]" in create
    assert '"DefinitionString"' in create
    assert "DefinitionSubstitutions" not in create and '"Definition"' not in create
    assert "stepfunctions_backends[account_id][region_name]" in inspect.getsource(StateMachine.update_from_cloudformation_json)
    assert "stepfunctions_backends[account_id][region_name]" in inspect.getsource(StateMachine.delete_from_cloudformation_json)
    assert not StateMachine.has_cfn_attr("Arn")


def test_moto_task_clients_sign_as_one_account_and_are_made_per_call():
    from moto.stepfunctions.parser.asl.utils import boto_client

    source = inspect.getsource(boto_client.boto_client_for)
    assert 'aws_access_key_id="ak"' in source and "moto_server_port()" in source
    assert "return boto3.client(" in source  # the default session, from the calling thread


def test_every_module_that_calls_aws_from_a_task_is_routed():
    import moto.stepfunctions.parser as parser

    users = set()
    for info in pkgutil.walk_packages(parser.__path__, parser.__name__ + "."):
        spec = importlib.util.find_spec(info.name)
        if spec and spec.origin and spec.origin.endswith(".py") and info.name != patch.BOTO_CLIENT_MODULE:
            if "import boto_client_for" in Path(spec.origin).read_text():
                users.add(info.name)
    assert users == set(patch.CLIENT_USERS)


def test_every_state_that_does_work_evaluates_in_eval_execution():
    # the running account is recorded around `_eval_execution`, which each task calls on its own thread
    from moto.stepfunctions.parser.asl.component.state.exec import execute_state

    source = inspect.getsource(execute_state.ExecutionState._evaluate_with_timeout)
    assert "self._eval_execution(frame)" in source and "Thread(target=_exec_and_notify" in source


def test_moto_leaves_a_datetime_in_the_context_start_time_and_names_unnamed_executions_none():
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    assert "StartTime=self._evaluation_details.execution_details.start_time" in inspect.getsource(
        ExecutionWorker._get_evaluation_environment)
    start = inspect.getsource(StepFunctionsParserBackend.start_execution)
    assert "exec_name = name" in start and "uuid" not in start


def test_moto_describes_a_string_output_as_it_is():
    from moto.stepfunctions import responses

    source = inspect.getsource(responses.StepFunctionResponse.describe_execution)
    assert 'if isinstance(execution.output, str):\n                response["output"] = execution.output' in source


def test_moto_checks_a_dynamodb_condition_and_writes_without_a_lock():
    from moto.dynamodb.models import DynamoDBBackend

    source = inspect.getsource(DynamoDBBackend.update_item)
    assert "condition_op.expr(item)" in source and "lock" not in source.lower()


def test_definition_substitutions_as_aws_applies_them():
    properties = {"Definition": {"A": "${Table}", "B": "${Count}", "C": "${On}", "D": "${Other}"},
                  "DefinitionSubstitutions": {"Table": "t-1", "Count": 3, "On": True}}
    assert json.loads(patch.definition_from_properties(properties, "123456789012")) == {
        "A": "t-1", "B": "3", "C": "true", "D": "${Other}"}
    assert patch.definition_from_properties({"DefinitionString": '{"x": "${A}"}',
                                             "DefinitionSubstitutions": {"A": "b"}}, "1") == '{"x": "b"}'
    assert patch.aws_timestamp(datetime.datetime(2025, 1, 2, 3, 4, 5, 678900, tzinfo=datetime.UTC)) == \
        "2025-01-02T03:04:05.678Z"


# -- in the local cloud ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def orders(local):
    info = local.deployer().deploy(ORDERS, "sfn-orders")
    yield info
    local.deployer().destroy("sfn-orders")


@pytest.fixture(scope="module")
def clients(local):
    session = local.session()
    return session.client("stepfunctions"), session.client("dynamodb")


def run(sfn, machine_arn: str, document: dict, name: str | None = None, timeout: float = 60) -> tuple[dict, list[dict]]:
    kwargs = {"name": name} if name else {}
    arn = sfn.start_execution(stateMachineArn=machine_arn, input=json.dumps(document), **kwargs)["executionArn"]
    deadline = time.monotonic() + timeout
    while True:
        described = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    return described, sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]


def resource_type(event: dict) -> str | None:
    return next((d.get("resourceType") for k, d in event.items() if k.endswith("EventDetails") and isinstance(d, dict)), None)


def set_stock(dynamodb, table: str, units: int) -> None:
    dynamodb.put_item(TableName=table, Item={"id": {"S": "stock"}, "units": {"N": str(units)}})


def stock(dynamodb, table: str) -> int:
    return int(dynamodb.get_item(TableName=table, Key={"id": {"S": "stock"}}, ConsistentRead=True)["Item"]["units"]["N"])


def test_a_sam_state_machine_lands_where_it_executes_with_its_substitutions(orders, clients):
    sfn, _ = clients
    arn = orders.outputs["WorkflowArn"]
    assert arn.startswith("arn:aws:states:us-east-1:123456789012:stateMachine:")  # Ref is the ARN
    assert orders.outputs["WorkflowArnByGetAtt"] == arn
    assert orders.outputs["WorkflowName"] == arn.rsplit(":", 1)[1]
    definition = sfn.describe_state_machine(stateMachineArn=arn)["definition"]
    assert "${" not in definition
    assert orders.outputs["TableName"] in definition and '"DONE"' in definition
    assert arn in [m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]]


def test_a_flaky_lambda_is_retried_with_backoff_then_succeeds(orders, clients):
    sfn, dynamodb = clients
    set_stock(dynamodb, orders.outputs["TableName"], 5)
    described, events = run(sfn, orders.outputs["WorkflowArn"], {"orderId": "flaky-1", "failures": 2, "decline": False})
    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    assert output["flaky"] == {"attempts": 3, "account": "123456789012"}  # lambda:invoke, through our executor
    assert output["order"] == {"status": "DONE"}  # putItem, updateItem, getItem
    lambda_events = [e for e in events if e["type"].startswith("Task") and resource_type(e) == "lambda"]
    kinds = [e["type"] for e in lambda_events if e["type"] in ("TaskScheduled", "TaskFailed", "TaskSucceeded")]
    assert kinds == ["TaskScheduled", "TaskFailed", "TaskScheduled", "TaskFailed", "TaskScheduled", "TaskSucceeded"]
    failed = [e for e in lambda_events if e["type"] == "TaskFailed"]
    assert all(e["taskFailedEventDetails"]["error"] == "Transient" for e in failed)
    scheduled = [e["timestamp"] for e in lambda_events if e["type"] == "TaskScheduled"]
    waits = [(scheduled[i + 1] - f["timestamp"]).total_seconds() for i, f in enumerate(failed)]
    assert 0.9 <= waits[0] < 1.9 and 1.9 <= waits[1] < 3.5, waits  # IntervalSeconds 1, BackoffRate 2
    assert stock(dynamodb, orders.outputs["TableName"]) == 4


def test_a_declined_charge_is_caught_and_compensated(orders, clients):
    sfn, dynamodb = clients
    table = orders.outputs["TableName"]
    set_stock(dynamodb, table, 1)
    described, events = run(sfn, orders.outputs["WorkflowArn"], {"orderId": "declined-1", "failures": 0, "decline": True})
    assert described["status"] == "FAILED" and described["error"] == "OrderDeclined"
    failed = [e for e in events if e["type"] == "LambdaFunctionFailed"]  # a bare function ARN as the resource
    assert [e["lambdaFunctionFailedEventDetails"]["error"] for e in failed] == ["Declined"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]
    assert entered[-3:] == ["Compensate", "Forget", "Declined"]
    assert stock(dynamodb, table) == 1  # updateItem restored the unit
    assert "Item" not in dynamodb.get_item(TableName=table, Key={"id": {"S": "order#declined-1"}})  # deleteItem


def test_a_failed_condition_is_caught_as_dynamodb_conditional_check_failed(orders, clients):
    sfn, dynamodb = clients
    set_stock(dynamodb, orders.outputs["TableName"], 0)
    described, _ = run(sfn, orders.outputs["WorkflowArn"], {"orderId": "empty-1", "failures": 0, "decline": False})
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"status": "OUT_OF_STOCK", "error": "DynamoDB.ConditionalCheckFailedException"}


def test_unnamed_executions_get_names_of_their_own(orders, clients):
    sfn, dynamodb = clients
    set_stock(dynamodb, orders.outputs["TableName"], 0)
    first, _ = run(sfn, orders.outputs["WorkflowArn"], {"orderId": "u-1", "failures": 0, "decline": False})
    second, _ = run(sfn, orders.outputs["WorkflowArn"], {"orderId": "u-2", "failures": 0, "decline": False})
    names = {first["name"], second["name"]}
    assert len(names) == 2 and all(re.fullmatch(r"[0-9a-f-]{36}", n) for n in names)


def test_concurrent_executions_and_conditional_writes_never_oversell(orders, clients, local):
    sfn, dynamodb = clients
    table = orders.outputs["TableName"]
    set_stock(dynamodb, table, 5)
    results = []

    def one(i: int) -> None:
        results.append(run(sfn, orders.outputs["WorkflowArn"], {"orderId": f"race-{i}", "failures": 0, "decline": False})[0])

    threads = [threading.Thread(target=one, args=(i,)) for i in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcomes = [json.loads(r["output"]).get("status") if r["status"] == "SUCCEEDED" else r["status"] for r in results]
    assert outcomes.count("OUT_OF_STOCK") == 7 and outcomes.count(None) == 5, outcomes  # 5 finished orders
    assert stock(dynamodb, table) == 0

    # the same, straight through DynamoDB: a condition holds when its write lands
    set_stock(dynamodb, table, 20)
    client = local.session().client("dynamodb", config=Config(max_pool_connections=40))
    barrier, wins = threading.Barrier(40), []

    def take() -> None:
        barrier.wait()
        try:
            client.update_item(TableName=table, Key={"id": {"S": "stock"}}, UpdateExpression="SET units = units - :one",
                               ConditionExpression="units >= :one", ExpressionAttributeValues={":one": {"N": "1"}})
            wins.append(1)
        except client.exceptions.ConditionalCheckFailedException:
            pass

    threads = [threading.Thread(target=take) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(wins) == 20 and stock(dynamodb, table) == 0


def test_tasks_run_in_the_account_that_runs_the_execution(local):
    deployer = local.deployer("dev")
    info = deployer.deploy(ORDERS, "sfn-orders-dev")
    try:
        session = local.session("dev")
        sfn, dynamodb = session.client("stepfunctions"), session.client("dynamodb")
        assert ":111111111111:" in info.outputs["WorkflowArn"]
        set_stock(dynamodb, info.outputs["TableName"], 2)
        described, _ = run(sfn, info.outputs["WorkflowArn"], {"orderId": "dev-1", "failures": 0, "decline": False})
        assert described["status"] == "SUCCEEDED", described
        assert json.loads(described["output"])["flaky"]["account"] == "111111111111"
        assert stock(dynamodb, info.outputs["TableName"]) == 1  # the dev account's table, not the default one's
    finally:
        deployer.destroy("sfn-orders-dev")


def test_a_cloudformation_definition_object_updates_in_place_and_deletes(local):
    deployer = local.deployer()
    session = local.session()
    sfn, dynamodb = session.client("stepfunctions"), session.client("dynamodb")
    info = deployer.deploy(PLAIN, "sfn-plain")
    try:
        arn = info.outputs["MachineArn"]
        assert info.outputs["MachineName"] == "sfn-plain-plain" and arn.endswith(":stateMachine:sfn-plain-plain")
        described, _ = run(sfn, arn, {}, name="first")
        assert described["status"] == "SUCCEEDED", described
        output = json.loads(described["output"])
        assert (output["greeting"], output["count"], output["enabled"]) == ("hello", "3", "true")
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", output["startedAt"])  # text, as on AWS
        saved = dynamodb.get_item(TableName=info.outputs["TableName"], Key={"id": {"S": "first"}})["Item"]
        assert saved["startedAt"]["S"] == output["startedAt"]

        updated = deployer.deploy(PLAIN, "sfn-plain", parameters={"Greeting": "bonjour"})
        assert updated.outputs["MachineArn"] == arn  # updated in place
        described, _ = run(sfn, arn, {}, name="second")
        assert json.loads(described["output"])["greeting"] == "bonjour"
    finally:
        deployer.destroy("sfn-plain")
    with pytest.raises(sfn.exceptions.StateMachineDoesNotExist):
        sfn.describe_state_machine(stateMachineArn=arn)


def test_a_definition_in_s3_is_read_with_its_substitutions_and_a_string_output_is_json(local, tmp_path):
    session = local.session()
    s3, sfn = session.client("s3"), session.client("stepfunctions")
    s3.create_bucket(Bucket="sfn-definitions")
    s3.put_object(Bucket="sfn-definitions", Key="pass.asl.json",
                  Body=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": "${Word}", "End": True}}}))
    template = tmp_path / "template.yaml"
    template.write_text(
        "Resources:\n"
        "  Role:\n    Type: AWS::IAM::Role\n    Properties:\n      AssumeRolePolicyDocument: {Version: '2012-10-17', Statement: []}\n"
        "  Machine:\n    Type: AWS::StepFunctions::StateMachine\n    Properties:\n"
        "      RoleArn: !GetAtt Role.Arn\n"
        "      DefinitionS3Location: {Bucket: sfn-definitions, Key: pass.asl.json}\n"
        "      DefinitionSubstitutions: {Word: from-s3}\n"
        "Outputs:\n  Arn:\n    Value: !Ref Machine\n")
    info = local.deployer().deploy(template, "sfn-s3")
    try:
        described, _ = run(sfn, info.outputs["Arn"], {})
        assert described["status"] == "SUCCEEDED", described
        assert json.loads(described["output"]) == "from-s3"
    finally:
        local.deployer().destroy("sfn-s3")
