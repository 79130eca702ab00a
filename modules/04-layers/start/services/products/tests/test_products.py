import json

import pytest
from conftest import SECRET
from auth import issue_token


@pytest.fixture
def call(context):
    def call(handler, sku=None, auth=None):
        event = {"pathParameters": {"sku": sku} if sku is not None else None, "headers": {}}
        if auth is not None:
            event["headers"]["authorization"] = f"Bearer {auth}"
        response = handler(event, context)
        assert response["headers"]["Content-Type"] == "application/json"
        return response["statusCode"], json.loads(response["body"])

    return call


def test_list_seeds_the_catalogue_on_first_read(products, table, call):
    status, body = call(products.list_products)
    assert status == 200
    assert len(body["products"]) >= 5
    for product in body["products"]:
        assert set(product) == {"sku", "name", "price"}
        assert isinstance(product["price"], int) and product["price"] > 0
    assert table.scan()["Count"] == len(products.CATALOGUE)


def test_seeding_is_idempotent(products, call):
    call(products.list_products)
    products._seeded = False  # as a new execution environment would
    status, body = call(products.list_products)
    assert status == 200
    assert len(body["products"]) == len(products.CATALOGUE)


def test_seeding_leaves_a_filled_table_alone(products, table, call):
    table.put_item(Item={"sku": "only-one", "name": "Only one", "price": 100})
    status, body = call(products.list_products)
    assert [p["sku"] for p in body["products"]] == ["only-one"]


def test_get_product(products, call):
    assert call(products.get_product, "lambda-tee") == (
        200, {"sku": "lambda-tee", "name": "Lambda T-shirt", "price": 2500})


def test_get_unknown_product_is_404(products, call):
    status, body = call(products.get_product, "no-such-sku")
    assert status == 404 and "message" in body


def test_browsing_needs_no_token_but_a_valid_one_is_welcome(products, token, call):
    assert call(products.list_products)[0] == 200
    assert call(products.list_products, auth=token)[0] == 200
    assert call(products.get_product, "lambda-tee", auth=token)[0] == 200


@pytest.mark.parametrize("bad", [
    issue_token("tester", SECRET, ttl_seconds=-1),
    issue_token("tester", "someone-elses-secret"),
    "not-a-token",
])
def test_a_bad_token_is_refused_even_here(products, call, bad):
    for handler, sku in ((products.list_products, None), (products.get_product, "lambda-tee")):
        status, body = call(handler, sku, auth=bad)
        assert status == 401 and body["message"]
