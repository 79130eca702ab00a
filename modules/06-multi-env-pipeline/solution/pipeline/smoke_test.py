"""Smoke test after a deploy: does every deployed API answer?

    python pipeline/smoke_test.py shop-products=products shop-cart=cart/smoke-test ...

For each STACK=PATH, reads the stack's API URL from its outputs (an execute-api URL) and
sends GET PATH. An answer is a JSON body with a status below 500 (a 404 for a cart that does
not exist is the application answering); a 5XX, a timeout or a missing stack fails the run,
so a deploy that reports success but does not serve stops the pipeline before the next stage.
Read-only on purpose: it runs against production.
"""

import json
import sys
import urllib.error
import urllib.request

import boto3


def api_url(cloudformation, stack: str) -> str:
    outputs = cloudformation.describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])
    urls = [o["OutputValue"] for o in outputs if ".execute-api." in o["OutputValue"] or "/_aws/execute-api/" in o["OutputValue"]]
    if not urls:
        raise SystemExit(f"{stack}: no API URL among its outputs")
    return urls[0]


def answers(url: str) -> tuple[bool, str]:
    try:
        with urllib.request.urlopen(url, timeout=15) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    except (urllib.error.URLError, TimeoutError) as error:
        return False, f"no answer ({error})"
    try:
        json.loads(body or b"null")
    except ValueError:
        return False, f"{status}, not JSON: {body[:80]!r}"
    return status < 500, str(status)


def main(checks: list[str]) -> int:
    cloudformation = boto3.client("cloudformation")
    failed = 0
    for check in checks:
        stack, _, path = check.partition("=")
        url = api_url(cloudformation, stack).rstrip("/") + "/" + path.lstrip("/")
        ok, what = answers(url)
        print(f"{'ok  ' if ok else 'FAIL'} {stack}: GET /{path.lstrip('/')} -> {what}")
        failed += not ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
