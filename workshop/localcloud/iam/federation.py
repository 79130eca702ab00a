"""sts:AssumeRoleWithWebIdentity judged by the role's trust policy, as a GitHub Actions job meets it.

https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_oidc.html and
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#condition-keys-wif:
the token's issuer must be an OIDC provider of the role's account whose client IDs hold the
token's audience; a trust statement must allow `sts:AssumeRoleWithWebIdentity` to that provider
(`Principal.Federated`), with its conditions on the claims as `<issuer host/path>:aud`, `:sub`...
The token's signature is not verified: the local cloud cannot ask the issuer, so any token that
says the right claims passes, which is how a dry run or a check poses as a workflow job.
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from .policies import Decision, evaluate, parse_document

ACTION = "sts:AssumeRoleWithWebIdentity"
CLAIMS = ("aud", "sub", "amr", "oaud", "azp", "email", "id")


def token_claims(token: str) -> dict[str, Any] | None:
    parts = token.split(".")
    if len(parts) < 2:
        return None
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded))
    except ValueError:
        return None
    return claims if isinstance(claims, dict) else None


def unsigned_token(issuer: str, subject: str, audience: str = "sts.amazonaws.com", **claims: Any) -> str:
    """A JWT with these claims and no valid signature (what a dry run presents as a job's token)."""
    def part(document: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()

    return ".".join((part({"alg": "RS256", "typ": "JWT"}),
                     part({"iss": issuer, "sub": subject, "aud": audience, **claims}), "local-unsigned"))


def _error(code: str, message: str, status: int) -> tuple[int, list[tuple[str, str]], bytes]:
    body = (f'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
            f"<Code>{code}</Code><Message>{escape(message)}</Message></Error>"
            f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>")
    return status, [("Content-Type", "text/xml")], body.encode()


def web_identity_request(environ: dict[str, Any], body: bytes) -> dict[str, str] | None:
    params = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
    params.update({k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()})
    return params if params.get("Action") == "AssumeRoleWithWebIdentity" else None


def judge(params: dict[str, str]) -> tuple[int, list[tuple[str, str]], bytes] | None:
    """None lets moto create the session; else the error STS answers."""
    from moto.iam.models import iam_backends

    from .credentials import _role

    role_arn = params.get("RoleArn", "")
    claims = token_claims(params.get("WebIdentityToken", ""))
    if claims is None or not isinstance(claims.get("iss"), str):
        return _error("InvalidIdentityToken", "Couldn't parse the web identity token", 400)
    account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else ""
    issuer = claims["iss"].removeprefix("https://").rstrip("/")
    provider_arn = f"arn:aws:iam::{account}:oidc-provider/{issuer}"
    backend = iam_backends[account]["aws"] if account else None
    provider = backend.open_id_providers.get(provider_arn) if backend is not None else None
    if provider is None:
        return _error("InvalidIdentityToken", f"No OpenIDConnect provider found in your account for {claims['iss']}", 400)
    audiences = claims.get("aud") if isinstance(claims.get("aud"), list) else [claims.get("aud")]
    if not any(a in (provider.client_id_list or []) for a in audiences):
        return _error("InvalidIdentityToken", "Incorrect token audience", 400)
    role = _role(iam_backends, account, role_arn)
    if role is None or not _trusts(role.assume_role_policy_document, provider_arn, issuer, claims):
        return _error("AccessDenied", f"Not authorized to perform {ACTION}", 403)
    return None


def _trusts(trust_policy: Any, provider_arn: str, issuer: str, claims: dict[str, Any]) -> bool:
    """The statements that name this provider decide, an explicit Deny first (Principal set aside)."""
    context = {f"{issuer}:{name}": claims[name] for name in CLAIMS if name in claims}
    context["aws:FederatedProvider"] = provider_arn
    applicable = []
    for statement in _statements(trust_policy):
        principal = statement.get("Principal")
        federated = principal.get("Federated") if isinstance(principal, dict) else None
        if principal == "*" or provider_arn in (federated if isinstance(federated, list) else [federated]):
            applicable.append({k: v for k, v in statement.items() if k != "Principal"})
    return evaluate([{"Statement": applicable}], ACTION, "*", context) is Decision.ALLOW


def _statements(document: Any) -> list[dict[str, Any]]:
    statements = parse_document(document).get("Statement") or []
    return statements if isinstance(statements, list) else [statements]
