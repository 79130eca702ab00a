"""The shop's bearer tokens (modules 04 on), made as any client of the shop would make them.

A token is an HS256 JSON Web Token: base64url(header).base64url(payload).base64url(HMAC-SHA256),
the payload carrying `exp`. The checks and `workshop cost` sign their own with the secret they
read from the environment of the shop's functions (lambda get_function_configuration): the
variable AUTH_TOKEN_SECRET, or else the one variable whose name holds SECRET.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

SECRET_VARIABLE = "AUTH_TOKEN_SECRET"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mint(secret: str, expires_in: int = 600, sign_with: str | None = None, payload: dict | None = None,
         subject: str = "checkpoint") -> str:
    """A token that expires in expires_in seconds (negative: already expired), signed with secret
    (or sign_with, to forge one)."""
    now = int(time.time())
    claims = payload or {"sub": subject, "iat": now, "exp": now + expires_in}
    signing_input = f"{b64(json.dumps({'alg': 'HS256', 'typ': 'JWT'}).encode())}.{b64(json.dumps(claims).encode())}"
    key = (sign_with if sign_with is not None else secret).encode()
    return f"{signing_input}.{b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())}"


def secret_of(config: dict) -> str | None:
    """The signing secret in a function's configuration, or None."""
    variables = (config.get("Environment") or {}).get("Variables") or {}
    if variables.get(SECRET_VARIABLE):
        return variables[SECRET_VARIABLE]
    candidates = [v for k, v in variables.items() if "SECRET" in k.upper() and not k.upper().startswith("AWS_") and v]
    return candidates[0] if len(candidates) == 1 else None


def shop_secret(aws, stacks) -> str | None:
    """The secret of the first function (by stack and logical id) that holds one."""
    lam = aws("lambda")
    functions = sorted((name, r["logicalId"], r["physicalId"]) for name, info in stacks.items()
                       for r in info.resources if r["type"] == "AWS::Lambda::Function")
    for _, _, physical in functions:
        secret = secret_of(lam.get_function_configuration(FunctionName=physical))
        if secret:
            return secret
    return None
