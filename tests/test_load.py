"""200 concurrent requests to the shop on the local target: no errors, no lost cart writes."""

from __future__ import annotations

import pytest

from workshop import course
from workshop.load import cart_load


@pytest.mark.slow
def test_two_hundred_concurrent_cart_writes_are_all_kept(local):
    cart = course.module("01").solution / "services" / "cart" / "template.yaml"
    info = local.deployer().deploy(cart, "load-cart")
    try:
        result = cart_load(info.outputs["ApiUrl"], requests=200)
        assert result.statuses == {201: 200}, result
        assert result.lost == 0
    finally:
        local.deployer().destroy("load-cart")
