"""Fairness of module 05's checkpoints: wrong refactors fail, other correct refactors pass.

Each case copies module 05's solution, changes it with one small named function (its
docstring says what the learner did), deploys it into the session's local cloud and runs the
checkpoints, asserting on the verdicts:

- a WRONG refactor must fail the checkpoints its mistake violates, and pass the ones named as
  untouched; only those checkpoints run (module 05's checks place real orders, with retries
  that really wait, so every case runs as few as it can). A wrong refactor that a checkpoint
  accepts is a defect of that checkpoint: its case is an xfail(strict) that raises
  UnfairVerdict only when exactly the named checkpoints pass;
- a CORRECT alternative (other state and resource names, the ASL inline in the template or in
  a YAML file elsewhere, AWS SDK integrations, the payment by its bare function ARN, other Retry
  figures and Catch error names, an extra Pass state, reservations kept in a second inventory
  table) must pass every checkpoint. A correct alternative that a checkpoint rejects
  is a defect of that checkpoint: its case is an xfail(strict) that raises UnfairVerdict only
  when exactly the named checkpoints fail, so any other failure still shows as a real error.

Not a correct alternative here: a thin function behind POST /orders that calls StartExecution.
DESIGN.md admits one only "if the docs say why", and the module's README teaches the direct
integration without offering the function, so no case claims the checks must accept it.
"""

from __future__ import annotations

import contextlib
import copy
import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from workshop import course
from workshop.deploy.targets import LocalTarget
from workshop.grading.runner import run_checks

from . import variants
from .variants import Case

MODULE = course.module("05")
ORDERS = Path("services/orders")
ASL = ORDERS / "statemachine" / "order_workflow.asl.json"
TREES = Path(__file__).parent / "trees_05"


# -- editing helpers ---------------------------------------------------------------------------

def _template(tree: Path, service: str) -> Path:
    return tree / "services" / service / "template.yaml"


@contextlib.contextmanager
def _workflow(tree: Path) -> Iterator[dict[str, Any]]:
    """The solution's ASL as a dict, written back when the block ends."""
    definition = json.loads((tree / ASL).read_text())
    yield definition
    (tree / ASL).write_text(json.dumps(definition, indent=2) + "\n")


def _all_states(definition: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(name, state, the States dict holding it), nested Map states included."""
    for name, state in definition["States"].items():
        yield name, state, definition["States"]
        if "ItemProcessor" in state:
            yield from _all_states(state["ItemProcessor"])


def _state(definition: dict[str, Any], name: str) -> dict[str, Any]:
    found = [state for n, state, _ in _all_states(definition) if n == name]
    assert len(found) == 1, f"the fixture changed: the workflow has {len(found)} states named {name}"
    return found[0]


def _rename_states(definition: dict[str, Any], names: dict[str, str]) -> None:
    """Rename states everywhere: their keys, StartAt, Next, Default and every Catch's Next."""
    definition["StartAt"] = names.get(definition["StartAt"], definition["StartAt"])
    definition["States"] = {names.get(n, n): s for n, s in definition["States"].items()}
    for state in definition["States"].values():
        for holder in [state, *state.get("Catch", []), *state.get("Choices", [])]:
            for key in ("Next", "Default"):
                if key in holder:
                    holder[key] = names.get(holder[key], holder[key])
        if "ItemProcessor" in state:
            _rename_states(state["ItemProcessor"], names)


# -- wrong refactors -----------------------------------------------------------------------------

def payment_without_retry(tree: Path) -> None:
    """The learner deletes the orchestrator's hand-written retry loop and declares only a Catch
    on the payment task: a transient provider error now goes straight to compensation."""
    with _workflow(tree) as definition:
        del _state(definition, "ProcessPayment")["Retry"]


def console_default_retrier_only(tree: Path) -> None:
    """The learner keeps the Retry the Step Functions console proposes for a Lambda task
    (Lambda.ServiceException and friends, 1 s, backoff 2): a backoff is declared, but the
    payment's own PaymentTransientError is never retried, so tok_flaky ends PAYMENT_FAILED."""
    with _workflow(tree) as definition:
        _state(definition, "ProcessPayment")["Retry"] = [{
            "ErrorEquals": ["Lambda.ServiceException", "Lambda.AWSLambdaException",
                            "Lambda.SdkClientException", "Lambda.TooManyRequestsException"],
            "IntervalSeconds": 1, "MaxAttempts": 3, "BackoffRate": 2}]


def catch_marks_failed_without_release(tree: Path) -> None:
    """The payment's Catch marks the order PAYMENT_FAILED and stops: the learner wired the
    compensation only after an out-of-stock line, so a declined order keeps its units reserved."""
    with _workflow(tree) as definition:
        _state(definition, "NotePaymentFailed")["Next"] = "MarkFailed"


def reserve_without_condition(tree: Path) -> None:
    """The reservation is a plain updateItem, `stock = stock - :q` with no ConditionExpression:
    the start's race, moved into the state machine. Orders oversell and stock goes negative."""
    with _workflow(tree) as definition:
        del _state(definition, "ReserveLine")["Parameters"]["ConditionExpression"]


def reserve_by_a_lambda_task(tree: Path) -> None:
    """The learner keeps reserving in code: a ReserveStock function in the inventory service
    (a correct conditional update, trees_05/reserve_by_lambda) invoked by a lambda:invoke task
    per line. Two Lambda tasks where the module asks for one: the data step is not an integration."""
    variants.overlay(tree, TREES / "reserve_by_lambda")
    variants.replace_in(_template(tree, "inventory"), "\nOutputs:\n", """
  ReserveStockFunction:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Sub "${AWS::StackName}-ReserveStock"
      Handler: reserve.reserve
      Policies:
        - DynamoDBCrudPolicy:
            TableName: !Ref InventoryTable

Outputs:
""")
    orders = _template(tree, "orders")
    variants.replace_in(orders, "        # Payments' function, named after the payments stack.\n", """\
        ReserveStockFunction: !Sub
          - "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${Prefix}-inventory-ReserveStock"
          - Prefix: !Select [0, !Split ["-orders", !Ref "AWS::StackName"]]
        # Payments' function, named after the payments stack.
""")
    variants.replace_in(orders, """\
                - "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${Prefix}-payments-ProcessPayment*"
                - Prefix: !Select [0, !Split ["-orders", !Ref "AWS::StackName"]]
""", """\
                - "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${Prefix}-payments-ProcessPayment*"
                - Prefix: !Select [0, !Split ["-orders", !Ref "AWS::StackName"]]
            - Effect: Allow
              Action: lambda:InvokeFunction
              Resource: !Sub
                - "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${Prefix}-inventory-ReserveStock*"
                - Prefix: !Select [0, !Split ["-orders", !Ref "AWS::StackName"]]
""")
    with _workflow(tree) as definition:
        reserve = definition["States"]["ReserveInventory"]
        reserve["ItemProcessor"]["States"]["ReserveLine"] = {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "${ReserveStockFunction}", "Payload.$": "$"},
            "ResultPath": None,
            "End": True,
        }
        reserve["Catch"][0]["ErrorEquals"] = ["OutOfStock"]


def compensation_releases_twice(tree: Path) -> None:
    """The learner adds a "give the stock back" Map to the payment's Catch path, not seeing that
    the shared ReleaseReservations after it already releases: a declined order returns its
    units twice (stock above what it was, reserved below zero)."""
    with _workflow(tree) as definition:
        states = definition["States"]
        give_back = copy.deepcopy(states["ReleaseReservations"])
        give_back["Comment"] = "Give the reserved units back when the payment fails."
        line = give_back["ItemProcessor"]["States"].pop("ReleaseLine")
        del give_back["ItemProcessor"]["States"]["NothingHeld"]
        line.pop("Catch")
        line["Parameters"] = {
            "TableName": "${InventoryTable}",
            "Key": {"sku": {"S.$": "$.sku"}},
            "UpdateExpression": "SET stock = stock + :q, reserved = reserved - :q",
            "ExpressionAttributeValues": {":q": {"N.$": "$.quantity"}},
        }
        give_back["ItemProcessor"]["StartAt"] = "GiveBackLine"
        give_back["ItemProcessor"]["States"]["GiveBackLine"] = line
        give_back["Next"] = "ReleaseReservations"
        states["GiveBackStock"] = give_back
        states["NotePaymentFailed"]["Next"] = "GiveBackStock"


def release_without_the_hold_condition(tree: Path) -> None:
    """The learner drops the holds bookkeeping from the compensation (the condition looked
    redundant): the release now also runs for a line that was never reserved, so an order out
    of stock gives back units it never took."""
    with _workflow(tree) as definition:
        line = _state(definition, "ReleaseLine")
        line["Parameters"]["UpdateExpression"] = "SET stock = stock + :q, reserved = reserved - :q"
        del line["Parameters"]["ConditionExpression"]
        line["Parameters"]["ExpressionAttributeValues"] = {":q": {"N.$": "$.quantity"}}


def payment_failure_leaves_the_order_stuck(tree: Path) -> None:
    """The payment's Catch goes straight to the Fail state: the execution fails at once, but the
    order is never marked PAYMENT_FAILED (it stays RESERVED) and its units stay reserved."""
    with _workflow(tree) as definition:
        _state(definition, "NotePaymentFailed")["Next"] = "OrderNotFulfilled"


# -- correct alternatives --------------------------------------------------------------------------

STATE_NAMES = {
    "SubmitOrder": "RecordOrder", "ReserveInventory": "HoldStock", "ReserveLine": "HoldOneLine",
    "MarkReserved": "SetStatusReserved", "ProcessPayment": "ChargeCustomer", "MarkPaid": "SetStatusPaid",
    "FulfilOrder": "ShipOrder", "FulfilLine": "ShipOneLine", "MarkFulfilled": "SetStatusFulfilled",
    "NoteOutOfStock": "OutcomeOutOfStock", "NotePaymentFailed": "OutcomePaymentFailed",
    "ReleaseReservations": "Compensate", "ReleaseLine": "GiveBackOneLine", "NothingHeld": "LineWasNotHeld",
    "MarkFailed": "SetStatusFailed", "OrderNotFulfilled": "OrderFailed",
}


def inline_definition_other_names(tree: Path) -> None:
    """Every name of ours changed, the ASL inline: the workflow written as YAML under the
    template's `Definition` (no statemachine/ folder); every state renamed, plus an extra Pass
    state first that keeps only the fields the workflow uses; other logical ids (state machine,
    orders table and API, the API's role, inventory's table and its exports, payments' function
    and its name); other substitution keys; Retry 2 s x1.5 up to 4 attempts plus a second
    retrier for Lambda's errors; the Catch split into PaymentDeclined and States.TaskFailed,
    both to the compensation."""
    with _workflow(tree) as definition:
        payment = _state(definition, "ProcessPayment")
        payment["Retry"] = [
            {"ErrorEquals": ["PaymentTransientError"], "IntervalSeconds": 2, "BackoffRate": 1.5, "MaxAttempts": 4},
            {"ErrorEquals": ["Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException"],
             "IntervalSeconds": 1, "BackoffRate": 2, "MaxAttempts": 2},
        ]
        payment["Catch"] = [
            {"ErrorEquals": ["PaymentDeclined"], "ResultPath": "$.error", "Next": "NotePaymentFailed"},
            {"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error", "Next": "NotePaymentFailed"},
        ]
        _rename_states(definition, STATE_NAMES)
        definition["States"] = {"Received": {
            "Type": "Pass",
            "Comment": "Keep only what the workflow reads.",
            "Parameters": {"orderId.$": "$.orderId", "items.$": "$.items", "paymentToken.$": "$.paymentToken"},
            "Next": definition["StartAt"],
        }, **definition["States"]}
        definition["StartAt"] = "Received"
    body = yaml.safe_dump(json.loads((tree / ASL).read_text()), sort_keys=False, width=4096)
    shutil.rmtree(tree / ORDERS / "statemachine")
    orders = _template(tree, "orders")
    variants.replace_in(orders, "      DefinitionUri: statemachine/order_workflow.asl.json\n",
                "      Definition:\n" + "".join(f"        {line}\n" for line in body.splitlines()))
    for old, new in [("OrdersApiRole", "ApiStartsTheWorkflowRole"), ("OrdersApi", "ShopOrdersApi"),
                     ("OrderWorkflow", "PlaceOrderMachine"), ("OrdersTable", "OrderRecords"),
                     ("InventoryTableName", "StockItemsName"), ("InventoryTableArn", "StockItemsArn"),
                     ("InventoryTable: !ImportValue", "StockTable: !ImportValue"), ("${InventoryTable}", "${StockTable}"),
                     ("ProcessPaymentFunction", "ChargeFn"),
                     ("-payments-ProcessPayment", "-payments-Charge")]:
        text = orders.read_text()
        assert old in text, f"the fixture changed: {old!r} not in {orders}"
        orders.write_text(text.replace(old, new))
    inventory = _template(tree, "inventory")
    inventory.write_text(inventory.read_text().replace("InventoryTable", "StockItems"))
    payments = _template(tree, "payments")
    variants.replace_in(payments, '"${AWS::StackName}-ProcessPayment"', '"${AWS::StackName}-Charge"')
    payments.write_text(payments.read_text().replace("ProcessPaymentFunction", "ChargeFunction"))


def yaml_file_and_sdk_integrations(tree: Path) -> None:
    """The ASL as a YAML file in another folder (workflows/place-order.asl.yaml); the inventory
    lines reserved, fulfilled and released by AWS SDK integrations (aws-sdk:dynamodb:updateItem),
    so their failed condition is DynamoDb.ConditionalCheckFailedException, caught by that name;
    fulfilment lines run in parallel; the payment task's Resource is the function's ARN itself
    (the older form: no Payload wrapper, LambdaFunction* history events); Retry 1 s x3 up to 2
    attempts; the Catch names
    PaymentDeclined and PaymentTransientError, then States.ALL, all to the compensation;
    tracing switched on."""
    with _workflow(tree) as definition:
        for name in ("ReserveLine", "FulfilLine", "ReleaseLine"):
            _state(definition, name)["Resource"] = "arn:aws:states:::aws-sdk:dynamodb:updateItem"
        definition["States"]["ReserveInventory"]["Catch"][0]["ErrorEquals"] = ["DynamoDb.ConditionalCheckFailedException"]
        _state(definition, "ReleaseLine")["Catch"][0]["ErrorEquals"] = ["DynamoDb.ConditionalCheckFailedException"]
        del definition["States"]["FulfilOrder"]["MaxConcurrency"]
        payment = _state(definition, "ProcessPayment")
        payment["Resource"] = "${ProcessPaymentFunction}"  # the function's ARN: the older Lambda task form
        payment["Parameters"] = payment["Parameters"]["Payload"]
        payment["ResultSelector"] = {"paymentId.$": "$.paymentId"}
        payment["Retry"] = [{"ErrorEquals": ["PaymentTransientError"], "IntervalSeconds": 1, "BackoffRate": 3,
                             "MaxAttempts": 2}]
        payment["Catch"] = [
            {"ErrorEquals": ["PaymentDeclined", "PaymentTransientError"], "ResultPath": "$.error",
             "Next": "NotePaymentFailed"},
            {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "NotePaymentFailed"},
        ]
    folder = tree / ORDERS / "workflows"
    folder.mkdir()
    (folder / "place-order.asl.yaml").write_text(
        "# The order workflow, in Amazon States Language (YAML).\n"
        + yaml.safe_dump(json.loads((tree / ASL).read_text()), sort_keys=False, width=4096))
    shutil.rmtree(tree / ORDERS / "statemachine")
    variants.replace_in(_template(tree, "orders"), "      DefinitionUri: statemachine/order_workflow.asl.json\n",
                "      DefinitionUri: workflows/place-order.asl.yaml\n      Tracing:\n        Enabled: true\n")


HOLDS_TABLE = """
  HoldsTable:
    Type: AWS::DynamoDB::Table
    DeletionPolicy: Delete
    UpdateReplacePolicy: Delete
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - AttributeName: holdId
          AttributeType: S
      KeySchema:
        - AttributeName: holdId
          KeyType: HASH

  GetStockFunction:
"""
HOLDS_EXPORTS = """
  HoldsTableName:
    Value: !Ref HoldsTable
    Export:
      Name: !Sub "${AWS::StackName}-HoldsTableName"
  HoldsTableArn:
    Value: !GetAtt HoldsTable.Arn
    Export:
      Name: !Sub "${AWS::StackName}-HoldsTableArn"
"""
def _line_in_a_transaction(stock_update: dict[str, Any], hold: dict[str, Any]) -> dict[str, Any]:
    """A Task that changes an inventory line and its hold item in one DynamoDB transaction."""
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::aws-sdk:dynamodb:transactWriteItems",
        "Parameters": {"TransactItems": [
            {"Update": {"TableName": "${InventoryTable}", "Key": {"sku": {"S.$": "$.sku"}},
                        **stock_update, "ExpressionAttributeValues": {":q": {"N.$": "$.quantity"}}}},
            hold,
        ]},
        "ResultPath": None,
        "End": True,
    }


def holds_in_their_own_table(tree: Path) -> None:
    """Reservations as items of their own: inventory keeps a second table, HoldsTable (one item
    per order line held, exported like the stock table), and each line is reserved, fulfilled
    or released by one aws-sdk:dynamodb:transactWriteItems that changes the stock item (the
    reservation under `stock >= :q`) and puts or deletes the hold item (under a condition, so a
    release happens once). A failed condition is DynamoDb.TransactionCanceledException."""
    inventory = _template(tree, "inventory")
    variants.replace_in(inventory, "\n  GetStockFunction:\n", HOLDS_TABLE)
    inventory.write_text(inventory.read_text().rstrip("\n") + "\n" + HOLDS_EXPORTS)
    orders = _template(tree, "orders")
    variants.replace_in(orders, "        # Payments' function, named after the payments stack.\n", """\
        HoldsTable: !ImportValue
          Fn::Sub:
            - "${Prefix}-inventory-HoldsTableName"
            - Prefix: !Select [0, !Split ["-orders", !Ref "AWS::StackName"]]
        # Payments' function, named after the payments stack.
""")
    variants.replace_in(orders, """\
            - Effect: Allow
              Action: lambda:InvokeFunction
""", """\
            - Effect: Allow
              Action: [dynamodb:PutItem, dynamodb:DeleteItem]
              Resource: !ImportValue
                Fn::Sub:
                  - "${Prefix}-inventory-HoldsTableArn"
                  - Prefix: !Select [0, !Split ["-orders", !Ref "AWS::StackName"]]
            - Effect: Allow
              Action: lambda:InvokeFunction
""")
    held = {"TableName": "${HoldsTable}", "Key": {"holdId": {"S.$": "$.hold"}},
            "ConditionExpression": "attribute_exists(holdId)"}
    with _workflow(tree) as definition:
        reserve = definition["States"]["ReserveInventory"]
        reserve["ItemProcessor"]["States"]["ReserveLine"] = _line_in_a_transaction(
            {"UpdateExpression": "SET stock = stock - :q, reserved = reserved + :q", "ConditionExpression": "stock >= :q"},
            {"Put": {"TableName": "${HoldsTable}", "ConditionExpression": "attribute_not_exists(holdId)",
                     "Item": {"holdId": {"S.$": "$.hold"}, "sku": {"S.$": "$.sku"}, "quantity": {"N.$": "$.quantity"}}}})
        reserve["Catch"][0]["ErrorEquals"] = ["DynamoDb.TransactionCanceledException"]
        definition["States"]["FulfilOrder"]["ItemProcessor"]["States"]["FulfilLine"] = _line_in_a_transaction(
            {"UpdateExpression": "SET reserved = reserved - :q"}, {"Delete": held})
        release = definition["States"]["ReleaseReservations"]["ItemProcessor"]["States"]
        release["ReleaseLine"] = {
            **_line_in_a_transaction({"UpdateExpression": "SET stock = stock + :q, reserved = reserved - :q"},
                                     {"Delete": held}),
            "Catch": [{"ErrorEquals": ["DynamoDb.TransactionCanceledException"], "Next": "NothingHeld"}],
        }


# -- the cases ------------------------------------------------------------------------------------


WRONG = {
    "payment task without Retry": Case(
        payment_without_retry, fails=["05.4", "05.7"], words="no Retry with a backoff"),
    "console's default retrier, PaymentTransientError not retried": Case(
        console_default_retrier_only, fails=["05.4"], passes=["05.7"], words="tok_flaky order ended PAYMENT_FAILED"),
    "Catch marks PAYMENT_FAILED, no release": Case(
        catch_marks_failed_without_release, fails=["05.3", "05.7"], words="no Catch of ProcessPayment leads"),
    "reserve without a condition": Case(
        reserve_without_condition, fails=["05.5", "05.6"], words="went down to -"),
    "reserve by a Lambda task": Case(
        reserve_by_a_lambda_task, fails=["05.1"], words="2 Lambda tasks"),
    "compensation releases twice": Case(
        compensation_releases_twice, fails=["05.3"], words="had stock/reserved 20/0 before a declined order and 22/-2"),
    "release without the hold condition": Case(
        release_without_the_hold_condition, fails=["05.5"], passes=["05.3"], words="stock 5 and reserved -3"),
}

CORRECT = {
    "ASL inline, every name changed, extra Pass, other Retry and Catch": Case(inline_definition_other_names),
    "ASL as YAML file, aws-sdk integrations, other Retry and Catch": Case(yaml_file_and_sdk_integrations),
    "holds in their own table, transactions": Case(holds_in_their_own_table),
}



test_a_wrong_refactor_fails_the_checkpoint_it_violates, test_a_correct_alternative_passes_every_checkpoint = (
    variants.tests_for(MODULE, WRONG, CORRECT))


# seconds from the stuck order's execution's end to the verdict (issue 16): half the 90 s order
# timeout a fixed wait would take, so a shared, loaded machine (15.7 s seen in CI) cannot fail it
STUCK_LIMIT = 45


@pytest.mark.slow
def test_a_stuck_order_fails_soon_after_its_execution_ends(cloud, tmp_path):
    """A declined order left RESERVED by a workflow that failed: 05.3 fails naming the execution's
    end, within STUCK_LIMIT seconds of it (not after the 90 s order timeout). The lag is printed
    for the report; the limit is the issue's, not a tight threshold."""
    tree = variants.solution_with(MODULE, payment_failure_leaves_the_order_stuck, tmp_path)
    prefix = "f05stuck"
    target = LocalTarget(cloud.url)
    try:
        result = run_checks(MODULE, tree, cloud_url=cloud.url, stack_prefix=prefix, only=["05.3"])
        finished = datetime.now(UTC)
        sfn = target.session().client("stepfunctions")
        machines = [m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]
                    if m["name"].startswith(prefix) or prefix in m["stateMachineArn"]]
        ended = [e["stopDate"] for m in machines for e in sfn.list_executions(stateMachineArn=m)["executions"]
                 if e["status"] == "FAILED"]
    finally:
        target.destroy_prefix(prefix)
    [verdict] = result.verdicts
    assert verdict.status == "fail" and "after its execution ended FAILED" in verdict.message, variants.explain(result)
    assert ended, "the stuck order's execution was not found"
    lag = (finished - max(ended)).total_seconds()
    print(f"\n[{prefix}] 05.3 failed {lag:.1f} s after the stuck order's execution ended: "
          f"{' '.join(verdict.message.split())[:200]}")
    assert lag < STUCK_LIMIT
