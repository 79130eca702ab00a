"""Lambda's concurrency limits: reserved concurrency and the account's limit throttle, they never queue.

AWS documents (https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html and
https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html): a synchronous invocation beyond
a function's reserved concurrency, or beyond what the account's limit (1,000 by default) leaves
unreserved, fails with TooManyRequestsException, HTTP 429, Reason
ReservedFunctionConcurrentInvocationLimitExceeded or ConcurrentInvocationLimitExceeded.
API Gateway answers a Lambda that rejects the invocation with 500 `{"message": "Internal server
error"}` (https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway-errors.html).

A held call waits on a FIFO the test opens (an event, not a timer), so every test is deterministic.
"""

from __future__ import annotations

import dataclasses
import json
import os
import select
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import botocore.config
import httpx
import pytest
from botocore.exceptions import ClientError

from workshop.localcloud.concurrency import (
    ACCOUNT_LIMIT,
    RESERVED_LIMIT,
    ConcurrencyLimits,
    Throttled,
    default_account_limit,
)
from workshop.localcloud.functions import FunctionResolver
from workshop.localcloud.lambda_executor import FunctionConfig, LambdaExecutor

HOLD = Path(__file__).parent.parent / "fixtures" / "hold"
GUARD_SECONDS = 60  # only against a hang when something is broken; never a measure


class Hold:
    """Two FIFOs: the handler opens `started` when it runs, then reads `release` until the test writes."""

    def __init__(self, folder: Path) -> None:
        self.started, self.release_path = folder / "started", folder / "release"
        os.mkfifo(self.started)
        os.mkfifo(self.release_path)
        self._reader = os.open(self.started, os.O_RDONLY | os.O_NONBLOCK)

    @property
    def event(self) -> dict:
        return {"started": str(self.started), "release": str(self.release_path)}

    def wait_started(self) -> None:
        ready, _, _ = select.select([self._reader], [], [], GUARD_SECONDS)  # readable once the handler closed it
        assert ready, "the held call never started"

    def release(self) -> None:
        os.close(os.open(self.release_path, os.O_WRONLY))
        os.close(self._reader)


@pytest.fixture(scope="module")
def runtime_dir(tmp_path_factory) -> str:
    return FunctionResolver(tmp_path_factory.mktemp("state"), "http://127.0.0.1:9").runtime_dir


def function(runtime_dir: str, reserved: int | None = None) -> FunctionConfig:
    return FunctionConfig(
        name="fn", arn="arn:aws:lambda:us-east-1:123456789012:function:fn", handler="app.handler",
        code_dir=str(HOLD / "src"), layer_dirs=(), runtime_dir=runtime_dir, timeout=10, memory_size=128,
        environment=(), account_id="123456789012", region="us-east-1", endpoint_url="http://127.0.0.1:9",
        reserved_concurrency=reserved)


def invoke(executor: LambdaExecutor, config: FunctionConfig, event: dict | None = None):
    return executor.invoke(config, json.dumps(event or {}).encode())


def test_the_account_limit_is_lambdas_default_unless_configured(monkeypatch):
    monkeypatch.delenv("WORKSHOP_LAMBDA_ACCOUNT_CONCURRENCY", raising=False)
    assert default_account_limit() == 1000
    monkeypatch.setenv("WORKSHOP_LAMBDA_ACCOUNT_CONCURRENCY", "7")
    assert ConcurrencyLimits().account_limit == 7


def test_reservations_take_capacity_from_the_unreserved_pool():
    """Functions without a reservation share the account limit minus every reservation."""
    limits = ConcurrencyLimits(account_limit=3, reserved_in_account=lambda account, region: 2)
    free = dataclasses.make_dataclass("F", ["name", "account_id", "region", "reserved_concurrency"])
    plain, other_region = free("a", "1", "eu-west-1", None), free("a", "1", "us-east-1", None)
    with limits.admit(plain), limits.admit(other_region):  # a limit per account and Region
        with pytest.raises(Throttled) as refused:
            with limits.admit(free("b", "1", "eu-west-1", None)):
                pass
    assert refused.value.reason == ACCOUNT_LIMIT
    with limits.admit(free("b", "1", "eu-west-1", None)):  # freed when the calls ended
        pass
    with pytest.raises(Throttled):
        with limits.admit(free("zero", "1", "eu-west-1", 0)):  # reserved 0: the function is switched off
            pass


def test_reserved_concurrency_one_throttles_the_second_concurrent_call(tmp_path, runtime_dir):
    executor = LambdaExecutor(lambda *_: None)
    config, hold = function(runtime_dir, reserved=1), Hold(tmp_path)
    try:
        with ThreadPoolExecutor(1) as pool:
            first = pool.submit(invoke, executor, config, hold.event)
            hold.wait_started()
            with pytest.raises(Throttled) as refused:
                invoke(executor, config)
            assert (refused.value.status, refused.value.reason) == (429, RESERVED_LIMIT)
            hold.release()
            assert json.loads(first.result(GUARD_SECONDS).payload)["AWS_REGION"] == "us-east-1"
        assert invoke(executor, config).function_error is None  # capacity is back once the first call ended
    finally:
        executor.close()


def test_the_account_limit_throttles_functions_without_a_reservation(tmp_path, runtime_dir):
    executor = LambdaExecutor(lambda *_: None, ConcurrencyLimits(account_limit=1))
    config, hold = function(runtime_dir), Hold(tmp_path)
    other = dataclasses.replace(config, name="other", arn=config.arn.replace(":fn", ":other"))
    try:
        with ThreadPoolExecutor(1) as pool:
            first = pool.submit(invoke, executor, config, hold.event)
            hold.wait_started()
            with pytest.raises(Throttled) as refused:
                invoke(executor, other)  # another function of the same account and Region
            assert refused.value.reason == ACCOUNT_LIMIT
            hold.release()
            first.result(GUARD_SECONDS)
    finally:
        executor.close()


@pytest.fixture(scope="module")
def held_app(local):
    info = local.deployer().deploy(HOLD / "template.yaml", "hold-throttle")
    yield info
    local.deployer().destroy("hold-throttle")


def test_the_lambda_api_and_api_gateway_answer_a_throttle_as_aws_does(held_app, local, tmp_path):
    hold = Hold(tmp_path)
    no_retries = botocore.config.Config(retries={"total_max_attempts": 1}, read_timeout=GUARD_SECONDS)
    lam = local.session().client("lambda", config=no_retries)
    name = held_app.outputs["HoldFunctionName"]
    assert lam.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 1
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(lam.invoke, FunctionName=name, Payload=json.dumps(hold.event))
        hold.wait_started()
        with pytest.raises(ClientError) as refused:
            lam.invoke(FunctionName=name, Payload=b"{}")
        response = refused.value.response
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 429
        assert response["Error"]["Code"] == "TooManyRequestsException"
        assert response["Reason"] == RESERVED_LIMIT and response["message"] == "Rate Exceeded."
        through_api = httpx.get(held_app.outputs["ApiUrl"] + "hold", timeout=GUARD_SECONDS)
        assert through_api.status_code == 500 and through_api.json() == {"message": "Internal server error"}
        hold.release()
        assert first.result(GUARD_SECONDS)["StatusCode"] == 200
    assert httpx.get(held_app.outputs["ApiUrl"] + "hold", timeout=GUARD_SECONDS).status_code == 200


def test_an_asynchronous_event_waits_out_a_throttle_instead_of_failing(held_app, local, tmp_path):
    """Lambda queues a throttled asynchronous event and retries it (lambda/latest/dg/invocation-async.html)."""
    (tmp_path / "first").mkdir()
    (tmp_path / "queued").mkdir()
    hold, queued = Hold(tmp_path / "first"), Hold(tmp_path / "queued")
    lam = local.session().client("lambda")
    name = held_app.outputs["HoldFunctionName"]
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(lam.invoke, FunctionName=name, Payload=json.dumps(hold.event))
        hold.wait_started()
        assert lam.invoke(FunctionName=name, InvocationType="Event", Payload=json.dumps(queued.event))["StatusCode"] == 202
        hold.release()
        first.result(GUARD_SECONDS)
        queued.wait_started()  # the event ran once capacity came back
        queued.release()


def test_cloud_up_takes_the_account_limit(monkeypatch):
    from typer.testing import CliRunner

    from workshop import cli
    from workshop.localcloud import control

    seen = {}

    def up(*args, **kwargs):
        seen.update(kwargs)
        return control.CloudInfo("http://127.0.0.1:9", 9, 1), True

    monkeypatch.setattr(control, "up", up)
    result = CliRunner().invoke(cli.app, ["cloud", "up", "--account-concurrency", "50"])
    assert result.exit_code == 0 and seen["account_concurrency"] == 50


def test_a_gateway_response_for_integration_failure_reshapes_a_throttle(local, tmp_path):
    """A throttled Lambda is an integration failure: the API's INTEGRATION_FAILURE gateway response
    (https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html)
    can answer it with 429 instead of the default 500."""
    info = local.deployer().deploy(HOLD / "reshaped.yaml", "hold-reshaped")
    hold = Hold(tmp_path)
    try:
        lam = local.session().client("lambda")
        with ThreadPoolExecutor(1) as pool:
            first = pool.submit(lam.invoke, FunctionName=info.outputs["HoldFunctionName"], Payload=json.dumps(hold.event))
            hold.wait_started()
            answer = httpx.get(info.outputs["ApiUrl"] + "hold", timeout=GUARD_SECONDS)
            hold.release()
            first.result(GUARD_SECONDS)
        assert answer.status_code == 429 and answer.json() == {"message": "busy, try again"}
    finally:
        local.deployer().destroy("hold-reshaped")
