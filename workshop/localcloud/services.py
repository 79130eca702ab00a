"""How the local cloud's own parts reach moto: its in-process backends, or its HTTP API."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

from .lambda_executor import FunctionConfig
from .safety import access_key_for

TARGET_PREFIXES = {"dynamodb": "DynamoDB_20120810", "states": "AWSStepFunctions"}


def call_aws_service(cloud_url: str, account_id: str, region: str, service: str, action: str,
                     body: bytes) -> tuple[int, bytes]:
    """A JSON-protocol AWS call to the local cloud, as `account_id` (API Gateway's AWS integrations)."""
    if service not in TARGET_PREFIXES:
        return 500, b'{"message": "the local cloud does not integrate with this service"}'
    parts = urlsplit(cloud_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request("POST", "/", body=body, headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": f"{TARGET_PREFIXES[service]}.{action}",
            "x-moto-account-id": account_id,
            "Authorization": f"AWS4-HMAC-SHA256 Credential={access_key_for(account_id)}/20250101/{region}/{service}/aws4_request, "
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
