"""CloudFormation: stack outputs that name an execute-api URL point at the local gateway.

A stack's `https://{api}.execute-api.{region}.amazonaws.com/{stage}/` output becomes
`http://127.0.0.1:{port}/_aws/execute-api/{api}/{stage}/`, so clients use the URL they are
given and no request from the local target can go to an amazonaws.com host.
"""

from __future__ import annotations

import re

from moto.cloudformation import parsing

EXECUTE_API = re.compile(r"https://([a-z0-9]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com")


def local_execute_api_url(value: str, cloud_url: str) -> str:
    return EXECUTE_API.sub(lambda m: f"{cloud_url}/_aws/execute-api/{m.group(1)}", value)


def apply(cloud) -> None:
    original = parsing.parse_output

    def parse_output(output_logical_id, output_json, resources_map):
        output = original(output_logical_id, output_json, resources_map)
        if output is not None and isinstance(output.value, str):
            output.value = local_execute_api_url(output.value, cloud.url)
        return output

    parsing.parse_output = parse_output
