import json

import pytest
from shop_shared import errors


def body(response):
    assert response["headers"]["Content-Type"] == "application/json"
    return json.loads(response["body"])


def test_a_result_becomes_a_json_response():
    handler = errors.api_handler(lambda event, context: (201, {"ok": True}))
    response = handler({}, None)
    assert response["statusCode"] == 201 and body(response) == {"ok": True}


@pytest.mark.parametrize("error, status", [
    (errors.BadRequest("bad"), 400),
    (errors.Unauthorized("who?"), 401),
    (errors.NotFound("gone"), 404),
    (errors.Conflict("again"), 409),
    (errors.HttpError("teapot", status=418), 418),
])
def test_http_errors_become_a_message_with_their_status(error, status):
    def handler(event, context):
        raise error

    response = errors.api_handler(handler)({}, None)
    assert response["statusCode"] == status and body(response) == {"message": error.message}


def test_other_errors_propagate_for_lambda_to_report():
    def handler(event, context):
        raise KeyError("bug")

    with pytest.raises(KeyError):
        errors.api_handler(handler)({}, None)


def test_the_wrapped_handler_keeps_its_name():
    def add_item(event, context):
        return 200, {}

    assert errors.api_handler(add_item).__name__ == "add_item"


@pytest.mark.parametrize("raw", [None, "", "nope", "[]", "3"])
def test_json_body_needs_a_json_object(raw):
    with pytest.raises(errors.BadRequest):
        errors.json_body({"body": raw})


def test_json_body_and_path_param():
    assert errors.json_body({"body": '{"a": 1}'}) == {"a": 1}
    assert errors.path_param({"pathParameters": {"sku": "x"}}, "sku") == "x"
    for event in ({}, {"pathParameters": None}, {"pathParameters": {"sku": ""}}):
        with pytest.raises(errors.BadRequest):
            errors.path_param(event, "sku")
