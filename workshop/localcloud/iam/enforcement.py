"""The WSGI layer in front of moto: a signed request is allowed only if its signer's policies allow it.

Who signed is read from the SigV4 credential scope (the access key, the region and the service);
signatures themselves are not verified. The account's own keys (`LOCALKEY<account>`) act as its
root user and are always allowed, as are keys this cloud never issued and unsigned requests: the
deployer, the checks and the SAM CLI use those. Role sessions (functions, integrations, state
machines, `sts:AssumeRole`) and IAM users are evaluated
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
identity policies (inline and managed), then the role's permissions boundary and the session
policy when there are any. Resource-based policies and SCPs are not evaluated.
"""

from __future__ import annotations

import datetime
import io
import logging
import os
import re
from collections.abc import Callable, Iterable
from typing import Any

from . import denial, requests
from .credentials import Principal, principal_of
from .policies import Decision, evaluate

LOG = logging.getLogger(__name__)
CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")
ENVIRONMENT_SWITCH = "WORKSHOP_IAM"  # "off" relaxes the evaluation, as `workshop cloud up --iam off` does


def enabled_by_default() -> bool:
    return os.environ.get(ENVIRONMENT_SWITCH, "on").strip().lower() not in ("off", "0", "false", "no")


def identity_documents(principal: Principal) -> list[Any]:
    """Inline and attached managed policies of the role or user (and of the user's groups)."""
    entity = principal.role or principal.user
    if entity is None:
        return []  # a role that does not exist allows nothing
    documents: list[Any] = list(entity.policies.values())
    documents += [_default_version(p) for p in entity.managed_policies.values()]
    if principal.user is not None:
        from moto.iam.models import iam_backends

        backend = iam_backends[principal.account_id]["aws"]
        for group in backend.get_groups_for_user(principal.user.name):
            documents += list(group.policies.values())
            documents += [_default_version(p) for p in group.managed_policies.values()]
    return documents


def _default_version(policy: Any) -> Any:
    for version in policy.versions:
        if version.is_default:
            return version.document
    return getattr(policy, "document", {"Statement": []})


def _boundary(principal: Principal) -> Any | None:
    entity = principal.role or principal.user
    boundary_arn = getattr(entity, "permissions_boundary_arn", None) if entity is not None else None
    if not boundary_arn:
        return None
    from moto.iam.models import iam_backends

    policy = iam_backends[principal.account_id]["aws"].managed_policies.get(boundary_arn)
    return _default_version(policy) if policy is not None else {"Statement": []}


def request_context(principal: Principal, region: str) -> dict[str, Any]:
    """The global condition keys a request carries here
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html)."""
    now = datetime.datetime.now(datetime.UTC)
    context: dict[str, Any] = {
        "aws:PrincipalArn": principal.role.arn if principal.role is not None else principal.arn,
        "aws:PrincipalAccount": principal.account_id,
        "aws:PrincipalType": principal.kind,
        "aws:RequestedRegion": region,
        "aws:SecureTransport": False,
        "aws:SourceIp": "127.0.0.1",
        "aws:CurrentTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "aws:EpochTime": str(int(now.timestamp())),
    }
    if principal.kind == "User":
        context["aws:username"] = principal.user.name
    tags = getattr(principal.role or principal.user, "tags", None) or {}
    pairs = [(t.get("Key"), t.get("Value")) for t in tags] if isinstance(tags, list) else [
        (k, v.get("Value") if isinstance(v, dict) else v) for k, v in tags.items()]
    for tag_key, value in pairs:
        context[f"aws:PrincipalTag/{tag_key}"] = value
    return context


def authorize(principal: Principal, needs: Iterable[requests.Need], region: str) -> denial.Denial | None:
    """None when every need is allowed; else the first denial, naming the policy type that denied."""
    context = request_context(principal, region)
    identity = identity_documents(principal)
    boundary = _boundary(principal)
    for need in needs:
        checks = [("identity", identity)]
        if boundary is not None:
            checks.append(("boundary", [boundary]))
        if principal.session_policy:
            checks.append(("session", [principal.session_policy]))
        results = [(kind, evaluate(documents, need.action, need.resource, context)) for kind, documents in checks]
        for kind, decision in results:  # an explicit deny anywhere wins
            if decision is Decision.EXPLICIT_DENY:
                return denial.Denial(principal.arn, need.action, need.resource, decision, kind)
        for kind, decision in results:
            if decision is Decision.IMPLICIT_DENY:
                return denial.Denial(principal.arn, need.action, need.resource, decision, kind)
    return None


def role_allows(role_arn: str, action: str, resource: str, region: str = "us-east-1") -> bool:
    """Whether a role's own policies allow an action (for deliveries the cloud makes on a role's
    behalf in-process, such as a function's logs)."""
    from moto.iam.models import iam_backends

    from .credentials import _role

    account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else ""
    role = _role(iam_backends, account, role_arn)
    principal = Principal(f"arn:aws:sts::{account}:assumed-role/{role_arn.split('/')[-1]}/local", account, role=role)
    return authorize(principal, [requests.Need(action, resource)], region) is None


def signer(environ: dict[str, Any]) -> tuple[str, str, str] | None:
    """(access key, region, service) of a SigV4 request, from its header or a presigned query."""
    header = environ.get("HTTP_AUTHORIZATION", "")
    match = CREDENTIAL.search(header)
    if match:
        return match.group(1), match.group(2), match.group(3)
    query = environ.get("QUERY_STRING", "")
    if "X-Amz-Credential=" in query:
        from urllib.parse import parse_qs, unquote

        parts = unquote(parse_qs(query).get("X-Amz-Credential", [""])[0]).split("/")
        if len(parts) == 5:
            return parts[0], parts[2], parts[3]
    return None


class Enforcement:
    """Wraps a WSGI app (moto's) and answers denied calls itself."""

    def __init__(self, app: Callable, enabled: bool = True) -> None:
        self.app = app
        self.enabled = enabled

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Any:
        simulated = self.simulation(environ)
        if simulated is not None:
            return self._answer(start_response, *simulated)
        if self.enabled:
            refused = self.web_identity(environ)
            if refused is not None:
                return self._answer(start_response, *refused)
        if self.enabled:
            try:
                denied = self.check(environ)
            except Exception:
                LOG.exception("IAM evaluation failed on %s %s; the call is let through",
                              environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"))
                denied = None
            if denied is not None:
                return self._answer(start_response, *denied)
        return self.app(environ, start_response)

    @staticmethod
    def _answer(start_response: Callable, status: int, headers: list[tuple[str, str]], body: bytes) -> list[bytes]:
        reasons = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found"}
        start_response(f"{status} {reasons.get(status, 'Error')}", headers + [("Content-Length", str(len(body)))])
        return [body]

    def web_identity(self, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes] | None:
        """An unsigned AssumeRoleWithWebIdentity is judged by the role's trust policy (federation.py)."""
        if (environ.get("HTTP_AUTHORIZATION") or environ.get("REQUEST_METHOD") != "POST"
                or "x-www-form-urlencoded" not in environ.get("CONTENT_TYPE", "")):
            return None
        from .federation import judge, web_identity_request

        params = web_identity_request(environ, _buffer_body(environ))
        return judge(params) if params is not None else None

    def simulation(self, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes] | None:
        """iam:SimulatePrincipalPolicy (moto has none): answered by our evaluation, IAM on or off."""
        signed = signer(environ)
        if signed is None or signed[2] != "iam" or environ.get("REQUEST_METHOD") != "POST":
            return None
        from .simulator import is_simulation, simulate

        params = is_simulation(environ, "iam", _buffer_body(environ))
        if params is None:
            return None
        caller = principal_of(signed[0]) if self.enabled else None
        if caller is not None:
            found = authorize(caller, [requests.Need("iam:SimulatePrincipalPolicy", params.get("PolicySourceArn", "*"))],
                              signed[1])
            if found is not None:
                return denial.response(found, "iam")
        return simulate(params, signed[1])

    def check(self, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes] | None:
        signed = signer(environ)
        if signed is None:
            return None
        access_key, region, service = signed
        if service not in requests.EVALUATED:
            return None
        principal = principal_of(access_key)
        if principal is None:
            return None  # the account's root
        body = None
        if service not in requests.REST_SERVICES:  # JSON and query protocols carry the operation in the body
            body = _buffer_body(environ)
        call = requests.read_call(service, region, principal.account_id, environ.get("REQUEST_METHOD", "GET"),
                                  environ, body)
        if call is None:
            return None
        needed = requests.needs(call)
        if not needed:
            return None
        found = authorize(principal, needed, region)
        if found is None:
            return None
        return denial.response(found, call.service, environ.get("REQUEST_METHOD", "POST"))


def _buffer_body(environ: dict[str, Any]) -> bytes:
    """Read the body once and put it back for moto to read."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    stream = environ.get("wsgi.input")
    body = stream.read(length) if stream is not None and length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body
