"""The cart's functions as API Gateway calls them: REST API proxy events (payload 1.0)."""
import json

import pytest


def event(method, path, body=None, path_parameters=None, resource=None, content_type="application/json"):
    headers = {"Content-Type": content_type} if content_type else {}
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource or path,
            "httpMethod": method,
            "path": "/Prod" + path,
            "stage": "Prod",
            "requestId": "test-request",
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": body,
        "isBase64Encoded": False,
    }


def answer(response):
    headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
    assert headers["content-type"] == "application/json"
    return response["statusCode"], json.loads(response["body"])


@pytest.fixture
def api(manage_cart, get_cart):
    """Route a request the way the deployed API does: writes to manage-cart, reads to get-cart."""

    def call(method, path, body=None, **kwargs):
        if method == "GET":
            cart_id = path.split("/")[2]
            return answer(get_cart.handler(event(method, path, path_parameters={"cartId": cart_id}), None))
        return answer(manage_cart.handler(event(method, path, body, **kwargs), None))

    return call


@pytest.fixture
def add(api):
    def add(sku, quantity, cart_id="c1"):
        return api("POST", f"/cart/{cart_id}/items", json.dumps({"sku": sku, "quantity": quantity}))

    return add


def test_add_creates_the_cart(api, add):
    status, body = add("lambda-tee", 2)
    assert status == 201
    assert body == {"cartId": "c1", "items": [{"sku": "lambda-tee", "quantity": 2}]}
    assert api("GET", "/cart/c1") == (200, body)


def test_adding_an_existing_sku_adds_to_its_quantity(add):
    add("lambda-tee", 2)
    add("dynamodb-mug", 1)
    status, body = add("lambda-tee", 3)
    assert status == 201
    assert body["items"] == [
        {"sku": "lambda-tee", "quantity": 5},
        {"sku": "dynamodb-mug", "quantity": 1},
    ]


def test_a_line_cannot_exceed_99(api, add):
    assert add("lambda-tee", 99)[0] == 201
    status, body = add("lambda-tee", 1)
    assert status == 400 and "message" in body
    assert api("GET", "/cart/c1")[1]["items"] == [{"sku": "lambda-tee", "quantity": 99}]


def test_any_sku_is_accepted_without_asking_products(add):
    assert add("not-in-the-catalogue", 1)[0] == 201


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
        json.dumps({"sku": "lambda-tee", "quantity": 1.0}),
        json.dumps({"sku": "lambda-tee", "quantity": "2"}),
        json.dumps({"sku": "lambda-tee", "quantity": True}),
        json.dumps({"sku": "lambda-tee", "quantity": None}),
    ],
)
def test_bad_input_is_400_with_a_message(api, body):
    status, response = api("POST", "/cart/c1/items", body)
    assert status == 400  # never FastAPI's default 422
    assert isinstance(response["message"], str) and response["message"]
    assert api("GET", "/cart/c1")[0] == 404  # nothing was written


def test_a_body_not_sent_as_json_is_400(api):
    body = json.dumps({"sku": "lambda-tee", "quantity": 1})
    status, response = api("POST", "/cart/c1/items", body, content_type="text/plain")
    assert status == 400 and "JSON" in response["message"]


def test_the_delete_route_validates_the_sku_with_the_same_rules(api, add):
    add("lambda-tee", 1)
    status, response = api("DELETE", "/cart/c1/items/%20%20")
    assert status == 400 and "sku" in response["message"]


def test_remove_item(api, add):
    add("lambda-tee", 2)
    add("dynamodb-mug", 1)
    status, body = api("DELETE", "/cart/c1/items/lambda-tee")
    assert status == 200
    assert body == {"cartId": "c1", "items": [{"sku": "dynamodb-mug", "quantity": 1}]}
    assert api("GET", "/cart/c1") == (200, body)


def test_removing_the_last_item_keeps_an_empty_cart(api, add):
    add("lambda-tee", 2)
    assert api("DELETE", "/cart/c1/items/lambda-tee") == (200, {"cartId": "c1", "items": []})
    assert api("GET", "/cart/c1") == (200, {"cartId": "c1", "items": []})


def test_remove_from_a_missing_cart_is_404(api):
    status, body = api("DELETE", "/cart/nope/items/lambda-tee")
    assert status == 404 and "message" in body


def test_remove_a_sku_not_in_the_cart_is_404(api, add):
    add("lambda-tee", 2)
    status, body = api("DELETE", "/cart/c1/items/dynamodb-mug")
    assert status == 404 and "message" in body


def test_get_a_missing_cart_is_404(api):
    assert api("GET", "/cart/nope") == (404, {"message": "cart not found"})


def test_carts_are_separate(api, add):
    add("lambda-tee", 2, cart_id="a")
    add("dynamodb-mug", 1, cart_id="b")
    assert api("GET", "/cart/a")[1]["items"] == [{"sku": "lambda-tee", "quantity": 2}]


def test_the_router_answers_unknown_paths_and_methods_with_a_message(manage_cart):
    assert answer(manage_cart.handler(event("GET", "/nowhere"), None))[0] == 404
    response = manage_cart.handler(event("PATCH", "/cart/c1/items"), None)
    assert response["headers"]["allow"] == "POST"
    status, body = answer(response)
    assert status == 405 and body == {"message": "Method Not Allowed"}


def test_a_concurrent_write_is_retried_not_lost(add, cart_store, monkeypatch):
    add("lambda-tee", 1)
    real_load = cart_store.load
    raced = []

    def load_then_race(cart_id):
        loaded = real_load(cart_id)
        if not raced:  # another request saves the cart between our read and our write
            raced.append(True)
            items, version = real_load(cart_id)
            assert cart_store.save(cart_id, items + [{"sku": "dynamodb-mug", "quantity": 1}], version)
        return loaded

    monkeypatch.setattr(cart_store, "load", load_then_race)
    status, body = add("lambda-tee", 1)
    assert status == 201
    assert body["items"] == [
        {"sku": "lambda-tee", "quantity": 2},
        {"sku": "dynamodb-mug", "quantity": 1},
    ]
