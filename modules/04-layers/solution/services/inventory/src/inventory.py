"""Inventory service: stock levels per SKU behind GET /inventory/{sku}. Needs a valid token."""
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from shop_shared import auth, db
from shop_shared.errors import NotFound, api_handler, path_param

# Inventory keeps its own list of the SKUs it stocks (module 01: no coupling to products).
STOCKED_SKUS = {
    "lambda-tee",
    "dynamodb-mug",
    "sam-stickers",
    "apigw-cap",
    "stepfn-hoodie",
    "eventbridge-socks",
}
INITIAL_STOCK = 100

logger = Logger()
tracer = Tracer()
metrics = Metrics()
TABLE = db.table("INVENTORY_TABLE")
# shop_shared logs (a refused request, for one) in this logger's JSON, with its context keys.
copy_config_to_registered_loggers(source_logger=logger, include={"shop_shared"})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
@api_handler
def get_stock(event, context):
    auth.require_token(event)
    sku = path_param(event, "sku")
    item = TABLE.get_item(Key={"sku": sku}, ConsistentRead=True).get("Item")
    if item is None:
        if sku not in STOCKED_SKUS:
            raise NotFound(f"no stock record for {sku}")
        item = _seed(sku)
    item = db.plain(item)
    logger.info("stock read", extra={"sku": sku, "stock": item["stock"], "reserved": item["reserved"]})
    metrics.add_metric(name="StockLookups", unit=MetricUnit.Count, value=1)
    return 200, {"sku": item["sku"], "stock": item["stock"], "reserved": item["reserved"]}


@tracer.capture_method
def _seed(sku):
    # Stock is seeded on first read. The condition keeps a concurrent first read
    # (or a reservation made meanwhile) from being overwritten.
    item = {"sku": sku, "stock": INITIAL_STOCK, "reserved": 0}
    if db.put_new(TABLE, item, "sku"):
        logger.info("stock seeded", extra={"sku": sku, "stock": INITIAL_STOCK})
        return item
    return TABLE.get_item(Key={"sku": sku}, ConsistentRead=True)["Item"]
