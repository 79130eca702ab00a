"""Bearer tokens: HS256 JSON Web Tokens signed with the shop's shared secret, with an expiry.

A token is base64url(header) . base64url(payload) . base64url(HMAC-SHA256(secret, the first two)),
the payload a JSON object with `sub` (who) and `exp` (when it expires, Unix seconds).
The secret comes from the AUTH_TOKEN_SECRET environment variable, which every template sets.

Refusals raise Powertools' UnauthorizedError: APIGatewayRestResolver answers it as a 401, and
the cart's FastAPI app and its Lambda authorizer turn it into their own 401.

Mint a token for curl:  python -m shop_shared.auth --secret <secret> [--sub alice] [--ttl 3600]
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import time

from aws_lambda_powertools.event_handler.exceptions import UnauthorizedError

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
    """The token's claims; UnauthorizedError when it is malformed, forged, tampered with or expired."""
    try:
        header_b64, payload_b64, signature = token.split(".")
        header = json.loads(_b64decode(header_b64))
        claims = json.loads(_b64decode(payload_b64))
    except (ValueError, binascii.Error):
        raise UnauthorizedError("malformed token") from None
    if not isinstance(header, dict) or header.get("alg") != "HS256":
        raise UnauthorizedError("unsupported token algorithm")
    if not hmac.compare_digest(signature, _signature(secret, f"{header_b64}.{payload_b64}")):
        raise UnauthorizedError("invalid token signature")
    expires = claims.get("exp") if isinstance(claims, dict) else None
    if isinstance(expires, bool) or not isinstance(expires, (int, float)):
        raise UnauthorizedError("token has no expiry")
    if (time.time() if now is None else now) >= expires + LEEWAY_SECONDS:
        raise UnauthorizedError("token expired")
    return claims


def bearer_token(headers: dict | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header (any header case), or None."""
    value = next((v for k, v in (headers or {}).items() if k.lower() == "authorization"), None)
    if value is None:
        return None
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise UnauthorizedError("use an Authorization: Bearer <token> header")
    return token.strip()


def claims_of(headers: dict | None) -> dict:
    """The caller's claims; 401 without a valid token."""
    token = bearer_token(headers)
    if token is None:
        raise UnauthorizedError("missing Authorization: Bearer <token> header")
    return verify_token(token, secret_from_environment())


# Middlewares for Powertools' event handler: app.use(middlewares=[auth.require_token]).
# The claims land in app.context["claims"] for the route to read.

def require_token(app, next_middleware):
    """Every route of the app needs a valid token."""
    app.append_context(claims=claims_of(app.current_event.headers))
    return next_middleware(app)


def check_token_if_sent(app, next_middleware):
    """Anonymous callers pass; a token, when sent, must be valid (an expired one is still 401)."""
    headers = app.current_event.headers
    app.append_context(claims=None if bearer_token(headers) is None else claims_of(headers))
    return next_middleware(app)


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m shop_shared.auth", description="Mint a shop token.")
    parser.add_argument("--secret", default=os.environ.get(SECRET_ENV), help=f"default: ${SECRET_ENV}")
    parser.add_argument("--sub", default="learner")
    parser.add_argument("--ttl", type=int, default=3600, help="seconds until it expires (negative: already expired)")
    args = parser.parse_args(argv)
    if not args.secret:
        parser.error(f"give --secret or set {SECRET_ENV}")
    print(issue_token(args.sub, args.secret, args.ttl))


if __name__ == "__main__":
    main()
