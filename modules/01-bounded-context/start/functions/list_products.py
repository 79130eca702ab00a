from common import api, product_json, products_table, seed_catalogue


@api
def handler(event, context):
    seed_catalogue()
    items, kwargs = [], {}
    while True:
        page = products_table.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    products = sorted((product_json(item) for item in items), key=lambda p: p["sku"])
    return 200, {"products": products}
