"""The pipeline dry run (workshop/pipeline.py): reading a workflow, then running it on the local cloud."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from workshop.localcloud.safety import ACCOUNTS
from workshop.pipeline import PipelineError, destroy, load_workflow, parse_overrides, run, stage_of

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


def make_tree(root: Path, workflow: str = WORKFLOW, samconfig: str = SAMCONFIG) -> Path:
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / ".github" / "workflows" / "deploy.yml").write_text(textwrap.dedent(workflow))
    (root / "template.yaml").write_text(TEMPLATE)
    (root / "samconfig.toml").write_text(samconfig)
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
