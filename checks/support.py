"""What checkpoints share: how to fail clearly, and how to read a deployed shop through AWS APIs.

Checkpoints reach a target only through boto3 and HTTP, so they run unchanged on the local
target and on a real account.
"""

from __future__ import annotations

import ast
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

EXECUTE_API = re.compile(r"^https?://\S*(execute-api)\S*$")


class CheckpointFailed(AssertionError):
    """A checkpoint's verdict: what it saw and what to change, in a line each."""

    def __init__(self, saw: str, fix: str = "") -> None:
        self.saw = saw
        self.fix = fix
        super().__init__(f"{saw}\n→ {fix}" if fix else saw)


def fail(saw: str, fix: str = "") -> None:
    raise CheckpointFailed(saw, fix)


def expect(condition: Any, saw: str, fix: str = "") -> None:
    if not condition:
        raise CheckpointFailed(saw, fix)


# -- stacks and APIs -------------------------------------------------------------------------

@dataclass
class Api:
    stack: str
    url: str  # ends with '/'
    rest_api_id: str


def api_urls(stacks: dict) -> list[Api]:
    """Every API URL a stack outputs (by value, whatever the output is called)."""
    apis = []
    for name, info in stacks.items():
        ids = {r["physicalId"] for r in info.resources if r["type"] == "AWS::ApiGateway::RestApi"}
        for value in info.outputs.values():
            if isinstance(value, str) and EXECUTE_API.match(value):
                url = value if value.endswith("/") else value + "/"
                api_id = next((i for i in ids if i in url), next(iter(ids), ""))
                apis.append(Api(name, url, api_id))
    return apis


def api_routes(apigateway, rest_api_id: str) -> dict[tuple[str, str], dict]:
    """(METHOD, resource path) -> the method with its integration, read from API Gateway."""
    routes = {}
    for resource in apigateway.get_resources(restApiId=rest_api_id, limit=500)["items"]:
        for method in resource.get("resourceMethods", {}) or {}:
            routes[(method, resource["path"])] = apigateway.get_method(
                restApiId=rest_api_id, resourceId=resource["id"], httpMethod=method)
    return routes


def route_matches(template_path: str, wanted: str) -> bool:
    """Does an API resource path such as /cart/{id}/items serve /cart/{cartId}/items?"""
    ours = template_path.strip("/").split("/")
    theirs = wanted.strip("/").split("/")
    if len(ours) != len(theirs) and not (ours and ours[-1].endswith("+}")):
        return False
    for a, b in zip(ours, theirs):
        if a.endswith("+}"):
            return True
        if (a.startswith("{") and b.startswith("{")) or a == b:
            continue
        return False
    return True


def function_arn_of(integration: dict) -> str | None:
    """The Lambda function an integration calls, or None for service and mock integrations."""
    uri = integration.get("uri", "") or ""
    match = re.search(r"functions/(arn:aws:lambda:[^/]+)/invocations", uri)
    return match.group(1) if match else None


def api_for_route(apigateway, stacks: dict, method: str, path: str) -> tuple[Api, dict] | None:
    """The API (and its method) that serves METHOD path, among the deployed stacks."""
    for api in api_urls(stacks):
        for (m, p), spec in api_routes(apigateway, api.rest_api_id).items():
            if m in (method, "ANY") and route_matches(p, path):
                return api, spec
    return None


def why_it_failed(aws, stacks: dict, method: str, path: str) -> str:
    """The last error the function behind a route logged, for a 5xx a learner can act on."""
    found = api_for_route(aws("apigateway"), stacks, method, path)
    arn = function_arn_of(found[1].get("methodIntegration", {})) if found else None
    if not arn:
        return ""
    errors = [m for _, m in log_lines(aws("logs"), arn.split(":")[6])
              if "Error" in m or "Task timed out" in m or m.startswith("[ERROR]")]
    return f" (the function logged: {errors[-1].strip()[:200]})" if errors else ""


# -- logs ------------------------------------------------------------------------------------

def log_lines(logs, function_name: str, since_ms: int = 0, wait: float = 0.0) -> list[tuple[str, str]]:
    """(stream, message) of a function's log group, oldest first."""
    group = f"/aws/lambda/{function_name}"
    deadline = time.monotonic() + wait
    while True:
        try:
            events = []
            kwargs = {"logGroupName": group, "startTime": since_ms}
            while True:
                page = logs.filter_log_events(**kwargs)
                events += page["events"]
                if not page.get("nextToken"):
                    break
                kwargs["nextToken"] = page["nextToken"]
            lines = [(e["logStreamName"], e["message"]) for e in sorted(events, key=lambda e: e["timestamp"])]
        except logs.exceptions.ResourceNotFoundException:
            lines = []
        if lines or time.monotonic() >= deadline:
            return lines
        time.sleep(1)


REPORT = re.compile(r"REPORT RequestId: (\S+)\s+Duration: ([\d.]+) ms.*?Max Memory Used: (\d+) MB(?:\s+Init Duration: ([\d.]+) ms)?")


@dataclass
class Report:
    stream: str
    request_id: str
    duration_ms: float
    max_memory_mb: int
    init_ms: float | None


def reports(lines: Iterable[tuple[str, str]]) -> list[Report]:
    found = []
    for stream, message in lines:
        match = REPORT.search(message)
        if match:
            found.append(Report(stream, match.group(1), float(match.group(2)), int(match.group(3)),
                                float(match.group(4)) if match.group(4) else None))
    return found


# -- source ----------------------------------------------------------------------------------

def python_files(root: Path) -> list[Path]:
    skipped = {".aws-sam", "__pycache__", ".venv", "node_modules", ".pytest_cache"}
    return sorted(p for p in root.rglob("*.py") if not skipped.intersection(p.relative_to(root).parts))


def imported_modules(path: Path) -> list[tuple[str, int]]:
    """(dotted module, level) of every import in a file: plain, from, relative, importlib."""
    try:
        tree = ast.parse(path.read_text(), str(path))
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, 0) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            found.append((base, node.level))
            found += [(f"{base}.{alias.name}" if base else alias.name, node.level) for alias in node.names]
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            if name in ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
                found.append((str(node.args[0].value), 0))
    return found
