"""iam:SimulatePrincipalPolicy, which moto 5.2.5 lacks, answered by the same evaluation as real calls.

https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html: for a user
or role ARN, each action on each resource is `allowed`, `implicitDeny` or `explicitDeny` by the
principal's identity policies (and its permissions boundary). A grader can ask it on both
targets: it needs no way to assume the role.
"""

from __future__ import annotations

import uuid
from typing import Any
from xml.sax.saxutils import escape

from . import requests
from .credentials import Principal, _role
from .enforcement import authorize
from .policies import Decision

DECISIONS = {None: "allowed", Decision.IMPLICIT_DENY: "implicitDeny", Decision.EXPLICIT_DENY: "explicitDeny"}


def members(params: dict[str, str], name: str) -> list[str]:
    found = sorted(((int(k.rsplit(".", 1)[1]), v) for k, v in params.items()
                    if k.startswith(f"{name}.member.") and k.rsplit(".", 1)[1].isdigit()))
    return [v for _, v in found]


def principal_for(source_arn: str) -> Principal | None:
    from moto.iam.models import iam_backends

    parts = source_arn.split(":")
    if len(parts) < 6 or parts[2] != "iam":
        return None
    account = parts[4]
    if ":role/" in source_arn:
        role = _role(iam_backends, account, source_arn)
        return Principal(source_arn, account, role=role) if role is not None else None
    if ":user/" in source_arn:
        backend = iam_backends[account]["aws"]
        user = next((u for u in backend.users.values() if u.arn == source_arn), None)
        return Principal(source_arn, account, user=user, kind="User") if user is not None else None
    return None


def simulate(params: dict[str, str], region: str) -> tuple[int, list[tuple[str, str]], bytes]:
    source = params.get("PolicySourceArn", "")
    principal = principal_for(source)
    request_id = str(uuid.uuid4())
    if principal is None:
        body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>"
                f"{escape(f'The principal {source} cannot be found.')}</Message></Error>"
                f"<RequestId>{request_id}</RequestId></ErrorResponse>")
        return 404, [("Content-Type", "text/xml")], body.encode()
    results = []
    for action in members(params, "ActionNames"):
        for resource in members(params, "ResourceArns") or ["*"]:
            denied = authorize(principal, [requests.Need(action, resource)], region)
            decision = DECISIONS[denied.decision if denied else None]
            results.append(f"<member><EvalActionName>{escape(action)}</EvalActionName>"
                           f"<EvalResourceName>{escape(resource)}</EvalResourceName>"
                           f"<EvalDecision>{decision}</EvalDecision><MatchedStatements/>"
                           f"<MissingContextValues/></member>")
    body = ('<SimulatePrincipalPolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
            "<SimulatePrincipalPolicyResult><IsTruncated>false</IsTruncated><EvaluationResults>"
            + "".join(results) + "</EvaluationResults></SimulatePrincipalPolicyResult>"
            f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>"
            "</SimulatePrincipalPolicyResponse>")
    return 200, [("Content-Type", "text/xml")], body.encode()


def is_simulation(environ: dict[str, Any], service: str, body: bytes) -> dict[str, str] | None:
    if service != "iam":
        return None
    from urllib.parse import parse_qs

    params = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
    return params if params.get("Action") == "SimulatePrincipalPolicy" else None
