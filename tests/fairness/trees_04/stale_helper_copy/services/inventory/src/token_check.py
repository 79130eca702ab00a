"""Kept "just in case" while moving to the layer: inventory's old token check, renamed.

Fairness fixture (part of a WRONG refactor of module 04): a near copy of the layer's
verify_token (the stale one, without the expiry check) left in a function folder under
another file name and other names. Nothing imports it, so only 04.3 can see it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json


class TokenRejected(Exception):
    status = 401


def _unpad(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: str, message: str) -> str:
    digest = hmac.new(key.encode(), message.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def check_bearer(jwt: str, key: str, at: float | None = None) -> dict:
    """Claims of a good token (this copy never looked at the expiry)."""
    try:
        head_part, body_part, mac = jwt.split(".")
        head = json.loads(_unpad(head_part))
        body = json.loads(_unpad(body_part))
    except (ValueError, binascii.Error):
        raise TokenRejected("malformed token") from None
    if not isinstance(head, dict) or head.get("alg") != "HS256":
        raise TokenRejected("unsupported token algorithm")
    if not hmac.compare_digest(mac, _mac(key, f"{head_part}.{body_part}")):
        raise TokenRejected("invalid token signature")
    return body
