from common import NotFound, api, load_cart, path_param


@api
def handler(event, context):
    cart_id = path_param(event, "cartId")
    items, _ = load_cart(cart_id)
    if items is None:
        raise NotFound("cart not found")
    return 200, {"cartId": cart_id, "items": items}
