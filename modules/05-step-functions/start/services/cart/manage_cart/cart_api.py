"""manage-cart: the cart's write routes as one FastAPI app, run on Lambda by Mangum.

POST   /cart/{cartId}/items        {"sku", "quantity"}  -> 201, the cart
DELETE /cart/{cartId}/items/{sku}                       -> 200, the cart; 404 when absent

One validation serves both routes (the Sku and Quantity types below), and every error is
{"message": ...}. The app is built once per execution environment, at init; a warm
invocation only routes one request through it.

The token is checked before this function runs: the cart API's Lambda authorizer (the shared
one, from the shop_shared layer) guards every route and hands the caller's identity on in the
event's requestContext.authorizer. Logging, metrics and tracing come from the Powertools layer;
FastAPI keeps its own routing (the cart has been a FastAPI app since module 02).
"""
from typing import Annotated

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from fastapi import FastAPI, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from mangum import Mangum
from pydantic import AfterValidator, BaseModel, Field, Strict, StringConstraints
from starlette.exceptions import HTTPException

import cart_store

MAX_QUANTITY = 99
ATTEMPTS = 3  # optimistic-locking retries before answering 409

logger = Logger()  # service name and level: the POWERTOOLS_* variables of the template
tracer = Tracer()
metrics = Metrics()  # namespace: POWERTOOLS_METRICS_NAMESPACE


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
def add_item(cart_id: CartId, line: CartLine, request: Request):
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
            logger.info("item added", extra={"cart_id": cart_id, "sku": line.sku, "quantity": line.quantity,
                                             "user": caller(request)})
            metrics.add_metric(name="CartItemsAdded", unit=MetricUnit.Count, value=line.quantity)
            return {"cartId": cart_id, "items": items}
        logger.warning("cart changed meanwhile, retrying", extra={"cart_id": cart_id})
    raise HTTPException(409, "the cart changed meanwhile, retry")


@app.delete("/cart/{cartId}/items/{sku}", response_model=Cart)
def remove_item(cart_id: CartId, sku: Sku, request: Request):
    for _ in range(ATTEMPTS):
        items, version = cart_store.load(cart_id)
        if items is None:
            raise HTTPException(404, "cart not found")
        kept = [i for i in items if i["sku"] != sku]
        if len(kept) == len(items):
            raise HTTPException(404, f"{sku} is not in the cart")
        if cart_store.save(cart_id, kept, version):
            logger.info("item removed", extra={"cart_id": cart_id, "sku": sku, "user": caller(request)})
            metrics.add_metric(name="CartItemsRemoved", unit=MetricUnit.Count, value=1)
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


def caller(request: Request) -> str | None:
    """Who called: the principal the authorizer returned (Mangum keeps the Lambda event in the scope)."""
    event = request.scope.get("aws.event") or {}
    return ((event.get("requestContext") or {}).get("authorizer") or {}).get("principalId")


# Mangum turns the API Gateway event into an ASGI request and back; Powertools wraps it as it
# wraps any handler.
asgi_handler = Mangum(app, lifespan="off")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context: LambdaContext) -> dict:
    return asgi_handler(event, context)
