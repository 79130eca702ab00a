"""Lambda: invocations run in our executor; layers behave as on AWS.

moto 5.2.5 runs functions in Docker (or, without it, only echoes), has no hook for another
runner, answers a CloudFormation Ref to a LayerVersion with an object repr, names a
CloudFormation layer after its logical id instead of LayerName, drops a CloudFormation
function's Layers, and refuses layer ARNs of other accounts (such as the public Powertools layer).
"""

from __future__ import annotations

import json
import threading
import time
from typing import TYPE_CHECKING

from moto.awslambda import models
from moto.core.exceptions import JsonRESTError

from ..concurrency import Throttled
from ..functions import POWERTOOLS_LAYER
from ..lambda_executor import log_tail_header

if TYPE_CHECKING:
    from ..server import LocalCloud

ASYNC_RETRY_SECONDS = 6 * 3600  # Lambda keeps a throttled asynchronous event for up to six hours


class TooManyRequests(JsonRESTError):
    """Lambda's answer to a throttled synchronous invoke, as its API reference shapes it."""

    code = 429

    def __init__(self, throttled: Throttled) -> None:
        super().__init__("TooManyRequestsException", throttled.message)
        self.description = json.dumps({"Reason": throttled.reason, "Type": "User", "message": throttled.message})

    def get_headers(self, *args, **kwargs):
        return [*super().get_headers(*args, **kwargs), ("Retry-After", "1")]


def invoke_when_admitted(executor, config, payload: bytes) -> None:
    """An asynchronous event is queued, not refused: it waits out a throttle and tries again."""
    deadline, pause = time.monotonic() + ASYNC_RETRY_SECONDS, 0.05
    while True:
        try:
            executor.invoke(config, payload)
            return
        except Throttled:
            if time.monotonic() > deadline:
                return
            time.sleep(pause)
            pause = min(pause * 2, 5.0)


def apply(cloud: LocalCloud) -> None:
    def invoke(self, body, request_headers, response_headers):
        config = cloud.functions.config_for(self)
        payload = (body if isinstance(body, str) else json.dumps(body or {})).encode()
        if request_headers.get("x-amz-invocation-type") == "Event":
            threading.Thread(target=invoke_when_admitted, args=(cloud.executor, config, payload), daemon=True).start()
            return b""
        try:
            result = cloud.executor.invoke(config, payload)
        except Throttled as throttled:
            raise TooManyRequests(throttled) from None
        if result.function_error:
            response_headers["x-amz-function-error"] = result.function_error
        response_headers["x-amz-executed-version"] = config.version
        if request_headers.get("x-amz-log-type") == "Tail":
            response_headers["x-amz-log-result"] = log_tail_header(result)
        return result.payload

    models.LambdaFunction.invoke = invoke

    original_layers_data = models.LambdaFunction._get_layers_data

    def layers_data(self, arns):
        public = [arn for arn in arns if POWERTOOLS_LAYER.match(arn)]
        own = original_layers_data(self, [arn for arn in arns if arn not in public]) if len(public) < len(arns) else []
        by_arn = {layer["Arn"]: layer for layer in own}
        return [by_arn.get(arn, {"Arn": arn, "CodeSize": 0}) for arn in arns]

    models.LambdaFunction._get_layers_data = layers_data
    models.LayerVersion.physical_resource_id = property(lambda self: self.arn)

    create_layer = models.LayerVersion.create_from_cloudformation_json.__func__

    def create_layer_from_cloudformation(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        name = cloudformation_json.get("Properties", {}).get("LayerName", resource_name)
        return create_layer(cls, name, cloudformation_json, account_id, region_name, **kwargs)

    models.LayerVersion.create_from_cloudformation_json = classmethod(create_layer_from_cloudformation)

    create_function = models.LambdaFunction.create_from_cloudformation_json.__func__

    def create_function_from_cloudformation(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        function = create_function(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        layers = cloudformation_json.get("Properties", {}).get("Layers")
        if layers:
            function.layers = function._get_layers_data(layers)
        return function

    models.LambdaFunction.create_from_cloudformation_json = classmethod(create_function_from_cloudformation)
