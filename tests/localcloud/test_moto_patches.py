"""Each moto 5.2.5 gap we work around, pinned: these fail loudly when an upgrade moves them."""

from __future__ import annotations

import inspect
import json
from importlib import metadata

import pytest
from moto.awslambda import models as lambda_models
from moto.cloudformation import parsing
from moto.core import responses
from moto.iam import models as iam_models


def test_moto_is_the_pinned_version():
    assert metadata.version("moto") == "5.2.5", "re-measure every patch in workshop/localcloud/patches/ first"


def test_lambda_invoke_is_the_one_hook_for_another_runner():
    # patches/awslambda.py replaces LambdaFunction.invoke(body, request_headers, response_headers)
    assert list(inspect.signature(lambda_models.LambdaFunction.invoke).parameters) == [
        "self", "body", "request_headers", "response_headers"]
    assert "docker" in inspect.getsource(lambda_models.LambdaFunction._invoke_lambda)


def test_cloudformation_functions_still_drop_layers_and_layers_still_take_the_logical_id():
    source = inspect.getsource(lambda_models.LambdaFunction.create_from_cloudformation_json)
    assert '"Layers"' not in source  # else patches/awslambda.py no longer needs to add them
    layer_source = inspect.getsource(lambda_models.LayerVersion.create_from_cloudformation_json)
    assert '"LayerName": resource_name' in layer_source


def test_accounts_come_only_from_keys_moto_issued_and_20_character_keys():
    # patches/accounts.py wraps get_account_id_from; moto reads a key only if it has 20 characters
    assert "access_keys" in inspect.getsource(iam_models.get_account_id_from)
    assert "{20}" in responses.BaseResponse.access_key_regex.pattern
    assert "from moto.iam.models import get_account_id_from" in inspect.getsource(
        responses.BaseResponse.get_current_account)


def test_cloudformation_outputs_and_resource_errors_pass_through_module_functions():
    # patches/cloudformation.py replaces these module-level functions
    assert "parse_output(" in inspect.getsource(parsing.OutputMap)
    assert "parse_and_create_resource(" in inspect.getsource(parsing.ResourceMap)


def test_each_local_account_is_its_own(local):
    assert local.session("prod").client("sts").get_caller_identity()["Account"] == "222222222222"
    local.session("prod").client("s3").create_bucket(Bucket="only-in-prod")
    assert "only-in-prod" not in [b["Name"] for b in local.session("dev").client("s3").list_buckets()["Buckets"]]


def test_cloudformation_inline_role_policies_come_back_as_json(local, tmp_path):
    (tmp_path / "template.yaml").write_text(
        "Resources:\n  Role:\n    Type: AWS::IAM::Role\n    Properties:\n"
        "      AssumeRolePolicyDocument: {Version: 2012-10-17, Statement: [{Effect: Allow, Principal: {Service: apigateway.amazonaws.com}, Action: sts:AssumeRole}]}\n"
        "      Policies:\n        - PolicyName: get\n          PolicyDocument: {Version: 2012-10-17, Statement: [{Effect: Allow, Action: dynamodb:GetItem, Resource: '*'}]}\n"
        "Outputs:\n  RoleName:\n    Value: !Ref Role\n")
    info = local.deployer().deploy(tmp_path / "template.yaml", "inline-policy")
    try:
        iam = local.session().client("iam")
        document = iam.get_role_policy(RoleName=info.outputs["RoleName"], PolicyName="get")["PolicyDocument"]
        assert document["Statement"][0]["Action"] == "dynamodb:GetItem"  # botocore parsed it: it was JSON
    finally:
        local.deployer().destroy("inline-policy")


def test_moto_still_lacks_the_cloudformation_types_we_add():
    import moto.backends  # noqa: F401 - load every model moto has
    from moto.core.common_models import CloudFormationModel

    from workshop.localcloud.patches import cloudwatch, iam  # noqa: F401 - ours, to skip below

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    for service in ("cloudwatch", "iam", "apigateway"):
        __import__(f"moto.{service}.models")
    types = set()
    for model in subclasses(CloudFormationModel):
        if model.__module__.startswith("moto."):
            try:
                types.add(model.cloudformation_type())
            except NotImplementedError:
                pass
    assert not types & {"AWS::CloudWatch::Alarm", "AWS::IAM::OIDCProvider"}, "moto has them now: drop our models"


def test_moto_still_reads_template_urls_by_host_and_runs_change_sets_without_transform_or_rollback():
    # patches/s3.py and patches/changesets.py: drop them when these gaps close
    from moto.cloudformation import models, utils
    from moto.cloudformation import responses as cfn_responses

    assert '"localhost" in template_url' in inspect.getsource(utils.get_stack_from_s3_url)
    assert "TODO: handle execution errors and implement rollback" in inspect.getsource(
        models.CloudFormationBackend.execute_change_set)
    assert "Transform" not in inspect.getsource(models.CloudFormationBackend.create_change_set)
    assert "TemplateStage" not in inspect.getsource(cfn_responses.CloudFormationResponse.get_template)
    assert not hasattr(cfn_responses.CloudFormationResponse, "list_imports")
    assert "Conditions are not taken into account" in inspect.getsource(
        __import__("moto.s3.models", fromlist=["S3Backend"]).S3Backend.put_bucket_policy)
    import moto.s3.models  # noqa: F401 - its CloudFormation types
    from moto.core.common_models import CloudFormationModel
    assert "AWS::S3::BucketPolicy" not in {m.cloudformation_type() for m in CloudFormationModel.__subclasses__()
                                          if m.__module__.startswith("moto.")}


def test_an_update_that_adds_or_removes_an_export_changes_the_accounts_exports(local, unique):
    """UpdateStack makes the exports what the new outputs export: one added can be imported, one removed is gone.

    https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-stack-exports.html
    (moto 5.2.5 keeps the exports of a stack's first template through its updates).
    """
    cloudformation = local.session().client("cloudformation")
    topic = {"Topic": {"Type": "AWS::SNS::Topic"}}

    def template(outputs: dict) -> str:
        return json.dumps({"Resources": topic, "Outputs": outputs})

    exported = {"Arn": {"Value": {"Ref": "Topic"}, "Export": {"Name": f"{unique}-arn"}}}
    cloudformation.create_stack(StackName=unique, TemplateBody=template({"Plain": {"Value": "x"}}))
    try:
        cloudformation.update_stack(StackName=unique, TemplateBody=template(exported))
        assert f"{unique}-arn" in [e["Name"] for e in cloudformation.list_exports()["Exports"]]
        importer = {"Resources": topic, "Outputs": {"Got": {"Value": {"Fn::ImportValue": f"{unique}-arn"}}}}
        cloudformation.create_stack(StackName=f"{unique}-importer", TemplateBody=json.dumps(importer))
        cloudformation.delete_stack(StackName=f"{unique}-importer")
        cloudformation.update_stack(StackName=unique, TemplateBody=template({"Plain": {"Value": "y"}}))
        assert f"{unique}-arn" not in [e["Name"] for e in cloudformation.list_exports()["Exports"]]
    finally:
        cloudformation.delete_stack(StackName=unique)


def test_moto_still_answers_code_locations_nobody_can_download():
    # patches/lambda_code.py: drop it when moto serves the packages
    assert "amazonaws.com/{self.code['S3Key']}" in inspect.getsource(lambda_models.LambdaFunction.get_code)
    assert '"Location": "s3://"' in inspect.getsource(lambda_models.LayerVersion.get_layer_version)


def test_template_bodies_still_go_through_the_two_parsers_we_replace_and_parse_as_moto_would():
    # patches/template_bodies.py replaces these two; moto's pure-Python YAML read JSON bodies too
    import yaml
    from moto.cloudformation.models import ChangeSet, Stack
    from moto.cloudformation.utils import yaml_tag_constructor

    from workshop.localcloud.patches.template_bodies import parse_body

    assert "self.parse_template(self.template)" in inspect.getsource(Stack._parse_template)
    assert "_parse_template()" in inspect.getsource(ChangeSet.__init__)
    short = ("Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n"
             "      TableName: !Sub '${AWS::StackName}-t'\n      Tags: [{Key: a, Value: !GetAtt X.Arn}]\n"
             "      Other: !Select [0, !GetAZs '']\n      Date: 2010-09-09\n      Flow: {a: 1}\n")
    yaml.add_multi_constructor("", yaml_tag_constructor)
    for body in (short, json.dumps({"Resources": {"T": {"Type": "X", "Properties": {"N": 1.5, "B": True, "S": "0"}}}}),
                 "{Resources: {T: {Type: X}}}"):
        assert parse_body(body) == yaml.load(body, Loader=yaml.Loader), body  # moto's own reading


def test_the_dispatcher_still_asks_for_moto_modules_by_host_and_gets_the_same_list():
    from moto import backends
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    from workshop.localcloud.patches import dispatch

    assert "backends.list_of_moto_modules()" in inspect.getsource(DomainDispatcherApplication.get_backend_for_host)
    before = list(backends.list_of_moto_modules())
    dispatch.apply(None)
    assert list(backends.list_of_moto_modules()) == before and "dynamodb" in before


def test_a_definition_is_parsed_once_and_each_call_still_gets_components_of_its_own():
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    from workshop.localcloud.patches import asl_parse

    # patches/asl_parse.py keeps the tree and runs the Preprocessor again, as moto's parse does
    source = inspect.getsource(AmazonStateLanguageParser.parse)
    assert ("preprocessor.visit(tree)" in source and "return program, tree" in source) or getattr(
        AmazonStateLanguageParser.parse, "_keeps_trees", False)
    asl_parse.apply(None)
    definition = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": 1, "End": True}}})
    first, tree = AmazonStateLanguageParser.parse(definition)
    again, same_tree = AmazonStateLanguageParser.parse(definition)
    assert same_tree is tree and again is not first and type(again) is type(first)
    with pytest.raises(Exception, match="ASLParserException"):
        AmazonStateLanguageParser.parse('{"StartAt": "A", "States": {"A": {"Type": "Nope"}}}')
