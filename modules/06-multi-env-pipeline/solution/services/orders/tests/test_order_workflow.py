"""The order workflow's definition, read and run with moto's Step Functions interpreter."""
import json

from conftest import definition


def seed(tables, sku, stock, reserved=0):
    tables["inventory"].put_item(Item={"sku": sku, "stock": stock, "reserved": reserved})


def stock(tables, sku):
    item = tables["inventory"].get_item(Key={"sku": sku})["Item"]
    return int(item["stock"]), int(item["reserved"]), set(item.get("holds", ()))


def states(document):
    for name, state in document["States"].items():
        yield name, state
        if "ItemProcessor" in state:
            yield from states(state["ItemProcessor"])


def test_every_task_but_the_payment_is_a_dynamodb_integration():
    tasks = {name: state["Resource"] for name, state in states(definition()) if state["Type"] == "Task"}
    lambdas = [name for name, resource in tasks.items() if ":lambda:" in resource]
    assert lambdas == ["ProcessPayment"]
    assert all(r.startswith("arn:aws:states:::dynamodb:") for n, r in tasks.items() if n != "ProcessPayment")


def test_the_payment_retries_transient_errors_with_backoff_and_catches_everything_else():
    payment = definition()["States"]["ProcessPayment"]
    retry = payment["Retry"][0]
    assert "PaymentTransientError" in retry["ErrorEquals"] and "PaymentDeclined" not in retry["ErrorEquals"]
    assert retry["IntervalSeconds"] >= 1 and retry["BackoffRate"] > 1 and retry["MaxAttempts"] >= 2
    assert payment["Catch"][0]["ErrorEquals"] == ["States.ALL"]
    assert payment["Catch"][0]["Next"] == "NotePaymentFailed"


def test_every_state_is_reachable_and_every_next_exists():
    document = definition()
    names = set(document["States"])
    targets = {document["StartAt"]}
    for state in document["States"].values():
        targets |= {state.get("Next"), *(c["Next"] for c in state.get("Catch", []))} - {None}
    assert targets <= names and names <= targets


def test_a_paid_order_is_fulfilled(run, tables):
    seed(tables, "lambda-tee", 10)
    status, execution = run([{"sku": "lambda-tee", "quantity": 3}])
    assert status == "FULFILLED" and execution["status"] == "SUCCEEDED"
    assert stock(tables, "lambda-tee") == (7, 0, set())


def test_an_order_out_of_stock_changes_no_stock(run, tables):
    seed(tables, "lambda-tee", 2)
    status, execution = run([{"sku": "lambda-tee", "quantity": 3}])
    assert status == "OUT_OF_STOCK"
    assert execution["status"] == "FAILED" and execution["error"] == "OUT_OF_STOCK"
    assert stock(tables, "lambda-tee") == (2, 0, set())


def test_an_unknown_sku_is_out_of_stock(run, tables):
    status, _ = run([{"sku": "no-such-sku", "quantity": 1}])
    assert status == "OUT_OF_STOCK"


def test_a_failed_payment_releases_the_reservation(run, tables):
    seed(tables, "lambda-tee", 10, reserved=4)
    status, execution = run([{"sku": "lambda-tee", "quantity": 3}], payment="decline")
    assert status == "PAYMENT_FAILED" and execution["error"] == "PAYMENT_FAILED"
    assert stock(tables, "lambda-tee") == (10, 4, set())  # exactly as before


def test_a_line_out_of_stock_releases_the_lines_reserved_before_it(run, tables):
    seed(tables, "lambda-tee", 10)
    seed(tables, "sam-stickers", 1)
    items = [{"sku": "lambda-tee", "quantity": 2}, {"sku": "sam-stickers", "quantity": 2}]
    status, _ = run(items)
    assert status == "OUT_OF_STOCK"
    assert stock(tables, "lambda-tee") == (10, 0, set())
    assert stock(tables, "sam-stickers") == (1, 0, set())


def test_the_same_sku_on_two_lines_is_reserved_and_spent_twice(run, tables):
    seed(tables, "lambda-tee", 10)
    status, _ = run([{"sku": "lambda-tee", "quantity": 2}, {"sku": "lambda-tee", "quantity": 5}])
    assert status == "FULFILLED"
    assert stock(tables, "lambda-tee") == (3, 0, set())


def test_the_order_records_its_lines(run, tables):
    seed(tables, "lambda-tee", 10)
    run([{"sku": "lambda-tee", "quantity": 1}])
    order = tables["orders"].scan()["Items"][0]
    assert json.loads(order["items"]) == [{"sku": "lambda-tee", "quantity": 1}]
    assert order["paymentId"] == "pay_test" and order["createdAt"]
