"""Products service: the catalogue behind GET /products.

Browsing needs no token, but a token that is sent must be valid: an expired or forged one
is refused here as in every service.
"""
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from shop_shared import auth, db
from shop_shared.errors import NotFound, api_handler, path_param

# The catalogue this shop sells; prices are integer cents.
CATALOGUE = [
    {"sku": "lambda-tee", "name": "Lambda T-shirt", "price": 2500},
    {"sku": "dynamodb-mug", "name": "DynamoDB mug", "price": 1400},
    {"sku": "sam-stickers", "name": "SAM sticker pack", "price": 500},
    {"sku": "apigw-cap", "name": "API Gateway cap", "price": 2000},
    {"sku": "stepfn-hoodie", "name": "Step Functions hoodie", "price": 5500},
    {"sku": "eventbridge-socks", "name": "EventBridge socks", "price": 1200},
]

logger = Logger()
tracer = Tracer()
metrics = Metrics()
TABLE = db.table("PRODUCTS_TABLE")
# shop_shared logs (a refused request, for one) in this logger's JSON, with its context keys.
copy_config_to_registered_loggers(source_logger=logger, include={"shop_shared"})
_seeded = False  # checked once per execution environment, not on every call


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
@api_handler
def list_products(event, context):
    auth.optional_token(event)
    _ensure_seeded()
    items, kwargs = [], {}
    while True:
        page = TABLE.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    products = sorted((_product(item) for item in items), key=lambda p: p["sku"])
    logger.info("catalogue listed", extra={"products": len(products)})
    metrics.add_metric(name="CatalogueListed", unit=MetricUnit.Count, value=1)
    return 200, {"products": products}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
@api_handler
def get_product(event, context):
    auth.optional_token(event)
    sku = path_param(event, "sku")
    _ensure_seeded()
    item = TABLE.get_item(Key={"sku": sku}).get("Item")
    if item is None:
        raise NotFound(f"product {sku} not found")
    logger.info("product read", extra={"sku": sku})
    metrics.add_metric(name="ProductViewed", unit=MetricUnit.Count, value=1)
    return 200, _product(item)


@tracer.capture_method
def _ensure_seeded():
    # No custom resources in this module, so the table is filled on first read.
    # Putting the same items twice is harmless, so concurrent first reads are fine.
    global _seeded
    if _seeded:
        return
    if not TABLE.scan(Limit=1, ProjectionExpression="sku")["Items"]:
        with TABLE.batch_writer() as batch:
            for product in CATALOGUE:
                batch.put_item(Item=product)
        logger.info("catalogue seeded", extra={"products": len(CATALOGUE)})
    _seeded = True


def _product(item):
    item = db.plain(item)
    return {"sku": item["sku"], "name": item["name"], "price": item["price"]}
