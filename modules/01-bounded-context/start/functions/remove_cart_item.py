from common import Conflict, NotFound, api, load_cart, path_param, save_cart


@api
def handler(event, context):
    cart_id, sku = path_param(event, "cartId"), path_param(event, "sku")
    for _ in range(3):
        items, version = load_cart(cart_id)
        if items is None:
            raise NotFound("cart not found")
        kept = [i for i in items if i["sku"] != sku]
        if len(kept) == len(items):
            raise NotFound(f"{sku} is not in the cart")
        if save_cart(cart_id, kept, version):
            return 200, {"cartId": cart_id, "items": kept}
    raise Conflict("the cart changed meanwhile, retry")
