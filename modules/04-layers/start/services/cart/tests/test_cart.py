import json

import pytest
from conftest import SECRET
from auth import issue_token


@pytest.fixture
def call(context, token):
    def call(handler, cart_id="c1", sku=None, body=None, auth=token):
        params = {"cartId": cart_id}
        if sku is not None:
            params["sku"] = sku
        event = {"pathParameters": params, "body": body, "headers": {}, "requestContext": {"requestId": "r-1"}}
        if auth is not None:
            event["headers"]["Authorization"] = f"Bearer {auth}"
        response = handler(event, context)
        assert response["headers"]["Content-Type"] == "application/json"
        return response["statusCode"], json.loads(response["body"])

    return call


@pytest.fixture
def add(cart, call):
    def add(sku, quantity, cart_id="c1"):
        return call(cart.add_item, cart_id, body=json.dumps({"sku": sku, "quantity": quantity}))

    return add


def test_add_creates_the_cart(cart, call, add):
    status, body = add("lambda-tee", 2)
    assert status == 201
    assert body == {"cartId": "c1", "items": [{"sku": "lambda-tee", "quantity": 2}]}
    assert call(cart.get_cart) == (200, body)


def test_adding_an_existing_sku_adds_to_its_quantity(add):
    add("lambda-tee", 2)
    add("dynamodb-mug", 1)
    status, body = add("lambda-tee", 3)
    assert status == 201
    assert body["items"] == [
        {"sku": "lambda-tee", "quantity": 5},
        {"sku": "dynamodb-mug", "quantity": 1},
    ]


def test_a_line_cannot_exceed_99(cart, call, add):
    assert add("lambda-tee", 99)[0] == 201
    status, body = add("lambda-tee", 1)
    assert status == 400 and "message" in body
    assert call(cart.get_cart)[1]["items"] == [{"sku": "lambda-tee", "quantity": 99}]


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
        json.dumps({"sku": "lambda-tee", "quantity": 1.5}),
        json.dumps({"sku": "lambda-tee", "quantity": "2"}),
        json.dumps({"sku": "lambda-tee", "quantity": True}),
    ],
)
def test_bad_input_is_400(cart, call, body):
    status, response = call(cart.add_item, body=body)
    assert status == 400
    assert isinstance(response["message"], str)
    assert call(cart.get_cart)[0] == 404  # nothing was written


def test_remove_item(cart, call, add):
    add("lambda-tee", 2)
    add("dynamodb-mug", 1)
    status, body = call(cart.remove_item, sku="lambda-tee")
    assert status == 200
    assert body == {"cartId": "c1", "items": [{"sku": "dynamodb-mug", "quantity": 1}]}
    assert call(cart.get_cart) == (200, body)


def test_remove_from_a_missing_cart_or_line_is_404(cart, call, add):
    assert call(cart.remove_item, cart_id="nope", sku="lambda-tee")[0] == 404
    add("lambda-tee", 2)
    status, body = call(cart.remove_item, sku="dynamodb-mug")
    assert status == 404 and "message" in body


def test_get_a_missing_cart_is_404(cart, call):
    assert call(cart.get_cart, cart_id="nope") == (404, {"message": "cart not found"})


def test_a_concurrent_write_is_retried_not_lost(cart, add, monkeypatch):
    add("lambda-tee", 1)
    real_load = cart._load
    raced = []

    def load_then_race(cart_id):
        loaded = real_load(cart_id)
        if not raced:  # another request saves the cart between our read and our write
            raced.append(True)
            add("dynamodb-mug", 1)
        return loaded

    monkeypatch.setattr(cart, "_load", load_then_race)
    status, body = add("lambda-tee", 1)
    assert status == 201
    assert body["items"] == [
        {"sku": "lambda-tee", "quantity": 2},
        {"sku": "dynamodb-mug", "quantity": 1},
    ]


BAD_TOKENS = {
    "missing": None,
    "expired": issue_token("tester", SECRET, ttl_seconds=-1),
    "forged": issue_token("tester", "someone-elses-secret"),
    "garbage": "not-a-token",
}


@pytest.mark.parametrize("kind", BAD_TOKENS)
@pytest.mark.parametrize("route", ["add_item", "remove_item", "get_cart"])
def test_every_route_needs_a_valid_token(cart, call, add, kind, route):
    add("lambda-tee", 1)
    body = json.dumps({"sku": "lambda-tee", "quantity": 1})
    status, response = call(getattr(cart, route), sku="lambda-tee", body=body, auth=BAD_TOKENS[kind])
    assert status == 401 and response["message"]
    assert call(cart.get_cart)[1]["items"] == [{"sku": "lambda-tee", "quantity": 1}]  # nothing changed
