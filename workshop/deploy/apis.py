"""The APIs a deployed shop exposes, read through API Gateway's own API (the same on both targets).

Used by the checkpoints and by `workshop cost`: which URL serves which route, and what is behind
each method (a Lambda function, an AWS service action, a mock).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

EXECUTE_API = re.compile(r"^https?://\S*(execute-api)\S*$")
FUNCTION_IN_URI = re.compile(r"functions/(arn:aws[\w-]*:lambda:[^/]+)/invocations")
SERVICE_IN_URI = re.compile(r"^arn:aws[\w-]*:apigateway:[^:]*:([\w-]+):action/(\w+)")


@dataclass(frozen=True)
class Api:
    stack: str
    url: str  # ends with '/'
    rest_api_id: str


@dataclass(frozen=True)
class Route:
    """One method of one API resource, and what serves it."""

    api: Api
    method: str
    path: str                     # the resource path, e.g. /cart/{cartId}
    integration: Mapping[str, Any]

    @property
    def function_arn(self) -> str | None:
        return function_arn_of(self.integration)

    @property
    def service_action(self) -> tuple[str, str] | None:
        """("dynamodb", "GetItem") for an AWS service integration."""
        match = SERVICE_IN_URI.match(self.integration.get("uri", "") or "")
        return (match.group(1), match.group(2)) if match else None

    @property
    def served_by(self) -> str:
        if self.function_arn:
            return "lambda:" + self.function_arn.split(":")[6]
        if self.service_action:
            return "{}:{}".format(*self.service_action)
        return (self.integration.get("type") or "none").lower()


def api_urls(stacks: Mapping[str, Any]) -> list[Api]:
    """Every API URL a stack outputs (by value, whatever the output is called)."""
    apis = []
    for name, info in sorted(stacks.items()):
        ids = sorted(r["physicalId"] for r in info.resources if r["type"] == "AWS::ApiGateway::RestApi")
        for value in info.outputs.values():
            if isinstance(value, str) and EXECUTE_API.match(value):
                url = value if value.endswith("/") else value + "/"
                api_id = next((i for i in ids if i in url), next(iter(ids), ""))
                apis.append(Api(name, url, api_id))
    return apis


def api_routes(apigateway, rest_api_id: str) -> dict[tuple[str, str], dict]:
    """(METHOD, resource path) -> the method with its integration, read from API Gateway."""
    routes = {}
    # embed=methods: each method with its integration in the one answer, not a GetMethod call each
    for resource in apigateway.get_resources(restApiId=rest_api_id, limit=500, embed=["methods"])["items"]:
        for method, embedded in (resource.get("resourceMethods", {}) or {}).items():
            routes[(method, resource["path"])] = embedded if embedded and "httpMethod" in embedded else (
                apigateway.get_method(restApiId=rest_api_id, resourceId=resource["id"], httpMethod=method))
    return routes


def shop_routes(apigateway, stacks: Mapping[str, Any]) -> list[Route]:
    found = []
    for api in api_urls(stacks):
        for (method, path), spec in sorted(api_routes(apigateway, api.rest_api_id).items()):
            found.append(Route(api, method, path, spec.get("methodIntegration", {}) or {}))
    return found


def route_matches(template_path: str, wanted: str) -> bool:
    """Does an API resource path such as /cart/{id}/items serve /cart/{cartId}/items?"""
    ours = template_path.strip("/").split("/")
    theirs = wanted.strip("/").split("/")
    if len(ours) != len(theirs) and not (ours and ours[-1].endswith("+}")):
        return False
    for a, b in zip(ours, theirs, strict=False):
        if a.endswith("+}"):
            return True
        if (a.startswith("{") and b.startswith("{")) or a == b:
            continue
        return False
    return True


def route_for(routes: list[Route], method: str, path: str) -> Route | None:
    """The route that serves METHOD path: an exact method first, then ANY."""
    for wanted in (method, "ANY"):
        for route in routes:
            if route.method == wanted and route_matches(route.path, path):
                return route
    return None


def function_arn_of(integration: Mapping[str, Any]) -> str | None:
    """The Lambda function an integration calls, or None for service and mock integrations."""
    match = FUNCTION_IN_URI.search(integration.get("uri", "") or "")
    return match.group(1) if match else None
