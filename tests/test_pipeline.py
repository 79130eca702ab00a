"""The pipeline dry run (workshop/pipeline/): reading a workflow, then running it on the local cloud."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import yaml

from workshop.deploy import samconfig
from workshop.deploy import template as cfn_templates
from workshop.deploy.intrinsics import Evaluator
from workshop.deploy.samconfig import parse_overrides
from workshop.localcloud.safety import ACCOUNTS
from workshop.pipeline import (
    PipelineError,
    destroy,
    load_workflow,
    promoted_builds,
    run,
    service_order,
    smoke_tests,
    stage_of,
    unit_tests_first,
)

# A plain CloudFormation app (no code to package, so it deploys in a blink): prod gets a topic more.
TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Environment:
    Type: String
    AllowedValues: [dev, staging, prod]
Conditions:
  IsProd: !Equals [!Ref Environment, prod]
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
  AlarmTopic:
    Type: AWS::SNS::Topic
    Condition: IsProd
Outputs:
  Environment:
    Value: !Ref Environment
"""

SAMCONFIG = """\
version = 0.1
[dev.deploy.parameters]
stack_name = "app"
parameter_overrides = "Environment=dev"
[staging.deploy.parameters]
stack_name = "app"
parameter_overrides = ["Environment=staging"]
[prod.deploy.parameters]
stack_name = "app"
parameter_overrides = "ParameterKey=Environment,ParameterValue=prod"
"""

WORKFLOW = """\
name: deploy
on: {push: {branches: [main]}}
permissions: {id-token: write, contents: read}
env:
  PROD_ROLE: arn:aws:iam::222222222222:role/deploy-prod
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: echo the unit tests would run here
  dev:
    needs: test
    runs-on: ubuntu-latest
    steps:
      - uses: aws-actions/configure-aws-credentials@v4
        with: {role-to-assume: "arn:aws:iam::111111111111:role/deploy-dev", aws-region: us-east-1}
      - run: sam build
      - run: sam deploy --config-env dev
  staging:
    needs: dev
    runs-on: ubuntu-latest
    steps:
      - uses: aws-actions/configure-aws-credentials@v4
        with: {role-to-assume: "arn:aws:iam::333333333333:role/deploy-staging", aws-region: us-east-1}
      - run: |
          sam build && \\
            sam deploy \\
              --config-env staging
  prod:
    needs: [dev, staging]
    environment: {name: production, url: https://example.com}
    runs-on: ubuntu-latest
    steps:
      - uses: aws-actions/configure-aws-credentials@v4
        with:
          role-to-assume: ${{ env.PROD_ROLE }}
          aws-region: us-east-1
      - run: sam deploy --config-env prod
  announce:
    needs: prod
    runs-on: ubuntu-latest
    steps:
      - run: echo released
"""


# What an administrator deploys into each account once: GitHub's OIDC provider and the deploy role
# (deploy-dev, deploy-staging, deploy-prod) the workflows above assume. Prod's admits only the
# production environment's jobs, the others main's.
BOOTSTRAP = """\
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Environment:
    Type: String
    AllowedValues: [dev, staging, prod]
  GitHubRepository:
    Type: String
    Default: OWNER/REPO
Conditions:
  IsProd: !Equals [!Ref Environment, prod]
Resources:
  GitHubOidcProvider:
    Type: AWS::IAM::OIDCProvider
    Properties:
      Url: https://token.actions.githubusercontent.com
      ClientIdList: [sts.amazonaws.com]
      ThumbprintList: [6938fd4d98bab03faadb97b34396831e3780aea1]
  DeployRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: !Sub "deploy-${Environment}"
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: sts:AssumeRoleWithWebIdentity
            Principal: {Federated: !Ref GitHubOidcProvider}
            Condition:
              StringEquals:
                token.actions.githubusercontent.com:aud: sts.amazonaws.com
                token.actions.githubusercontent.com:sub: !If
                  - IsProd
                  - !Sub "repo:${GitHubRepository}:environment:production"
                  - !Sub "repo:${GitHubRepository}:ref:refs/heads/main"
      Policies:
        - PolicyName: deploy
          PolicyDocument:
            Version: "2012-10-17"
            Statement: [{Effect: Allow, Action: "*", Resource: "*"}]
"""


def make_tree(root: Path, workflow: str = WORKFLOW, samconfig: str = SAMCONFIG, bootstrap: str = BOOTSTRAP) -> Path:
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / ".github" / "workflows" / "deploy.yml").write_text(textwrap.dedent(workflow))
    (root / "template.yaml").write_text(TEMPLATE)
    (root / "samconfig.toml").write_text(samconfig)
    if bootstrap:
        (root / "pipeline").mkdir()
        (root / "pipeline" / "bootstrap.yaml").write_text(bootstrap)
    return root


# -- reading ---------------------------------------------------------------------------------

def test_the_job_graph_roles_and_overrides_are_read(tmp_path):
    workflow = load_workflow(make_tree(tmp_path))
    assert workflow.order() == ["test", "dev", "staging", "prod", "announce"]
    assert workflow.upstream("prod") == {"test", "dev", "staging"}
    assert workflow.jobs["prod"].environment == "production"
    deploys = {d.stage: d for d in workflow.deploys}
    assert set(deploys) == {"dev", "staging", "prod"}
    assert deploys["dev"].account == "111111111111" and deploys["dev"].parameters == {"Environment": "dev"}
    assert deploys["staging"].config_env == "staging"  # found across `&&` and continuation lines
    assert deploys["staging"].parameters == {"Environment": "staging"}  # samconfig's list form
    assert deploys["prod"].role_arn.endswith(":role/deploy-prod")  # ${{ env.PROD_ROLE }} resolved
    assert deploys["prod"].account == "222222222222" and deploys["prod"].parameters == {"Environment": "prod"}
    assert all(d.template == tmp_path / "template.yaml" and d.stack_name == "app" and not d.problem
               for d in deploys.values())
    assert workflow.jobs_deploying("prod") == ["prod"]


def test_command_line_options_win_over_samconfig_and_stored_keys_are_seen(tmp_path):
    tree = make_tree(tmp_path, workflow="""\
        on: push
        jobs:
          all:
            runs-on: ubuntu-latest
            steps:
              - uses: aws-actions/configure-aws-credentials@v4
                with:
                  aws-access-key-id: ${{ secrets.AWS_ACCESS_KEY_ID }}
                  aws-secret-access-key: ${{ secrets.AWS_SECRET_ACCESS_KEY }}
              - run: sam build -t copy-prod.yaml
              - run: sam deploy --config-env dev --stack-name app-prod --parameter-overrides Environment=prod Extra="a b"
        """)
    (tree / "copy-prod.yaml").write_text(TEMPLATE)
    deploy, = load_workflow(tree).deploys
    assert deploy.stored_keys and deploy.role_arn is None and deploy.account == ACCOUNTS["default"]
    assert deploy.template == tree / "copy-prod.yaml"  # what `sam build -t` built is what sam deploys
    assert deploy.stack_name == "app-prod"
    assert deploy.parameters == {"Environment": "prod", "Extra": "a b"}
    assert deploy.stage == "dev"  # the config env names the stage


@pytest.mark.parametrize("jobs, message", [
    ("a: {runs-on: x, needs: b, steps: [{run: echo}]}\n  b: {runs-on: x, needs: a, steps: [{run: echo}]}", "cycle"),
    ("a: {runs-on: x, needs: nobody, steps: [{run: echo}]}", "nobody"),
])
def test_a_broken_job_graph_is_refused(tmp_path, jobs, message):
    tree = make_tree(tmp_path, workflow=f"on: push\njobs:\n  {jobs}\n")
    with pytest.raises(PipelineError, match=message):
        load_workflow(tree)


def test_no_workflow_is_an_error(tmp_path):
    with pytest.raises(PipelineError, match="no workflow"):
        load_workflow(tmp_path)


def test_what_a_dry_run_cannot_know_is_named(tmp_path):
    tree = make_tree(tmp_path, workflow="""\
        on: push
        jobs:
          dev:
            runs-on: x
            steps:
              - uses: aws-actions/configure-aws-credentials@v4
                with: {role-to-assume: "${{ vars.DEV_ROLE }}"}
              - run: sam deploy --config-env dev
          nocreds:
            runs-on: x
            steps:
              - run: sam deploy --config-env dev
          missing:
            runs-on: x
            steps:
              - uses: aws-actions/configure-aws-credentials@v4
                with: {role-to-assume: "arn:aws:iam::111111111111:role/r"}
              - run: sam deploy --config-env qa
        """)
    deploys = {d.job: d for d in load_workflow(tree).deploys}
    assert "vars.DEV_ROLE" in deploys["dev"].problem
    assert "no AWS credentials" in deploys["nocreds"].problem
    assert "[qa.deploy.parameters]" in deploys["missing"].problem


def test_overrides_and_stage_names():
    assert parse_overrides('Environment=prod Name="two words"') == {"Environment": "prod", "Name": "two words"}
    assert parse_overrides(["A=1", "ParameterKey=B,ParameterValue=2"]) == {"A": "1", "B": "2"}
    assert parse_overrides(None) == {}
    assert [stage_of(s) for s in ("production", "template-staging", "shop-cart-dev", "qa")] == ["prod", "staging", "dev", None]


# -- samconfig in every form the SAM CLI reads ------------------------------------------------

def test_samconfig_is_found_and_merged_as_the_sam_cli_does(tmp_path):
    """SAM CLI: --config-file, else samconfig.toml, else samconfig.yaml/.yml; [ENV.global.parameters]
    under [ENV.COMMAND.parameters]
    (docs.aws.amazon.com/serverless-application-model/latest/developerguide/serverless-sam-cli-config.html)."""
    assert samconfig.find(tmp_path) is None
    (tmp_path / "samconfig.yml").write_text(yaml.safe_dump(
        {"version": 0.1, "prod": {"global": {"parameters": {"stack_name": "shop", "region": "eu-west-1"}},
                                  "deploy": {"parameters": {"region": "us-east-1", "parameter_overrides": "Environment=prod"}}}}))
    found = samconfig.find(tmp_path)
    assert found is not None and found.name == "samconfig.yml"
    config = samconfig.load(found)
    assert samconfig.parameters(config, "prod") == {"stack_name": "shop", "region": "us-east-1",
                                                    "parameter_overrides": "Environment=prod"}
    assert samconfig.parameters(config, "prod", "build") == {"stack_name": "shop", "region": "eu-west-1"}
    assert samconfig.parameters(config, "dev") is None and samconfig.overrides(config, "prod") == {"Environment": "prod"}
    (tmp_path / "samconfig.toml").write_text("version = 0.1\n[dev.deploy.parameters]\nstack_name = 'x'\n")
    assert samconfig.find(tmp_path).name == "samconfig.toml"  # TOML first
    assert samconfig.find(tmp_path, "samconfig.yml").name == "samconfig.yml"  # unless named
    (tmp_path / "bad.yaml").write_text("prod: [unclosed")
    with pytest.raises(samconfig.SamConfigError, match="not valid YAML"):
        samconfig.load(tmp_path / "bad.yaml")


def test_a_yaml_samconfig_drives_the_deploy(tmp_path):
    tree = make_tree(tmp_path)
    config = samconfig.load(tree / "samconfig.toml")
    (tree / "samconfig.toml").unlink()
    (tree / "samconfig.yaml").write_text(yaml.safe_dump(config))
    deploys = {d.stage: d for d in load_workflow(tree).deploys}
    assert deploys["prod"].parameters == {"Environment": "prod"} and not deploys["prod"].problem


# -- intrinsics ------------------------------------------------------------------------------

def test_exports_and_imports_are_evaluated_with_the_stack_name():
    """Fn::Sub with variables, Fn::Select of Fn::Split, as CloudFormation evaluates them
    (docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-split.html)."""
    orders = cfn_templates.parse("""
Resources:
  Workflow:
    Type: AWS::Serverless::StateMachine
    Properties:
      DefinitionSubstitutions:
        Table: !ImportValue
          Fn::Sub:
            - "${Prefix}-inventory-InventoryTableName"
            - Prefix: !Select [0, !Split ["-orders", !Ref "AWS::StackName"]]
""")
    inventory = cfn_templates.parse("""
Conditions:
  Never: !Equals [a, b]
Resources:
  Table: {Type: AWS::DynamoDB::Table}
Outputs:
  Name:
    Value: !Ref Table
    Export: {Name: !Sub "${AWS::StackName}-InventoryTableName"}
  Hidden:
    Condition: Never
    Value: x
    Export: {Name: hidden}
""")
    assert Evaluator(orders, pseudo={"AWS::StackName": "shop-orders"}).imports() == ["shop-inventory-InventoryTableName"]
    assert Evaluator(inventory, pseudo={"AWS::StackName": "shop-inventory"}).exports() == ["shop-inventory-InventoryTableName"]


# -- reusable workflows, builds and the pipeline's shape --------------------------------------

CALLED = """\
on:
  workflow_call:
    inputs:
      config-env: {type: string, required: true}
      role: {type: string, required: true}
      gate: {type: string, default: ""}
jobs:
  deploy:
    runs-on: x
    environment: ${{ inputs.gate }}
    steps:
      - uses: actions/download-artifact@v4
        with: {name: build, path: .aws-sam/build}
      - uses: aws-actions/configure-aws-credentials@v4
        with: {role-to-assume: "${{ inputs.role }}"}
      - run: sam deploy --config-env ${{ inputs.config-env }}
      - run: python smoke.py
"""

CALLER = """\
on: push
permissions: {id-token: write}
jobs:
  tests:
    runs-on: x
    steps: [{run: python -m pytest -q}]
  build:
    needs: tests
    runs-on: x
    steps:
      - run: sam build
      - uses: actions/upload-artifact@v4
        with: {name: build, path: .aws-sam/build, include-hidden-files: true}
  dev:
    needs: build
    uses: ./.github/workflows/stage.yml
    with: {config-env: dev, role: "arn:aws:iam::111111111111:role/d"}
  prod:
    needs: [build, dev]
    uses: ./.github/workflows/stage.yml
    with: {config-env: prod, role: "arn:aws:iam::222222222222:role/p", gate: production}
"""


def test_a_reusable_workflow_is_expanded_with_its_inputs(tmp_path):
    """jobs.<id>.uses with `with:` inputs (docs.github.com/en/actions/using-workflows/reusing-workflows)."""
    tree = make_tree(tmp_path, workflow=CALLER)
    (tree / ".github/workflows/stage.yml").write_text(CALLED)
    workflow = load_workflow(tree)  # stage.yml runs only when called: deploy.yml is the deploy workflow
    assert workflow.order() == ["tests", "build", "dev/deploy", "prod/deploy"]
    assert workflow.jobs["prod/deploy"].needs == ["build", "dev/deploy"]
    assert workflow.jobs["prod/deploy"].environment == "production" and workflow.jobs["dev/deploy"].environment is None
    assert workflow.jobs["dev/deploy"].permissions == {"id-token": "write"}  # the caller's
    deploys = {d.stage: d for d in workflow.deploys}
    assert deploys["prod"].account == "222222222222" and deploys["prod"].parameters == {"Environment": "prod"}
    assert deploys["dev"].build is deploys["prod"].build is not None  # one build, carried by the artifact
    assert unit_tests_first(workflow) == [] and promoted_builds(workflow) == [] and smoke_tests(workflow) == []


def test_builds_follow_artifacts_as_upload_artifact_lays_them_out(tmp_path):
    """upload-artifact keeps paths relative to the uploaded paths' common folder; a single folder
    is uploaded as its contents (github.com/actions/upload-artifact#upload-an-entire-directory)."""
    tree = make_tree(tmp_path, workflow=CALLER.replace("path: .aws-sam/build", "path: ./"))
    (tree / ".github/workflows/stage.yml").write_text(CALLED.replace("path: .aws-sam/build}", "path: .}"))
    assert all(d.build is not None for d in load_workflow(tree).deploys)  # the whole checkout, laid out again
    tree2 = make_tree(tmp_path / "b", workflow=CALLER)
    (tree2 / ".github/workflows/stage.yml").write_text(CALLED.replace("path: .aws-sam/build}", "path: .}"))
    workflow = load_workflow(tree2)
    assert all(d.build is None for d in workflow.deploys)  # the folder's contents land in ./: no build where sam looks
    assert "from source" in promoted_builds(workflow)[0].saw


def test_the_pipeline_shape_is_reviewed(tmp_path):
    rebuilt = make_tree(tmp_path / "a")  # WORKFLOW: sam build in each stage, echo for tests, no smoke test
    workflow = load_workflow(rebuilt)
    assert "before any unit test" in unit_tests_first(workflow)[0].saw
    assert "built" in promoted_builds(workflow)[0].saw or "from source" in promoted_builds(workflow)[0].saw
    assert {f.saw.split()[1] for f in smoke_tests(workflow)} == {"dev", "staging", "prod"}
    assert service_order(workflow, [rebuilt / "template.yaml"]) == []
    assert "never deploys other/template.yaml" in service_order(workflow, [rebuilt / "template.yaml",
                                                                           rebuilt / "other" / "template.yaml"])[0].saw


def test_cd_in_a_script_moves_the_later_commands(tmp_path):
    tree = make_tree(tmp_path, workflow="""\
        on: push
        jobs:
          dev:
            runs-on: x
            steps:
              - uses: aws-actions/configure-aws-credentials@v4
                with: {role-to-assume: "arn:aws:iam::111111111111:role/deploy-dev"}
              - run: |
                  cd svc && sam build && sam deploy --config-env dev && cd ..
                  python -m pytest -q svc/tests
        """)
    (tree / "svc").mkdir()
    (tree / "svc" / "template.yaml").write_text(TEMPLATE)
    (tree / "svc" / "samconfig.toml").write_text(SAMCONFIG)
    workflow = load_workflow(tree)
    deploy, = workflow.deploys
    assert deploy.template == tree / "svc" / "template.yaml" and deploy.build is not None
    check, = workflow.checks
    assert check.workdir == tree and check.after_deploy


# -- the deploy role covers what CloudFormation does with it ----------------------------------

# Handler permissions for features the shop's templates do not use, each with why it is left out.
UNUSED_FEATURES = {
    "ec2:": "functions in a VPC", "elasticfilesystem:": "EFS file systems", "s3files:": "S3 file systems",
    "kinesis:": "DynamoDB streaming to Kinesis", "kms:": "customer-managed KMS keys",
    "dynamodb:AssociateTableReplica": "global tables", "dynamodb:CreateTableReplica": "global tables",
    "dynamodb:ImportTable": "tables imported from S3", "dynamodb:DescribeImport": "tables imported from S3",
    "dynamodb:BatchWriteItem": "tables imported from S3", "dynamodb:PutItem": "tables imported from S3",
    "dynamodb:GetItem": "tables imported from S3", "dynamodb:DeleteItem": "tables imported from S3",
    "dynamodb:UpdateItem": "tables imported from S3", "dynamodb:Query": "tables imported from S3",
    "dynamodb:Scan": "tables imported from S3",
    "dynamodb:PutResourcePolicy": "table resource policies", "dynamodb:DeleteResourcePolicy": "table resource policies",
    "dynamodb:UpdateContributorInsights": "contributor insights",
    "dynamodb:EnableKinesisStreamingDestination": "DynamoDB streaming to Kinesis",
    "dynamodb:DisableKinesisStreamingDestination": "DynamoDB streaming to Kinesis",
    "dynamodb:UpdateKinesisStreamingDestination": "DynamoDB streaming to Kinesis",
    "lambda:PutFunctionCodeSigningConfig": "code signing", "lambda:DeleteFunctionCodeSigningConfig": "code signing",
    "lambda:GetCodeSigningConfig": "code signing", "lambda:PutFunctionConcurrency": "reserved concurrency",
    "lambda:DeleteFunctionConcurrency": "reserved concurrency", "lambda:PutFunctionScalingConfig": "capacity providers",
    "lambda:PassCapacityProvider": "capacity providers", "lambda:AssociateRuntimeAlias": "runtime aliases",
    "lambda:PutFunctionRecursionConfig": "recursion settings", "lambda:PutRuntimeManagementConfig": "pinned runtimes",
    "iam:CreateServiceLinkedRole": "service-linked roles", "iam:PutRolePermissionsBoundary": "permissions boundaries",
    "iam:DeleteRolePermissionsBoundary": "permissions boundaries", "sns:PutDataProtectionPolicy": "data protection",
    "s3:GetObjectMetadata": "not an IAM action (s3:GetObject allows HEAD)",
}


def _allowed_actions(bootstrap: dict) -> set[str]:
    role = next(r for r in bootstrap["Resources"].values() if r["Type"] == "AWS::IAM::Role")
    return {a for policy in role["Properties"]["Policies"] for statement in policy["PolicyDocument"]["Statement"]
            for a in (statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])}


def test_the_deploy_role_allows_every_handler_of_the_shops_resource_types():
    """CloudFormation calls each resource type's create, read, update and delete handlers (a rollback
    is one of them) with the caller's permissions; the handlers' `permissions` come from AWS's
    resource type schemas, which cfn-lint ships
    (docs.aws.amazon.com/cloudformation-cli/latest/userguide/resource-type-schema.html)."""
    import cfnlint.data.schemas

    from workshop.deploy.local import transform
    from workshop.deploy.package import package

    solution = Path(__file__).resolve().parents[1] / "modules/06-multi-env-pipeline/solution"
    schemas = Path(cfnlint.data.schemas.__file__).parent
    index = json.loads((schemas / "providers/us-east-1.json").read_text())
    types: set[str] = set()
    for path in sorted(solution.glob("services/*/template.yaml")):
        for env in ("dev", "prod"):
            packaged = package(cfn_templates.load(path), path.parent, lambda key, data: ("bucket", key))
            cfn = transform(packaged.template, {"Environment": env}, "111111111111", "us-east-1", f"shop-{path.parent.name}")
            types |= {r["Type"] for r in cfn["Resources"].values()}
    needed: set[str] = set()
    for kind in types:
        handlers = json.loads((schemas / "resources" / f"{index[kind]}.json").read_text()).get("handlers", {})
        needed |= {p for op in ("create", "read", "update", "delete") for p in handlers.get(op, {}).get("permissions", [])}
    needed = {p for p in needed if not any(p.startswith(feature) for feature in UNUSED_FEATURES)}
    allowed = _allowed_actions(cfn_templates.load(solution / "pipeline" / "bootstrap.yaml"))
    assert sorted(needed - allowed) == []
    assert "AWS::StepFunctions::StateMachine" in types and "AWS::CloudWatch::Alarm" in types


# -- running on the local cloud --------------------------------------------------------------

def _environment_in(local, account: str, stack: str) -> str | None:
    cloudformation = local.session(account).client("cloudformation")
    try:
        described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    except cloudformation.exceptions.ClientError:
        return None
    if described["StackStatus"] == "DELETE_COMPLETE":
        return None
    assert described["StackId"].split(":")[4] == ACCOUNTS[account]
    return {p["ParameterKey"]: p["ParameterValue"] for p in described["Parameters"]}["Environment"]


@pytest.mark.slow
def test_stages_deploy_in_order_into_their_accounts_and_prod_waits_for_approval(tmp_path, local, unique):
    tree = make_tree(tmp_path)
    first = run(tree, local, prefix=unique)
    second = None
    try:
        assert [(j.job, j.status) for j in first.jobs] == [
            ("test", "succeeded"), ("dev", "succeeded"), ("staging", "succeeded"), ("prod", "waiting"), ("announce", "blocked")]
        assert first.deployed_stages == ["dev", "staging"] and first.waiting == ["prod"] and first.stopped_at_gate
        stack = f"{unique}-app"
        assert _environment_in(local, "dev", stack) == "dev"
        assert _environment_in(local, "staging", stack) == "staging"
        assert _environment_in(local, "prod", stack) is None

        second = run(tree, local, prefix=unique, approve=True)
        assert all(j.status == "succeeded" for j in second.jobs) and not second.stopped_at_gate and second.ok
        assert second.deployed_stages == ["dev", "staging", "prod"]
        prod, = [d for d in second.deployed if d.stage == "prod"]
        assert ("prod", "arn:aws:iam::222222222222:role/deploy-prod", "repo:OWNER/REPO:environment:production") \
            in second.assumed  # a job with an environment presents that environment, not the branch
        assert prod.account == ACCOUNTS["prod"] and prod.outputs["Environment"] == "prod"
        assert _environment_in(local, "prod", stack) == "prod"
        assert _environment_in(local, "dev", stack) == "dev"  # prod's deploy did not touch dev's account
        assert second.to_dict()["deployed"] == ["dev", "staging", "prod"]
    finally:
        destroy(first, local)
        if second:
            destroy(second, local)
    assert _environment_in(local, "prod", f"{unique}-app") is None


@pytest.mark.slow
def test_a_failing_stage_skips_what_needs_it(tmp_path, local, unique):
    tree = make_tree(tmp_path, samconfig=SAMCONFIG.replace("[dev.deploy.parameters]", "[qa.deploy.parameters]"))
    result = run(tree, local, prefix=unique, approve=True)
    try:
        statuses = {j.job: j.status for j in result.jobs}
        assert statuses == {"test": "succeeded", "dev": "failed", "staging": "skipped", "prod": "skipped", "announce": "skipped"}
        assert not result.ok and result.deployed == []
        assert "[dev.deploy.parameters]" in result.job("dev").message
    finally:
        destroy(result, local)


@pytest.mark.slow
def test_stored_keys_put_every_stage_into_one_account(tmp_path, local, unique):
    tree = make_tree(tmp_path, workflow="""\
        on: push
        env:
          AWS_ACCESS_KEY_ID: ${{ secrets.AWS_ACCESS_KEY_ID }}
        jobs:
          deploy:
            runs-on: x
            steps:
              - run: sam deploy --config-env dev --stack-name app-dev
              - run: sam deploy --config-env prod --stack-name app-prod
        """)
    result = run(tree, local, prefix=unique)
    try:
        assert not result.stopped_at_gate and result.deployed_stages == ["dev", "prod"]
        assert {d.account for d in result.deployed} == {ACCOUNTS["default"]}
        assert _environment_in(local, "default", f"{unique}-app-prod") == "prod"
        notes = " / ".join(result.notes())
        assert "stored access keys" in notes and "prod shares its account with dev" in notes and "nobody approving" in notes
    finally:
        destroy(result, local)


PROMOTING = """\
on: push
permissions: {id-token: write}
jobs:
  tests:
    runs-on: x
    steps: [{run: python -m pytest -q tests}]
  build:
    needs: tests
    runs-on: x
    steps:
      - run: sam build
      - uses: actions/upload-artifact@v4
        with: {name: app, path: .aws-sam/build, include-hidden-files: true}
  dev:
    needs: build
    runs-on: x
    steps:
      - uses: actions/download-artifact@v4
        with: {name: app, path: .aws-sam/build}
      - uses: aws-actions/configure-aws-credentials@v4
        with: {role-to-assume: "arn:aws:iam::111111111111:role/deploy-dev"}
      - run: sam deploy --config-env dev
      - run: python smoke.py
  prod:
    needs: [build, dev]
    environment: production
    runs-on: x
    steps:
      - uses: actions/download-artifact@v4
        with: {name: app, path: .aws-sam/build}
      - uses: aws-actions/configure-aws-credentials@v4
        with: {role-to-assume: "arn:aws:iam::222222222222:role/deploy-prod"}
      - run: sam deploy --config-env prod
      - run: python smoke.py
"""

# The smoke test: the account it runs in (from its credentials) holds a stack with this environment's output.
SMOKE = """\
import boto3, sys
stacks = boto3.client("cloudformation").describe_stacks()["Stacks"]
seen = [o["OutputValue"] for s in stacks for o in s.get("Outputs", []) if o["OutputKey"] == "Environment"]
sys.exit(0 if seen else "no stack answers")
"""


def _promoting_tree(root: Path, smoke: str = SMOKE) -> Path:
    tree = make_tree(root, workflow=PROMOTING)
    (tree / "tests").mkdir()
    (tree / "tests" / "test_app.py").write_text("def test_app():\n    assert True\n")
    (tree / "smoke.py").write_text(smoke)
    return tree


@pytest.mark.slow
def test_tests_run_first_one_build_is_promoted_and_approval_carries_on_the_same_run(tmp_path, local, unique):
    tree = _promoting_tree(tmp_path)
    result = run(tree, local, prefix=unique)
    try:
        assert [(j.job, str(j.status)) for j in result.jobs] == [
            ("tests", "succeeded"), ("build", "succeeded"), ("dev", "succeeded"), ("prod", "waiting")]
        tests_run, = result.job("tests").checks
        assert not tests_run.smoke and tests_run.status == "passed"
        smoke, = result.job("dev").checks
        assert smoke.smoke and smoke.status == "passed"
        # a change after the build does not reach prod: prod deploys the build dev deployed
        (tree / "template.yaml").write_text(TEMPLATE.replace("  AlarmTopic:", "  Extra:\n    Type: AWS::SNS::Topic\n  AlarmTopic:"))
        result.approve()
        assert [str(j.status) for j in result.jobs] == ["succeeded"] * 4
        assert len(result.job("tests").checks) == 1  # approving does not run the finished jobs again
        dev, = result.job("dev").deploys
        prod, = result.job("prod").deploys
        assert dev.build == prod.build == "build 1" and prod.account == ACCOUNTS["prod"]
        resources = local.session("prod").client("cloudformation").describe_stack_resources(StackName=prod.stack_name)
        assert "Extra" not in {r["LogicalResourceId"] for r in resources["StackResources"]}
    finally:
        destroy(result, local)


@pytest.mark.slow
def test_a_failing_smoke_test_stops_the_run_before_the_next_stage(tmp_path, local, unique):
    tree = _promoting_tree(tmp_path, smoke="raise SystemExit('GET / answered 502')\n")
    result = run(tree, local, prefix=unique, approve=True)
    try:
        assert {j.job: str(j.status) for j in result.jobs} == {
            "tests": "succeeded", "build": "succeeded", "dev": "failed", "prod": "skipped"}
        assert "502" in result.job("dev").message and result.deployed_stages == ["dev"]
    finally:
        destroy(result, local)


# -- running as the deploy role --------------------------------------------------------------

@pytest.mark.slow
def test_a_role_that_trusts_another_environment_fails_the_job_with_aws_message(tmp_path, local, unique):
    """A job with `environment: production` presents the sub repo:OWNER/REPO:environment:production;
    a trust policy that names another environment refuses it, and configure-aws-credentials fails the
    job with STS's answer (docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html:
    AccessDenied, "Not authorized to perform sts:AssumeRoleWithWebIdentity")."""
    tree = make_tree(tmp_path, bootstrap=BOOTSTRAP.replace("environment:production", "environment:staging"))
    result = run(tree, local, prefix=unique, approve=True)
    try:
        statuses = {j.job: str(j.status) for j in result.jobs}
        assert statuses == {"test": "succeeded", "dev": "succeeded", "staging": "succeeded", "prod": "failed",
                            "announce": "skipped"}
        message = result.job("prod").message
        assert message.startswith("Could not assume role with OIDC: ")
        assert "Not authorized to perform sts:AssumeRoleWithWebIdentity" in message
        assert "repo:OWNER/REPO:environment:production" in message
        assert result.deployed_stages == ["dev", "staging"]
    finally:
        destroy(result, local)


@pytest.mark.slow
def test_a_role_no_bootstrap_creates_fails_the_first_job_that_assumes_it(tmp_path, local, unique):
    result = run(make_tree(tmp_path, bootstrap=""), local, prefix=unique, approve=True)
    try:
        assert {j.job: str(j.status) for j in result.jobs}["dev"] == "failed" and result.deployed == []
        message = result.job("dev").message
        assert message.startswith("Could not assume role with OIDC: ") and "no template of the tree declares" in message
    finally:
        destroy(result, local)


@pytest.mark.slow
def test_the_solution_pipeline_deploys_and_smoke_tests_under_its_deploy_roles(local):
    """Module 06's solution: its bootstrap's roles admit its jobs, and their permissions are enough for
    every service's deploy and smoke test (the code in SAM's managed bucket, the only one the role may write)."""
    solution = Path(__file__).resolve().parents[1] / "modules/06-multi-env-pipeline/solution"
    result = run(solution, local)
    try:
        assert result.ok, [(j.job, j.message) for j in result.failed]
        assert result.deployed_stages == ["dev", "staging"] and result.waiting == ["prod"]
        assert sorted(result.assumed) == [
            ("dev", "arn:aws:iam::111111111111:role/github-deploy-dev", "repo:OWNER/REPO:ref:refs/heads/main"),
            ("staging", "arn:aws:iam::333333333333:role/github-deploy-staging", "repo:OWNER/REPO:ref:refs/heads/main")]
        assert all(c.status == "passed" for c in result.checks)
        buckets = [b["Name"] for b in local.session("dev").client("s3").list_buckets()["Buckets"]]
        assert any(b.startswith("aws-sam-cli-managed-default-") for b in buckets)
    finally:
        destroy(result, local)
    left = {s["StackName"] for s in local.deployer("dev").described_stacks()}
    assert not {"github-deploy", "shop-cart"} & left  # the run's stacks and its bootstrap, deleted
