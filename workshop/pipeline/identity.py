"""Who a job runs as: the deploy role it assumes with GitHub's OIDC token, as on GitHub Actions.

On GitHub, an administrator deployed the repository's bootstrap template (the OIDC provider and
a deploy role) into each account once, and a job's configure-aws-credentials step exchanges the
job's token for the role's session; the role's trust policy decides
(docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-idp_oidc.html). The dry run does
the same on the local cloud: the tree's bootstrap is deployed as each account's root into every
account a role ARN names, then each job assumes its role with the sub claim GitHub would put in
its token (docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/
about-security-hardening-with-openid-connect#example-subject-claims): `repo:OWNER/REPO:environment:NAME`
for a job with an environment, else `repo:OWNER/REPO:ref:refs/heads/BRANCH`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..deploy import template as cfn_templates
from ..tree import source_files
from .stages import stage_of

if TYPE_CHECKING:
    from ..deploy.local import LocalDeployer
    from ..deploy.targets import LocalTarget

GITHUB_OIDC = "token.actions.githubusercontent.com"
BOOTSTRAP_STACK = "github-deploy"  # what an administrator deployed once per account; afresh each run here
DEFAULT_REPOSITORY = "OWNER/REPO"
DEFAULT_BRANCH = "main"
# sam deploy --resolve-s3 keeps the code in the managed stack's bucket, aws-sam-cli-managed-default-...
ARTIFACT_BUCKET = "aws-sam-cli-managed-default-samclisourcebucket-{account}"


class AssumeRoleFailed(Exception):
    """configure-aws-credentials could not get the role's session: the job fails with AWS's message."""


def find_bootstrap(root: Path) -> list[Path]:
    """The tree's bootstrap templates (those declaring GitHub's OIDC provider or a role trusting it),
    in deploy order: the provider's first, since a role may import its ARN."""
    found = []
    for path in source_files(root, "*.*", skip_tests=True):
        if path.suffix not in (".yaml", ".yml", ".json") or {".github", ".workshop"} & set(path.relative_to(root).parts):
            continue
        try:
            text = path.read_text()
        except (OSError, UnicodeDecodeError):
            continue
        if "AWS::IAM::OIDCProvider" in text or (GITHUB_OIDC in text and "AWS::IAM::Role" in text):
            found.append(path)
    return sorted(found, key=lambda path: "AWS::IAM::OIDCProvider" not in path.read_text())


def subject(repository: str, environment: str | None, branch: str = DEFAULT_BRANCH) -> str:
    """The sub claim of a job's OIDC token."""
    if environment:
        return f"repo:{repository}:environment:{environment}"
    return f"repo:{repository}:ref:refs/heads/{branch}"


@dataclass
class Bootstrap:
    """The tree's bootstrap templates, deployed into the accounts the workflow's roles live in."""

    templates: list[tuple[Path, dict[str, Any]]] = field(default_factory=list)
    deployed: dict[str, list[str]] = field(default_factory=dict)  # account -> the stacks deployed there
    errors: list[str] = field(default_factory=list)  # what failed to deploy, shown when a role is refused

    @classmethod
    def of(cls, root: Path) -> Bootstrap:
        templates = []
        for path in find_bootstrap(root):
            try:
                document = cfn_templates.load(path)
            except Exception:  # noqa: BLE001 - an unreadable bootstrap deploys nothing: its role is missing
                document = {}
            templates.append((path, document if isinstance(document, dict) else {}))
        missing = [] if templates else ["no template of the tree declares GitHub's OIDC provider or a role trusting it "
                                        "(the bootstrap, e.g. pipeline/bootstrap.yaml)"]
        return cls(templates, errors=missing)

    def _parameters(self) -> list[tuple[str, dict]]:
        return [(name, spec or {}) for _, document in self.templates
                for name, spec in (document.get("Parameters") or {}).items()]

    @property
    def repository(self) -> str:
        """The repository the dry run plays: the one the bootstrap admits by default."""
        for name, spec in self._parameters():
            default = str(spec.get("Default", ""))
            if "repo" in name.lower() and re.fullmatch(r"[\w.-]+/[\w.-]+", default):
                return default
        return DEFAULT_REPOSITORY

    @staticmethod
    def parameters(document: dict[str, Any], stage: str | None) -> dict[str, str]:
        """The parameter that chooses the environment (AllowedValues naming it) set to the job's stage."""
        chosen = {}
        for name, spec in (document.get("Parameters") or {}).items():
            allowed = [str(v) for v in (spec or {}).get("AllowedValues", [])]
            value = next((v for v in allowed if stage and stage_of(v) == stage), None)
            if value is not None:
                chosen[name] = value
        return chosen

    def stack_names(self) -> list[str]:
        if len(self.templates) == 1:
            return [BOOTSTRAP_STACK]
        return [f"{BOOTSTRAP_STACK}-{re.sub(r'[^A-Za-z0-9-]', '-', path.stem)}" for path, _ in self.templates]

    def ensure(self, target: LocalTarget, account: str, stage: str | None) -> None:
        """Deploy the bootstrap into `account` as its root, once per run; a failure is kept, not raised:
        the role it would have made is then missing, and assuming it fails as on AWS."""
        if not self.templates or account in self.deployed:
            return
        deployer = target.deployer(account)
        done = self.deployed[account] = []
        names = self.stack_names()
        # Afresh, never an update: moto's CloudFormation update of an AWS::IAM::Role keeps its old
        # trust and inline policies, and the run must judge the tree's bootstrap as it is now. An
        # earlier run's bootstrap goes too: an account holds one OIDC provider per URL.
        try:
            earlier = [s["StackName"] for s in deployer.described_stacks()
                       if s["StackName"] == BOOTSTRAP_STACK or s["StackName"].startswith(BOOTSTRAP_STACK + "-")]
        except Exception:  # noqa: BLE001 - nothing to clear
            earlier = []
        for name in reversed(earlier):  # the role stacks, named after the provider's, go first
            try:
                deployer.destroy(name)
            except Exception:  # noqa: BLE001, S110 - best effort, as a deploy that follows will tell
                pass
        for (path, document), name in zip(self.templates, names, strict=True):
            try:
                deployer.deploy(path, name, self.parameters(document, stage))
                done.append(name)
            except Exception as exc:  # noqa: BLE001 - reported when the role cannot be assumed
                self.errors.append(f"the bootstrap {path.name} did not deploy into {account}: {exc}")

    def stacks(self) -> list[tuple[str, str]]:
        """(account, stack) of every bootstrap stack this run deployed."""
        return [(account, name) for account, names in self.deployed.items() for name in names]


def assume(target: LocalTarget, role_arn: str, sub: str, bootstrap_errors: list[str] | None = None):
    """The role's session, as configure-aws-credentials gets it with `role-to-assume`."""
    from botocore.exceptions import ClientError

    from ..localcloud.iam import web_identity_session

    try:
        return web_identity_session(target.cloud_url, role_arn, subject=sub, region=target.region)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        # configure-aws-credentials' own wording for a refused AssumeRoleWithWebIdentity
        why = f"; {bootstrap_errors[0][:300]}" if bootstrap_errors else ""
        raise AssumeRoleFailed(f"Could not assume role with OIDC: {error.get('Message') or error.get('Code') or exc}"
                               f" ({error.get('Code', 'error')}; role {role_arn}, sub {sub}{why})") from exc


def role_deployer(target: LocalTarget, account: str, session) -> LocalDeployer:
    """A deployer signing as the role's session, with the code in SAM's managed bucket."""
    from ..deploy.local import LocalDeployer

    return LocalDeployer(target.cloud_url, account, target.region, session=session,
                         bucket=ARTIFACT_BUCKET.format(account=account))


def session_environment(session) -> dict[str, str]:
    """The variables configure-aws-credentials exports for the job's later steps."""
    credentials = session.get_credentials().get_frozen_credentials()
    return {"AWS_ACCESS_KEY_ID": credentials.access_key, "AWS_SECRET_ACCESS_KEY": credentials.secret_key,
            "AWS_SESSION_TOKEN": credentials.token or ""}
