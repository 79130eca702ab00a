"""GET /cart/{cartId} has no function, but its mapping templates are code all the same.

The `get_cart` fixture (conftest.py) takes the templates from template.yaml and renders them
with airspeed, a Python port of Velocity (the language of API Gateway's templates), around a
real GetItem on the items that manage-cart writes: the rendered JSON must be exactly what
manage-cart answered.
"""
import json

import pytest

from conftest import get_cart_integration

pytest.importorskip("airspeed")


@pytest.fixture
def post(manage_cart, get_cart):
    def post(cart_id, sku, quantity):
        return send(manage_cart, "POST", f"/cart/{cart_id}/items", json.dumps({"sku": sku, "quantity": quantity}))

    return post


def send(function, method, path, body=None):
    from test_cart import answer, event

    cart_id = path.split("/")[2]
    return answer(function.handler(event(method, path, body, path_parameters={"cartId": cart_id}), None))


def test_the_integration_calls_dynamodb_getitem():
    integration = get_cart_integration()
    assert integration["type"] == "aws"
    assert integration["uri"]["Fn::Sub"].endswith(":dynamodb:action/GetItem")


def test_a_cart_of_one_item_renders_as_manage_cart_returned_it(post, get_cart):
    _, written = post("c1", "lambda-tee", 2)
    assert send(get_cart, "GET", "/cart/c1") == (200, written)


def test_a_cart_of_many_items_keeps_their_order(post, get_cart):
    for sku, quantity in [("lambda-tee", 2), ("dynamodb-mug", 1), ("sqs-socks", 3), ("lambda-tee", 1)]:
        _, written = post("c1", sku, quantity)
    assert send(get_cart, "GET", "/cart/c1") == (200, written)
    assert [line["sku"] for line in written["items"]] == ["lambda-tee", "dynamodb-mug", "sqs-socks"]


def test_quotes_in_a_sku_still_give_valid_json(post, get_cart):
    _, written = post("c1", 'the "serverless" hoodie', 1)
    assert send(get_cart, "GET", "/cart/c1") == (200, written)


def test_a_missing_cart_is_404_with_a_message(get_cart):
    assert send(get_cart, "GET", "/cart/nope") == (404, {"message": "cart not found"})
