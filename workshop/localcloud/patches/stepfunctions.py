"""Step Functions: state machines really run, those made by CloudFormation too, in their own account.

What moto 5.2.5 does, and what this module changes (each pinned by tests/localcloud/test_stepfunctions.py):

- Executions run only when moto's config says `{"stepfunctions": {"execute_state_machine": True}}`;
  the API then goes to the parser backend (LocalStack's interpreter, ported), otherwise to a
  backend whose executions never run. Switched on here, in-process, before anything is created.
- CloudFormation's `AWS::StepFunctions::StateMachine` creates, updates and deletes in the backend
  that does not execute, whatever the config; reads only `DefinitionString` (not `Definition` or
  `DefinitionS3Location`); ignores `DefinitionSubstitutions` (SAM passes them through, so every
  `${Name}` stays in the definition); ignores `StateMachineType`; and has no `GetAtt Arn`. Here
  the model goes to the backend that executes, with the definition as AWS would build it.
- DescribeExecution returns an execution's output as it is when it is a string (`word`, which
  is not JSON) instead of JSON text (`"word"`); here it is always JSON text.
- StartExecution without a name names the execution "None", so a second one fails with
  ExecutionAlreadyExists; here it gets a UUID, as on AWS.
- `$$.Execution.StartTime` is a datetime object instead of a string, so a task that sends it
  fails ("Object of type datetime is not JSON serializable"); here it is AWS's text form.
- Task states call AWS through `boto_client_for`, a boto3 client with the access key "ak"
  (account 123456789012 whatever account runs the execution) and the endpoint
  `localhost:$MOTO_PORT`, created from the default boto3 session on every call and from many
  threads at once (which boto3 does not support). Here every such client is created once per
  (service, region, account, role) under a lock, signs with the state machine's role (as Step
  Functions does, so the cloud's IAM evaluation judges each task; for a Lambda function ARN of
  another account, as that account), and talks to this cloud's own URL, so
  `lambda:invoke` and a bare function ARN go through our executor and `dynamodb:*` tasks reach
  the DynamoDB of that account.
- The workflows' conditional DynamoDB writes rely on patches/dynamodb.py (atomic writes).

Retry and Catch are moto's own: IntervalSeconds, BackoffRate and MaxAttempts are honoured with
real sleeps, and each attempt shows in the execution history. The patches of the interpreter
itself are applied on the first StartExecution, so a cloud that runs no workflow does not import it.
"""

from __future__ import annotations

import datetime
import functools
import importlib
import json
import threading
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from ..safety import access_key_for

if TYPE_CHECKING:
    from ..server import LocalCloud

# Every module of moto's interpreter that imported `boto_client_for` by name; the test in
# tests/localcloud/test_stepfunctions.py fails when a moto upgrade adds or moves one.
CLIENT_USERS = (
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_batch",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_dynamodb",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_ecs",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_events",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_glue",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sns",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sqs",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_unsupported",
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval.resource_eval_s3",
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval.resource_eval_s3",
)
BOTO_CLIENT_MODULE = "moto.stepfunctions.parser.asl.utils.boto_client"
DEFAULT_ACCOUNT = "123456789012"

_running = threading.local()  # .account: the account of the state evaluating on this thread


def apply(cloud: LocalCloud) -> None:
    from moto.core.config import default_user_config

    default_user_config.setdefault("stepfunctions", {})["execute_state_machine"] = True
    _cloudformation_in_the_executing_backend()
    _describe_output_as_json()
    _prepare_the_interpreter_on_first_start(cloud.url)


def _prepare_the_interpreter_on_first_start(endpoint_url: str) -> None:
    """The interpreter's patches wait for the first StartExecution: importing moto's interpreter
    costs about half a second, which a cloud that runs no workflow need not pay at start."""
    from moto.stepfunctions.responses import StepFunctionResponse

    original = StepFunctionResponse.start_execution
    if getattr(original, "_prepares", False):
        return
    lock, prepared = threading.Lock(), []  # type: ignore[var-annotated]  # moto's own executions, untyped

    @functools.wraps(original)
    def start_execution(self):
        with lock:
            if not prepared:
                prepare_the_interpreter(endpoint_url)
                prepared.append(True)
        return original(self)

    start_execution._prepares = True
    StepFunctionResponse.start_execution = start_execution


def prepare_the_interpreter(endpoint_url: str) -> None:
    _name_unnamed_executions()
    _context_start_time_as_text()
    _route_task_clients(endpoint_url)
    _track_the_running_account()




# -- executions: output as JSON text, a name when none is given ----------------------------------

def _describe_output_as_json() -> None:
    """DescribeExecution's `output` is JSON text, as on AWS, also when the output is a string:
    moto hands a string output back as it is (`word`, not `"word"`), which no client can parse."""
    from moto.stepfunctions.responses import StepFunctionResponse

    original = StepFunctionResponse.describe_execution
    if getattr(original, "_json_output", False):
        return

    @functools.wraps(original)
    def describe_execution(self):
        result = original(self)
        execution = self.stepfunction_backend.describe_execution(self._get_param("executionArn"))
        answer = result.result
        if type(execution).__module__.startswith("moto.stepfunctions.parser") and "output" in answer:
            answer["output"] = json.dumps(execution.output, separators=(",", ":"), default=str)
        return result

    describe_execution._json_output = True
    StepFunctionResponse.describe_execution = describe_execution


def _name_unnamed_executions() -> None:
    """StartExecution without a name gets a UUID, as on AWS (moto names every such execution "None")."""
    import uuid

    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    original = StepFunctionsParserBackend.start_execution
    if getattr(original, "_names", False):
        return

    @functools.wraps(original)
    def start_execution(self, state_machine_arn, name=None, execution_input=None, trace_header=None):
        return original(self, state_machine_arn, name or str(uuid.uuid4()), execution_input, trace_header)

    start_execution._names = True
    StepFunctionsParserBackend.start_execution = start_execution


def aws_timestamp(moment) -> str:
    """A time as Step Functions writes it in the context object: 2024-01-31T12:00:00.123Z."""
    utc = moment.astimezone(datetime.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _context_start_time_as_text() -> None:
    """`$$.Execution.StartTime` is a string, as on AWS; moto leaves a datetime there, which
    passes through the interpreter but breaks any task that sends it (a DynamoDB item, a Lambda
    payload: "Object of type datetime is not JSON serializable")."""
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    original = ExecutionWorker._get_evaluation_environment
    if getattr(original, "_start_time_as_text", False):
        return

    @functools.wraps(original)
    def get_evaluation_environment(self):
        env = original(self)
        execution = env.states.context_object.context_object_data["Execution"]
        if isinstance(execution.get("StartTime"), datetime.datetime):
            execution["StartTime"] = aws_timestamp(execution["StartTime"])
        return env

    get_evaluation_environment._start_time_as_text = True
    ExecutionWorker._get_evaluation_environment = get_evaluation_environment


# -- tasks: the right account, this cloud, one client each ----------------------------------------

def task_client_factory(endpoint_url: str):
    """A replacement for moto's `boto_client_for(region, service, state_credentials=None)`."""
    from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import (
        TimeoutSeconds,
    )

    session = boto3.session.Session()
    clients: dict[tuple[str, str, str, str | None], Any] = {}
    lock = threading.Lock()
    config = Config(
        parameter_validation=False,
        retries={"max_attempts": 0, "total_max_attempts": 1},
        connect_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
        read_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
        max_pool_connections=64,
    )

    def boto_client_for(region: str, service: str, state_credentials: Any = None):  # noqa: ARG001 - moto's signature
        account = getattr(_running, "account", None) or DEFAULT_ACCOUNT
        role_arn = getattr(_running, "role_arn", None)
        key = (service, region, account, role_arn)
        with lock:  # creating clients is not thread-safe; using them is
            client = clients.get(key)
            if client is None:
                access_key, secret, token = task_credentials(account, role_arn, region)
                client = clients[key] = session.client(
                    service, region_name=region, endpoint_url=endpoint_url, config=config,
                    aws_access_key_id=access_key, aws_secret_access_key=secret, aws_session_token=token)
        return client

    boto_client_for._routed = True
    return boto_client_for


def task_credentials(account: str, role_arn: str | None, region: str) -> tuple[str, str, str]:
    """A task signs with its state machine's role, in a session of 32 random letters as Step
    Functions names them; a task on another account's function, or a machine without a role of
    that account, signs as the account itself."""
    from ..iam import role_credentials
    from ..iam.credentials import random_session_name

    if role_arn and ":role/" in role_arn and role_arn.split(":")[4] == account:
        found = _role_sessions.get(role_arn)
        if found is None:
            found = _role_sessions[role_arn] = role_credentials(role_arn, random_session_name(), region)
        return found.access_key_id, found.secret_access_key, found.session_token
    return access_key_for(account), "local-secret", "local-session"


_role_sessions: dict[str, Any] = {}


def _route_task_clients(endpoint_url: str) -> None:
    factory = task_client_factory(endpoint_url)
    original = importlib.import_module(BOTO_CLIENT_MODULE).boto_client_for
    modules = [importlib.import_module(name) for name in (BOTO_CLIENT_MODULE, *CLIENT_USERS)]
    if getattr(original, "_routed", False):
        return
    for module in modules:
        if getattr(module, "boto_client_for", None) is not original:
            raise RuntimeError(f"moto moved boto_client_for: {module.__name__} no longer uses it; re-measure this patch")
    for module in modules:
        module.boto_client_for = factory


def _track_the_running_account() -> None:
    """Every state that does work records, on its own thread, the account it runs in."""
    from moto.stepfunctions.parser.asl.component.state.exec.execute_state import (
        ExecutionState,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda import (
        StateTaskLambda,
    )

    def classes(root):
        yield root
        for sub in root.__subclasses__():
            yield from classes(sub)

    importlib.import_module("moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_factory")
    for cls in set(classes(ExecutionState)):
        method = cls.__dict__.get("_eval_execution")
        if method is None or getattr(method, "_runs_as_account", False):
            continue

        def wrapped(self, env, _method=method, _lambda=issubclass(cls, StateTaskLambda)):  # noqa: B008 - bound once per class on purpose, as the loop's value
            previous = getattr(_running, "account", None), getattr(_running, "role_arn", None)
            own = getattr(self.resource, "_account", None) if _lambda else None  # a function ARN's account
            _running.account = own or env.aws_execution_details.account
            _running.role_arn = env.aws_execution_details.role_arn  # the state machine's role signs its tasks
            try:
                return _method(self, env)
            finally:
                _running.account, _running.role_arn = previous

        wrapped._runs_as_account = True
        functools.update_wrapper(wrapped, method)
        cls._eval_execution = wrapped


# -- CloudFormation: into the executing backend, the definition as AWS builds it ------------------

def definition_from_properties(properties: dict[str, Any], account_id: str) -> str | None:
    """The definition text of an AWS::StepFunctions::StateMachine, substitutions applied."""
    if "Definition" in properties:
        definition = properties["Definition"]
        text = definition if isinstance(definition, str) else json.dumps(definition)
    elif "DefinitionS3Location" in properties:
        text = _read_s3(properties["DefinitionS3Location"], account_id)
    else:
        text = properties.get("DefinitionString")
    if text is None:
        return None
    for name, value in (properties.get("DefinitionSubstitutions") or {}).items():
        text = text.replace("${" + name + "}", _substitution_text(value))
    return text


def _substitution_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


def _read_s3(location: dict[str, Any], account_id: str) -> str:
    from moto.s3.models import s3_backends

    key = s3_backends[account_id]["aws"].get_object(location["Bucket"], location["Key"], location.get("Version"))
    if key is None:
        raise ValueError(f"DefinitionS3Location s3://{location['Bucket']}/{location['Key']} does not exist")
    return key.value.decode()


def _cloudformation_in_the_executing_backend() -> None:
    from moto.stepfunctions.models import StateMachine
    from moto.stepfunctions.responses import get_backend
    from moto.stepfunctions.utils import cfn_to_api_tags

    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        properties = cloudformation_json["Properties"]
        backend = get_backend(account_id, region_name)
        return backend.create_state_machine(
            name=properties.get("StateMachineName", resource_name),
            definition=definition_from_properties(properties, account_id) or "",
            roleArn=properties.get("RoleArn", ""),
            tags=cfn_to_api_tags(properties.get("Tags", [])),
            loggingConfiguration=_lower_keys(properties.get("LoggingConfiguration")),
            tracingConfiguration=_lower_keys(properties.get("TracingConfiguration")),
            sm_type=properties.get("StateMachineType"),
        )

    def delete(cls, resource_name, cloudformation_json, account_id, region_name):
        get_backend(account_id, region_name).delete_state_machine(resource_name)

    def update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):
        properties = cloudformation_json.get("Properties", {})
        name = properties.get("StateMachineName", original_resource.name)
        backend = get_backend(account_id, region_name)
        if name != original_resource.name or properties.get("StateMachineType", original_resource.type) != original_resource.type:
            replacement = create(cls, name, cloudformation_json, account_id, region_name)  # CloudFormation replaces
            backend.delete_state_machine(original_resource.arn)
            return replacement
        machine = backend.update_state_machine(
            original_resource.arn,
            definition=definition_from_properties(properties, account_id),
            role_arn=properties.get("RoleArn"),
        )
        tags = {t["Key"]: t["Value"] for t in properties.get("Tags", [])}
        if tags:
            backend.tag_resource(machine.arn, tags)
        return machine

    original_attribute = StateMachine.get_cfn_attribute

    def get_cfn_attribute(self, attribute_name):
        if attribute_name == "Arn":
            return self.arn
        return original_attribute(self, attribute_name)

    StateMachine.create_from_cloudformation_json = classmethod(create)
    StateMachine.delete_from_cloudformation_json = classmethod(delete)
    StateMachine.update_from_cloudformation_json = classmethod(update)
    StateMachine.has_cfn_attr = classmethod(lambda cls, attr: attr in ("Arn", "Name"))
    StateMachine.get_cfn_attribute = get_cfn_attribute


def _lower_keys(value: Any) -> Any:
    """CloudFormation's PascalCase configuration in the API's camelCase."""
    if isinstance(value, dict):
        return {k[:1].lower() + k[1:]: _lower_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_lower_keys(v) for v in value]
    return value
