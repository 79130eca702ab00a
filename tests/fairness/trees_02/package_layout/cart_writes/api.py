"""Cart writes: FastAPI in a package, Mangum with its default lifespan, an audit table of its own.

A correct alternative of module 02: other folder and module names (the handler is
cart_writes.api.handler), pydantic's StrictInt/StrictStr instead of Annotated Strict(), a
second table the cart owns (an audit trail of writes), and other error wording.
"""
import os
import time

import boto3
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from mangum import Mangum
from pydantic import BaseModel, Field, StrictInt, StrictStr, field_validator
from starlette.exceptions import HTTPException

from . import storage

MOST = 99
AUDIT = boto3.resource("dynamodb").Table(os.environ["CART_AUDIT_TABLE"]) if os.environ.get("CART_AUDIT_TABLE") else None


def _checked_sku(value: str) -> str:
    if not value.strip() or len(value) > 128:
        raise ValueError("sku has to be a non-blank string")
    return value


class Line(BaseModel):
    sku: StrictStr
    quantity: StrictInt = Field(ge=1, le=MOST)

    @field_validator("sku")
    @classmethod
    def _sku_not_blank(cls, value: str) -> str:
        return _checked_sku(value)


app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)


def _audit(cart_id: str, action: str, sku: str) -> None:
    if AUDIT is not None:
        AUDIT.put_item(Item={"cartId": cart_id, "at": time.time_ns(), "action": action, "sku": sku})


@app.post("/cart/{cartId}/items", status_code=201)
def add_line(cartId: str, line: Line):
    for _ in range(3):
        items, version = storage.load(cartId)
        items = items or []
        found = next((i for i in items if i["sku"] == line.sku), None)
        if found is None:
            found = {"sku": line.sku, "quantity": 0}
            items.append(found)
        if found["quantity"] + line.quantity > MOST:
            raise HTTPException(400, f"a line holds at most {MOST} of {line.sku}")
        found["quantity"] += line.quantity
        if storage.save(cartId, items, version):
            _audit(cartId, "add", line.sku)
            return {"cartId": cartId, "items": items}
    raise HTTPException(409, "someone else changed this cart; retry")


@app.delete("/cart/{cartId}/items/{sku}")
def remove_line(cartId: str, sku: str):
    try:
        sku = _checked_sku(sku)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    for _ in range(3):
        items, version = storage.load(cartId)
        if items is None:
            raise HTTPException(404, "unknown cart")
        kept = [i for i in items if i["sku"] != sku]
        if len(kept) == len(items):
            raise HTTPException(404, f"nothing to remove: {sku} is not in this cart")
        if storage.save(cartId, kept, version):
            _audit(cartId, "remove", sku)
            return {"cartId": cartId, "items": kept}
    raise HTTPException(409, "someone else changed this cart; retry")


@app.exception_handler(RequestValidationError)
def invalid(request, exc: RequestValidationError):
    first = exc.errors()[0]
    if first.get("type") == "json_invalid" or isinstance(first.get("input"), bytes):
        return JSONResponse({"message": "expected a JSON body (application/json)"}, status_code=400)
    field = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "path"))
    return JSONResponse({"message": f"invalid {field or 'body'}: {first.get('msg')}"}, status_code=400)


@app.exception_handler(HTTPException)
def failed(request, exc: HTTPException):
    return JSONResponse({"message": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)


handler = Mangum(app)
