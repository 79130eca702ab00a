import json

import pytest

from conftest import SECRET, FakeLambda, lambda_context
from shop_shared.auth import issue_token


def api(orders_api, method, path, body=None, token="valid"):
    """The orders API's handler called with a REST proxy event; (status, json)."""
    token = issue_token("tester", SECRET) if token == "valid" else token
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    resource = "/orders" if path == "/orders" else "/orders/{orderId}"
    event = {"resource": resource, "path": path, "httpMethod": method, "headers": headers,
             "multiValueHeaders": {k: [v] for k, v in headers.items()},
             "pathParameters": None if path == "/orders" else {"orderId": path.rsplit("/", 1)[1]},
             "requestContext": {"requestId": "test", "stage": "Prod", "resourcePath": resource},
             "body": body if body is None or isinstance(body, str) else json.dumps(body), "isBase64Encoded": False}
    response = orders_api.handler(event, lambda_context())
    return int(response["statusCode"]), json.loads(response["body"])


def post(orders_api, body):
    return api(orders_api, "POST", "/orders", body)


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
    module, _ = orders_api
    tables["orders"].put_item(Item={"orderId": "o1", "status": "PAID"})
    assert api(module, "GET", "/orders/o1") == (200, {"orderId": "o1", "status": "PAID"})
    assert api(module, "GET", "/orders/nope")[0] == 404


@pytest.mark.parametrize("token", [None, issue_token("tester", SECRET, -1), issue_token("tester", "other")])
def test_orders_need_a_valid_token(orders_api, tables, token):
    module, fake = orders_api
    body = {"items": [{"sku": "lambda-tee", "quantity": 1}], "paymentToken": "tok_ok"}
    assert api(module, "POST", "/orders", body, token=token)[0] == 401
    assert api(module, "GET", "/orders/o1", token=token)[0] == 401
    assert fake.calls == []


# -- the steps -------------------------------------------------------------------------------

ORDER = {"orderId": "o1", "items": [{"sku": "lambda-tee", "quantity": 3}], "paymentToken": "tok_ok"}


def test_reserve_then_fulfil_spends_the_stock(steps, tables, context):
    seed(tables, "lambda-tee", 10)
    steps.submit_order(ORDER, context)
    steps.reserve_inventory(ORDER, context)
    assert stock(tables, "lambda-tee") == (7, 3)
    steps.fulfil_order(ORDER, context)
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
        return orchestrator.handler(ORDER, lambda_context("orchestrator")), fake

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
