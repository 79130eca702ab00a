"""Products service: the catalogue behind GET /products and GET /products/{sku}.

One function serves both routes with Powertools' event handler. Browsing needs no token, but a
token that is sent must be valid: an expired or forged one is refused here as in every service.
"""
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from shop_shared import auth, db

# The catalogue this shop sells; prices are integer cents.
CATALOGUE = [
    {"sku": "lambda-tee", "name": "Lambda T-shirt", "price": 2500},
    {"sku": "dynamodb-mug", "name": "DynamoDB mug", "price": 1400},
    {"sku": "sam-stickers", "name": "SAM sticker pack", "price": 500},
    {"sku": "apigw-cap", "name": "API Gateway cap", "price": 2000},
    {"sku": "stepfn-hoodie", "name": "Step Functions hoodie", "price": 5500},
    {"sku": "eventbridge-socks", "name": "EventBridge socks", "price": 1200},
]

logger = Logger()  # service name and level: the POWERTOOLS_* variables of the template
tracer = Tracer()
metrics = Metrics()  # namespace: POWERTOOLS_METRICS_NAMESPACE
app = APIGatewayRestResolver()
app.use(middlewares=[auth.check_token_if_sent])
TABLE = db.table("PRODUCTS_TABLE")
_seeded = False  # checked once per execution environment, not on every call


@app.get("/products")
@tracer.capture_method
def list_products():
    _ensure_seeded()
    items, kwargs = [], {}
    while True:
        page = TABLE.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    metrics.add_metric(name="CatalogueListed", unit=MetricUnit.Count, value=1)
    return {"products": sorted((_product(item) for item in items), key=lambda p: p["sku"])}


@app.get("/products/<sku>")
@tracer.capture_method
def get_product(sku: str):
    _ensure_seeded()
    item = TABLE.get_item(Key={"sku": sku}).get("Item")
    if item is None:
        raise NotFoundError(f"product {sku} not found")
    metrics.add_metric(name="ProductViewed", unit=MetricUnit.Count, value=1)
    return _product(item)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)


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
