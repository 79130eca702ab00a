"""`workshop clean --target aws`, against the local cloud posing as an account."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from workshop.cli import app
from workshop.deploy.clean import MANAGED_TAG, clean

BUCKET_STACK = "Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\nOutputs:\n  Bucket:\n    Value: !Ref Bucket\n"
EXPORTER = ("Resources:\n  Topic:\n    Type: AWS::SNS::Topic\nOutputs:\n  TopicArn:\n    Value: !Ref Topic\n"
            "    Export:\n      Name: !Sub '${AWS::StackName}-TopicArn'\n")
IMPORTER = json.dumps({"Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {
    "Fn::Select": [5, {"Fn::Split": [":", {"Fn::ImportValue": "me-inventory-TopicArn"}]}]}}}}})


def test_clean_deletes_only_tagged_stacks_and_empties_their_buckets_first(local, tmp_path):
    template = tmp_path / "template.yaml"
    template.write_text(BUCKET_STACK)
    deployer = local.deployer("staging")
    ours = deployer.deploy(template, "ws-cart", tags={MANAGED_TAG: "true"})
    theirs = deployer.deploy(template, "production-db")
    session = local.session("staging")
    s3 = session.client("s3")
    for i in range(3):
        s3.put_object(Bucket=ours.outputs["Bucket"], Key=f"k{i}", Body=b"x")

    asked = []
    declined = clean(session, lambda names: asked.append(names) or False)
    assert asked == [["ws-cart"]] and declined.deleted == []
    assert "ws-cart" in deployer.stacks()

    report = clean(session, lambda names: True, wait_delay=1)
    assert report.deleted == ["ws-cart"]
    assert report.emptied_buckets == {ours.outputs["Bucket"]: 3}
    assert report.kept == ["production-db"]
    assert deployer.stacks() == ["production-db"]
    deployer.destroy(theirs.name)


def test_clean_by_prefix_deletes_an_importer_before_its_exporter_and_keeps_the_sam_stack(local, tmp_path, cloud, monkeypatch):
    """Issue 14, item 5: untagged stacks from `sam deploy`, found by prefix; orders imports inventory's export."""
    account = "700000000005"
    deployer = local.deployer(account)
    for name, body in (("me-inventory", EXPORTER), ("me-orders", IMPORTER), ("aws-sam-cli-managed-default", BUCKET_STACK),
                       ("someone-else", BUCKET_STACK)):
        path = tmp_path / f"{name}.yaml"
        path.write_text(body)
        deployer.deploy(path, name)
    session = local.session(account)
    cloudformation = session.client("cloudformation")
    assert cloudformation.list_imports(ExportName="me-inventory-TopicArn")["Imports"] == ["me-orders"]

    for variable, value in (("AWS_ENDPOINT_URL", cloud.url), ("AWS_ACCESS_KEY_ID", f"LOCALKEY{account}"),
                            ("AWS_SECRET_ACCESS_KEY", "x"), ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(variable, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    result = CliRunner().invoke(app, ["clean", "--target", "aws", "--stack-prefix", "me", "--yes"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "deleted: me-orders, me-inventory" in result.output  # importer first
    assert sorted(deployer.stacks()) == ["aws-sam-cli-managed-default", "someone-else"]
    assert "someone-else" in result.output and "not deleted" not in result.output


def test_clean_names_an_exporter_it_cannot_delete_while_a_stack_not_yours_imports_it(local, tmp_path):
    account = "700000000006"
    deployer = local.deployer(account)
    for name, body in (("me-inventory", EXPORTER), ("their-orders", IMPORTER)):
        path = tmp_path / f"{name}.yaml"
        path.write_text(body)
        deployer.deploy(path, name)
    report = clean(local.session(account), lambda names: True, prefix="me", wait_delay=1)
    assert report.deleted == []
    assert "imported by their-orders" in report.failed["me-inventory"]
    deployer.destroy("their-orders")
    deployer.destroy("me-inventory")
