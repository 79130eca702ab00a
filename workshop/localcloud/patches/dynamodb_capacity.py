"""DynamoDB: consumed capacity by item size, published as the AWS/DynamoDB CloudWatch metrics.

moto answers every read with a fixed 0.5 or 1 unit and publishes no metrics. DynamoDB meters
on-demand tables by request units computed from item sizes, and publishes per table the
`ConsumedReadCapacityUnits` and `ConsumedWriteCapacityUnits` metrics, which is what a bill (and
`workshop cost`) is made of. Rules, from the DynamoDB Developer Guide:

- "Item sizes and formats": an attribute is its name's UTF-8 length plus its value's size:
  a string its UTF-8 length, a number about one byte per two significant digits plus one, binary
  its length, null and Boolean 1 byte, a list or map 3 bytes plus its elements plus 1 byte each,
  a set the sum of its elements.
- "Read/write capacity mode": a strongly consistent read is one unit per 4 KB (rounded up), an
  eventually consistent read half of that, a transactional read two; a write is one unit per
  1 KB of the larger of the item before and after, a transactional write two. A read of a
  missing item, or a write whose condition fails, still consumes the minimum.
- Query and Scan round the sum of the items read, not each item.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..server import LocalCloud

READ_UNIT, WRITE_UNIT = 4096, 1024


def attribute_value_size(value: dict[str, Any]) -> int:
    """The size of one AttributeValue in DynamoDB's wire form ({"S": "..."} and so on)."""
    (kind, data), = value.items()
    if kind == "S":
        return len(data.encode())
    if kind == "N":
        digits = data.lstrip("-").replace(".", "").lstrip("0").rstrip("0").split("e")[0].split("E")[0]
        return (len(digits) + 1) // 2 + 1
    if kind == "B":
        return len(data) * 3 // 4 if isinstance(data, str) else len(data)  # base64 on the wire
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(attribute_value_size(v) + 1 for v in data)
    if kind == "M":
        return 3 + sum(len(k.encode()) + attribute_value_size(v) + 1 for k, v in data.items())
    if kind in ("SS", "NS", "BS"):
        return sum(attribute_value_size({kind[0]: v}) for v in data)
    return 0


def item_size(item: dict[str, Any] | None) -> int:
    return sum(len(name.encode()) + attribute_value_size(value) for name, value in (item or {}).items())


def read_units(size: int, consistent: bool = False, transactional: bool = False) -> float:
    units = max(1, math.ceil(size / READ_UNIT))
    return units * 2 if transactional else units if consistent else units / 2


def write_units(size: int, transactional: bool = False) -> float:
    return max(1, math.ceil(size / WRITE_UNIT)) * (2 if transactional else 1)


class _Meter:
    """The units one request consumed, per table: (reads, writes)."""

    def __init__(self, handler) -> None:
        self.handler = handler
        self.body = handler.body
        self.usage: dict[str, list[float]] = {}

    def add(self, table: str, reads: float = 0.0, writes: float = 0.0) -> None:
        totals = self.usage.setdefault(table, [0.0, 0.0])
        totals[0] += reads
        totals[1] += writes

    def stored_size(self, table: str, key: dict[str, Any]) -> int:
        try:
            item = self.handler.dynamodb_backend.get_item(table, key)
        except Exception:  # noqa: BLE001 - a missing table or key is the request's own error to report
            return 0
        return item_size(item.to_json()["Attributes"]) if item is not None else 0

    def key_of(self, table: str, item: dict[str, Any]) -> dict[str, Any]:
        described = self.handler.dynamodb_backend.get_table(table)
        names = [described.hash_key_attr] + ([described.range_key_attr] if described.range_key_attr else [])
        return {name: item[name] for name in names if name in item}


def _before_write(meter: _Meter, table: str, request: dict[str, Any]) -> int:
    key = request.get("Key") or meter.key_of(table, request.get("Item", {}))
    return meter.stored_size(table, key)


def _after_write(meter: _Meter, table: str, request: dict[str, Any], before: int, transactional: bool = False) -> None:
    key = request.get("Key") or meter.key_of(table, request.get("Item", {}))
    after = item_size(request["Item"]) if "Item" in request else meter.stored_size(table, key)
    meter.add(table, writes=write_units(max(before, after), transactional))


def _metered_call(handler, call: Callable[[], Any]) -> tuple[Any, dict[str, list[float]]]:
    """Run one DynamoDB action and work out what it consumed, whether it succeeded or not."""
    action = handler._get_action()
    meter = _Meter(handler)
    body = meter.body
    writes: list[tuple[str, dict[str, Any], int, bool]] = []
    try:
        if action in ("PutItem", "UpdateItem", "DeleteItem"):
            writes.append((body["TableName"], body, _before_write(meter, body["TableName"], body), False))
        elif action == "TransactWriteItems":
            for entry in body.get("TransactItems", []):
                (_, request), = entry.items()
                if "TableName" in request:
                    writes.append((request["TableName"], request, _before_write(meter, request["TableName"], request), True))
        elif action == "BatchWriteItem":
            for table, requests in body.get("RequestItems", {}).items():
                for entry in requests:
                    request = entry.get("PutRequest") or entry.get("DeleteRequest") or {}
                    writes.append((table, request, _before_write(meter, table, request), False))
    except Exception:  # noqa: BLE001 - metering never changes what the request itself answers
        writes = []
    response = None
    try:
        response = call()
        return response, meter.usage
    finally:
        try:
            status, answer = _status_and_answer(response)
            # a write whose condition failed still consumed its units; any other error consumed none
            if status < 400 or "ConditionalCheckFailed" in str(answer.get("__type", "")):
                for table, request, before, transactional in writes:
                    _after_write(meter, table, request, before, transactional)
            if status < 400:
                _meter_reads(meter, action, body, answer)
        except Exception:  # noqa: BLE001 - metering is a figure: it never fails the caller's request
            pass


def _status_and_answer(response: Any) -> tuple[int, dict[str, Any]]:
    if not isinstance(response, tuple) or len(response) < 3:
        return 500, {}
    status, _, text = response[0], response[1], response[2]
    try:
        answer = json.loads(text) if text else {}
    except (TypeError, ValueError):
        answer = {}
    return int(status), answer if isinstance(answer, dict) else {}


def _meter_reads(meter: _Meter, action: str, body: dict[str, Any], answer: dict[str, Any]) -> None:
    consistent = bool(body.get("ConsistentRead"))
    if action == "GetItem":
        meter.add(body["TableName"], reads=read_units(item_size(answer.get("Item")), consistent))
    elif action in ("Query", "Scan"):
        total = sum(item_size(item) for item in answer.get("Items", []))
        meter.add(body["TableName"], reads=read_units(total, consistent))
    elif action == "BatchGetItem":
        for table, items in answer.get("Responses", {}).items():
            strong = bool(body.get("RequestItems", {}).get(table, {}).get("ConsistentRead"))
            for item in items:
                meter.add(table, reads=read_units(item_size(item), strong))
    elif action == "TransactGetItems":
        for entry, got in zip(body.get("TransactItems", []), answer.get("Responses", []), strict=False):
            meter.add(entry["Get"]["TableName"], reads=read_units(item_size(got.get("Item")), transactional=True))


def publish(account: str, region: str, usage: dict[str, list[float]], when: datetime | None = None) -> None:
    """Put the units on the table's AWS/DynamoDB metrics, as DynamoDB does."""
    from moto.cloudwatch.models import cloudwatch_backends

    when = when or datetime.now(UTC).replace(tzinfo=None)  # moto keeps naive UTC times
    data = []
    for table, (reads, writes) in sorted(usage.items()):
        dimensions = [{"Name": "TableName", "Value": table}]
        for name, value in (("ConsumedReadCapacityUnits", reads), ("ConsumedWriteCapacityUnits", writes)):
            if value:
                data.append({"MetricName": name, "Value": value, "Unit": "Count", "Dimensions": dimensions,
                             "Timestamp": when})
    if data:
        cloudwatch_backends[account][region].put_metric_data("AWS/DynamoDB", data)


def apply(cloud: LocalCloud | None = None) -> None:  # moto only: needs nothing of the running cloud
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.call_action
    if getattr(original, "_metered", False):
        return

    @functools.wraps(original)
    def call_action(self):
        self.body = getattr(self, "params", {})  # what moto's own call_action sets first
        response, usage = _metered_call(self, lambda: original(self))
        try:
            publish(self.current_account, self.region, usage)
        except Exception:  # noqa: BLE001 - a metric lost never fails the request
            pass
        return response

    call_action._metered = True
    DynamoHandler.call_action = call_action
