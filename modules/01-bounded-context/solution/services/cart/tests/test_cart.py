import json

import pytest


def call(function, cart_id="c1", sku=None, body=None):
    params = {"cartId": cart_id}
    if sku is not None:
        params["sku"] = sku
    response = function.handler({"pathParameters": params, "body": body}, None)
    assert response["headers"]["Content-Type"] == "application/json"
    return response["statusCode"], json.loads(response["body"])


@pytest.fixture
def add(add_to_cart):
    def add(sku, quantity, cart_id="c1"):
        return call(add_to_cart, cart_id, body=json.dumps({"sku": sku, "quantity": quantity}))

    return add


def test_add_creates_the_cart(add, get_cart):
    status, body = add("lambda-tee", 2)
    assert status == 201
    assert body == {"cartId": "c1", "items": [{"sku": "lambda-tee", "quantity": 2}]}
    assert call(get_cart) == (200, body)


def test_adding_an_existing_sku_adds_to_its_quantity(add):
    add("lambda-tee", 2)
    add("dynamodb-mug", 1)
    status, body = add("lambda-tee", 3)
    assert status == 201
    assert body["items"] == [
        {"sku": "lambda-tee", "quantity": 5},
        {"sku": "dynamodb-mug", "quantity": 1},
    ]


def test_a_line_cannot_exceed_99(add, get_cart):
    assert add("lambda-tee", 99)[0] == 201
    status, body = add("lambda-tee", 1)
    assert status == 400 and "message" in body
    assert call(get_cart)[1]["items"] == [{"sku": "lambda-tee", "quantity": 99}]


@pytest.mark.parametrize(
    "body",
    [
        None,
        "",
        "not json",
        "[]",
        json.dumps({"quantity": 1}),
        json.dumps({"sku": "", "quantity": 1}),
        json.dumps({"sku": "   ", "quantity": 1}),
        json.dumps({"sku": 7, "quantity": 1}),
        json.dumps({"sku": "lambda-tee"}),
        json.dumps({"sku": "lambda-tee", "quantity": 0}),
        json.dumps({"sku": "lambda-tee", "quantity": 100}),
        json.dumps({"sku": "lambda-tee", "quantity": -1}),
    ],
)
def test_bad_input_is_400(add_to_cart, get_cart, body):
    status, response = call(add_to_cart, body=body)
    assert status == 400
    assert isinstance(response["message"], str)
    assert call(get_cart)[0] == 404  # nothing was written


def test_remove_item(add, remove_from_cart, get_cart):
    add("lambda-tee", 2)
    add("dynamodb-mug", 1)
    status, body = call(remove_from_cart, sku="lambda-tee")
    assert status == 200
    assert body == {"cartId": "c1", "items": [{"sku": "dynamodb-mug", "quantity": 1}]}
    assert call(get_cart) == (200, body)


def test_removing_the_last_item_keeps_an_empty_cart(add, remove_from_cart, get_cart):
    add("lambda-tee", 2)
    assert call(remove_from_cart, sku="lambda-tee") == (200, {"cartId": "c1", "items": []})
    assert call(get_cart) == (200, {"cartId": "c1", "items": []})


def test_remove_from_a_missing_cart_is_404(remove_from_cart):
    status, body = call(remove_from_cart, cart_id="nope", sku="lambda-tee")
    assert status == 404 and "message" in body


def test_remove_a_sku_not_in_the_cart_is_404(add, remove_from_cart):
    add("lambda-tee", 2)
    status, body = call(remove_from_cart, sku="dynamodb-mug")
    assert status == 404 and "message" in body


def test_get_a_missing_cart_is_404(get_cart):
    assert call(get_cart, cart_id="nope") == (404, {"message": "cart not found"})


def test_carts_are_separate(add, get_cart):
    add("lambda-tee", 2, cart_id="a")
    add("dynamodb-mug", 1, cart_id="b")
    assert call(get_cart, cart_id="a")[1]["items"] == [{"sku": "lambda-tee", "quantity": 2}]


def test_a_concurrent_write_is_retried_not_lost(add, add_to_cart, monkeypatch):
    add("lambda-tee", 1)
    real_load = add_to_cart._load
    raced = []

    def load_then_race(cart_id):
        loaded = real_load(cart_id)
        if not raced:  # another request saves the cart between our read and our write
            raced.append(True)
            add("dynamodb-mug", 1)
        return loaded

    monkeypatch.setattr(add_to_cart, "_load", load_then_race)
    status, body = add("lambda-tee", 1)
    assert status == 201
    assert body["items"] == [
        {"sku": "lambda-tee", "quantity": 2},
        {"sku": "dynamodb-mug", "quantity": 1},
    ]
