"""CloudFormation property values as moto's API Gateway takes them, and the backend of an account and region."""

from __future__ import annotations

from typing import Any

from moto.apigateway.models import APIGatewayBackend, apigateway_backends


def gateway_backend(account_id: str, region_name: str) -> APIGatewayBackend:
    return apigateway_backends[account_id][region_name]


def boolean(value: Any) -> bool:
    """CloudFormation passes booleans as "true" / "false" once parameters are resolved."""
    return value.lower() == "true" if isinstance(value, str) else bool(value)


def booleans(mapping: dict[str, Any] | None) -> dict[str, bool] | None:
    return {key: boolean(value) for key, value in mapping.items()} if mapping else None


def tags(pairs: list[dict[str, str]] | None) -> dict[str, str] | None:
    return {tag["Key"]: tag["Value"] for tag in pairs} if pairs else None
