"""The shared Lambda authorizer (shop_shared.authorizer), called as API Gateway calls a TOKEN authorizer.

https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-input.html
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html
"""
import pytest
from shop_shared.auth import issue_token

SECRET = "unit-test-secret"

METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/Prod/GET/cart/c1"


@pytest.fixture
def authorize(monkeypatch):
    monkeypatch.setenv("AUTH_TOKEN_SECRET", SECRET)
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "ShopTest")  # read when the module is imported
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from shop_shared import authorizer

    context = LambdaContext()
    context._function_name, context._memory_limit_in_mb = "authorizer-test", 128
    context._invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:authorizer-test"
    context._aws_request_id = "00000000-0000-0000-0000-000000000000"

    def call(header):
        return authorizer.handler({"type": "TOKEN", "authorizationToken": header, "methodArn": METHOD_ARN}, context)

    return call


def test_a_valid_token_is_allowed_on_every_route_of_the_api(authorize):
    result = authorize(f"Bearer {issue_token('alice', SECRET)}")
    assert result["principalId"] == "alice"
    assert result["context"] == {"sub": "alice"}
    [statement] = result["policyDocument"]["Statement"]
    assert statement["Effect"] == "Allow" and statement["Action"] == "execute-api:Invoke"
    assert statement["Resource"] == ["arn:aws:execute-api:us-east-1:123456789012:abc123/Prod/*/*"]


@pytest.mark.parametrize("header", [
    f"Bearer {issue_token('alice', SECRET, -1)}",  # expired
    f"Bearer {issue_token('alice', 'not-the-secret')}",  # forged
    "Bearer garbage",
    "Basic abc",
    "",
])
def test_a_bad_token_is_the_documented_unauthorized_error(authorize, header):
    # A Lambda authorizer signals 401 by failing with the message "Unauthorized".
    with pytest.raises(Exception, match="^Unauthorized$"):
        authorize(header)
