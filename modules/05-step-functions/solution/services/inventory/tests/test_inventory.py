import json


def call(inventory, sku):
    response = inventory.get_stock({"pathParameters": {"sku": sku}}, None)
    assert response["headers"]["Content-Type"] == "application/json"
    return response["statusCode"], json.loads(response["body"])


def test_stock_is_seeded_on_first_read(inventory, table):
    assert call(inventory, "lambda-tee") == (
        200,
        {"sku": "lambda-tee", "stock": 100, "reserved": 0},
    )
    assert table.get_item(Key={"sku": "lambda-tee"})["Item"]["stock"] == 100


def test_seeding_never_overwrites_existing_stock(inventory, table):
    table.put_item(Item={"sku": "lambda-tee", "stock": 7, "reserved": 3})
    assert call(inventory, "lambda-tee") == (200, {"sku": "lambda-tee", "stock": 7, "reserved": 3})


def test_a_concurrent_seed_is_not_overwritten(inventory, table):
    table.put_item(Item={"sku": "apigw-cap", "stock": 42, "reserved": 1})
    assert inventory._seed("apigw-cap")["stock"] == 42


def test_every_stocked_sku_has_stock(inventory):
    for sku in inventory.STOCKED_SKUS:
        status, body = call(inventory, sku)
        assert status == 200 and body["stock"] > 0


def test_unknown_sku_is_404(inventory, table):
    status, body = call(inventory, "no-such-sku")
    assert status == 404 and "message" in body
    assert table.scan()["Count"] == 0
