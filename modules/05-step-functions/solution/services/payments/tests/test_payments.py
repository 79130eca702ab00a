import pytest


@pytest.fixture
def pay(payments, context):
    def pay(token, order_id="o1", amount=2500):
        return payments.process_payment({"orderId": order_id, "amount": amount, "paymentToken": token}, context)

    return pay


def test_tok_ok_approves(pay):
    result = pay("tok_ok")
    assert result["status"] == "APPROVED"
    assert result["paymentId"]


def test_approval_is_idempotent_per_order(pay):
    assert pay("tok_ok") == pay("tok_ok")
    assert pay("tok_ok", order_id="o2") != pay("tok_ok")


@pytest.mark.parametrize("token", ["tok_declined", "tok_unknown", ""])
def test_declined_and_unknown_tokens_raise_payment_declined(payments, pay, token, table):
    with pytest.raises(payments.PaymentDeclined):
        pay(token)
    assert table.scan()["Count"] == 0


def test_tok_flaky_fails_once_then_approves(payments, pay):
    with pytest.raises(payments.PaymentTransientError):
        pay("tok_flaky")
    assert pay("tok_flaky")["status"] == "APPROVED"
    assert pay("tok_flaky")["status"] == "APPROVED"


def test_tok_flaky_fails_once_per_order(payments, pay):
    with pytest.raises(payments.PaymentTransientError):
        pay("tok_flaky", order_id="a")
    with pytest.raises(payments.PaymentTransientError):
        pay("tok_flaky", order_id="b")


def test_errors_are_named_for_the_workflow(payments):
    # Lambda reports the class name as errorType; the order workflow matches on it.
    assert payments.PaymentDeclined.__name__ == "PaymentDeclined"
    assert payments.PaymentTransientError.__name__ == "PaymentTransientError"


def test_amount_over_the_limit_is_declined(payments, pay):
    with pytest.raises(payments.PaymentDeclined):
        pay("tok_ok", amount=payments.MAX_CHARGE_CENTS + 1)


@pytest.mark.parametrize(
    "event",
    [
        {"amount": 100, "paymentToken": "tok_ok"},
        {"orderId": "o1", "amount": "100", "paymentToken": "tok_ok"},
        {"orderId": "o1", "amount": 0, "paymentToken": "tok_ok"},
        {"orderId": "o1", "amount": True, "paymentToken": "tok_ok"},
        {"orderId": "o1", "amount": 100},
    ],
)
def test_malformed_events_are_rejected(payments, context, event):
    with pytest.raises(ValueError):
        payments.process_payment(event, context)


def test_logs_carry_the_order_id_as_correlation_id(payments, pay):
    import io
    import json

    handler = payments.logger.registered_handler
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        pay("tok_ok", order_id="order-42")
    finally:
        handler.setStream(previous)
    approved = next(json.loads(line) for line in stream.getvalue().splitlines() if "payment approved" in line)
    assert approved["correlation_id"] == "order-42"


def test_the_order_lines_are_priced_from_the_tariff(payments, table, context):
    items = [{"sku": "lambda-tee", "quantity": 2}, {"sku": "sam-stickers", "quantity": 1}]
    result = payments.process_payment({"orderId": "o9", "items": items, "paymentToken": "tok_ok"}, context)
    assert result["amount"] == 2 * 2500 + 500
    assert table.get_item(Key={"orderId": "o9"})["Item"]["amount"] == 5500


@pytest.mark.parametrize(
    "items",
    [[], [{"sku": "no-such-sku", "quantity": 1}], [{"sku": "lambda-tee", "quantity": 0}],
     [{"sku": "lambda-tee", "quantity": True}], "lambda-tee", [["lambda-tee", 1]]],
)
def test_lines_that_cannot_be_priced_are_rejected(payments, items, table, context):
    with pytest.raises(ValueError):
        payments.process_payment({"orderId": "o1", "items": items, "paymentToken": "tok_ok"}, context)
    assert table.scan()["Count"] == 0
