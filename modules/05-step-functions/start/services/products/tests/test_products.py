import json


def call(handler, sku=None):
    event = {"pathParameters": {"sku": sku} if sku is not None else None}
    response = handler(event, None)
    assert response["headers"]["Content-Type"] == "application/json"
    return response["statusCode"], json.loads(response["body"])


def test_list_seeds_the_catalogue_on_first_read(products, table):
    status, body = call(products.list_products)
    assert status == 200
    assert len(body["products"]) >= 5
    for product in body["products"]:
        assert set(product) == {"sku", "name", "price"}
        assert isinstance(product["price"], int) and product["price"] > 0
    assert table.scan()["Count"] == len(products.CATALOGUE)


def test_seeding_is_idempotent(products, table):
    call(products.list_products)
    products._seeded = False  # as a new execution environment would
    status, body = call(products.list_products)
    assert status == 200
    assert len(body["products"]) == len(products.CATALOGUE)


def test_seeding_leaves_a_filled_table_alone(products, table):
    table.put_item(Item={"sku": "only-one", "name": "Only one", "price": 100})
    status, body = call(products.list_products)
    assert [p["sku"] for p in body["products"]] == ["only-one"]


def test_get_product(products):
    status, body = call(products.get_product, "lambda-tee")
    assert status == 200
    assert body == {"sku": "lambda-tee", "name": "Lambda T-shirt", "price": 2500}


def test_get_unknown_product_is_404(products):
    status, body = call(products.get_product, "no-such-sku")
    assert status == 404
    assert "message" in body
