"""How the local cloud's own parts reach moto: its in-process backends, or its HTTP API."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

from .lambda_executor import FunctionConfig
from .safety import access_key_for

TARGET_PREFIXES = {"dynamodb": "DynamoDB_20120810", "states": "AWSStepFunctions"}


MISSING_TOKEN = (400, b'{"__type": "com.amazon.coral.service#MissingAuthenticationTokenException", '
                      b'"message": "Request is missing Authentication Token"}')


def call_aws_service(cloud_url: str, account_id: str, region: str, service: str, action: str,
                     body: bytes, credentials: str | None = None, iam_enforced: bool = False) -> tuple[int, bytes]:
    """A JSON-protocol AWS call to the local cloud (API Gateway's AWS integrations), signed with the
    integration's credentials role as API Gateway signs it; without a role, as the account itself
    unless IAM is enforced, when the service gets a request that nobody signed."""
    if service not in TARGET_PREFIXES:
        return 500, b'{"message": "the local cloud does not integrate with this service"}'
    if credentials and ":role/" in credentials:
        from .iam import role_credentials

        # API Gateway's sessions of a credentials role are all named so.
        session = role_credentials(credentials, "BackplaneAssumeRoleSession", region)
        access_key, token = session.access_key_id, session.session_token
    elif iam_enforced:
        return MISSING_TOKEN
    else:
        access_key, token = access_key_for(account_id), "local-session"
    parts = urlsplit(cloud_url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        connection.request("POST", "/", body=body, headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": f"{TARGET_PREFIXES[service]}.{action}",
            "x-moto-account-id": account_id,
            "X-Amz-Security-Token": token,
            "Authorization": f"AWS4-HMAC-SHA256 Credential={access_key}/20250101/{region}/{service}/aws4_request, "
                             "SignedHeaders=host, Signature=local",
        })
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def write_lambda_logs(config: FunctionConfig, stream: str, lines: list[str]) -> None:
    """Lambda's log delivery: one stream per execution environment in /aws/lambda/<name>."""
    from moto.core.utils import unix_time_millis
    from moto.logs.models import logs_backends

    backend = logs_backends[config.account_id][config.region]
    group = f"/aws/lambda/{config.name}"
    backend.ensure_log_group(group)
    if stream not in backend.groups[group].streams:
        backend.create_log_stream(group, stream)
    now = unix_time_millis()
    backend.put_log_events(group, stream, [{"timestamp": now, "message": line} for line in lines if line])
