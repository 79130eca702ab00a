"""Fairness of module 06's checkpoints: wrong refactors fail, other correct refactors pass.

Each case copies module 06's solution, changes it with one small named function (its
docstring says what the learner did), runs the checkpoints against the session's local cloud
and asserts on the verdicts:

- a WRONG refactor must fail the checkpoints its mistake violates, and pass the ones it does
  not touch (where that is well-defined); only those checkpoints run. A wrong refactor that
  a checkpoint accepts is a defect of that checkpoint: its case is an xfail(strict) that
  raises UnfairVerdict only when exactly the named checkpoints pass;
- a CORRECT alternative (other file, job, parameter, mapping and condition names, another
  bootstrap layout, extra resources) must pass every checkpoint. A correct alternative that a
  checkpoint rejects is a defect of that checkpoint: its case is an xfail(strict) that raises
  UnfairVerdict only when exactly the named checkpoints fail, so any other failure still shows
  as a real error.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from workshop import course

from . import variants
from .variants import Case

MODULE = course.module("06")
SERVICES = ("cart", "inventory", "orders", "payments", "products")
TEMPLATE = Path("services/cart/template.yaml")
SAMCONFIG = Path("services/cart/samconfig.toml")
WORKFLOW = Path(".github/workflows/deploy.yml")
BOOTSTRAP = Path("pipeline/bootstrap.yaml")
TREES = Path(__file__).parent / "trees_06"

# The solution's trust condition, from the operator to the end of the trust snippet.
TRUST_START = "              StringEquals:\n                # The token was minted"
TRUST_END = "      # --8<-- [end:trust]"


# -- editing helpers ---------------------------------------------------------------------------


def _cut(path: Path, start: str, end: str, new: str = "") -> None:
    """Replace the text from `start` (included) to `end` (excluded) with `new`."""
    text = path.read_text()
    i = text.index(start)
    j = text.index(end, i)
    path.write_text(text[:i] + new + text[j:])


def _rename_environment(tree: Path, old: str, new: str) -> None:
    """Call an environment another name everywhere the tree names it (every service's template
    and samconfig, workflow, bootstrap): config env, parameter value, mapping key, job id and role name."""
    shop = [Path("services", s, name) for s in SERVICES for name in ("template.yaml", "samconfig.toml")]
    for relative in (*shop, WORKFLOW, BOOTSTRAP):
        path = tree / relative
        text = path.read_text()
        changed = re.sub(rf"\b{old}\b", new, text)
        assert changed != text, f"the fixture changed: no {old!r} in {path}"
        path.write_text(changed)


def _trust_condition(tree: Path, block: str) -> None:
    """Rewrite the bootstrap's trust condition (aud and sub) with `block`."""
    _cut(tree / BOOTSTRAP, TRUST_START, TRUST_END, block)


# -- wrong refactors ----------------------------------------------------------------------------

def memory_hard_coded_in_globals(tree: Path) -> None:
    """The learner merges the copies into one template with a mapping, but writes prod's
    `MemorySize: 1024` in Globals "for now": dev gets prod's memory, the mapping's
    MemorySize is never read (LogLevel still is)."""
    variants.replace_in(tree / TEMPLATE, "    MemorySize: !FindInMap [EnvironmentConfig, !Ref Environment, MemorySize]\n",
                "    MemorySize: 1024\n")


def alarm_without_condition(tree: Path) -> None:
    """The learner moves staging's alarm and topic into the one template but forgets
    `Condition: IsProd` on them (only the output keeps it): dev pays for and pages on the
    prod alarm."""
    variants.replace_in(tree / TEMPLATE, "    Type: AWS::SNS::Topic\n    Condition: IsProd\n", "    Type: AWS::SNS::Topic\n")
    variants.replace_in(tree / TEMPLATE, "    Type: AWS::CloudWatch::Alarm\n    Condition: IsProd\n",
                "    Type: AWS::CloudWatch::Alarm\n")


def old_prod_copy_kept(tree: Path) -> None:
    """The learner writes the one template.yaml but keeps the start's template-prod.yaml
    "until prod is migrated": two application templates again, drifted."""
    shutil.copy(MODULE.start / "services/cart/template-prod.yaml", tree / "services/cart/template-prod.yaml")


def samconfig_prod_copied_from_default(tree: Path) -> None:
    """The learner makes [prod.deploy.parameters] a copy of [default.deploy.parameters]:
    confirm_changeset = true (the prod job would wait for a keypress), no stack_name and no
    fail_on_empty_changeset: prod's config env differs in more than its overrides."""
    _cut(tree / SAMCONFIG, "[prod.deploy.parameters]\n", 'parameter_overrides = "Environment=prod"',
         '[prod.deploy.parameters]\ncapabilities = "CAPABILITY_IAM"\nconfirm_changeset = true\n'
         'resolve_s3 = true\nregion = "us-east-1"\n')


def no_id_token_permission(tree: Path) -> None:
    """The learner swaps the key secrets for role-to-assume but never grants
    `id-token: write`: no job can ask GitHub for an OIDC token."""
    variants.replace_in(tree / WORKFLOW, "permissions:\n  id-token: write\n  contents: read\n", "permissions:\n  contents: read\n")


def prod_without_environment(tree: Path) -> None:
    """The learner chains the jobs but leaves out `environment: production`: prod deploys
    right after staging, nobody reviews it."""
    variants.replace_in(tree / WORKFLOW, "    environment: production\n", "")


def prod_needs_only_dev(tree: Path) -> None:
    """The learner copies staging's `needs: dev` into the prod job: prod runs beside staging,
    not after it, so a failed staging deploy does not stop production."""
    variants.replace_in(tree / WORKFLOW, "    needs: [build, dev, staging]\n", "    needs: [build, dev]\n")


def prod_role_in_dev_account(tree: Path) -> None:
    """The learner gives prod its own role but creates it in the dev account (the account id
    copied from the dev job): dev and prod share an account again."""
    variants.replace_in(tree / WORKFLOW, "arn:aws:iam::222222222222:role/github-deploy-prod",
                "arn:aws:iam::111111111111:role/github-deploy-prod")


def prod_trusts_the_whole_repository(tree: Path) -> None:
    """The learner hits "Not authorized to perform sts:AssumeRoleWithWebIdentity" when adding the
    gate and "fixes" prod's trust with `repo:OWNER/REPO:*` (StringLike): any branch, pull
    request or environment of the repository can now deploy to prod without review."""
    _trust_condition(tree, (
        "              StringEquals:\n"
        "                token.actions.githubusercontent.com:aud: sts.amazonaws.com\n"
        "              StringLike:\n"
        "                token.actions.githubusercontent.com:sub: !If\n"
        "                  - IsProd\n"
        '                  - !Sub "repo:${GitHubRepository}:*"\n'
        '                  - !Sub "repo:${GitHubRepository}:ref:refs/heads/${Branch}"\n'))


def dev_trusts_every_repository_of_the_owner(tree: Path) -> None:
    """The learner lets dev and staging trust `repo:acme/*:ref:refs/heads/main` (StringLike),
    "so the other teams can deploy too": any repository of the owner can deploy there."""
    _trust_condition(tree, (
        "              StringEquals:\n"
        "                token.actions.githubusercontent.com:aud: sts.amazonaws.com\n"
        "              StringLike:\n"
        "                token.actions.githubusercontent.com:sub: !If\n"
        "                  - IsProd\n"
        '                  - !Sub "repo:${GitHubRepository}:environment:${ProductionEnvironment}"\n'
        '                  - !Sub "repo:acme/*:ref:refs/heads/${Branch}"\n'))


def prod_also_trusts_release_tags(tree: Path) -> None:
    """The learner lets prod's role also admit release tags, `repo:OWNER/REPO:ref:refs/tags/v*`,
    "to deploy on tag": a job on a tag runs without `environment: production`, so it deploys
    to prod with nobody approving (the README: prod's role admits nothing but the environment)."""
    _trust_condition(tree, (
        "              StringEquals:\n"
        "                token.actions.githubusercontent.com:aud: sts.amazonaws.com\n"
        "              StringLike:\n"
        "                token.actions.githubusercontent.com:sub: !If\n"
        "                  - IsProd\n"
        '                  - - !Sub "repo:${GitHubRepository}:environment:${ProductionEnvironment}"\n'
        '                    - !Sub "repo:${GitHubRepository}:ref:refs/tags/v*"\n'
        '                  - !Sub "repo:${GitHubRepository}:ref:refs/heads/${Branch}"\n'))


# -- correct alternatives -----------------------------------------------------------------------

def release_workflow_with_other_jobs(tree: Path) -> None:
    """The workflow is .github/workflows/release.yaml (deploy.yml deleted) with jobs unit-tests
    (pytest on each service's tests folder from the root), package (one artifact per service,
    `cd services/x && sam build --cached && cd ../..`), deploy-dev, deploy-staging and
    deploy-prod (each downloads every artifact into its .aws-sam/build and deploys
    `--template-file .aws-sam/build/template.yaml` after a `cd`); the role ARNs sit in the
    workflow's `env:` and are read as ${{ env.X }}; id-token: write is granted per job; prod's
    environment is an object with a url and prod needs only deploy-staging (dev comes with it);
    a second workflow, ci.yml, runs unit tests on pull requests (trees_06/release_workflow)."""
    (tree / WORKFLOW).unlink()
    variants.overlay(tree, TREES / "release_workflow")


def stage_parameter_and_other_mapping(tree: Path) -> None:
    """The template says it otherwise: a `Stage` parameter (samconfig's overrides written as a
    list, ["Stage=prod"]), a `StageSettings` mapping with lower-case and extra keys, memory
    written on each function rather than in Globals, a condition IsProduction, a prod-only
    alarm on Lambda errors with its threshold mapped, an extra queue, X-Ray tracing, other
    logical ids and output names, in the cart service (trees_06/stage_settings)."""
    variants.overlay(tree, TREES / "stage_settings")
    for env in ("dev", "staging", "prod"):
        variants.replace_in(tree / SAMCONFIG, f'parameter_overrides = "Environment={env}"',
                    f'parameter_overrides = ["Stage={env}"]', count=2 if env == "dev" else 1)


def optional_email_subscription(tree: Path) -> None:
    """The prod topic gets an e-mail subscription only when an AlertEmail parameter is given
    (`Condition: EmailAlerts`: prod and a non-empty address). No config env sets it yet, so
    the subscription exists in no environment: a switch for later, as templates often carry."""
    template = tree / TEMPLATE
    variants.replace_in(template, "    Description: The environment this stack serves; samconfig.toml sets it per config environment.\n",
                "    Description: The environment this stack serves; samconfig.toml sets it per config environment.\n"
                '  AlertEmail:\n    Type: String\n    Default: ""\n'
                "    Description: Who is e-mailed when the prod alarm fires (empty for nobody).\n")
    variants.replace_in(template, "  IsProd: !Equals [!Ref Environment, prod]\n",
                "  IsProd: !Equals [!Ref Environment, prod]\n"
                '  HasAlertEmail: !Not [!Equals [!Ref AlertEmail, ""]]\n'
                "  EmailAlerts: !And [!Condition IsProd, !Condition HasAlertEmail]\n")
    variants.replace_in(template, "  # --8<-- [end:prod-only]\n", "  # --8<-- [end:prod-only]\n"
                "  AlertsByEmail:\n    Type: AWS::SNS::Subscription\n    Condition: EmailAlerts\n    Properties:\n"
                "      TopicArn: !Ref AlarmTopic\n      Protocol: email\n      Endpoint: !Ref AlertEmail\n")


def bootstrap_split_in_two_files(tree: Path) -> None:
    """The bootstrap is two templates, deployed in that order: pipeline/github-oidc-provider.yaml
    (the provider only) and pipeline/deploy-role.yaml (the role, parameter `Stage`, its
    Federated principal written as the provider's ARN with !Sub) (trees_06/bootstrap_split)."""
    (tree / BOOTSTRAP).unlink()
    variants.overlay(tree, TREES / "bootstrap_split")


def bootstrap_split_with_imported_provider(tree: Path) -> None:
    """As bootstrap_split_in_two_files, but the role stack takes the provider's ARN from the
    provider stack's export, `Federated: !ImportValue github-oidc-provider-arn`: the usual way
    to wire two stacks together."""
    bootstrap_split_in_two_files(tree)
    variants.replace_in(tree / "pipeline" / "deploy-role.yaml",
                'Federated: !Sub "arn:${AWS::Partition}:iam::${AWS::AccountId}:oidc-provider/token.actions.githubusercontent.com"',
                "Federated: !ImportValue github-oidc-provider-arn")


def both_claims_under_string_like(tree: Path) -> None:
    """The trust condition puts aud and sub both under StringLike with exact values (no
    wildcard), as several tutorials do: it admits exactly what StringEquals admits."""
    variants.replace_in(tree / BOOTSTRAP, TRUST_START, TRUST_START.replace("StringEquals", "StringLike"))


def long_environment_names(tree: Path) -> None:
    """The environments are called development, staging and production everywhere: config envs
    [development.deploy.parameters] and [production.deploy.parameters], Environment's allowed
    values and mapping keys, job ids, role names github-deploy-development/-production."""
    _rename_environment(tree, "dev", "development")
    _rename_environment(tree, "prod", "production")


def staging_named_test(tree: Path) -> None:
    """The middle environment is called `test` instead of `staging` everywhere: config env,
    parameter value, mapping key, job id and role github-deploy-test (account 333333333333)."""
    _rename_environment(tree, "staging", "test")


CANARY = """
  # Production only: a canary reads a missing cart every five minutes and expects no 5XX.
  CanaryFunction:
    Type: AWS::Serverless::Function
    Condition: IsProd
    Properties:
      CodeUri: src/
      Handler: canary.handler
      Environment:
        Variables:
          CANARY_URL: !Sub "https://${CartApi}.execute-api.${AWS::Region}.amazonaws.com/Prod/"
      Events:
        EveryFiveMinutes:
          Type: Schedule
          Properties:
            Schedule: rate(5 minutes)
"""


def prod_only_canary_function(tree: Path) -> None:
    """Besides the alarm, prod gets a canary: a Lambda function under `Condition: IsProd` on a
    five-minute schedule (services/cart/src/canary.py, trees_06/canary). Expensive monitoring, prod only,
    exactly what the Conditions mechanism is for."""
    variants.overlay(tree, TREES / "canary")
    variants.replace_in(tree / TEMPLATE, "  # --8<-- [end:prod-only]\n", "  # --8<-- [end:prod-only]\n" + CANARY)


def samconfig_in_yaml(tree: Path) -> None:
    """Every service's samconfig is samconfig.yaml, the same tables in YAML (the SAM CLI reads
    samconfig.toml, else samconfig.yaml or .yml)."""
    import tomllib

    import yaml

    for service in SERVICES:
        toml = tree / "services" / service / "samconfig.toml"
        (toml.parent / "samconfig.yaml").write_text(yaml.safe_dump(tomllib.loads(toml.read_text()), sort_keys=False))
        toml.unlink()


CALLS = """  dev:
    needs: build
    uses: ./.github/workflows/deploy-stage.yml
    with:
      config-env: dev
      role-to-assume: arn:aws:iam::111111111111:role/github-deploy-dev
      github-environment: dev

  staging:
    needs: [build, dev]
    uses: ./.github/workflows/deploy-stage.yml
    with:
      config-env: staging
      role-to-assume: arn:aws:iam::333333333333:role/github-deploy-staging
      github-environment: staging

  # Gated: the called job runs in the production environment, which has required reviewers.
  prod:
    needs: [build, dev, staging]
    uses: ./.github/workflows/deploy-stage.yml
    with:
      config-env: prod
      role-to-assume: arn:aws:iam::222222222222:role/github-deploy-prod
      github-environment: production
"""


def stages_call_a_reusable_workflow(tree: Path) -> None:
    """The three stage jobs call one reusable workflow, .github/workflows/deploy-stage.yml, with
    `with:` inputs (config env, role, GitHub environment); every stage runs in a GitHub
    environment (dev, staging, production: only production has reviewers), so the bootstrap's
    non-prod roles trust repo:OWNER/REPO:environment:<env> (trees_06/reusable_workflow)."""
    workflow = tree / WORKFLOW
    text = workflow.read_text()
    workflow.write_text(text[:text.index("  dev:\n")] + CALLS)
    variants.overlay(tree, TREES / "reusable_workflow")
    variants.replace_all_in(tree / BOOTSTRAP, '!Sub "repo:${GitHubRepository}:ref:refs/heads/${Branch}"',
                            '!Sub "repo:${GitHubRepository}:environment:${Environment}"')


def memory_chosen_with_if(tree: Path) -> None:
    """The cart's memory is `!If [IsProd, 1024, 256]` rather than read from the mapping: dev and
    prod get the mapped values all the same (the LogLevel still comes from the mapping)."""
    variants.replace_in(tree / TEMPLATE, "    MemorySize: !FindInMap [EnvironmentConfig, !Ref Environment, MemorySize]\n",
                        "    MemorySize: !If [IsProd, 1024, 256]\n")


def memory_if_inverted(tree: Path) -> None:
    """The learner writes the !If the wrong way round, `!If [IsProd, 256, 1024]`: prod gets the
    small memory and dev the large one."""
    variants.replace_in(tree / TEMPLATE, "    MemorySize: !FindInMap [EnvironmentConfig, !Ref Environment, MemorySize]\n",
                        "    MemorySize: !If [IsProd, 256, 1024]\n")


def rebuild_in_every_stage(tree: Path) -> None:
    """The learner runs `sam build && sam deploy` in every stage's job, as the SAM tutorials do
    for one environment: staging and prod deploy new builds, not the one dev tested."""
    variants.replace_all_in(tree / WORKFLOW, "run: sam deploy --config-env", "run: sam build && sam deploy --config-env")


def staging_deploys_source(tree: Path) -> None:
    """The staging job forgets to download the build: sam deploy packages the source folders."""
    workflow = tree / WORKFLOW
    text = workflow.read_text()
    start = text.index("  staging:\n")
    block = "      - uses: actions/download-artifact@v4\n        with:\n          name: shop-build\n          path: services\n"
    i = text.index(block, start)
    workflow.write_text(text[:i] + text[i + len(block):])


def no_smoke_test(tree: Path) -> None:
    """The learner drops the smoke test "because sam deploy already waits for the stack":
    a stack that deploys but does not serve goes on to the next stage."""
    workflow = tree / WORKFLOW
    text = workflow.read_text()
    changed = re.sub(r"      - name: Smoke test\n        run: .*\n", "", text)
    assert text.count("- name: Smoke test") == 3 and "Smoke test" not in changed, "the fixture changed"
    workflow.write_text(changed)


def smoke_test_of_a_stack_without_api(tree: Path) -> None:
    """The smoke test also asks for shop-payments' API, which has none: the smoke test fails
    every stage, so the dry run stops after dev's deploy."""
    variants.replace_all_in(tree / WORKFLOW, "run: python pipeline/smoke_test.py ",
                            "run: python pipeline/smoke_test.py shop-payments=payments ")


def orders_before_inventory(tree: Path) -> None:
    """The learner deploys orders first "because it is the main one": the order workflow
    imports inventory's table, whose export does not exist yet in a fresh account."""
    block = "      - name: Deploy {0}\n        working-directory: services/{0}\n        run: sam deploy --config-env {1}\n"
    for env in ("dev", "staging", "prod"):
        variants.replace_in(tree / WORKFLOW, block.format("inventory", env) + block.format("payments", env) + block.format("orders", env),
                            block.format("orders", env) + block.format("inventory", env) + block.format("payments", env))


def build_without_waiting_for_the_tests(tree: Path) -> None:
    """The build job no longer needs the unit tests ("to save time"): the deploys start while
    the tests still run, so a failing test no longer stops anything."""
    variants.replace_in(tree / WORKFLOW, "  build:\n    needs: unit-tests\n", "  build:\n")


# -- the cases ------------------------------------------------------------------------------------


WRONG = {
    "memory hard-coded in Globals, no mapping": Case(
        memory_hard_coded_in_globals, fails=["06.2"], passes=["06.1", "06.3"]),
    "prod alarm and topic without the Condition": Case(
        alarm_without_condition, fails=["06.2"], passes=["06.1", "06.3"]),
    "the old template-prod.yaml kept beside template.yaml": Case(
        old_prod_copy_kept, fails=["06.1"], passes=["06.4", "06.7"]),
    "samconfig prod copied from default": Case(
        samconfig_prod_copied_from_default, fails=["06.3"], passes=["06.1", "06.5"]),
    "no id-token: write": Case(
        no_id_token_permission, fails=["06.4"], passes=["06.5", "06.6", "06.7"]),
    "prod job without environment: production": Case(
        prod_without_environment, fails=["06.5", "06.8"], passes=["06.4", "06.6", "06.7"]),
    "prod job needs only dev": Case(
        prod_needs_only_dev, fails=["06.5"], passes=["06.4", "06.6", "06.7"]),
    "prod's role in the dev account": Case(
        prod_role_in_dev_account, fails=["06.6", "06.8"], passes=["06.4", "06.5", "06.7"]),
    "prod trusts repo:OWNER/REPO:*": Case(
        prod_trusts_the_whole_repository, fails=["06.7"], passes=["06.4", "06.6"]),
    "dev and staging trust repo:OWNER/*": Case(
        dev_trusts_every_repository_of_the_owner, fails=["06.7"], passes=["06.4", "06.6"]),
    "prod also trusts release tags": Case(
        prod_also_trusts_release_tags, fails=["06.7"], passes=["06.4", "06.6"]),
    "memory !If the wrong way round": Case(
        memory_if_inverted, fails=["06.2"], passes=["06.1", "06.3"]),
    "sam build in every stage": Case(
        rebuild_in_every_stage, fails=["06.10"], passes=["06.9", "06.11", "06.12"]),
    "staging deploys the source": Case(
        staging_deploys_source, fails=["06.10"], passes=["06.9", "06.11", "06.12"]),
    "no smoke test": Case(
        no_smoke_test, fails=["06.11"], passes=["06.9", "06.10", "06.12"]),
    "a smoke test that fails": Case(
        smoke_test_of_a_stack_without_api, fails=["06.8"], passes=["06.11"], words="smoke test"),
    "orders deployed before inventory": Case(
        orders_before_inventory, fails=["06.12", "06.8"], passes=["06.9", "06.10", "06.11"]),
    "the build does not wait for the tests": Case(
        build_without_waiting_for_the_tests, fails=["06.9"], passes=["06.10", "06.11", "06.12"]),
}

CORRECT = {
    "release.yaml, deploy-* jobs, role ARNs in env": Case(release_workflow_with_other_jobs),
    "Stage parameter, StageSettings mapping, extra resources": Case(stage_parameter_and_other_mapping),
    "bootstrap split in two files": Case(bootstrap_split_in_two_files),
    "bootstrap split, provider ARN imported": Case(
        bootstrap_split_with_imported_provider),
    "aud and sub under StringLike": Case(
        both_claims_under_string_like),
    "development / staging / production": Case(
        long_environment_names),
    "staging called test": Case(
        staging_named_test),
    "a prod-only canary function": Case(
        prod_only_canary_function),
    "an e-mail subscription switched off everywhere": Case(
        optional_email_subscription),
    "samconfig.yaml instead of samconfig.toml": Case(samconfig_in_yaml),
    "stages call a reusable workflow": Case(stages_call_a_reusable_workflow),
    "memory chosen with !If": Case(memory_chosen_with_if),
}



test_a_wrong_refactor_fails_the_checkpoint_it_violates, test_a_correct_alternative_passes_every_checkpoint = (
    variants.tests_for(MODULE, WRONG, CORRECT))
