"""A tree redeployed brings its stacks in line: new ones created, changed ones updated in place,
unchanged ones left alone with their warm environments, those whose template is gone deleted.

CloudFormation updates a stack in place and answers "No updates are to be performed" for an
unchanged template (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks.html);
Lambda runs the next invocation after an update in a new execution environment
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

PID_APP = Path(__file__).parent.parent / "fixtures" / "pid"


@pytest.fixture
def tree(tmp_path):
    """Two services of one tree, each the pid app in its own folder."""
    for service in ("alpha", "beta"):
        shutil.copytree(PID_APP, tmp_path / "services" / service)
    return tmp_path


def served_by(local, info) -> dict:
    response = local.session().client("lambda").invoke(FunctionName=info.outputs["FunctionName"])
    return json.loads(response["Payload"].read())


def running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_an_unchanged_tree_updates_nothing_and_the_same_environment_serves(local, tree, unique):
    first = local.deploy_tree(tree, unique)
    try:
        assert not first.errors and sorted(first.stacks) == [f"{unique}-alpha", f"{unique}-beta"]
        before = {name: served_by(local, info) for name, info in first.stacks.items()}
        again = local.deploy_tree(tree, unique)
        assert not again.errors
        assert [info.changed for info in again.stacks.values()] == [False, False]
        assert {name: served_by(local, info) for name, info in again.stacks.items()} == before
    finally:
        local.destroy_prefix(unique)


def test_an_edited_handler_is_served_new_and_its_old_environment_stops(local, tree, unique):
    first = local.deploy_tree(tree, unique)
    try:
        alpha, beta = (served_by(local, first.stacks[f"{unique}-{s}"]) for s in ("alpha", "beta"))
        handler = tree / "services" / "alpha" / "src" / "pid.py"
        handler.write_text(handler.read_text().replace("VERSION = 1", "VERSION = 2"))
        second = local.deploy_tree(tree, unique)
        assert second.stacks[f"{unique}-alpha"].changed and not second.stacks[f"{unique}-beta"].changed
        new_alpha = served_by(local, second.stacks[f"{unique}-alpha"])
        assert new_alpha["version"] == 2 and new_alpha["pid"] != alpha["pid"]
        assert not running(alpha["pid"])  # stopped at the update, not left to idle out
        assert served_by(local, second.stacks[f"{unique}-beta"]) == beta  # the other service stayed warm
    finally:
        local.destroy_prefix(unique)


def test_a_removed_template_deletes_its_stack_and_stops_its_environments(local, tree, unique):
    first = local.deploy_tree(tree, unique)
    try:
        beta = served_by(local, first.stacks[f"{unique}-beta"])
        shutil.rmtree(tree / "services" / "beta")
        second = local.deploy_tree(tree, unique)
        assert sorted(second.stacks) == [f"{unique}-alpha"]
        assert f"{unique}-beta" not in local.deployer().stacks()
        assert not running(beta["pid"])
    finally:
        local.destroy_prefix(unique)


def test_a_template_that_stops_deploying_leaves_no_stale_stack_behind(local, tree, unique):
    local.deploy_tree(tree, unique)
    try:
        template = tree / "services" / "beta" / "template.yaml"
        template.write_text(template.read_text().replace("CodeUri: src/", "CodeUri: nowhere/"))
        second = local.deploy_tree(tree, unique)
        assert "nowhere" in second.errors[f"{unique}-beta"]
        assert f"{unique}-beta" not in local.deployer().stacks()  # never judged on what an older tree deployed
        assert f"{unique}-alpha" in local.deployer().stacks()
    finally:
        local.destroy_prefix(unique)


def test_another_prefix_that_starts_the_same_is_left_alone(local, tree, unique):
    local.deploy_tree(tree, f"{unique}-copy")
    try:
        local.deploy_tree(tree, unique)
        shutil.rmtree(tree / "services")
        (tree / "services").mkdir()
        shutil.copytree(PID_APP, tree / "services" / "gamma")
        local.deploy_tree(tree, unique)
        assert {f"{unique}-copy-alpha", f"{unique}-copy-beta", f"{unique}-gamma"} <= set(local.deployer().stacks())
    finally:
        local.destroy_prefix(unique)
        local.destroy_prefix(f"{unique}-copy")



# The table every template of this file holds; KEY is its hash key's name.
TABLE = """\
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: KEY, AttributeType: S}]
      KeySchema: [{AttributeName: KEY, KeyType: HASH}]
"""

ROLE_AND_TABLE = """AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]
      ManagedPolicyArns: [MANAGED]
      Policies:
        - PolicyName: table
          PolicyDocument:
            Version: "2012-10-17"
            Statement: [{Effect: Allow, Action: "ACTION", Resource: !GetAtt Table.Arn}]
""" + TABLE + """Outputs:
  Role: {Value: !Ref Role}
  Table: {Value: !Ref Table}
  TableArn: {Value: !GetAtt Table.Arn}
"""


def role_and_table(action: str, managed: str, key: str) -> str:
    return ROLE_AND_TABLE.replace("ACTION", action).replace("MANAGED", managed).replace("KEY", key)


def test_an_update_stack_reaches_a_roles_policies_and_replaces_a_changed_table(local, unique):
    """UpdateStack as the SAM CLI's change sets run it: a corrected policy must reach the role (moto
    updated its description only), and a table whose key changed is replaced, not lost from the
    stack (moto stored None for it, and every Ref and GetAtt then failed with a 500)."""
    cloudformation = local.session().client("cloudformation")
    iam, dynamodb = local.session().client("iam"), local.session().client("dynamodb")

    def outputs() -> dict[str, str]:
        stack = cloudformation.describe_stacks(StackName=unique)["Stacks"][0]
        return {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}

    cloudformation.create_stack(StackName=unique, Capabilities=["CAPABILITY_IAM"], TemplateBody=role_and_table(
        "dynamodb:*", "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", "id"))
    first = outputs()
    dynamodb.put_item(TableName=first["Table"], Item={"id": {"S": "kept?"}})
    cloudformation.update_stack(StackName=unique, Capabilities=["CAPABILITY_IAM"], TemplateBody=role_and_table(
        "dynamodb:GetItem", "arn:aws:iam::aws:policy/AWSLambdaExecute", "pk"))
    try:
        assert outputs() == first  # same role, same table name: every Ref still holds
        policy = iam.get_role_policy(RoleName=first["Role"], PolicyName="table")["PolicyDocument"]
        assert policy["Statement"][0]["Action"] == "dynamodb:GetItem"
        attached = iam.list_attached_role_policies(RoleName=first["Role"])["AttachedPolicies"]
        assert [p["PolicyArn"] for p in attached] == ["arn:aws:iam::aws:policy/AWSLambdaExecute"]
        table = dynamodb.describe_table(TableName=first["Table"])["Table"]
        assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
        assert dynamodb.scan(TableName=first["Table"])["Count"] == 0  # a replaced table starts empty, as on AWS
    finally:
        cloudformation.delete_stack(StackName=unique)


def test_a_template_change_beyond_function_code_replaces_the_stack_so_nothing_points_at_the_old(local, tree, unique):
    """A table given a name of its own (a fairness case of module 01, then undone): moto's in-place
    update replaced the table but left the function's environment naming the old one."""
    template = tree / "services" / "alpha" / "template.yaml"
    template.write_text(template.read_text().replace("      Handler: pid.handler\n", (
        "      Handler: pid.handler\n      Environment: {Variables: {TABLE: !Ref Table}}\n"
        + TABLE.replace("KEY", "id"))))
    lam = local.session().client("lambda")

    def table_of(info) -> str:
        return lam.get_function_configuration(FunctionName=info.outputs["FunctionName"])["Environment"]["Variables"]["TABLE"]

    try:
        first = table_of(local.deploy_tree(tree, unique).stacks[f"{unique}-alpha"])
        template.write_text(template.read_text().replace("BillingMode:", f"TableName: {unique}-named\n      BillingMode:"))
        named = local.deploy_tree(tree, unique).stacks[f"{unique}-alpha"]
        assert named.changed and table_of(named) == f"{unique}-named" != first
        template.write_text(template.read_text().replace(f"TableName: {unique}-named\n      ", ""))
        back = local.deploy_tree(tree, unique).stacks[f"{unique}-alpha"]
        tables = local.session().client("dynamodb").list_tables()["TableNames"]
        assert table_of(back) in tables and f"{unique}-named" not in tables
        pid = served_by(local, back)["pid"]  # and a code-only edit is still an update in place: the env is new
        handler = tree / "services" / "alpha" / "src" / "pid.py"
        handler.write_text(handler.read_text().replace("VERSION = 1", "VERSION = 2"))
        edited = local.deploy_tree(tree, unique).stacks[f"{unique}-alpha"]
        assert edited.outputs == back.outputs and served_by(local, edited)["pid"] != pid
    finally:
        local.destroy_prefix(unique)



EXPORTER = """AWSTemplateFormatVersion: "2010-09-09"
Resources:
""" + TABLE.replace("KEY", "id") + """Outputs:
  TableName:
    Value: !Ref Table
    Export: {Name: !Sub "${AWS::StackName}-table"}
"""


def test_a_replaced_stack_whose_exports_changed_is_imported_again(local, tree, unique):
    """moto resolves an import when the importing stack is made and does not track it: after the
    exporter is replaced (its table renamed), the importer is made again from the new value."""
    (tree / "services" / "beta" / "template.yaml").write_text(EXPORTER)
    alpha = tree / "services" / "alpha" / "template.yaml"
    alpha.write_text(alpha.read_text().replace("      Handler: pid.handler\n", (
        "      Handler: pid.handler\n"
        f"      Environment: {{Variables: {{TABLE: !ImportValue {unique}-beta-table}}}}\n")))
    lam = local.session().client("lambda")

    def imported(deployment) -> str:
        function = deployment.stacks[f"{unique}-alpha"].outputs["FunctionName"]
        return lam.get_function_configuration(FunctionName=function)["Environment"]["Variables"]["TABLE"]

    try:
        # beta (sorted after alpha) must exist first: deploy it alone, then the tree
        local.deploy_template(tree / "services" / "beta" / "template.yaml", f"{unique}-beta")
        first = local.deploy_tree(tree, unique)
        assert imported(first) == first.stacks[f"{unique}-beta"].outputs["TableName"]
        (tree / "services" / "beta" / "template.yaml").write_text(EXPORTER.replace(
            "BillingMode:", f"TableName: {unique}-renamed\n      BillingMode:"))
        second = local.deploy_tree(tree, unique)
        assert not second.errors and imported(second) == f"{unique}-renamed"
    finally:
        local.destroy_prefix(unique)
