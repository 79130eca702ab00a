"""Bearer tokens: HS256 JSON Web Tokens signed with the shop's shared secret, with an expiry.

A token is base64url(header) . base64url(payload) . base64url(HMAC-SHA256(secret, the first two)),
the payload a JSON object with `sub` (who) and `exp` (when it expires, Unix seconds).
The secret comes from the AUTH_TOKEN_SECRET environment variable, which every template sets.

Copied into every service's src/ folder: when you change it, change every copy.

Mint a token for curl:  python auth.py --secret <secret> [--sub alice] [--ttl 3600]
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import time

from errors import Unauthorized

SECRET_ENV = "AUTH_TOKEN_SECRET"
HEADER = {"alg": "HS256", "typ": "JWT"}
LEEWAY_SECONDS = 0  # no grace: an expired token is refused at once


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: str, signing_input: str) -> str:
    return _b64encode(hmac.new(secret.encode(), signing_input.encode("ascii"), hashlib.sha256).digest())


def secret_from_environment() -> str:
    secret = os.environ.get(SECRET_ENV, "")
    if not secret:
        raise RuntimeError(f"{SECRET_ENV} is not set: the template must pass the signing secret")
    return secret


def issue_token(subject: str, secret: str, ttl_seconds: int = 3600, now: float | None = None) -> str:
    """A token for subject that expires ttl_seconds from now."""
    issued = int(time.time() if now is None else now)
    payload = {"sub": subject, "iat": issued, "exp": issued + ttl_seconds}
    signing_input = ".".join(_b64encode(json.dumps(part, separators=(",", ":")).encode()) for part in (HEADER, payload))
    return f"{signing_input}.{_signature(secret, signing_input)}"


def verify_token(token: str, secret: str, now: float | None = None) -> dict:
    """The token's claims; Unauthorized when it is malformed, forged, tampered with or expired."""
    try:
        header_b64, payload_b64, signature = token.split(".")
        header = json.loads(_b64decode(header_b64))
        claims = json.loads(_b64decode(payload_b64))
    except (ValueError, binascii.Error):
        raise Unauthorized("malformed token") from None
    if not isinstance(header, dict) or header.get("alg") != "HS256":
        raise Unauthorized("unsupported token algorithm")
    if not hmac.compare_digest(signature, _signature(secret, f"{header_b64}.{payload_b64}")):
        raise Unauthorized("invalid token signature")
    expires = claims.get("exp") if isinstance(claims, dict) else None
    if isinstance(expires, bool) or not isinstance(expires, (int, float)):
        raise Unauthorized("token has no expiry")
    if (time.time() if now is None else now) >= expires + LEEWAY_SECONDS:
        raise Unauthorized("token expired")
    return claims


def bearer_token(event: dict) -> str | None:
    """The token of an `Authorization: Bearer <token>` header (any header case), or None."""
    headers = event.get("headers") or {}
    value = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
    if value is None:
        return None
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("use an Authorization: Bearer <token> header")
    return token.strip()


def require_token(event: dict) -> dict:
    """The caller's claims; 401 without a valid token."""
    token = bearer_token(event)
    if token is None:
        raise Unauthorized("missing Authorization: Bearer <token> header")
    return verify_token(token, secret_from_environment())


def optional_token(event: dict) -> dict | None:
    """Anonymous callers pass (None); a token, when sent, must be valid."""
    token = bearer_token(event)
    return None if token is None else verify_token(token, secret_from_environment())


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python auth.py", description="Mint a shop token.")
    parser.add_argument("--secret", default=os.environ.get(SECRET_ENV), help=f"default: ${SECRET_ENV}")
    parser.add_argument("--sub", default="learner")
    parser.add_argument("--ttl", type=int, default=3600, help="seconds until it expires (negative: already expired)")
    args = parser.parse_args(argv)
    if not args.secret:
        parser.error(f"give --secret or set {SECRET_ENV}")
    print(issue_token(args.sub, args.secret, args.ttl))


if __name__ == "__main__":
    main()
