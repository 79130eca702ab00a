"""GET /cart/{cartId} has no function, but its mapping templates are code all the same.

These tests take the templates from template.yaml and render them with airspeed, a Python
port of Velocity (the language of API Gateway's templates), around a real GetItem on the
items that manage-cart writes: the rendered JSON must be exactly what manage-cart answered.
"""
import json
import re
from pathlib import Path

import boto3
import pytest
import yaml

airspeed = pytest.importorskip("airspeed")

TEMPLATE = Path(__file__).resolve().parent.parent / "template.yaml"


class CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags (!Sub, !Ref, !GetAtt...)."""


def _intrinsic(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {"Ref" if suffix == "Ref" else f"Fn::{suffix}": value}


CfnLoader.add_multi_constructor("!", _intrinsic)


def get_cart_integration():
    resources = yaml.load(TEMPLATE.read_text(), Loader=CfnLoader)["Resources"]
    for resource in resources.values():
        paths = resource.get("Properties", {}).get("DefinitionBody", {}).get("paths", {})
        if "/cart/{cartId}" in paths:
            return paths["/cart/{cartId}"]["get"]["x-amazon-apigateway-integration"]
    raise AssertionError("no API in template.yaml defines GET /cart/{cartId}")


class Input:
    """$input, for the JSONPath forms these templates use ($ and $.a.b)."""

    def __init__(self, body, params):
        self._body, self._params = body, params

    def params(self, name):
        return self._params.get(name, "")

    def path(self, path):
        value = json.loads(self._body or "{}")
        for key in filter(None, path.lstrip("$").split(".")):
            value = value.get(key) if isinstance(value, dict) else None
        return "" if value is None else value


class Util:
    """$util.escapeJavaScript, as Java's StringEscapeUtils does it."""

    ESCAPES = {"\\": "\\\\", '"': '\\"', "'": "\\'", "/": "\\/", "\n": "\\n", "\r": "\\r", "\t": "\\t"}

    def escapeJavaScript(self, text):
        return "".join(self.ESCAPES.get(c, c if 32 <= ord(c) < 127 else f"\\u{ord(c):04X}") for c in str(text))


def render(template, body, cart_id):
    """(status, text) of a rendered template; status is $context.responseOverride.status or 200."""
    context = {"responseOverride": {"status": None, "header": {}}}
    text = airspeed.Template(template).merge(
        {"input": Input(body, {"cartId": cart_id}), "util": Util(), "context": context})
    return context["responseOverride"]["status"] or 200, text


def get_through_the_templates(cart_id):
    """GET /cart/{cartId} as API Gateway runs it: request template, GetItem, response template."""
    integration = get_cart_integration()
    request_template = integration["requestTemplates"]["application/json"]["Fn::Sub"]
    request_template = re.sub(r"\$\{CartTable\}", "cart-test", request_template)
    _, request = render(request_template, "", cart_id)
    answer = boto3.client("dynamodb").get_item(**json.loads(request))
    answer.pop("ResponseMetadata")
    response_template = integration["responses"]["default"]["responseTemplates"]["application/json"]
    status, text = render(response_template, json.dumps(answer), cart_id)
    return status, json.loads(text)


def post(call, app, cart_id, sku, quantity):
    return call(app.handler, "POST", f"/cart/{cart_id}/items", json.dumps({"sku": sku, "quantity": quantity}))


def test_the_integration_calls_dynamodb_getitem():
    integration = get_cart_integration()
    assert integration["type"] == "aws"
    assert integration["uri"]["Fn::Sub"].endswith(":dynamodb:action/GetItem")


def test_a_cart_of_one_item_renders_as_manage_cart_returned_it(app, call):
    _, written = post(call, app, "c1", "lambda-tee", 2)
    assert get_through_the_templates("c1") == (200, written)


def test_a_cart_of_many_items_keeps_their_order(app, call):
    for sku, quantity in [("lambda-tee", 2), ("dynamodb-mug", 1), ("sqs-socks", 3), ("lambda-tee", 1)]:
        _, written = post(call, app, "c1", sku, quantity)
    assert get_through_the_templates("c1") == (200, written)
    assert [line["sku"] for line in written["items"]] == ["lambda-tee", "dynamodb-mug", "sqs-socks"]


def test_an_emptied_cart_renders_an_empty_list(app, call):
    post(call, app, "c1", "lambda-tee", 2)
    _, emptied = call(app.handler, "DELETE", "/cart/c1/items/lambda-tee")
    assert get_through_the_templates("c1") == (200, emptied) == (200, {"cartId": "c1", "items": []})


def test_quotes_in_a_sku_still_give_valid_json(app, call):
    _, written = post(call, app, "c1", 'the "serverless" hoodie', 1)
    assert get_through_the_templates("c1") == (200, written)


def test_a_missing_cart_is_404_with_a_message(table):
    assert get_through_the_templates("nope") == (404, {"message": "cart not found"})
