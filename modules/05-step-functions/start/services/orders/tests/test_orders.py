import json

import pytest

from conftest import FakeLambda


def post(orders_api, body):
    response = orders_api.place_order({"body": body if isinstance(body, str) else json.dumps(body)}, None)
    assert response["headers"]["Content-Type"] == "application/json"
    return response["statusCode"], json.loads(response["body"])


def seed(tables, sku, stock, reserved=0):
    tables["inventory"].put_item(Item={"sku": sku, "stock": stock, "reserved": reserved})


def stock(tables, sku):
    item = tables["inventory"].get_item(Key={"sku": sku})["Item"]
    return int(item["stock"]), int(item["reserved"])


# -- the API ---------------------------------------------------------------------------------

def test_an_order_in_stock_is_handed_to_the_orchestrator(orders_api, tables):
    api, fake = orders_api
    seed(tables, "lambda-tee", 5)
    status, body = post(api, {"items": [{"sku": "lambda-tee", "quantity": 2}], "paymentToken": "tok_ok"})
    assert status == 202 and body["orderId"]
    assert fake.calls == [("orchestrator", {"orderId": body["orderId"], "items": [{"sku": "lambda-tee", "quantity": 2}],
                                            "paymentToken": "tok_ok"})]


def test_an_order_out_of_stock_is_recorded_at_once(orders_api, tables):
    api, fake = orders_api
    seed(tables, "lambda-tee", 1)
    status, body = post(api, {"items": [{"sku": "lambda-tee", "quantity": 2}], "paymentToken": "tok_ok"})
    assert status == 202 and fake.calls == []
    assert tables["orders"].get_item(Key={"orderId": body["orderId"]})["Item"]["status"] == "OUT_OF_STOCK"


@pytest.mark.parametrize("body", [
    "{not json", [], {"paymentToken": "tok_ok"}, {"items": [], "paymentToken": "tok_ok"},
    {"items": [{"sku": "lambda-tee", "quantity": 0}], "paymentToken": "tok_ok"},
    {"items": [{"sku": "lambda-tee", "quantity": 100}], "paymentToken": "tok_ok"},
    {"items": [{"sku": "lambda-tee", "quantity": True}], "paymentToken": "tok_ok"},
    {"items": [{"sku": "", "quantity": 1}], "paymentToken": "tok_ok"},
    {"items": [{"sku": "lambda-tee", "quantity": 1}]},
])
def test_bad_orders_are_400(orders_api, body):
    api, fake = orders_api
    status, answer = post(api, body)
    assert status == 400 and answer["message"] and fake.calls == []


def test_get_order(orders_api, tables):
    api, _ = orders_api
    tables["orders"].put_item(Item={"orderId": "o1", "status": "PAID"})
    response = api.get_order({"pathParameters": {"orderId": "o1"}}, None)
    assert (response["statusCode"], json.loads(response["body"])) == (200, {"orderId": "o1", "status": "PAID"})
    assert api.get_order({"pathParameters": {"orderId": "nope"}}, None)["statusCode"] == 404


# -- the steps -------------------------------------------------------------------------------

ORDER = {"orderId": "o1", "items": [{"sku": "lambda-tee", "quantity": 3}], "paymentToken": "tok_ok"}


def test_reserve_then_fulfil_spends_the_stock(steps, tables):
    seed(tables, "lambda-tee", 10)
    steps.submit_order(ORDER, None)
    steps.reserve_inventory(ORDER, None)
    assert stock(tables, "lambda-tee") == (7, 3)
    steps.fulfil_order(ORDER, None)
    assert stock(tables, "lambda-tee") == (7, 0)
    assert tables["orders"].get_item(Key={"orderId": "o1"})["Item"]["status"] == "FULFILLED"


# -- the orchestrator ------------------------------------------------------------------------

@pytest.fixture
def orchestrate(tables, steps, monkeypatch):
    import orchestrator

    monkeypatch.setattr(orchestrator, "FIRST_DELAY", 0)

    def orchestrate(payment):
        fake = FakeLambda({
            "submit-order": steps.submit_order,
            "reserve-inventory": steps.reserve_inventory,
            "process-payment": payment,
            "fulfil-order": steps.fulfil_order,
        })
        monkeypatch.setattr(orchestrator, "LAMBDA", fake)
        return orchestrator.handler(ORDER, None), fake

    return orchestrate


class PaymentDeclined(Exception):
    pass


class PaymentTransientError(Exception):
    pass


def test_a_paid_order_goes_through_every_step(orchestrate, tables):
    seed(tables, "lambda-tee", 10)
    result, fake = orchestrate(lambda event, context: {"status": "APPROVED", "paymentId": "pay_1"})
    assert result["status"] == "FULFILLED"
    assert [name for name, _ in fake.calls] == ["submit-order", "reserve-inventory", "process-payment", "fulfil-order"]
    assert stock(tables, "lambda-tee") == (7, 0)


def test_a_transient_payment_failure_is_retried(orchestrate, tables):
    seed(tables, "lambda-tee", 10)
    attempts = []

    def flaky(event, context):
        attempts.append(1)
        if len(attempts) == 1:
            raise PaymentTransientError("timeout")
        return {"status": "APPROVED", "paymentId": "pay_1"}

    result, _ = orchestrate(flaky)
    assert result["status"] == "FULFILLED" and len(attempts) == 2


def test_a_declined_payment_fails_the_order(orchestrate, tables):
    seed(tables, "lambda-tee", 10)

    def decline(event, context):
        raise PaymentDeclined("declined")

    result, fake = orchestrate(decline)
    assert result["status"] == "PAYMENT_FAILED"
    assert tables["orders"].get_item(Key={"orderId": "o1"})["Item"]["status"] == "PAYMENT_FAILED"
