"""Inventory service: stock levels per SKU behind GET /inventory/{sku}. Needs a valid token."""
import auth
import db
from errors import NotFound, api_handler, path_param

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

TABLE = db.table("INVENTORY_TABLE")


@api_handler
def get_stock(event, context):
    user = auth.require_token(event)
    sku = path_param(event, "sku")
    print("get_stock", sku, "for", user.get("sub"))
    item = TABLE.get_item(Key={"sku": sku}, ConsistentRead=True).get("Item")
    if item is None:
        if sku not in STOCKED_SKUS:
            raise NotFound(f"no stock record for {sku}")
        item = _seed(sku)
    item = db.plain(item)
    return 200, {"sku": item["sku"], "stock": item["stock"], "reserved": item["reserved"]}


def _seed(sku):
    # Stock is seeded on first read. The condition keeps a concurrent first read
    # (or a reservation made meanwhile) from being overwritten.
    item = {"sku": sku, "stock": INITIAL_STOCK, "reserved": 0}
    if db.put_new(TABLE, item, "sku"):
        print("seeded stock for", sku)
        return item
    return TABLE.get_item(Key={"sku": sku}, ConsistentRead=True)["Item"]
