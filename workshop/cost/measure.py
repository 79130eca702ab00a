"""Measure what one call of each route costs, on the deployed shop, through AWS APIs only.

Each route of the traffic profile is called a few times inside a time window of its own; what
the shop did inside that window is read back the way a bill is made: REPORT lines (billed
duration and memory) and bytes from the functions' log groups, the tables' AWS/DynamoDB
ConsumedRead/WriteCapacityUnits metrics, the state transitions of the executions that started.
The same code reads a real account; there, metrics arrive late and by the minute, so the
figures are labelled an estimate.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from ..deploy import tokens
from ..deploy.apis import Route, route_for, shop_routes
from ..deploy.logs import log_lines, reports

FINAL_EXECUTION = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


@dataclass
class RouteUsage:
    """What one call of a route consumed, on average over the calls made."""

    route: str                      # "GET /cart/{cartId}", as the profile names it
    served_by: str = ""             # lambda:NAME | dynamodb:GetItem | states:StartExecution | mock
    calls: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    lambda_requests: float = 0.0
    gb_seconds: float = 0.0
    read_units: float = 0.0
    write_units: float = 0.0
    state_transitions: float = 0.0
    log_bytes: float = 0.0

    @property
    def answered(self) -> bool:
        return any(200 <= status < 300 for status in self.statuses)


@dataclass
class Measurement:
    target: str
    routes: list[RouteUsage]
    missing: list[str]              # profile routes the deployed shop does not serve
    estimate: bool                  # True on a real account: metrics there are per minute and late


@dataclass(frozen=True)
class ShopResources:
    functions: tuple[str, ...]
    tables: tuple[str, ...]
    state_machines: tuple[str, ...]

    @classmethod
    def of(cls, stacks: Mapping[str, Any]) -> ShopResources:
        def physical(kind: str) -> tuple[str, ...]:
            return tuple(sorted(r["physicalId"] for info in stacks.values() for r in info.resources
                                if r["type"] == kind and r.get("physicalId")))
        return cls(physical("AWS::Lambda::Function"), physical("AWS::DynamoDB::Table"),
                   physical("AWS::StepFunctions::StateMachine"))


class Shop:
    """The deployed shop as a client sees it: its routes, a SKU to buy, a token if it needs one."""

    def __init__(self, session, stacks: Mapping[str, Any], http: httpx.Client) -> None:
        self.session = session
        self.http = http
        self.resources = ShopResources.of(stacks)
        self.routes: list[Route] = shop_routes(session.client("apigateway"), stacks)
        secret = tokens.shop_secret(session.client, stacks)
        self.headers = {"Authorization": f"Bearer {tokens.mint(secret, 900, subject='workshop-cost')}"} if secret else {}
        self.sku = self._a_sku()

    def url(self, method: str, path: str, template: str | None = None) -> tuple[Route, str] | None:
        """The route serving METHOD path (found by the contract's template path) and its URL."""
        route = route_for(self.routes, method, template or path)
        if route is None:
            return None
        return route, route.api.url.rstrip("/") + path

    def call(self, method: str, path: str, body: Any = None, template: str | None = None) -> int:
        found = self.url(method, path, template)
        if found is None:
            return 404
        try:
            answer = self.http.request(method, found[1], json=body, headers=self.headers)
        except httpx.HTTPError:
            return 599
        return answer.status_code

    def _a_sku(self) -> str:
        found = self.url("GET", "/products")
        if found:
            try:
                answer = self.http.get(found[1], headers=self.headers)
                items = answer.json()
                items = items.get("products", items.get("items", [])) if isinstance(items, dict) else items
                if isinstance(items, list) and items and isinstance(items[0], dict) and items[0].get("sku"):
                    return str(items[0]["sku"])
            except (httpx.HTTPError, ValueError):
                pass
        return "lambda-tee"


def _request_for(route: str, shop: Shop) -> tuple[str, Callable[[], tuple[str, Any]], Callable[[str], None]]:
    """(method, next request's (path, body), what the request needs to exist first)."""
    method, template = route.split(" ", 1)
    carts: list[str] = []

    def fresh() -> tuple[str, Any]:
        cart = f"cost-{uuid.uuid4().hex[:10]}"
        carts.append(cart)
        path = template.replace("{cartId}", cart).replace("{sku}", shop.sku).replace(
            "{orderId}", cart).replace("{proxy+}", "")
        body: Any = None
        if method in ("POST", "PUT"):
            body = ({"items": [{"sku": shop.sku, "quantity": 1}], "paymentToken": "tok_ok"}
                    if template.startswith("/orders") else {"sku": shop.sku, "quantity": 1})
        return path, body

    def prepare(path: str) -> None:
        # a read or a removal needs a cart to exist, made outside the measured window
        if template.startswith("/cart/") and method in ("GET", "DELETE"):
            cart = path.split("/")[2]
            shop.call("POST", f"/cart/{cart}/items", {"sku": shop.sku, "quantity": 1}, "/cart/{cartId}/items")

    return method, fresh, prepare


class Reader:
    """What happened in the shop between two instants, read as a bill is made."""

    def __init__(self, session, resources: ShopResources) -> None:
        self.logs = session.client("logs")
        self.cloudwatch = session.client("cloudwatch")
        self.stepfunctions = session.client("stepfunctions")
        self.resources = resources

    def lambda_usage(self, start: float, end: float) -> tuple[int, float, int]:
        """(invocations, GB-seconds billed, log bytes) of every function, in [start, end)."""
        requests, gb_seconds, log_bytes = 0, 0.0, 0
        for name in self.resources.functions:
            lines = log_lines(self.logs, name, int(start * 1000), until_ms=int(end * 1000))
            log_bytes += sum(len(message.encode()) for _, message in lines)
            billed = reports(lines)
            requests += len(billed)
            gb_seconds += sum(report.gb_seconds for report in billed)
        return requests, gb_seconds, log_bytes

    def dynamodb_units(self, since: float) -> tuple[float, float]:
        """(read, write) units every table consumed since `since`: a route's are the difference of
        two readings, taken before and after its calls (metrics are kept to the second only)."""
        totals = []
        for metric in ("ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits"):
            total = 0.0
            for table in self.resources.tables:
                points = self.cloudwatch.get_metric_statistics(
                    Namespace="AWS/DynamoDB", MetricName=metric,
                    Dimensions=[{"Name": "TableName", "Value": table}],
                    StartTime=_utc(since), EndTime=_utc(time.time() + 120), Period=60, Statistics=["Sum"])
                total += sum(p["Sum"] for p in points["Datapoints"])
            totals.append(total)
        return totals[0], totals[1]

    def executions(self, start: float, end: float) -> list[dict[str, Any]]:
        found = []
        for machine in self.resources.state_machines:
            for page in self.stepfunctions.get_paginator("list_executions").paginate(stateMachineArn=machine):
                found += [e for e in page["executions"] if start <= e["startDate"].timestamp() < end]
        return found

    def settle(self, start: float, timeout: float = 60.0) -> None:
        """Wait for the executions the window started to end: their transitions are the route's."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            running = [e for e in self.executions(start, time.time() + 1) if e["status"] not in FINAL_EXECUTION]
            if not running:
                return
            time.sleep(0.2)

    def state_transitions(self, start: float, end: float) -> int:
        """Standard workflows bill each state entered (Step Functions pricing: "state transitions")."""
        transitions = 0
        for execution in self.executions(start, end):
            paginator = self.stepfunctions.get_paginator("get_execution_history")
            for page in paginator.paginate(executionArn=execution["executionArn"]):
                transitions += sum(1 for event in page["events"] if event["type"].endswith("StateEntered"))
        return transitions


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def measure(session, stacks: Mapping[str, Any], routes: list[str], target: str, calls: int = 5,
            http: httpx.Client | None = None, estimate: bool = False,
            progress: Callable[[str], None] = lambda _: None) -> Measurement:
    """Call each route `calls` times in a window of its own and read back what each call consumed."""
    owned = http is None
    http = http or httpx.Client(timeout=30)
    try:
        shop = Shop(session, stacks, http)
        reader = Reader(session, shop.resources)
        usages, missing = [], []
        origin = time.time() - 60
        for route in routes:
            method, fresh, prepare = _request_for(route, shop)
            requests = [fresh() for _ in range(calls)]
            template = route.split(" ", 1)[1]
            served = shop.url(method, requests[0][0], template)
            if served is None:
                missing.append(route)
                continue
            progress(f"measuring {route}")
            for path, _ in requests:
                prepare(path)
            usage = RouteUsage(route, served[0].served_by, calls)
            reads_before, writes_before = reader.dynamodb_units(origin)
            start = time.time()
            for path, body in requests:
                status = shop.call(method, path, body, template)
                usage.statuses[status] = usage.statuses.get(status, 0) + 1
            reader.settle(start)
            end = time.time() + 0.001
            invocations, gb_seconds, log_bytes = reader.lambda_usage(start, end)
            reads_after, writes_after = reader.dynamodb_units(origin)
            reads, writes = reads_after - reads_before, writes_after - writes_before
            transitions = reader.state_transitions(start, end)
            usage.lambda_requests = invocations / calls
            usage.gb_seconds = gb_seconds / calls
            usage.log_bytes = log_bytes / calls
            usage.read_units, usage.write_units = reads / calls, writes / calls
            usage.state_transitions = transitions / calls
            usages.append(usage)
        return Measurement(target, usages, missing, estimate=estimate)
    finally:
        if owned:
            http.close()
