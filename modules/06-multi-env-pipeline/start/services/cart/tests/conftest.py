import json
import os
import re
import sys
from pathlib import Path

import boto3
import pytest
import yaml
from moto import mock_aws

# As Lambda sees them: manage-cart's code (its CodeUri), then the shop_shared layer's python/
# folder (on Lambda, /opt/python). Powertools comes from the course environment here.
SERVICE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(SERVICE / "manage_cart"))
sys.path.insert(1, str(SERVICE.parent.parent / "layers" / "shop-shared" / "content" / "python"))


@pytest.fixture(scope="session")
def aws():
    # Never reach a real account or a local cloud from a unit test.
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    os.environ.update({
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "CART_TABLE": "cart-test",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "cart",
        "POWERTOOLS_METRICS_NAMESPACE": "ShopTest",
    })
    # One mock for the session: starting moto per test would dominate the run time.
    with mock_aws():
        yield boto3.client("dynamodb")


@pytest.fixture
def table(aws):
    # Every test starts from an empty table.
    if "cart-test" in aws.list_tables()["TableNames"]:
        aws.delete_table(TableName="cart-test")
    aws.create_table(
        TableName="cart-test",
        AttributeDefinitions=[{"AttributeName": "cartId", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "cartId", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return boto3.resource("dynamodb").Table("cart-test")


def lambda_context():
    """The Lambda context Powertools' Logger reads (name, memory, ARN, request id)."""
    from aws_lambda_powertools.utilities.typing import LambdaContext

    context = LambdaContext()
    context._function_name = "manage-cart-test"
    context._memory_limit_in_mb = 512
    context._invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:manage-cart-test"
    context._aws_request_id = "00000000-0000-0000-0000-000000000000"
    return context


class WithContext:
    """cart_api, its handler called with a Lambda context as Lambda calls it."""

    def __init__(self, module):
        self.module = module

    def handler(self, event, context=None):
        return self.module.handler(event, context or lambda_context())


@pytest.fixture
def manage_cart(table):
    import cart_api

    return WithContext(cart_api)


@pytest.fixture
def cart_store(table):
    import cart_store

    return cart_store


@pytest.fixture
def get_cart(table):
    """GET /cart/{cartId} as API Gateway serves it now: no function, the integration's templates."""
    return DirectGetCart(get_cart_integration())


# -- the GET integration's mapping templates, rendered as API Gateway renders them ----------------

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
    """The x-amazon-apigateway-integration of GET /cart/{cartId} in template.yaml."""
    resources = yaml.load((SERVICE / "template.yaml").read_text(), Loader=CfnLoader)["Resources"]
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

    def escapeJavaScript(self, text):  # noqa: N802 - the name templates call
        return "".join(self.ESCAPES.get(c, c if 32 <= ord(c) < 127 else f"\\u{ord(c):04X}") for c in str(text))


def render(template, body, cart_id):
    """(status, text) of a rendered template; status is $context.responseOverride.status or 200."""
    import airspeed

    context = {"responseOverride": {"status": None, "header": {}}}
    text = airspeed.Template(template).merge(
        {"input": Input(body, {"cartId": cart_id}), "util": Util(), "context": context})
    return context["responseOverride"]["status"] or 200, text


class DirectGetCart:
    """Request template, a real GetItem (on moto), response template: the integration end to end."""

    def __init__(self, integration):
        self.integration = integration

    def handler(self, event, context):
        cart_id = event["pathParameters"]["cartId"]
        request_template = self.integration["requestTemplates"]["application/json"]["Fn::Sub"]
        request_template = re.sub(r"\$\{CartTable\}", os.environ["CART_TABLE"], request_template)
        _, request = render(request_template, "", cart_id)
        answer = boto3.client("dynamodb").get_item(**json.loads(request))
        answer.pop("ResponseMetadata")
        template = self.integration["responses"]["default"]["responseTemplates"]["application/json"]
        status, text = render(template, json.dumps(answer), cart_id)
        return {"statusCode": status, "headers": {"Content-Type": "application/json"},
                "body": json.dumps(json.loads(text))}


def pytest_configure(config):
    # Powertools warns when a request adds no metric (a 400, say): expected here.
    config.addinivalue_line("filterwarnings", "ignore:No application metrics to publish:UserWarning")
