"""The local deploy keeps transform results by a digest of all they depend on."""

from __future__ import annotations

import json

import pytest

from workshop.deploy import local
from workshop.localcloud import sam_transform

REAL_TRANSFORM = sam_transform.transform

TEMPLATE = {
    "Transform": "AWS::Serverless-2016-10-31",
    "Parameters": {"Stage": {"Type": "String"}},
    "Resources": {"Fn": {"Type": "AWS::Serverless::Function",
                         "Properties": {"Runtime": "python3.12", "Handler": "app.handler",
                                        "CodeUri": "s3://bucket/key.zip", "MemorySize": 128}}},
}


@pytest.fixture
def calls(tmp_path, monkeypatch) -> list:
    """A transform store of the test's own; each real transform (not answered from it) is listed."""
    monkeypatch.setenv("WORKSHOP_STATE", str(tmp_path))
    monkeypatch.delenv("WORKSHOP_KEPT", raising=False)  # a store of its own, not the suite's
    made: list = []

    def counted(*arguments):
        made.append(arguments)
        return REAL_TRANSFORM(*arguments)

    monkeypatch.setattr(sam_transform, "transform", counted)
    return made


def test_the_same_inputs_are_transformed_once_and_give_the_same_template(calls):

    first = local.transform(TEMPLATE, {"Stage": "dev"}, "123456789012", "us-east-1", "shop")
    again = local.transform(TEMPLATE, {"Stage": "dev"}, "123456789012", "us-east-1", "shop")
    assert again == first and len(calls) == 1
    assert first["Resources"]["Fn"]["Type"] == "AWS::Lambda::Function"

    local.transform(TEMPLATE, {"Stage": "prod"}, "123456789012", "us-east-1", "shop")  # another parameter
    local.transform(TEMPLATE, {"Stage": "dev"}, "111111111111", "us-east-1", "shop")  # another account
    changed = {**TEMPLATE, "Resources": {"Fn": {**TEMPLATE["Resources"]["Fn"], "Properties": {
        **TEMPLATE["Resources"]["Fn"]["Properties"], "MemorySize": 256}}}}
    assert local.transform(changed, {"Stage": "dev"}, "123456789012", "us-east-1", "shop")[
        "Resources"]["Fn"]["Properties"]["MemorySize"] == 256
    assert len(calls) == 4


def test_a_refused_template_is_never_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKSHOP_STATE", str(tmp_path))
    monkeypatch.delenv("WORKSHOP_KEPT", raising=False)  # a store of its own, not the suite's
    bad = {"Transform": "AWS::Serverless-2016-10-31",
           "Resources": {"Fn": {"Type": "AWS::Serverless::Function", "Properties": {"Handler": 3}}}}
    for _ in range(2):
        try:
            local.transform(bad, {}, "123456789012", "us-east-1", "shop")
        except local.DeployError:
            pass
        else:
            raise AssertionError("the transform accepted a function without a runtime or code")
    assert not list((tmp_path / "transforms").glob("*.json"))


def test_the_stack_name_counts_only_where_the_template_names_it(calls):
    local.transform(TEMPLATE, {"Stage": "dev"}, "123456789012", "us-east-1", "shop")
    local.transform(TEMPLATE, {"Stage": "dev"}, "123456789012", "us-east-1", "shop-broken")
    assert len(calls) == 1  # nothing in it reads the stack name
    named = {**TEMPLATE, "Resources": {"Fn": {**TEMPLATE["Resources"]["Fn"], "Properties": {
        **TEMPLATE["Resources"]["Fn"]["Properties"], "Description": {"Fn::Sub": "${AWS::StackName} function"}}}}}
    local.transform(named, {"Stage": "dev"}, "123456789012", "us-east-1", "shop")
    local.transform(named, {"Stage": "dev"}, "123456789012", "us-east-1", "shop-broken")
    assert len(calls) == 3


def packaged(key: str, **more: str) -> dict:
    """The template as packaged: the function's code at an uploaded key (its digest)."""
    template = json.loads(json.dumps(TEMPLATE))
    template["Resources"]["Fn"]["Properties"].update({"CodeUri": {"Bucket": "artifacts", "Key": key}, **more})
    return template


def test_new_code_reuses_the_transform_and_gets_its_own_key_unless_sam_names_a_version_after_it(calls):

    def code(result: dict) -> dict:
        return result["Resources"]["Fn"]["Properties"]["Code"]

    first = local.transform(packaged("digest-one.zip"), {"Stage": "dev"}, "123456789012", "us-east-1", "shop")
    edited = local.transform(packaged("digest-two.zip"), {"Stage": "dev"}, "123456789012", "us-east-1", "shop")
    assert len(calls) == 1  # a handler edit: the same transform, the new code
    assert code(first) == {"S3Bucket": "artifacts", "S3Key": "digest-one.zip"}
    assert code(edited) == {"S3Bucket": "artifacts", "S3Key": "digest-two.zip"}
    assert edited == REAL_TRANSFORM(packaged("digest-two.zip"), {"Stage": "dev"}, "123456789012", "us-east-1", "shop")

    # SAM names a published Version after the code: that template is transformed for each key
    local.transform(packaged("digest-one.zip", AutoPublishAlias="live"), {"Stage": "dev"}, "123456789012", "us-east-1", "shop")
    versioned = local.transform(packaged("digest-two.zip", AutoPublishAlias="live"), {"Stage": "dev"}, "123456789012",
                                "us-east-1", "shop")
    assert len(calls) == 3 and "digest-two.zip" in str(versioned)
