"""An AWS API request -> the IAM actions it needs and the resources they act on.

Actions and resource ARNs follow the Service Authorization Reference
(https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html)
for the services the evaluation covers: DynamoDB, Step Functions, Lambda, S3, CloudWatch Logs,
SNS, CloudFormation, IAM and STS. Other services are not evaluated (`describe` answers None).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote

PARTITION = "aws"


@dataclass(frozen=True)
class Need:
    """One authorisation a request needs: an action (`service:Operation`) on one resource ARN."""

    action: str
    resource: str


@dataclass
class ApiCall:
    """What a request is, read from its signature scope and its body."""

    service: str          # the signing name: dynamodb, states, lambda, s3, logs, sns, cloudformation, iam, sts
    operation: str
    params: dict[str, Any]
    account_id: str
    region: str
    headers: Any = None


JSON_TARGETS = {"DynamoDB_20120810": "dynamodb", "DynamoDBStreams_20120810": "dynamodbstreams",
                "AWSStepFunctions": "states", "Logs_20140328": "logs"}
QUERY_SERVICES = {"sns", "cloudformation", "iam", "sts"}
REST_SERVICES = {"lambda": "lambda", "s3": "s3"}  # signing name -> botocore service (routed by moto)
EVALUATED = set(JSON_TARGETS.values()) | QUERY_SERVICES | set(REST_SERVICES) | {"dynamodb", "states"}


def read_call(service: str, region: str, account_id: str, method: str, environ: dict, body: bytes | None) -> ApiCall | None:
    """The operation and its parameters; None when it cannot be told (then nothing is evaluated)."""
    headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
    target = headers.get("x-amz-target", "")
    if target:
        prefix, _, operation = target.rpartition(".")
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            return None
        return ApiCall(JSON_TARGETS.get(prefix, service), operation, params if isinstance(params, dict) else {},
                       account_id, region, headers)
    if service in QUERY_SERVICES:
        form = parse_qs((body or b"").decode("utf-8", "replace")) if method == "POST" else {}
        form.update(parse_qs(environ.get("QUERY_STRING", "")))
        params = {k: v[0] for k, v in form.items()}
        return ApiCall(service, params.get("Action", ""), params, account_id, region, headers)
    if service in REST_SERVICES:
        from moto.core.request import Request
        from moto.core.routing import get_service_router

        try:
            operation, params = get_service_router(REST_SERVICES[service]).match(Request(environ))
        except Exception:  # noqa: BLE001 - an operation moto does not route: moto answers it
            return None
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        return ApiCall(service, operation.name, {**query, **params}, account_id, region, headers)
    return None


def needs(call: ApiCall) -> list[Need] | None:
    """The authorisations a call needs; None for a service or operation that is not evaluated."""
    reader = READERS.get(call.service)
    return reader(call) if reader else None


def arn(service: str, call: ApiCall, resource: str, account: str | None = None, region: str | None = None) -> str:
    region = call.region if region is None else region
    return f"arn:{PARTITION}:{service}:{region}:{call.account_id if account is None else account}:{resource}"


# -- DynamoDB ------------------------------------------------------------------------------------------

TRANSACT_ACTIONS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                    "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}


def _table(call: ApiCall, name: str, index: str | None = None) -> str:
    if name.startswith("arn:"):
        return name + (f"/index/{index}" if index else "")
    return arn("dynamodb", call, f"table/{name}" + (f"/index/{index}" if index else ""))


def dynamodb(call: ApiCall) -> list[Need]:
    p, op = call.params, call.operation
    action = f"dynamodb:{op}"
    if op in ("BatchGetItem", "BatchWriteItem"):
        return [Need(action, _table(call, name)) for name in (p.get("RequestItems") or {})]
    if op in ("TransactWriteItems", "TransactGetItems"):
        found = []
        for item in p.get("TransactItems") or []:
            for kind, spec in item.items():
                found.append(Need(f"dynamodb:{TRANSACT_ACTIONS.get(kind, kind)}", _table(call, spec.get("TableName", ""))))
        return found
    if "TableName" in p:
        return [Need(action, _table(call, p["TableName"], p.get("IndexName")))]
    if "ResourceArn" in p:
        return [Need(action, p["ResourceArn"])]
    return [Need(action, "*")]


def dynamodb_streams(call: ApiCall) -> list[Need]:
    return [Need(f"dynamodb:{call.operation}", call.params.get("StreamArn") or "*")]


# -- Step Functions ------------------------------------------------------------------------------------

def states(call: ApiCall) -> list[Need]:
    p = call.params
    action = f"states:{call.operation}"
    for key in ("stateMachineArn", "executionArn", "activityArn", "resourceArn", "mapRunArn"):
        if p.get(key):
            return [Need(action, p[key])]
    if call.operation == "CreateStateMachine" and p.get("name"):
        return [Need(action, arn("states", call, f"stateMachine:{p['name']}"))]
    if call.operation == "CreateActivity" and p.get("name"):
        return [Need(action, arn("states", call, f"activity:{p['name']}"))]
    return [Need(action, "*")]


# -- Lambda --------------------------------------------------------------------------------------------

LAMBDA_ACTIONS = {"Invoke": "InvokeFunction", "InvokeWithResponseStream": "InvokeFunction",
                  "InvokeAsync": "InvokeAsync", "GetFunctionConfiguration": "GetFunctionConfiguration"}
FUNCTION_NAME = re.compile(r"^(?:arn:aws[a-z-]*:lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):function:)?"
                           r"(?:(?P<partial>\d{12}):function:)?(?P<name>[A-Za-z0-9_-]+)(?::(?P<qualifier>[A-Za-z0-9$_-]+))?$")


def function_arn(call: ApiCall, name: str, qualifier: str | None = None) -> str:
    """A function name, partial ARN or ARN, as Lambda resolves it."""
    match = FUNCTION_NAME.match(unquote(name))
    if not match:
        return arn("lambda", call, f"function:{name}")
    account = match["account"] or match["partial"] or call.account_id
    region = match["region"] or call.region
    qualifier = match["qualifier"] or qualifier
    return f"arn:{PARTITION}:lambda:{region}:{account}:function:{match['name']}" + (f":{qualifier}" if qualifier else "")


def awslambda(call: ApiCall) -> list[Need]:
    p, op = call.params, call.operation
    action = "lambda:" + LAMBDA_ACTIONS.get(op, re.sub(r"\d{8}$", "", op))
    if p.get("FunctionName"):
        return [Need(action, function_arn(call, p["FunctionName"], p.get("Qualifier")))]
    if p.get("LayerName"):
        layer = unquote(p["LayerName"])
        base = layer if layer.startswith("arn:") else arn("lambda", call, f"layer:{layer}")
        return [Need(action, f"{base}:{p['VersionNumber']}" if p.get("VersionNumber") else base)]
    return [Need(action, "*")]


# -- S3 ------------------------------------------------------------------------------------------------

S3_ACTIONS = {
    "ListObjects": "ListBucket", "ListObjectsV2": "ListBucket", "HeadBucket": "ListBucket",
    "ListBuckets": "ListAllMyBuckets", "HeadObject": "GetObject", "ListObjectVersions": "ListBucketVersions",
    "CreateMultipartUpload": "PutObject", "UploadPart": "PutObject", "CompleteMultipartUpload": "PutObject",
    "UploadPartCopy": "PutObject", "AbortMultipartUpload": "AbortMultipartUpload",
    "ListMultipartUploads": "ListBucketMultipartUploads", "ListParts": "ListMultipartUploadParts",
    "PutBucketEncryption": "PutEncryptionConfiguration", "GetBucketEncryption": "GetEncryptionConfiguration",
    "PutPublicAccessBlock": "PutBucketPublicAccessBlock", "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
    "DeletePublicAccessBlock": "PutBucketPublicAccessBlock",
    "PutBucketLifecycleConfiguration": "PutLifecycleConfiguration",
    "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration", "DeleteBucketLifecycle": "PutLifecycleConfiguration",
    "DeleteBucketTagging": "PutBucketTagging", "DeleteBucketPolicy": "DeleteBucketPolicy",
    "DeleteObjectTagging": "DeleteObjectTagging", "DeleteBucketEncryption": "PutEncryptionConfiguration",
}
S3_NOT_EVALUATED = {"DeleteObjects"}  # its keys are in the body: each key is a DeleteObject (documented)


def s3(call: ApiCall) -> list[Need] | None:
    p, op = call.params, call.operation
    if op in S3_NOT_EVALUATED:
        return None
    action = "s3:" + S3_ACTIONS.get(op, op)
    if op == "GetObject" and p.get("versionId"):
        action = "s3:GetObjectVersion"
    bucket, key = p.get("Bucket"), p.get("Key")
    if not bucket:
        return [Need(action, "*")]
    if key is None:
        return [Need(action, f"arn:{PARTITION}:s3:::{bucket}")]
    found = [Need(action, f"arn:{PARTITION}:s3:::{bucket}/{key}")]
    source = (call.headers or {}).get("x-amz-copy-source")
    if source and op in ("CopyObject", "UploadPartCopy"):
        found.append(Need("s3:GetObject", f"arn:{PARTITION}:s3:::{unquote(source.split('?')[0]).lstrip('/')}"))
    return found


# -- CloudWatch Logs -----------------------------------------------------------------------------------

def logs(call: ApiCall) -> list[Need]:
    p = call.params
    action = f"logs:{call.operation}"
    group = p.get("logGroupName") or (p.get("logGroupIdentifier") if not str(p.get("logGroupIdentifier", "")).startswith("arn:") else None)
    if group and p.get("logStreamName"):
        return [Need(action, arn("logs", call, f"log-group:{group}:log-stream:{p['logStreamName']}"))]
    if group:
        return [Need(action, arn("logs", call, f"log-group:{group}:*"))]
    if p.get("resourceArn"):
        return [Need(action, p["resourceArn"])]
    return [Need(action, "*")]


# -- SNS -----------------------------------------------------------------------------------------------

def sns(call: ApiCall) -> list[Need]:
    p = call.params
    action = f"sns:{call.operation}"
    if call.operation == "CreateTopic" and p.get("Name"):
        return [Need(action, arn("sns", call, p["Name"]))]
    for key in ("TopicArn", "TargetArn", "ResourceArn"):
        if p.get(key):
            return [Need(action, p[key])]
    return [Need(action, "*")]


# -- CloudFormation ------------------------------------------------------------------------------------

SAM_TRANSFORM = "Serverless-2016-10-31"


def _stack(call: ApiCall, name: str) -> str:
    if name.startswith("arn:"):
        return name
    try:
        from moto.cloudformation.models import cloudformation_backends

        backend = cloudformation_backends[call.account_id][call.region]
        for stack in list(backend.stacks.values()):
            if stack.name == name and stack.status != "DELETE_COMPLETE":
                return stack.stack_id
    except Exception:  # noqa: BLE001 - no such stack yet
        pass
    return arn("cloudformation", call, f"stack/{name}/*")


def cloudformation(call: ApiCall) -> list[Need]:
    p = call.params
    action = f"cloudformation:{call.operation}"
    if not p.get("StackName"):
        if p.get("ChangeSetName", "").startswith("arn:"):
            return [Need(action, p["ChangeSetName"])]
        return [Need(action, "*")]
    found = [Need(action, _stack(call, p["StackName"]))]
    if call.operation == "CreateChangeSet" and SAM_TRANSFORM in (p.get("TemplateBody") or ""):
        # A template with a transform also needs CreateChangeSet on the transform's ARN.
        found.append(Need(action, f"arn:{PARTITION}:cloudformation:{call.region}:aws:transform/{SAM_TRANSFORM}"))
    return found


# -- IAM and STS ---------------------------------------------------------------------------------------

def _iam_entity(call: ApiCall, kind: str, name: str, path: str | None = None) -> str:
    from moto.iam.models import iam_backends

    try:
        backend = iam_backends[call.account_id][PARTITION]
        entities = {"role": backend.roles, "user": backend.users, "group": backend.groups,
                    "instance-profile": backend.instance_profiles}[kind]
        for entity in list(entities.values()):
            if getattr(entity, "name", None) == name:
                return entity.arn
    except Exception:  # noqa: BLE001 - a name that does not resolve gets the ARN it would have
        pass
    return f"arn:{PARTITION}:iam::{call.account_id}:{kind}{path or '/'}{name}"


def iam(call: ApiCall) -> list[Need]:
    p = call.params
    action = f"iam:{call.operation}"
    for key, kind in (("RoleName", "role"), ("UserName", "user"), ("GroupName", "group"),
                      ("InstanceProfileName", "instance-profile")):
        if p.get(key):
            return [Need(action, _iam_entity(call, kind, p[key], p.get("Path")))]
    for key in ("PolicyArn", "OpenIDConnectProviderArn", "SAMLProviderArn"):
        if p.get(key):
            return [Need(action, p[key])]
    if call.operation == "CreatePolicy" and p.get("PolicyName"):
        return [Need(action, f"arn:{PARTITION}:iam::{call.account_id}:policy{p.get('Path') or '/'}{p['PolicyName']}")]
    return [Need(action, "*")]


def sts(call: ApiCall) -> list[Need] | None:
    if call.operation in ("GetCallerIdentity", "AssumeRoleWithWebIdentity", "AssumeRoleWithSAML"):
        return None  # always allowed (and the federated calls are not signed)
    if call.params.get("RoleArn"):
        return [Need(f"sts:{call.operation}", call.params["RoleArn"])]
    return [Need(f"sts:{call.operation}", "*")]


READERS: dict[str, Callable[[ApiCall], list[Need] | None]] = {
    "dynamodb": dynamodb, "dynamodbstreams": dynamodb_streams, "states": states, "lambda": awslambda,
    "s3": s3, "logs": logs, "sns": sns, "cloudformation": cloudformation, "iam": iam, "sts": sts,
}
