"""Errors as the shop answers them: JSON `{"message": ...}` with a fitting status code.

Copied into every service's src/ folder: when you change it, change every copy.
"""

from __future__ import annotations

import functools
import json
from typing import Any, Callable


class HttpError(Exception):
    """An error the caller should see: its status and a message."""

    status = 500

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class BadRequest(HttpError):
    status = 400


class Unauthorized(HttpError):
    status = 401


class NotFound(HttpError):
    status = 404


class Conflict(HttpError):
    status = 409


def response(status: int, body: Any) -> dict:
    """An API Gateway proxy response with a JSON body."""
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body),
    }


def api_handler(handler: Callable[[dict, Any], tuple[int, Any]]) -> Callable[[dict, Any], dict]:
    """Turn a handler's (status, body), or the HttpError it raises, into a proxy response.

    Any other exception propagates: Lambda reports it, and API Gateway answers 502.
    """

    @functools.wraps(handler)
    def wrapper(event, context):
        try:
            status, body = handler(event, context)
        except HttpError as error:
            print(f"refused with {error.status}: {error.message}")
            status, body = error.status, {"message": error.message}
        return response(status, body)

    return wrapper


def json_body(event: dict) -> dict:
    """The request body as a JSON object, or 400."""
    try:
        data = json.loads(event.get("body") or "")
    except ValueError:
        raise BadRequest("body must be JSON") from None
    if not isinstance(data, dict):
        raise BadRequest("body must be a JSON object")
    return data


def path_param(event: dict, name: str) -> str:
    """A path parameter, or 400 when it is missing or empty."""
    value = (event.get("pathParameters") or {}).get(name)
    if not value:
        raise BadRequest(f"{name} is missing from the path")
    return value
