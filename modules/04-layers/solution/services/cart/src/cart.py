"""Cart service: one DynamoDB item per cart, lines kept in order of addition.

Every route needs a valid token. The helpers (auth, errors, db) come from the shop_shared
layer; logging, metrics and tracing from the Powertools layer.
"""
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from boto3.dynamodb.conditions import Attr
from shop_shared import auth, db
from shop_shared.errors import BadRequest, Conflict, NotFound, api_handler, json_body, path_param

MAX_QUANTITY = 99
ATTEMPTS = 3  # optimistic-locking retries before answering 409

logger = Logger()  # service name, level: POWERTOOLS_* variables of the template
tracer = Tracer()
metrics = Metrics()  # namespace: POWERTOOLS_METRICS_NAMESPACE
TABLE = db.table("CART_TABLE")
# shop_shared logs (a refused request, for one) in this logger's JSON, with its context keys.
copy_config_to_registered_loggers(source_logger=logger, include={"shop_shared"})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
@api_handler
def add_item(event, context):
    user = auth.require_token(event)
    cart_id = path_param(event, "cartId")
    sku, quantity = _parse_line(json_body(event))
    for attempt in range(ATTEMPTS):
        items, version = _load(cart_id)
        items = items or []
        line = next((i for i in items if i["sku"] == sku), None)
        if line is None:
            line = {"sku": sku, "quantity": 0}
            items.append(line)
        if line["quantity"] + quantity > MAX_QUANTITY:
            raise BadRequest(f"quantity of {sku} would exceed {MAX_QUANTITY}")
        line["quantity"] += quantity
        if _save(cart_id, items, version):
            logger.info("item added", extra={"cart_id": cart_id, "sku": sku, "quantity": quantity, "user": user["sub"]})
            metrics.add_metric(name="CartItemsAdded", unit=MetricUnit.Count, value=quantity)
            return 201, {"cartId": cart_id, "items": items}
        logger.warning("cart changed meanwhile, retrying", extra={"cart_id": cart_id, "attempt": attempt + 1})
    raise Conflict("the cart changed meanwhile, retry")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
@api_handler
def remove_item(event, context):
    auth.require_token(event)
    cart_id, sku = path_param(event, "cartId"), path_param(event, "sku")
    for _ in range(ATTEMPTS):
        items, version = _load(cart_id)
        if items is None:
            raise NotFound("cart not found")
        kept = [i for i in items if i["sku"] != sku]
        if len(kept) == len(items):
            raise NotFound(f"{sku} is not in the cart")
        if _save(cart_id, kept, version):
            logger.info("item removed", extra={"cart_id": cart_id, "sku": sku})
            metrics.add_metric(name="CartItemsRemoved", unit=MetricUnit.Count, value=1)
            return 200, {"cartId": cart_id, "items": kept}
    raise Conflict("the cart changed meanwhile, retry")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
@api_handler
def get_cart(event, context):
    auth.require_token(event)
    cart_id = path_param(event, "cartId")
    items, _ = _load(cart_id)
    if items is None:
        raise NotFound("cart not found")
    logger.info("cart read", extra={"cart_id": cart_id, "lines": len(items)})
    metrics.add_metric(name="CartsRead", unit=MetricUnit.Count, value=1)
    return 200, {"cartId": cart_id, "items": items}


def _parse_line(data):
    sku, quantity = data.get("sku"), data.get("quantity")
    if not isinstance(sku, str) or not sku.strip():
        raise BadRequest("sku must be a non-empty string")
    # bool is a subclass of int in Python: true must not count as 1.
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise BadRequest("quantity must be an integer")
    if not 1 <= quantity <= MAX_QUANTITY:
        raise BadRequest(f"quantity must be between 1 and {MAX_QUANTITY}")
    return sku, quantity


@tracer.capture_method
def _load(cart_id):
    """The cart's lines (None when there is no cart) and its version."""
    cart = TABLE.get_item(Key={"cartId": cart_id}, ConsistentRead=True).get("Item")
    if cart is None:
        return None, 0
    cart = db.plain(cart)
    items = [{"sku": i["sku"], "quantity": i["quantity"]} for i in cart["items"]]
    return items, cart["version"]


@tracer.capture_method
def _save(cart_id, items, version):
    # The write only lands if nobody saved the cart since we read it.
    expected = Attr("version").eq(version) if version else Attr("cartId").not_exists()
    try:
        TABLE.put_item(
            Item={"cartId": cart_id, "items": items, "version": version + 1},
            ConditionExpression=expected,
        )
        return True
    except Exception as error:
        if db.is_conditional_check_failed(error):
            return False
        raise
