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
