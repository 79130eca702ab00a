"""Production canary: reads a cart that never exists, every five minutes. Without a token the
API's authorizer answers 401, with one the cart answers 404: either way the API is up; a 5XX
or no answer is not."""
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
    if status >= 500:
        raise RuntimeError(f"the cart API answered {status} to a missing cart")
    return {"status": status}
