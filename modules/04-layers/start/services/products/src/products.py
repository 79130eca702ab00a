"""Products service: the catalogue behind GET /products.

Browsing needs no token, but a token that is sent must be valid: an expired or forged one
is refused here as in every service.
"""
import auth
import db
from errors import NotFound, api_handler, path_param

# The catalogue this shop sells; prices are integer cents.
CATALOGUE = [
    {"sku": "lambda-tee", "name": "Lambda T-shirt", "price": 2500},
    {"sku": "dynamodb-mug", "name": "DynamoDB mug", "price": 1400},
    {"sku": "sam-stickers", "name": "SAM sticker pack", "price": 500},
    {"sku": "apigw-cap", "name": "API Gateway cap", "price": 2000},
    {"sku": "stepfn-hoodie", "name": "Step Functions hoodie", "price": 5500},
    {"sku": "eventbridge-socks", "name": "EventBridge socks", "price": 1200},
]

TABLE = db.table("PRODUCTS_TABLE")
_seeded = False  # checked once per execution environment, not on every call


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
    print(f"list_products: {len(items)} products")
    return 200, {"products": sorted((_product(item) for item in items), key=lambda p: p["sku"])}


@api_handler
def get_product(event, context):
    auth.optional_token(event)
    sku = path_param(event, "sku")
    print("get_product", sku)
    _ensure_seeded()
    item = TABLE.get_item(Key={"sku": sku}).get("Item")
    if item is None:
        raise NotFound(f"product {sku} not found")
    return 200, _product(item)


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
        print("seeded the catalogue")
    _seeded = True


def _product(item):
    item = db.plain(item)
    return {"sku": item["sku"], "name": item["name"], "price": item["price"]}
