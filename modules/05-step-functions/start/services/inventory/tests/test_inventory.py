import pytest
from conftest import SECRET
from shop_shared.auth import issue_token


@pytest.fixture
def call(get, token):
    def call(sku, auth=token):
        return get(sku, token=auth)

    return call


def test_stock_is_seeded_on_first_read(table, call):
    assert call("lambda-tee") == (200, {"sku": "lambda-tee", "stock": 100, "reserved": 0})
    assert table.get_item(Key={"sku": "lambda-tee"})["Item"]["stock"] == 100


def test_seeding_never_overwrites_existing_stock(table, call):
    table.put_item(Item={"sku": "lambda-tee", "stock": 7, "reserved": 3})
    assert call("lambda-tee") == (200, {"sku": "lambda-tee", "stock": 7, "reserved": 3})


def test_a_concurrent_seed_is_not_overwritten(inventory, table):
    table.put_item(Item={"sku": "apigw-cap", "stock": 42, "reserved": 1})
    assert inventory._seed("apigw-cap")["stock"] == 42


def test_every_stocked_sku_has_stock(inventory, call):
    for sku in inventory.STOCKED_SKUS:
        status, body = call(sku)
        assert status == 200 and body["stock"] > 0


def test_unknown_sku_is_404(table, call):
    status, body = call("no-such-sku")
    assert status == 404 and "message" in body
    assert table.scan()["Count"] == 0


@pytest.mark.parametrize("bad", [
    None,
    issue_token("tester", SECRET, ttl_seconds=-1),  # the stale copy of module 04's start let this one in
    issue_token("tester", "someone-elses-secret"),
    "not-a-token",
])
def test_stock_needs_a_valid_token(table, call, bad):
    status, body = call("lambda-tee", auth=bad)
    assert status == 401 and body["message"]
    assert table.scan()["Count"] == 0
