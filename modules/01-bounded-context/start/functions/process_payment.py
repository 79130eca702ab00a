from common import BadRequest, positive_int
from payments_gateway import charge


def handler(event, context):
    order_id, token = event.get("orderId"), event.get("paymentToken")
    if not isinstance(order_id, str) or not order_id or not isinstance(token, str):
        raise BadRequest("orderId and paymentToken must be strings")
    amount = positive_int(event.get("amount"), "amount")
    return charge(order_id, amount, token)
