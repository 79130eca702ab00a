"""`workshop logs NN [FUNCTION]`: the CloudWatch log lines of a workspace's functions, on either target.

A function is found among the workspace's stacks by its logical id or by a part of its name;
its log group is /aws/lambda/<name>, as Lambda writes it. START, END and REPORT lines and errors
stand out, so a learner sees one invocation at a glance.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from rich.text import Text

from .deploy.local import StackInfo

FUNCTION_TYPE = "AWS::Lambda::Function"
SINCE = re.compile(r"^(\d+)\s*([smhd])$")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
ERROR = re.compile(r"\[ERROR\]|Traceback|Error:|Exception|Task timed out|\"level\":\s*\"ERROR\"|Status: (timeout|error)")


@dataclass(frozen=True)
class Function:
    stack: str
    logical_id: str
    name: str


def since_seconds(text: str) -> int:
    """'10m' -> 600; s, m, h and d as in `sam logs --start-time` ('5mins ago' reads '5m' here)."""
    match = SINCE.match(text.strip())
    if not match:
        raise ValueError(f"--since takes a number and s, m, h or d (10m, 2h), not {text!r}")
    return int(match.group(1)) * UNITS[match.group(2)]


def functions_of(stacks: dict[str, StackInfo], wanted: str | None = None) -> list[Function]:
    """The stacks' functions; wanted: a logical id (exactly) or a part of the function's name."""
    found = [Function(name, r["logicalId"], r["physicalId"])
             for name, info in sorted(stacks.items()) for r in info.resources if r["type"] == FUNCTION_TYPE]
    if not wanted:
        return found
    exact = [f for f in found if f.logical_id == wanted]
    return exact or [f for f in found if wanted.lower() in f.name.lower()]


def events(logs_client, function: Function, start_ms: int) -> list[dict]:
    """Every event of the function's log group from start_ms on, oldest first."""
    found = []
    try:
        pages = logs_client.get_paginator("filter_log_events").paginate(
            logGroupName=f"/aws/lambda/{function.name}", startTime=int(start_ms))
        for page in pages:
            found += page.get("events", [])
    except logs_client.exceptions.ResourceNotFoundException:
        return []  # never invoked: Lambda makes the group at the first invocation
    return sorted(found, key=lambda e: (e["timestamp"], e.get("ingestionTime", 0)))


def styled(function: Function, event: dict, width: int) -> Text:
    stamp = datetime.fromtimestamp(event["timestamp"] / 1000, UTC).strftime("%H:%M:%S")
    message = event["message"].rstrip("\n")
    line = Text.assemble((f"{stamp} ", "dim"), (f"{function.logical_id:<{width}} ", "magenta"))
    if message.startswith(("START ", "END ")):
        line.append(message, style="dim")
    elif message.startswith("REPORT "):
        line.append(message, style="bold" + (" red" if ERROR.search(message) else ""))
    elif ERROR.search(message):
        line.append(message, style="bold red")
    else:
        line.append(message)
    return line


def stream(logs_client, functions: list[Function], start_ms: int, follow: bool = False,
           poll: float = 1.0, sleep: Callable[[float], None] = time.sleep) -> Iterator[Text]:
    """The functions' lines, merged by time; with follow, new lines as they come until interrupted."""
    width = max((len(f.logical_id) for f in functions), default=0)
    seen: set[str] = set()
    while True:
        batch = [(e, f) for f in functions for e in events(logs_client, f, start_ms) if e["eventId"] not in seen]
        for event, function in sorted(batch, key=lambda pair: pair[0]["timestamp"]):
            seen.add(event["eventId"])
            start_ms = max(start_ms, event["timestamp"])  # the next poll reads only what is newer
            yield styled(function, event, width)
        if not follow:
            return
        sleep(poll)
