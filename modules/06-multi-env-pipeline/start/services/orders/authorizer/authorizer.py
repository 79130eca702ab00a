"""The orders API's Lambda authorizer: the shared one, from the shop_shared layer."""
from shop_shared.authorizer import handler  # noqa: F401 - the function's entry point
