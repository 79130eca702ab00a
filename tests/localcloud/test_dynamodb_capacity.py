"""DynamoDB meters request units by item size and publishes them as AWS/DynamoDB metrics.

The rules: DynamoDB Developer Guide, "Item sizes and formats" (CapacityUnitCalculations.html)
and "Read/write capacity mode" (read-write-capacity-mode.html, ReadConsistency.html).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from workshop.localcloud.patches.dynamodb_capacity import item_size, read_units, write_units
from workshop.localcloud.safety import local_session


def test_item_size_follows_the_documented_rules():
    # "a string is its UTF-8 length; a name counts too; a Boolean or null is 1 byte"
    assert item_size({"pk": {"S": "abc"}}) == 2 + 3
    assert item_size({"ok": {"BOOL": True}, "no": {"NULL": True}}) == 2 + 1 + 2 + 1
    # "numbers: about one byte per two significant digits, plus one"
    assert item_size({"n": {"N": "12345"}}) == 1 + 4
    # "a list or map: 3 bytes, plus its elements, plus 1 byte per element"
    assert item_size({"l": {"L": [{"S": "ab"}, {"S": "c"}]}}) == 1 + 3 + (2 + 1) + (1 + 1)
    assert item_size({"m": {"M": {"k": {"S": "v"}}}}) == 1 + 3 + (1 + 1 + 1)


def test_units_round_up_per_4kb_read_and_1kb_write():
    assert read_units(100) == 0.5                      # eventually consistent: half a unit per 4 KB
    assert read_units(100, consistent=True) == 1
    assert read_units(4097, consistent=True) == 2
    assert read_units(0) == 0.5                        # a missing item still costs the minimum
    assert read_units(100, transactional=True) == 2
    assert write_units(1025) == 2
    assert write_units(10, transactional=True) == 2


@pytest.fixture
def dynamodb(cloud, unique):
    session = local_session(cloud.url)
    client = session.client("dynamodb")
    client.create_table(TableName=unique, BillingMode="PAY_PER_REQUEST",
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    yield client, session.client("cloudwatch"), unique
    client.delete_table(TableName=unique)


def _sum(cloudwatch, table: str, metric: str, since: datetime) -> float:
    points = cloudwatch.get_metric_statistics(
        Namespace="AWS/DynamoDB", MetricName=metric, Dimensions=[{"Name": "TableName", "Value": table}],
        StartTime=since, EndTime=datetime.now(UTC) + timedelta(seconds=2), Period=60, Statistics=["Sum"])
    return sum(p["Sum"] for p in points["Datapoints"])


def test_requests_publish_consumed_units_per_table(dynamodb):
    client, cloudwatch, table = dynamodb
    since = datetime.now(UTC) - timedelta(seconds=1)
    big = "x" * 3000                                   # a 3 KB item: 3 write units, one 4 KB read
    client.put_item(TableName=table, Item={"pk": {"S": "a"}, "body": {"S": big}})
    client.get_item(TableName=table, Key={"pk": {"S": "a"}})                        # 0.5
    client.get_item(TableName=table, Key={"pk": {"S": "a"}}, ConsistentRead=True)   # 1
    client.get_item(TableName=table, Key={"pk": {"S": "missing"}})                  # 0.5
    with pytest.raises(client.exceptions.ConditionalCheckFailedException):
        client.put_item(TableName=table, Item={"pk": {"S": "a"}}, ConditionExpression="attribute_not_exists(pk)")
    client.delete_item(TableName=table, Key={"pk": {"S": "a"}})                     # 3: the item deleted
    time.sleep(0.01)
    assert _sum(cloudwatch, table, "ConsumedReadCapacityUnits", since) == 2.0
    # put 3 + failed conditional put (the larger of before and after: 3) + delete 3
    assert _sum(cloudwatch, table, "ConsumedWriteCapacityUnits", since) == 9.0
