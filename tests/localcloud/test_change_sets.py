"""Change sets as the SAM CLI drives them, through boto3 against the local cloud.

What `sam deploy` sends: CreateChangeSet (a SAM template, by TemplateURL in path style on the
endpoint it was given), the change_set_create_complete waiter, DescribeChangeSet,
ExecuteChangeSet, DescribeStackEvents and the stack_create_complete waiter; `sam delete`
reads GetTemplate (Original). AWS's documents:
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-changesets.html
https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_GetTemplate.html
https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ListImports.html
"""

from __future__ import annotations

import io
import json
import zipfile

import httpx
import pytest
from botocore.exceptions import ClientError, WaiterError

FAST = {"Delay": 1, "MaxAttempts": 5}
HANDLER = "def handler(event, context):\n    return {'statusCode': 200, 'body': '{\"hello\": \"' + event['path'] + '\"}'}\n"

SAM_APP = """\
Transform: AWS::Serverless-2016-10-31
Parameters:
  Greeting: {Type: String, Default: hello}
Resources:
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: s3://%(bucket)s/app.zip
      Environment: {Variables: {GREETING: !Ref Greeting}}
      Events:
        Get: {Type: Api, Properties: {Path: /hello, Method: get}}
Outputs:
  ApiUrl:
    Value: !Sub "https://${ServerlessRestApi}.execute-api.${AWS::Region}.amazonaws.com/Prod/"
  Exported:
    Value: !Ref Greeting
    Export: {Name: !Sub "${AWS::StackName}-greeting"}
"""


@pytest.fixture(scope="module")
def account(local):
    session = local.session()
    s3, cfn = session.client("s3"), session.client("cloudformation")
    bucket = "change-set-artifacts"
    s3.create_bucket(Bucket=bucket)
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("app.py", HANDLER)
    s3.put_object(Bucket=bucket, Key="app.zip", Body=code.getvalue())
    s3.put_object(Bucket=bucket, Key="app.template", Body=SAM_APP % {"bucket": bucket})
    return session, s3, cfn, bucket


def create(cfn, name: str, **template) -> dict:
    change_set = cfn.create_change_set(StackName=name, ChangeSetName="samcli-deploy1", ChangeSetType="CREATE",
                                       Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
                                       Tags=[{"Key": "owner", "Value": "me"}], **template)
    return change_set


def test_a_sam_change_set_from_a_path_style_url_is_transformed_executed_and_answers(account, cloud):
    session, s3, cfn, bucket = account
    change_set = create(cfn, "cs-hello", TemplateURL=f"{cloud.url}/{bucket}/app.template")
    cfn.get_waiter("change_set_create_complete").wait(ChangeSetName=change_set["Id"], WaiterConfig=FAST)
    described = cfn.describe_change_set(ChangeSetName=change_set["Id"])
    kinds = {c["ResourceChange"]["ResourceType"] for c in described["Changes"]}
    assert "AWS::Lambda::Function" in kinds and not any(k.startswith("AWS::Serverless::") for k in kinds)
    assert cfn.describe_stacks(StackName="cs-hello")["Stacks"][0]["StackStatus"] == "REVIEW_IN_PROGRESS"

    cfn.execute_change_set(ChangeSetName=change_set["Id"])
    cfn.get_waiter("stack_create_complete").wait(StackName="cs-hello", WaiterConfig=FAST)
    try:
        stack = cfn.describe_stacks(StackName="cs-hello")["Stacks"][0]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
        assert outputs["ApiUrl"].startswith(f"{cloud.url}/_aws/execute-api/")  # as the local deploy rewrites it
        assert {"Key": "owner", "Value": "me"} in stack["Tags"]
        assert httpx.get(outputs["ApiUrl"] + "hello").json() == {"hello": "/hello"}  # deployed, not just "complete"
        assert "cs-hello-greeting" in [e["Name"] for e in cfn.list_exports()["Exports"]]

        events = cfn.describe_stack_events(StackName="cs-hello")["StackEvents"]  # newest first
        assert (events[0]["LogicalResourceId"], events[0]["ResourceStatus"]) == ("cs-hello", "CREATE_COMPLETE")
        assert any(e["ResourceType"] == "AWS::Lambda::Function" and e["ResourceStatus"] == "CREATE_COMPLETE"
                   for e in events)

        assert "Transform" in cfn.get_template(StackName="cs-hello")["TemplateBody"]  # Original, for sam delete
        processed = cfn.get_template(StackName="cs-hello", TemplateStage="Processed")["TemplateBody"]
        assert "AWS::Serverless::Function" not in json.dumps(processed)
    finally:
        cfn.delete_stack(StackName="cs-hello")


def test_an_update_change_set_changes_outputs_and_an_unchanged_one_says_so(account):
    session, s3, cfn, bucket = account
    body = SAM_APP % {"bucket": bucket}
    cfn.execute_change_set(ChangeSetName=create(cfn, "cs-update", TemplateBody=body)["Id"])
    try:
        update = cfn.create_change_set(StackName="cs-update", ChangeSetName="samcli-deploy2", ChangeSetType="UPDATE",
                                       TemplateBody=body, Capabilities=["CAPABILITY_IAM"],
                                       Parameters=[{"ParameterKey": "Greeting", "ParameterValue": "bonjour"}])
        cfn.execute_change_set(ChangeSetName=update["Id"])
        cfn.get_waiter("stack_update_complete").wait(StackName="cs-update", WaiterConfig=FAST)
        stack = cfn.describe_stacks(StackName="cs-update")["Stacks"][0]
        assert {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}["Exported"] == "bonjour"

        same = cfn.create_change_set(StackName="cs-update", ChangeSetName="samcli-deploy3", ChangeSetType="UPDATE",
                                     TemplateBody=body, Capabilities=["CAPABILITY_IAM"],
                                     Parameters=[{"ParameterKey": "Greeting", "ParameterValue": "bonjour"}])
        described = cfn.describe_change_set(ChangeSetName=same["Id"])
        assert described["Status"] == "FAILED" and "didn't contain changes" in described["StatusReason"]
    finally:
        cfn.delete_stack(StackName="cs-update")


def test_a_change_set_whose_resource_fails_rolls_back_and_leaves_nothing(account):
    session, s3, cfn, bucket = account
    broken = ("Resources:\n  Table:\n    Type: AWS::DynamoDB::Table\n    Properties:\n"
              "      BillingMode: PAY_PER_REQUEST\n      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]\n"
              "      KeySchema: [{AttributeName: id, KeyType: HASH}]\n"
              "  Nope:\n    Type: AWS::NotAService::Thing\n    DependsOn: Table\n")
    tables_before = set(session.client("dynamodb").list_tables()["TableNames"])
    cfn.execute_change_set(ChangeSetName=create(cfn, "cs-broken", TemplateBody=broken)["Id"])
    with pytest.raises(WaiterError):  # what `sam deploy` reports as a failed deploy
        cfn.get_waiter("stack_create_complete").wait(StackName="cs-broken", WaiterConfig=FAST)
    try:
        stack = cfn.describe_stacks(StackName="cs-broken")["Stacks"][0]
        assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
        reasons = [e.get("ResourceStatusReason") or "" for e in cfn.describe_stack_events(StackName="cs-broken")["StackEvents"]]
        assert any("Nope" in reason for reason in reasons)
        assert set(session.client("dynamodb").list_tables()["TableNames"]) == tables_before
        with pytest.raises(ClientError, match="ROLLBACK_COMPLETE state and can not be updated"):
            cfn.create_change_set(StackName="cs-broken", ChangeSetName="again", ChangeSetType="UPDATE",
                                  TemplateBody=broken)
    finally:
        cfn.delete_stack(StackName="cs-broken")


def test_a_sam_template_the_transform_rejects_is_a_failed_change_set_with_the_reason(account):
    session, s3, cfn, bucket = account
    invalid = "Transform: AWS::Serverless-2016-10-31\nResources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties: {}\n"
    change_set = create(cfn, "cs-invalid", TemplateBody=invalid)
    try:
        with pytest.raises(WaiterError):
            cfn.get_waiter("change_set_create_complete").wait(ChangeSetName=change_set["Id"], WaiterConfig=FAST)
        described = cfn.describe_change_set(ChangeSetName=change_set["Id"])
        assert described["Status"] == "FAILED"
        assert described["StatusReason"].startswith("Transform AWS::Serverless-2016-10-31 failed with:")
        with pytest.raises(ClientError, match="cannot be executed in its current status"):
            cfn.execute_change_set(ChangeSetName=change_set["Id"])
    finally:
        cfn.delete_stack(StackName="cs-invalid")


def test_list_imports_names_the_stacks_that_import_an_export(account):
    session, s3, cfn, bucket = account
    exporter = "Resources:\n  T: {Type: AWS::SNS::Topic}\nOutputs:\n  A: {Value: !Ref T, Export: {Name: !Sub '${AWS::StackName}-topic'}}\n"
    importer = json.dumps({"Parameters": {"From": {"Type": "String", "Default": "li-exporter"}}, "Resources": {"Q": {
        "Type": "AWS::SQS::Queue",
        "Properties": {"QueueName": {"Fn::Select": [5, {"Fn::Split": [":", {"Fn::ImportValue": {"Fn::Sub": "${From}-topic"}}]}]}},
    }}})
    cfn.create_stack(StackName="li-exporter", TemplateBody=exporter)
    cfn.create_stack(StackName="li-importer", TemplateBody=importer)
    try:
        assert cfn.list_imports(ExportName="li-exporter-topic")["Imports"] == ["li-importer"]
        with pytest.raises(ClientError, match="does not exist"):
            cfn.list_imports(ExportName="nobody-exports-this")
    finally:
        cfn.delete_stack(StackName="li-importer")
        cfn.delete_stack(StackName="li-exporter")


def test_a_bucket_policy_from_cloudformation_applies_except_its_no_tls_statement(account):
    """The managed bucket's policy denies requests without TLS; the local endpoint stands for TLS.

    https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html (aws:SecureTransport)
    """
    session, s3, cfn, bucket = account
    template = """\
Resources:
  Bucket: {Type: AWS::S3::Bucket}
  Policy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Bucket
      PolicyDocument:
        Statement:
          - {Effect: Deny, Principal: "*", Action: "s3:*", Resource: [!Sub "arn:aws:s3:::${Bucket}/*"],
             Condition: {Bool: {"aws:SecureTransport": false}}}
          - {Effect: Deny, Principal: "*", Action: "s3:PutObject", Resource: [!Sub "arn:aws:s3:::${Bucket}/locked/*"]}
Outputs:
  Name: {Value: !Ref Bucket}
"""
    cfn.create_stack(StackName="bucket-policy", TemplateBody=template)
    try:
        name = cfn.describe_stacks(StackName="bucket-policy")["Stacks"][0]["Outputs"][0]["OutputValue"]
        assert json.loads(s3.get_bucket_policy(Bucket=name)["Policy"])["Statement"][1]["Action"] == "s3:PutObject"
        s3.put_object(Bucket=name, Key="open/file", Body=b"x")
        with pytest.raises(ClientError, match="403|Forbidden|AccessDenied"):
            s3.put_object(Bucket=name, Key="locked/file", Body=b"x")
        s3.delete_object(Bucket=name, Key="open/file")
    finally:
        cfn.delete_stack(StackName="bucket-policy")


def test_a_functions_and_a_layers_code_location_download_their_zips(account, local):
    """GetFunction's Code.Location and GetLayerVersion's Content.Location are downloadable, as on AWS."""
    session, s3, cfn, bucket = account
    lam = session.client("lambda")
    code = s3.get_object(Bucket=bucket, Key="app.zip")["Body"].read()
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                     "Action": "sts:AssumeRole"}]}
    role = session.client("iam").create_role(RoleName="located", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    lam.create_function(FunctionName="located", Runtime="python3.12", Handler="app.handler", Role=role,
                        Code={"ZipFile": code})
    layer = lam.publish_layer_version(LayerName="located-layer", Content={"ZipFile": code})
    try:
        assert httpx.get(lam.get_function(FunctionName="located")["Code"]["Location"]).content == code
        location = lam.get_layer_version(LayerName="located-layer", VersionNumber=layer["Version"])["Content"]["Location"]
        assert httpx.get(location).content == code
    finally:
        lam.delete_function(FunctionName="located")


def test_the_public_powertools_layer_is_readable_as_on_aws(account):
    lam = account[0].client("lambda")
    arn = "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-x86_64"
    version = lam.get_layer_version(LayerName=arn, VersionNumber=27)
    assert version["LayerVersionArn"] == f"{arn}:27"
    package = zipfile.ZipFile(io.BytesIO(httpx.get(version["Content"]["Location"], timeout=120).content))
    assert "python/aws_lambda_powertools/__init__.py" in package.namelist()
