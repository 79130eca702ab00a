"""DynamoDB helpers: tables named by environment variables, items as plain JSON values.

Copied into every service's src/ folder: when you change it, change every copy.
"""

from __future__ import annotations

import functools
import os
from decimal import Decimal
from typing import Any

import boto3
from botocore.exceptions import ClientError


@functools.lru_cache(maxsize=None)
def table(env_name: str):
    """The table whose name the template put in the environment variable env_name."""
    try:
        name = os.environ[env_name]
    except KeyError:
        raise RuntimeError(f"environment variable {env_name} is not set: the template must pass the table name") from None
    return boto3.resource("dynamodb").Table(name)


def plain(value: Any) -> Any:
    """An item with DynamoDB's Decimals turned into int (or float), which json can encode."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def is_conditional_check_failed(error: Exception) -> bool:
    return isinstance(error, ClientError) and error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def put_new(tbl, item: dict, key: str) -> bool:
    """Write item only if no item has its key yet; False when one already exists."""
    try:
        tbl.put_item(Item=item, ConditionExpression="attribute_not_exists(#key)",
                     ExpressionAttributeNames={"#key": key})
        return True
    except ClientError as error:
        if is_conditional_check_failed(error):
            return False
        raise
