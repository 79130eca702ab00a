"""Lambda's concurrency limits: a function's reserved concurrency, and the account's limit per Region.

As Lambda documents it (https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html):
a function with reserved concurrency runs at most that many invocations at once, from capacity
set aside for it; every other function of the account in that Region shares what is left of the
account's limit (1,000 by default). A synchronous invocation beyond either is refused at once
with TooManyRequestsException (HTTP 429): it does not wait for a free environment.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

DEFAULT_ACCOUNT_LIMIT = 1000  # Lambda's default concurrent executions per account and Region
ACCOUNT_LIMIT_VARIABLE = "WORKSHOP_LAMBDA_ACCOUNT_CONCURRENCY"

RESERVED_LIMIT = "ReservedFunctionConcurrentInvocationLimitExceeded"
ACCOUNT_LIMIT = "ConcurrentInvocationLimitExceeded"


class Limited(Protocol):
    """What the limits need to know of a function (lambda_executor.FunctionConfig has it)."""

    @property
    def name(self) -> str: ...

    @property
    def account_id(self) -> str: ...

    @property
    def region(self) -> str: ...

    @property
    def reserved_concurrency(self) -> int | None: ...


class Throttled(Exception):
    """Lambda refused the invocation: TooManyRequestsException, with its Reason."""

    status = 429
    error_type = "TooManyRequestsException"

    def __init__(self, reason: str) -> None:
        super().__init__("Rate Exceeded.")
        self.reason = reason
        self.message = "Rate Exceeded."


def default_account_limit() -> int:
    return int(os.environ.get(ACCOUNT_LIMIT_VARIABLE) or DEFAULT_ACCOUNT_LIMIT)


class ConcurrencyLimits:
    """Counts invocations in flight; `admit` refuses one beyond a limit instead of queueing it."""

    def __init__(self, account_limit: int | None = None,
                 reserved_in_account: Callable[[str, str], int] = lambda account, region: 0) -> None:
        self.account_limit = default_account_limit() if account_limit is None else account_limit
        self._reserved_in_account = reserved_in_account  # (account, region) -> the sum of reservations
        self._lock = threading.Lock()
        self._per_function: dict[tuple[str, str, str], int] = {}
        self._unreserved: dict[tuple[str, str], int] = {}  # in flight of functions without a reservation

    def in_flight(self, function: Limited) -> int:
        with self._lock:
            return self._per_function.get((function.account_id, function.region, function.name), 0)

    @contextmanager
    def admit(self, function: Limited) -> Iterator[None]:
        key = (function.account_id, function.region, function.name)
        pool = (function.account_id, function.region)
        reserved = function.reserved_concurrency
        with self._lock:
            if reserved is not None:
                if self._per_function.get(key, 0) >= reserved:
                    raise Throttled(RESERVED_LIMIT)
            else:
                unreserved = self.account_limit - self._reserved_in_account(*pool)
                if self._unreserved.get(pool, 0) >= unreserved:
                    raise Throttled(ACCOUNT_LIMIT)
                self._unreserved[pool] = self._unreserved.get(pool, 0) + 1
            self._per_function[key] = self._per_function.get(key, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                self._per_function[key] -= 1
                if reserved is None:
                    self._unreserved[pool] -= 1
