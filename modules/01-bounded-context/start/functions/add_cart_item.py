from common import (
    MAX_QUANTITY,
    BadRequest,
    Conflict,
    api,
    json_body,
    load_cart,
    path_param,
    positive_int,
    save_cart,
)


@api
def handler(event, context):
    cart_id = path_param(event, "cartId")
    data = json_body(event)
    sku = data.get("sku")
    if not isinstance(sku, str) or not sku.strip():
        raise BadRequest("sku must be a non-empty string")
    quantity = positive_int(data.get("quantity"), "quantity", MAX_QUANTITY)
    for _ in range(3):  # optimistic locking: retry when another request saved first
        items, version = load_cart(cart_id)
        items = items or []
        line = next((i for i in items if i["sku"] == sku), None)
        if line is None:
            line = {"sku": sku, "quantity": 0}
            items.append(line)
        if line["quantity"] + quantity > MAX_QUANTITY:
            raise BadRequest(f"quantity of {sku} would exceed {MAX_QUANTITY}")
        line["quantity"] += quantity
        if save_cart(cart_id, items, version):
            return 201, {"cartId": cart_id, "items": items}
    raise Conflict("the cart changed meanwhile, retry")
