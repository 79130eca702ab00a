"""Inventory service: stock levels per SKU behind GET /inventory/{sku}. Needs a valid token."""
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from shop_shared import auth, db

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

logger = Logger()  # service name and level: the POWERTOOLS_* variables of the template
tracer = Tracer()
metrics = Metrics()  # namespace: POWERTOOLS_METRICS_NAMESPACE
app = APIGatewayRestResolver()
app.use(middlewares=[auth.require_token])  # the one token check, from the shared layer
TABLE = db.table("INVENTORY_TABLE")


@app.get("/inventory/<sku>")
@tracer.capture_method
def get_stock(sku: str):
    item = TABLE.get_item(Key={"sku": sku}, ConsistentRead=True).get("Item")
    if item is None:
        if sku not in STOCKED_SKUS:
            raise NotFoundError(f"no stock record for {sku}")
        item = _seed(sku)
    item = db.plain(item)
    logger.info("stock read", extra={"sku": sku, "stock": item["stock"], "reserved": item["reserved"],
                                     "user": app.context["claims"]["sub"]})
    metrics.add_metric(name="StockLookups", unit=MetricUnit.Count, value=1)
    return {"sku": item["sku"], "stock": item["stock"], "reserved": item["reserved"]}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)


def _seed(sku):
    # Stock is seeded on first read. The condition keeps a concurrent first read
    # (or a reservation made meanwhile) from being overwritten.
    item = {"sku": sku, "stock": INITIAL_STOCK, "reserved": 0}
    if db.put_new(TABLE, item, "sku"):
        logger.info("stock seeded", extra={"sku": sku, "stock": INITIAL_STOCK})
        return item
    return TABLE.get_item(Key={"sku": sku}, ConsistentRead=True)["Item"]
