"""DynamoDB: a conditional write is atomic, as DynamoDB guarantees per item.

moto 5.2.5 checks a ConditionExpression and applies the write in separate, unlocked steps on a
threaded server, so concurrent conditional writes can all pass their condition.
"""

from __future__ import annotations

import functools
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..server import LocalCloud


DYNAMODB_WRITES = ("put_item", "update_item", "delete_item", "transact_write_items",
                   "execute_statement", "execute_transaction", "batch_execute_statement")


def apply(cloud: LocalCloud | None = None) -> None:  # moto only: needs nothing of the running cloud
    """One write at a time, as DynamoDB guarantees per item: a condition holds when the write lands.

    moto checks a ConditionExpression and applies the update in separate steps, unlocked, on a
    threaded server: 50 concurrent `stock >= 1` decrements of a stock of 25 succeed 26 or 27 times.
    Workflows that run at once (and functions) rely on conditional writes not to oversell.
    """
    from moto.dynamodb.models import DynamoDBBackend

    lock = threading.RLock()
    for name in DYNAMODB_WRITES:
        method = getattr(DynamoDBBackend, name)
        if getattr(method, "_atomic", False):
            continue

        def atomic(self, *args, _method=method, **kwargs):
            with lock:
                return _method(self, *args, **kwargs)

        functools.update_wrapper(atomic, method)
        atomic._atomic = True
        setattr(DynamoDBBackend, name, atomic)
