import json


def get(call, get_cart, cart_id):
    return call(get_cart.handler, "GET", f"/cart/{cart_id}", path_parameters={"cartId": cart_id})


def post(call, app, sku, quantity, cart_id="c1"):
    return call(app.handler, "POST", f"/cart/{cart_id}/items", json.dumps({"sku": sku, "quantity": quantity}))


def test_get_returns_what_manage_cart_wrote(app, call):
    import get_cart

    post(call, app, "lambda-tee", 2)
    _, written = post(call, app, "dynamodb-mug", 3)
    assert get(call, get_cart, "c1") == (200, written)
    assert written == {"cartId": "c1", "items": [{"sku": "lambda-tee", "quantity": 2},
                                                  {"sku": "dynamodb-mug", "quantity": 3}]}


def test_an_emptied_cart_has_no_items(app, call):
    import get_cart

    post(call, app, "lambda-tee", 2)
    call(app.handler, "DELETE", "/cart/c1/items/lambda-tee")
    assert get(call, get_cart, "c1") == (200, {"cartId": "c1", "items": []})


def test_a_missing_cart_is_404(app, call):
    import get_cart

    assert get(call, get_cart, "nope") == (404, {"message": "cart not found"})
