from common import (
    INITIAL_STOCK,
    ConditionFailed,
    NotFound,
    api,
    inventory_table,
    path_param,
    products_table,
    seed_catalogue,
)


@api
def handler(event, context):
    sku = path_param(event, "sku")
    item = inventory_table.get_item(Key={"sku": sku}, ConsistentRead=True).get("Item")
    if item is None:
        # Only products in the catalogue have stock: ask the products table.
        seed_catalogue()
        if "Item" not in products_table.get_item(Key={"sku": sku}):
            raise NotFound(f"no stock record for {sku}")
        item = {"sku": sku, "stock": INITIAL_STOCK, "reserved": 0}
        try:
            inventory_table.put_item(Item=item, ConditionExpression="attribute_not_exists(sku)")
        except ConditionFailed:
            item = inventory_table.get_item(Key={"sku": sku}, ConsistentRead=True)["Item"]
    return 200, {"sku": sku, "stock": int(item["stock"]), "reserved": int(item["reserved"])}
