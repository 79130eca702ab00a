from common import NotFound, api, path_param, product_json, products_table, seed_catalogue


@api
def handler(event, context):
    sku = path_param(event, "sku")
    seed_catalogue()
    item = products_table.get_item(Key={"sku": sku}).get("Item")
    if item is None:
        raise NotFound(f"product {sku} not found")
    return 200, product_json(item)
