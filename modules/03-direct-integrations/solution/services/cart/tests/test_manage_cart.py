import json

import pytest


def add(call, app, sku, quantity, cart_id="c1"):
    return call(app.handler, "POST", f"/cart/{cart_id}/items", json.dumps({"sku": sku, "quantity": quantity}))


def remove(call, app, sku, cart_id="c1"):
    return call(app.handler, "DELETE", f"/cart/{cart_id}/items/{sku}")


def test_add_creates_the_cart(app, call):
    assert add(call, app, "lambda-tee", 2) == (201, {"cartId": "c1", "items": [{"sku": "lambda-tee", "quantity": 2}]})


def test_adding_an_existing_sku_adds_to_its_quantity(app, call):
    add(call, app, "lambda-tee", 2)
    add(call, app, "dynamodb-mug", 1)
    status, body = add(call, app, "lambda-tee", 3)
    assert status == 201
    assert body["items"] == [{"sku": "lambda-tee", "quantity": 5}, {"sku": "dynamodb-mug", "quantity": 1}]


def test_a_line_cannot_exceed_99(app, call):
    assert add(call, app, "lambda-tee", 99)[0] == 201
    status, body = add(call, app, "lambda-tee", 1)
    assert status == 400 and "message" in body


@pytest.mark.parametrize("body", [
    None, "", "not json", "[]",
    json.dumps({"quantity": 1}),
    json.dumps({"sku": "", "quantity": 1}),
    json.dumps({"sku": "   ", "quantity": 1}),
    json.dumps({"sku": 7, "quantity": 1}),
    json.dumps({"sku": "lambda-tee"}),
    json.dumps({"sku": "lambda-tee", "quantity": 0}),
    json.dumps({"sku": "lambda-tee", "quantity": 100}),
    json.dumps({"sku": "lambda-tee", "quantity": 1.5}),
    json.dumps({"sku": "lambda-tee", "quantity": "2"}),
    json.dumps({"sku": "lambda-tee", "quantity": True}),
])
def test_bad_input_is_400(app, call, table, body):
    status, response = call(app.handler, "POST", "/cart/c1/items", body)
    assert status == 400 and isinstance(response["message"], str)
    assert "Item" not in table.get_item(Key={"cartId": "c1"})  # nothing was written


def test_remove_item(app, call):
    add(call, app, "lambda-tee", 2)
    add(call, app, "dynamodb-mug", 1)
    assert remove(call, app, "lambda-tee") == (200, {"cartId": "c1", "items": [{"sku": "dynamodb-mug", "quantity": 1}]})


def test_removing_the_last_item_keeps_an_empty_cart(app, call, table):
    add(call, app, "lambda-tee", 2)
    assert remove(call, app, "lambda-tee") == (200, {"cartId": "c1", "items": []})
    assert table.get_item(Key={"cartId": "c1"})["Item"]["items"] == []


def test_remove_from_a_missing_cart_or_a_missing_line_is_404(app, call):
    assert remove(call, app, "lambda-tee", cart_id="nope")[0] == 404
    add(call, app, "lambda-tee", 2)
    status, body = remove(call, app, "dynamodb-mug")
    assert status == 404 and "message" in body


def test_an_unknown_route_answers_in_the_shop_error_shape(app, call):
    status, body = call(app.handler, "GET", "/nowhere")
    assert status == 404 and "message" in body


def test_the_item_keeps_a_version(app, call, table):
    add(call, app, "lambda-tee", 1)
    add(call, app, "lambda-tee", 1)
    assert table.get_item(Key={"cartId": "c1"})["Item"]["version"] == 2


def test_a_concurrent_write_is_retried_not_lost(app, call, monkeypatch):
    add(call, app, "lambda-tee", 1)
    real_load = app.load
    raced = []

    def load_then_race(cart_id):
        loaded = real_load(cart_id)
        if not raced:  # another request saves the cart between our read and our write
            raced.append(True)
            items, version = loaded
            app.save(cart_id, items + [{"sku": "dynamodb-mug", "quantity": 1}], version)
        return loaded

    monkeypatch.setattr(app, "load", load_then_race)
    status, body = add(call, app, "lambda-tee", 1)
    assert status == 201
    assert body["items"] == [{"sku": "lambda-tee", "quantity": 2}, {"sku": "dynamodb-mug", "quantity": 1}]
