"""IAM evaluated in the local cloud (workshop/localcloud/iam/), over tests/fixtures/iam-app.

Each test cites the AWS documentation it follows. The fixture's functions differ only in their
roles' policies; each makes the call its event names and says what came back.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from workshop.localcloud.iam import policies, requests
from workshop.localcloud.iam.denial import Denial, response
from workshop.localcloud.iam.policies import Decision, evaluate

APP = Path(__file__).parent.parent / "fixtures" / "iam-app" / "template.yaml"
DENIED = re.compile(r"^User: arn:aws:sts::(\d{12}):assumed-role/([^/]+)/(\S+) is not authorized to perform: "
                    r"(\S+) on resource: (\S+) because no identity-based policy allows the \4 action$")


@pytest.fixture(scope="module")
def app(local):
    info = local.deployer().deploy(APP, "iam-app")
    yield info.outputs
    local.deployer().destroy("iam-app")


@pytest.fixture(scope="module")
def aws(local):
    session = local.session()
    return {name: session.client(name) for name in ("lambda", "stepfunctions", "dynamodb", "iam", "sts", "logs")}


def call(aws, function: str, service: str, method: str, **args) -> dict:
    answer = aws["lambda"].invoke(FunctionName=function, Payload=json.dumps(
        {"service": service, "call": method, "args": args}).encode())
    return json.loads(answer["Payload"].read())


def put(aws, app, function: str, table: str = "TableName", key: str = "k1") -> dict:
    return call(aws, app[function], "dynamodb", "put_item", TableName=app[table], Item={"id": {"S": key}})


# -- what we rely on in moto 5.2.5 (fails loudly when an upgrade moves it) ----------------------------------

def test_moto_sessions_and_roles_are_what_the_evaluation_reads():
    """credentials.py and enforcement.py read moto's STS sessions and IAM entities directly;
    moto's own access_control.py evaluates no Resource and no identity Condition, so it is not used."""
    import inspect

    from moto.iam import access_control
    from moto.iam import models as iam_models
    from moto.sts import models as sts_models

    assert list(inspect.signature(sts_models.STSBackend.assume_role).parameters) == [
        "self", "region_name", "role_session_name", "role_arn", "policy", "duration", "external_id"]
    assert "assumed_roles.append" in inspect.getsource(sts_models.STSBackend.assume_role)
    assert {"access_key_id", "session_name", "role_arn", "policy"} <= set(
        inspect.signature(sts_models.AssumedRole.__init__).parameters) | {"access_key_id", "session_name"}
    role_init = inspect.getsource(iam_models.Role.__init__)
    assert "self.policies: dict[str, str] = {}" in role_init and "self.managed_policies" in role_init
    assert "self.permissions_boundary_arn" in role_init
    assert "is_default" in inspect.getsource(iam_models.PolicyVersion)
    assert "TODO add support for the Resource and Condition parts" in inspect.getsource(access_control)


def test_moto_routes_rest_requests_to_their_operations():
    """requests.py tells a Lambda or S3 operation by moto's router (botocore's URI templates)."""
    from moto.core.request import Request
    from moto.core.routing import get_service_router
    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder(method="POST", path="/2015-03-31/functions/f/invocations", data=b"{}").get_environ()
    operation, params = get_service_router("lambda").match(Request(environ))
    assert (operation.name, params) == ("Invoke", {"FunctionName": "f"})
    environ = EnvironBuilder(method="HEAD", path="/bucket/a/b").get_environ()
    operation, params = get_service_router("s3").match(Request(environ))
    assert (operation.name, params) == ("HeadObject", {"Bucket": "bucket", "Key": "a/b"})


def test_moto_maps_a_role_sessions_key_to_the_roles_account():
    from moto.iam.models import get_account_id_from

    from workshop.localcloud.iam import role_credentials

    session = role_credentials("arn:aws:iam::444455556666:role/pinned", "s")
    assert get_account_id_from(session.access_key_id) == "444455556666"


# -- a function signs with its execution role ---------------------------------------------------------

def test_a_function_without_the_dynamodb_policy_is_denied_as_aws_denies_it(aws, app):
    """https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html: a function has
    the permissions of its execution role; https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html:
    the implicit deny's message names the session, the action, the resource and the policy type."""
    answer = put(aws, app, "NoPolicyFunction")
    assert answer["error"] == "AccessDeniedException" and answer["status"] == 400, answer
    match = DENIED.match(answer["message"])
    assert match, answer["message"]
    account, role, session, action, resource = match.groups()
    assert session == app["NoPolicyFunction"]  # Lambda names the role session after the function
    assert role.startswith("iam-app-NoPolicyFunctionRole")
    assert action == "dynamodb:PutItem"
    assert resource == f"arn:aws:dynamodb:us-east-1:{account}:table/{app['TableName']}"


def test_the_same_call_with_the_crud_policy_template_succeeds(aws, app):
    """DynamoDBCrudPolicy (https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/serverless-policy-template-list.html)
    allows the item and table actions on the table and its indexes."""
    assert put(aws, app, "CrudFunction") == {"ok": True, "keys": []}
    assert call(aws, app["CrudFunction"], "dynamodb", "get_item", TableName=app["TableName"],
                Key={"id": {"S": "k1"}})["ok"]


def test_the_read_policy_template_reads_and_does_not_write(aws, app):
    """DynamoDBReadPolicy: GetItem, Query, Scan, BatchGetItem, DescribeTable... and no writes."""
    assert call(aws, app["ReadFunction"], "dynamodb", "get_item", TableName=app["TableName"],
                Key={"id": {"S": "k1"}})["ok"]
    assert call(aws, app["ReadFunction"], "dynamodb", "scan", TableName=app["TableName"])["ok"]
    denied = put(aws, app, "ReadFunction")
    assert denied["error"] == "AccessDeniedException" and "dynamodb:PutItem" in denied["message"]
    other = call(aws, app["ReadFunction"], "dynamodb", "get_item", TableName=app["OtherTableName"],
                 Key={"id": {"S": "k1"}})
    assert other["error"] == "AccessDeniedException"  # the template names one table


def test_an_explicit_deny_wins_over_an_allow(aws, app):
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html:
    an explicit Deny in any policy overrides every Allow, and the message says so."""
    assert put(aws, app, "DenyFunction")["ok"]
    denied = call(aws, app["DenyFunction"], "dynamodb", "delete_item", TableName=app["TableName"],
                  Key={"id": {"S": "k1"}})
    assert denied["error"] == "AccessDeniedException"
    assert denied["message"].endswith("with an explicit deny in an identity-based policy"), denied["message"]
    assert "dynamodb:DeleteItem" in denied["message"]


def test_wildcards_in_actions_and_resources(aws, app):
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html and
    ..._elements_resource.html: `*` and `?` match within actions and ARNs."""
    assert call(aws, app["WildcardFunction"], "dynamodb", "get_item", TableName=app["TableName"],
                Key={"id": {"S": "k1"}})["ok"]  # dynamodb:Get* on table/*
    assert put(aws, app, "WildcardFunction", table="OtherTableName")["ok"]  # dynamodb:PutI?em
    assert put(aws, app, "WildcardFunction")["error"] == "AccessDeniedException"  # not on this table
    assert call(aws, app["WildcardFunction"], "dynamodb", "scan",
                TableName=app["TableName"])["error"] == "AccessDeniedException"


def test_lambda_invoke_policy(aws, app):
    """LambdaInvokePolicy allows lambda:InvokeFunction on that function only; Lambda answers
    AccessDeniedException with HTTP 403 (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html)."""
    ok = call(aws, app["InvokerFunction"], "lambda", "invoke", FunctionName=app["NoPolicyFunction"],
              Payload=json.dumps({"service": "sts", "call": "get_caller_identity"}))
    assert ok["ok"], ok
    denied = call(aws, app["InvokerFunction"], "lambda", "invoke", FunctionName=app["CrudFunction"], Payload="{}")
    assert denied["error"] == "AccessDeniedException" and denied["status"] == 403, denied
    assert "lambda:InvokeFunction on resource: arn:aws:lambda:us-east-1:" in denied["message"]
    assert denied["message"].endswith(f"function:{app['CrudFunction']} because no identity-based policy "
                                      "allows the lambda:InvokeFunction action")


def test_step_functions_execution_policy(aws, app):
    """StepFunctionsExecutionPolicy allows states:StartExecution on that state machine."""
    assert call(aws, app["StarterFunction"], "stepfunctions", "start_execution",
                stateMachineArn=app["PutWorkflowArn"], input=json.dumps({"id": "sf1"}))["ok"]
    denied = call(aws, app["StarterFunction"], "stepfunctions", "start_execution",
                  stateMachineArn=app["ReadOnlyWorkflowArn"], input="{}")
    assert denied["error"] == "AccessDeniedException"
    assert f"states:StartExecution on resource: {app['ReadOnlyWorkflowArn']}" in denied["message"]


def test_the_denied_message_reaches_the_functions_log(aws, app):
    """An unhandled ClientError is logged by the runtime with its message, so a grader can quote it."""
    answer = aws["lambda"].invoke(FunctionName=app["NoPolicyFunction"], LogType="Tail", Payload=json.dumps(
        {"service": "dynamodb", "call": "put_item", "raise": True,
         "args": {"TableName": app["TableName"], "Item": {"id": {"S": "x"}}}}).encode())
    assert answer.get("FunctionError") == "Unhandled"
    error = json.loads(answer["Payload"].read())
    assert "AccessDeniedException" in error["errorMessage"] and "is not authorized to perform: dynamodb:PutItem" in error["errorMessage"]


# -- Step Functions tasks sign with the state machine's role ----------------------------------------------

def run(aws, arn: str, document: dict) -> dict:
    execution = aws["stepfunctions"].start_execution(stateMachineArn=arn, input=json.dumps(document))["executionArn"]
    deadline = time.monotonic() + 60
    while True:
        described = aws["stepfunctions"].describe_execution(executionArn=execution)
        if described["status"] != "RUNNING" or time.monotonic() > deadline:
            return described
        time.sleep(0.1)


def test_a_state_machine_task_runs_with_its_role(aws, app):
    """https://docs.aws.amazon.com/step-functions/latest/dg/procedure-create-iam-role.html: the
    state machine's role must allow what its tasks call."""
    assert run(aws, app["PutWorkflowArn"], {"id": "w1"})["status"] == "SUCCEEDED"


def test_a_state_machine_task_the_role_does_not_allow_fails(aws, app):
    """A task whose call is denied fails with the service's AccessDeniedException."""
    described = run(aws, app["ReadOnlyWorkflowArn"], {"id": "w2"})
    assert described["status"] == "FAILED", described
    assert "AccessDenied" in (described.get("error", "") + described.get("cause", "")), described
    assert "dynamodb:PutItem" in described.get("cause", ""), described
    assert aws["dynamodb"].get_item(TableName=app["TableName"], Key={"id": {"S": "w2"}}).get("Item") is None


def test_a_lambda_task_needs_lambda_invoke_function(aws, app):
    described = run(aws, app["InvokeWorkflowArn"], {})
    assert described["status"] == "FAILED", described
    assert "lambda:InvokeFunction" in described.get("cause", ""), described


# -- API Gateway integrations sign with their credentials role ---------------------------------------------

def test_an_integration_role_with_the_action_reads_the_table(aws, app, local):
    """https://docs.aws.amazon.com/apigateway/latest/developerguide/integration-request-basic-setup.html:
    an AWS service integration calls the service with its credentials role."""
    import urllib.request

    aws["dynamodb"].put_item(TableName=app["TableName"], Item={"id": {"S": "g1"}})
    with urllib.request.urlopen(app["ApiUrl"] + "allowed/g1") as answer:
        assert json.loads(answer.read())["Item"] == {"id": {"S": "g1"}}


def test_an_integration_role_without_the_action_gets_the_services_denial(aws, app):
    """The service's 400 AccessDeniedException is the integration's answer: the default integration
    response passes it on as 200 unless a selection pattern maps the 4xx (as on AWS, where the
    backend's status selects the integration response)."""
    import urllib.request

    with urllib.request.urlopen(app["ApiUrl"] + "denied/g1") as answer:
        body = json.loads(answer.read())
        assert answer.status == 200
    assert body["__type"].endswith("AccessDeniedException")
    assert re.search(r"assumed-role/iam-app-QueryOnlyRole-\S+/BackplaneAssumeRoleSession is not authorized "
                     r"to perform: dynamodb:GetItem", body["message"]), body


# -- probes a grader can make ------------------------------------------------------------------------------

def test_a_role_can_be_assumed_and_probed(aws, app, local):
    """sts:AssumeRole as the account gives the role's session; its calls are evaluated."""
    from workshop.localcloud.iam import role_session

    role = aws["lambda"].get_function(FunctionName=app["ReadFunction"])["Configuration"]["Role"]
    session = role_session(local.cloud_url, role, "probe")
    dynamodb = session.client("dynamodb")
    dynamodb.get_item(TableName=app["TableName"], Key={"id": {"S": "k1"}})
    with pytest.raises(dynamodb.exceptions.ClientError) as denied:
        dynamodb.put_item(TableName=app["TableName"], Item={"id": {"S": "probe"}})
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "/probe is not authorized to perform: dynamodb:PutItem" in denied.value.response["Error"]["Message"]
    assert session.client("sts").get_caller_identity()["Arn"].endswith("/probe")


# -- the evaluator alone ---------------------------------------------------------------------------------

def test_not_action_not_resource_and_conditions():
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html,
    ..._elements_notresource.html, ..._elements_condition_operators.html."""
    document = {"Statement": [
        {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:*", "NotResource": "arn:aws:s3:::mine/*"},
        {"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity", "Resource": "*", "Condition": {
            "StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"},
            "StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/shop:*"}}},
    ]}
    assert evaluate([document], "dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:1:table/t") is Decision.ALLOW
    assert evaluate([document], "iam:CreateRole", "*") is Decision.IMPLICIT_DENY
    assert evaluate([document], "s3:GetObject", "arn:aws:s3:::mine/a") is Decision.ALLOW
    assert evaluate([document], "s3:GetObject", "arn:aws:s3:::theirs/a") is Decision.EXPLICIT_DENY
    good = {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": "repo:acme/shop:environment:production"}
    assert evaluate([document], "sts:AssumeRoleWithWebIdentity", "*", good) is Decision.ALLOW
    bad = {**good, "token.actions.githubusercontent.com:sub": "repo:evil/shop:ref:refs/heads/main"}
    # NotAction iam:* also allows sts:*: only the explicit statements above decide iam/s3
    assert evaluate([{"Statement": document["Statement"][2]}], "sts:AssumeRoleWithWebIdentity", "*", bad) \
        is Decision.IMPLICIT_DENY
    assert policies.condition_holds("StringNotEqualsIfExists", "aws:username", "x", {}) is True
    assert policies.condition_holds("Null", "aws:username", "true", {}) is True
    assert policies.condition_holds("ArnLike", "aws:PrincipalArn", "arn:aws:iam::*:role/shop-*",
                                    {"aws:PrincipalArn": "arn:aws:iam::1:role/shop-x"}) is True
    assert policies.condition_holds("NumericLessThan", "n", "5", {"n": "3"}) is True
    assert policies.condition_holds("ForAllValues:StringEquals", "k", ["a", "b"], {"k": ["a"]}) is True
    assert policies.condition_holds("ForAnyValue:StringEquals", "k", ["c"], {"k": ["a", "b"]}) is False


def test_arn_wildcards_match_segment_by_segment():
    """A `*` in the ARN's region segment does not reach into the account
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html)."""
    assert policies.resource_matches("arn:aws:dynamodb:*:123456789012:table/*", "arn:aws:dynamodb:eu-west-1:123456789012:table/t")
    assert not policies.resource_matches("arn:aws:dynamodb:*:111111111111:table/*", "arn:aws:dynamodb:eu-west-1:123456789012:table/t")
    assert policies.resource_matches("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b/c")
    assert not policies.resource_matches("arn:aws:s3:::bucket", "arn:aws:s3:::bucket/a")
    assert policies.action_matches("DynamoDB:getitem", "dynamodb:GetItem")  # actions ignore case


def test_each_protocol_answers_a_denial_in_its_own_form():
    """DynamoDB/Step Functions/Logs: 400 AccessDeniedException (JSON); Lambda: 403
    AccessDeniedException; S3: 403 AccessDenied with the resource quoted
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/troubleshoot-403-errors.html); SNS: 403
    AuthorizationError; CloudFormation, IAM, STS: 403 AccessDenied (query protocol)."""
    denial = Denial("arn:aws:sts::1:assumed-role/r/s", "s3:GetObject", "arn:aws:s3:::b/k", Decision.IMPLICIT_DENY)
    status, _, body = response(denial, "s3", "GET")
    assert status == 403 and b"<Code>AccessDenied</Code>" in body
    assert b'on resource: "arn:aws:s3:::b/k" because no identity-based policy allows the s3:GetObject action' in body
    assert response(denial, "s3", "HEAD")[2] == b""
    status, headers, body = response(denial, "dynamodb")
    assert status == 400 and ("x-amzn-ErrorType", "AccessDeniedException") in headers
    status, _, body = response(Denial("p", "sns:Publish", "arn:aws:sns:us-east-1:1:t", Decision.IMPLICIT_DENY), "sns")
    assert status == 403 and b"<Code>AuthorizationError</Code>" in body and b"SNS:Publish" in body
    status, _, body = response(denial, "cloudformation")
    assert status == 403 and b"<Code>AccessDenied</Code>" in body


def test_requests_name_the_actions_and_resources_aws_checks():
    """The Service Authorization Reference: TransactWriteItems needs each item's own action; a
    query on an index acts on the index's ARN; CopyObject reads its source."""
    def needs(service, operation, params, headers=None):
        return requests.needs(requests.ApiCall(service, operation, params, "123456789012", "us-east-1", headers))

    assert needs("dynamodb", "TransactWriteItems", {"TransactItems": [
        {"Put": {"TableName": "a"}}, {"ConditionCheck": {"TableName": "b"}}]}) == [
        requests.Need("dynamodb:PutItem", "arn:aws:dynamodb:us-east-1:123456789012:table/a"),
        requests.Need("dynamodb:ConditionCheckItem", "arn:aws:dynamodb:us-east-1:123456789012:table/b")]
    assert needs("dynamodb", "Query", {"TableName": "a", "IndexName": "byX"}) == [
        requests.Need("dynamodb:Query", "arn:aws:dynamodb:us-east-1:123456789012:table/a/index/byX")]
    assert needs("lambda", "Invoke", {"FunctionName": "f", "Qualifier": "live"}) == [
        requests.Need("lambda:InvokeFunction", "arn:aws:lambda:us-east-1:123456789012:function:f:live")]
    assert needs("s3", "CopyObject", {"Bucket": "b", "Key": "k"}, {"x-amz-copy-source": "/src/a%20b"}) == [
        requests.Need("s3:CopyObject", "arn:aws:s3:::b/k"), requests.Need("s3:GetObject", "arn:aws:s3:::src/a b")]
    assert needs("s3", "ListObjectsV2", {"Bucket": "b"}) == [requests.Need("s3:ListBucket", "arn:aws:s3:::b")]
    assert needs("sts", "GetCallerIdentity", {}) is None
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/transform-section-structure.html:
    # a change set of a template with a transform also needs CreateChangeSet on the transform
    assert needs("cloudformation", "CreateChangeSet", {
        "StackName": "s", "TemplateBody": "Transform: AWS::Serverless-2016-10-31"})[1] == requests.Need(
        "cloudformation:CreateChangeSet", "arn:aws:cloudformation:us-east-1:aws:transform/Serverless-2016-10-31")


# -- turned off ----------------------------------------------------------------------------------------------

def test_iam_off_allows_what_on_denies(tmp_path):
    """`workshop cloud up --iam off` (control.up(iam=False)) starts a cloud that evaluates nothing."""
    from workshop.localcloud import control
    from workshop.localcloud.iam import role_session
    from workshop.localcloud.safety import local_session

    info, started = control.up(tmp_path, iam=False)
    try:
        assert started and info.iam is False
        root = local_session(info.url)
        role = root.client("iam").create_role(RoleName="nothing", AssumeRolePolicyDocument=json.dumps(
            {"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
        dynamodb = role_session(info.url, role).client("dynamodb")
        assert "TableNames" in dynamodb.list_tables()  # on, this is AccessDeniedException
    finally:
        control.down(tmp_path)


def test_the_environment_variable_turns_it_off(monkeypatch):
    from workshop.localcloud.iam import enabled_by_default

    assert enabled_by_default()
    monkeypatch.setenv("WORKSHOP_IAM", "off")
    assert not enabled_by_default()


def test_a_role_with_no_policy_is_denied_where_iam_is_on(cloud):
    from workshop.localcloud.iam import role_session
    from workshop.localcloud.safety import local_session

    assert cloud.iam is True  # on by default
    root = local_session(cloud.url)
    role = root.client("iam").create_role(RoleName="nothing-on", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    dynamodb = role_session(cloud.url, role).client("dynamodb")
    with pytest.raises(dynamodb.exceptions.ClientError) as denied:
        dynamodb.list_tables()
    assert denied.value.response["Error"]["Message"].endswith(
        "is not authorized to perform: dynamodb:ListTables on resource: * because no identity-based policy "
        "allows the dynamodb:ListTables action")


# -- deploying as a deploy role -----------------------------------------------------------------------------

def test_a_deploy_role_deploys_only_the_stacks_and_bucket_its_policy_names(cloud, unique):
    """https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/control-access-with-iam.html:
    CreateStack acts on arn:aws:cloudformation:REGION:ACCOUNT:stack/NAME/*; the artifacts need S3."""
    from workshop.deploy.local import DeployError, LocalDeployer
    from workshop.localcloud.iam import role_session
    from workshop.localcloud.safety import local_session

    template = Path(__file__).parent.parent / "fixtures" / "iam-table" / "template.yaml"
    bucket = f"aws-sam-cli-managed-default-{unique}"
    iam = local_session(cloud.url).client("iam")
    role = iam.create_role(RoleName=f"deploy-{unique}", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    iam.put_role_policy(RoleName=f"deploy-{unique}", PolicyName="deploy", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "cloudformation:*",
         "Resource": f"arn:aws:cloudformation:*:123456789012:stack/{unique}-ok-*/*"},
        {"Effect": "Allow", "Action": "s3:*", "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]}]}))
    session = role_session(cloud.url, role, "GitHubActions")
    deployer = LocalDeployer(cloud.url, session=session, bucket=bucket)
    assert deployer.deploy(template, f"{unique}-ok-table").status == "CREATE_COMPLETE"
    with pytest.raises(DeployError) as denied:
        deployer.deploy(template, f"{unique}-other")
    assert (f"assumed-role/deploy-{unique}/GitHubActions is not authorized to perform: cloudformation:CreateStack "
            f"on resource: arn:aws:cloudformation:us-east-1:123456789012:stack/{unique}-other/*") in str(denied.value)
    with pytest.raises(DeployError, match="s3:CreateBucket"):
        LocalDeployer(cloud.url, session=session).deploy(template, f"{unique}-ok-2")
    deployer.destroy(f"{unique}-ok-table")


def test_simulate_principal_policy_answers_as_the_evaluation_does(aws, app):
    """https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html (moto
    has none): the probe a grader can make on both targets without assuming the role."""
    role = aws["lambda"].get_function(FunctionName=app["DenyFunction"])["Configuration"]["Role"]
    table = aws["dynamodb"].describe_table(TableName=app["TableName"])["Table"]["TableArn"]
    results = aws["iam"].simulate_principal_policy(
        PolicySourceArn=role, ActionNames=["dynamodb:GetItem", "dynamodb:DeleteItem", "s3:GetObject"],
        ResourceArns=[table])["EvaluationResults"]
    assert [(r["EvalActionName"], r["EvalDecision"]) for r in results] == [
        ("dynamodb:GetItem", "allowed"), ("dynamodb:DeleteItem", "explicitDeny"), ("s3:GetObject", "implicitDeny")]
    with pytest.raises(aws["iam"].exceptions.NoSuchEntityException):
        aws["iam"].simulate_principal_policy(PolicySourceArn="arn:aws:iam::123456789012:role/none", ActionNames=["s3:*"])


# -- a workflow job's web identity, judged by the trust policy ---------------------------------------------

@pytest.fixture(scope="module")
def oidc(local):
    info = local.deployer("prod").deploy(Path(__file__).parent.parent / "fixtures" / "iam-oidc" / "template.yaml", "iam-oidc")
    yield info.outputs
    local.deployer("prod").destroy("iam-oidc")


def test_a_trust_policy_admits_only_the_subjects_its_conditions_name(oidc, cloud):
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_oidc.html: the token's
    claims are condition keys `token.actions.githubusercontent.com:sub` / `:aud`; a subject the
    trust policy does not admit gets AccessDenied "Not authorized to perform sts:AssumeRoleWithWebIdentity"."""
    from botocore.exceptions import ClientError

    from workshop.localcloud.iam import web_identity_session

    session = web_identity_session(cloud.url, oidc["EnvironmentRoleArn"], "repo:acme/shop:environment:production")
    assert session.client("sts").get_caller_identity()["Arn"].endswith("/GitHubActions")
    web_identity_session(cloud.url, oidc["BranchRoleArn"], "repo:acme/shop:ref:refs/heads/main")
    for role, subject in ((oidc["EnvironmentRoleArn"], "repo:acme/shop:ref:refs/heads/main"),
                          (oidc["BranchRoleArn"], "repo:acme/shop:environment:production"),
                          (oidc["BranchRoleArn"], "repo:evil/shop:ref:refs/heads/main")):
        with pytest.raises(ClientError) as refused:
            web_identity_session(cloud.url, role, subject)
        assert refused.value.response["Error"]["Code"] == "AccessDenied", subject
        assert refused.value.response["Error"]["Message"] == "Not authorized to perform sts:AssumeRoleWithWebIdentity"
    with pytest.raises(ClientError) as wrong_audience:
        web_identity_session(cloud.url, oidc["BranchRoleArn"], "repo:acme/shop:ref:refs/heads/main", audience="other")
    assert wrong_audience.value.response["Error"]["Code"] == "InvalidIdentityToken"
    with pytest.raises(ClientError) as no_provider:
        web_identity_session(cloud.url, oidc["BranchRoleArn"].replace("222222222222", "123456789012"),
                             "repo:acme/shop:ref:refs/heads/main")
    assert "No OpenIDConnect provider found" in no_provider.value.response["Error"]["Message"]
