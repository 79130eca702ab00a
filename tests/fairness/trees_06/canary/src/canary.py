"""Production canary: reads a cart that never exists and expects 404, every five minutes."""
import json
import os
import urllib.error
import urllib.request


def handler(event, context):
    url = os.environ["CANARY_URL"] + "cart/canary-probe"
    try:
        urllib.request.urlopen(url, timeout=5)
        status = 200
    except urllib.error.HTTPError as error:
        status = error.code
    print(json.dumps({"canary": url, "status": status}))
    if status != 404:
        raise RuntimeError(f"the cart API answered {status} to a missing cart")
    return {"status": status}
