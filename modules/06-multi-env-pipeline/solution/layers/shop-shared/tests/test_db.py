from decimal import Decimal

import boto3
import pytest
from shop_shared import db


@pytest.fixture
def table(aws, monkeypatch):
    client = boto3.client("dynamodb")
    if "things" in client.list_tables()["TableNames"]:
        client.delete_table(TableName="things")
    client.create_table(
        TableName="things",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    monkeypatch.setenv("THINGS_TABLE", "things")
    db.table.cache_clear()
    return db.table("THINGS_TABLE")


def test_table_is_named_by_an_environment_variable(table):
    assert table.name == "things"
    assert db.table("THINGS_TABLE") is table  # one resource per execution environment


def test_a_missing_variable_says_which(monkeypatch):
    monkeypatch.delenv("NOPE_TABLE", raising=False)
    with pytest.raises(RuntimeError, match="NOPE_TABLE"):
        db.table("NOPE_TABLE")


def test_plain_turns_decimals_into_json_numbers():
    item = {"n": Decimal("3"), "f": Decimal("1.5"), "lines": [{"q": Decimal("2")}], "s": "x"}
    assert db.plain(item) == {"n": 3, "f": 1.5, "lines": [{"q": 2}], "s": "x"}
    assert isinstance(db.plain(Decimal("3")), int)


def test_put_new_writes_once(table):
    assert db.put_new(table, {"id": "a", "v": 1}, "id") is True
    assert db.put_new(table, {"id": "a", "v": 2}, "id") is False
    assert table.get_item(Key={"id": "a"})["Item"]["v"] == 1


def test_conditional_check_failed_is_recognised(table):
    table.put_item(Item={"id": "b"})
    with pytest.raises(Exception) as raised:
        table.put_item(Item={"id": "b"}, ConditionExpression="attribute_not_exists(id)")
    assert db.is_conditional_check_failed(raised.value)
    assert not db.is_conditional_check_failed(ValueError())
