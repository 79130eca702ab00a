"""The cart table: one DynamoDB item per cart, lines kept in order of addition."""
from boto3.dynamodb.conditions import Attr
from botocore.exceptions import ClientError
from shop_shared import db

# Created once per execution environment, at init: warm invocations reuse the connection.
TABLE = db.table("CART_TABLE")


def load(cart_id):
    """The cart's lines (None when there is no cart) and its version."""
    cart = TABLE.get_item(Key={"cartId": cart_id}, ConsistentRead=True).get("Item")
    if cart is None:
        return None, 0
    cart = db.plain(cart)  # DynamoDB's Decimals -> int, for JSON
    return [{"sku": i["sku"], "quantity": i["quantity"]} for i in cart["items"]], cart["version"]


def save(cart_id, items, version):
    """Write the cart only if nobody saved it since we read it; False when someone did."""
    expected = Attr("version").eq(version) if version else Attr("cartId").not_exists()
    try:
        TABLE.put_item(
            Item={"cartId": cart_id, "items": items, "version": version + 1},
            ConditionExpression=expected,
        )
        return True
    except ClientError as error:
        if db.is_conditional_check_failed(error):
            return False
        raise
