"""A Lambda function's log events, read through CloudWatch Logs as on any account, and its REPORT lines."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# Lambda's REPORT line: Duration, Billed Duration, Memory Size, Max Memory Used, Init Duration on a cold start
# (fields AWS may add, such as XRAY's, are skipped over)
REPORT = re.compile(r"REPORT RequestId: (\S+)\s+Duration: ([\d.]+) ms.*?Billed Duration: (\d+) ms.*?Memory Size: (\d+) MB"
                    r".*?Max Memory Used: (\d+) MB(?:\s+Init Duration: ([\d.]+) ms)?")


@dataclass
class Report:
    stream: str
    request_id: str
    duration_ms: float
    max_memory_mb: int
    init_ms: float | None
    billed_ms: int = 0
    memory_size_mb: int = 0

    @property
    def gb_seconds(self) -> float:
        """What Lambda bills for the invocation: billed duration times the configured memory."""
        return self.billed_ms / 1000 * self.memory_size_mb / 1024


def reports(lines: Iterable[tuple[str, str]]) -> list[Report]:
    """The REPORT lines among (stream, message) pairs, parsed."""
    found = []
    for stream, message in lines:
        match = REPORT.search(message)
        if match:
            found.append(Report(stream, match.group(1), float(match.group(2)), int(match.group(5)),
                                float(match.group(6)) if match.group(6) else None,
                                int(match.group(3)), int(match.group(4))))
    return found


def log_lines(logs, function_name: str, since_ms: int = 0, wait: float = 0.0,
              until_ms: int | None = None) -> list[tuple[str, str]]:
    """(stream, message) of a function's log group, oldest first (up to until_ms when given); waits up to
    `wait` s for a first event."""
    group = f"/aws/lambda/{function_name}"
    deadline = time.monotonic() + wait
    while True:
        try:
            events = []
            kwargs: dict[str, Any] = {"logGroupName": group, "startTime": since_ms}
            if until_ms is not None:
                kwargs["endTime"] = until_ms
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
