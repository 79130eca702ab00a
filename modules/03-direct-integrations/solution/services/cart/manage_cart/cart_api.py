"""manage-cart: the cart's write routes as one FastAPI app, run on Lambda by Mangum.

POST   /cart/{cartId}/items        {"sku", "quantity"}  -> 201, the cart
DELETE /cart/{cartId}/items/{sku}                       -> 200, the cart; 404 when absent

One validation serves both routes (the Sku and Quantity types below), and every error is
{"message": ...}. The app is built once per execution environment, at init; a warm
invocation only routes one request through it.
"""
from typing import Annotated

from fastapi import FastAPI, Path
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from mangum import Mangum
from pydantic import AfterValidator, BaseModel, Field, Strict, StringConstraints
from starlette.exceptions import HTTPException

import cart_store

MAX_QUANTITY = 99
ATTEMPTS = 3  # optimistic-locking retries before answering 409


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


# The one validation. Strict: FastAPI would otherwise turn "2" into 2 and true into 1.
Sku = Annotated[str, Strict(), StringConstraints(min_length=1, max_length=128), AfterValidator(_not_blank)]
Quantity = Annotated[int, Strict(), Field(ge=1, le=MAX_QUANTITY)]
CartId = Annotated[str, Path(alias="cartId", min_length=1, max_length=128)]


class CartLine(BaseModel):
    sku: Sku
    quantity: Quantity


class Cart(BaseModel):
    cartId: str
    items: list[CartLine]


app = FastAPI(title="cart: manage-cart", docs_url=None, redoc_url=None, openapi_url=None)


@app.post("/cart/{cartId}/items", status_code=201, response_model=Cart)
def add_item(cart_id: CartId, line: CartLine):
    for _ in range(ATTEMPTS):
        items, version = cart_store.load(cart_id)
        items = items or []
        current = next((i for i in items if i["sku"] == line.sku), None)
        if current is None:
            current = {"sku": line.sku, "quantity": 0}
            items.append(current)
        if current["quantity"] + line.quantity > MAX_QUANTITY:
            raise HTTPException(400, f"quantity of {line.sku} would exceed {MAX_QUANTITY}")
        current["quantity"] += line.quantity
        if cart_store.save(cart_id, items, version):
            return {"cartId": cart_id, "items": items}
    raise HTTPException(409, "the cart changed meanwhile, retry")


@app.delete("/cart/{cartId}/items/{sku}", response_model=Cart)
def remove_item(cart_id: CartId, sku: Sku):
    for _ in range(ATTEMPTS):
        items, version = cart_store.load(cart_id)
        if items is None:
            raise HTTPException(404, "cart not found")
        kept = [i for i in items if i["sku"] != sku]
        if len(kept) == len(items):
            raise HTTPException(404, f"{sku} is not in the cart")
        if cart_store.save(cart_id, kept, version):
            return {"cartId": cart_id, "items": kept}
    raise HTTPException(409, "the cart changed meanwhile, retry")


# -- errors: {"message": ...} everywhere, 400 (not FastAPI's 422) for bad input ---------------

@app.exception_handler(RequestValidationError)
def bad_input(request, exc: RequestValidationError):
    error = exc.errors()[0]
    if error.get("type") == "json_invalid" or isinstance(error.get("input"), bytes):
        message = "body must be JSON, sent with Content-Type: application/json"
    else:
        where = [str(part) for part in error.get("loc", ()) if part not in ("body", "path", "query")]
        message = f"{'.'.join(where) or 'body'}: {error.get('msg', 'is invalid')}"
    return JSONResponse({"message": message}, status_code=400)


@app.exception_handler(HTTPException)
def http_error(request, exc: HTTPException):
    # Also answers the router's own 404 (unknown path) and 405 (with its Allow header).
    return JSONResponse({"message": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)


# The Lambda handler: Mangum turns the API Gateway event into an ASGI request and back.
handler = Mangum(app, lifespan="off")
