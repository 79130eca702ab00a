"""The aws target: the learner's own account, deployed with `sam build` + `sam deploy`, only when asked.

The checkpoints never deploy here: they find the stacks the learner deployed, by name prefix.
What needs the local cloud's insides (validating a tree offline, deleting by prefix, a second
account without its profile) is refused with NotOnThisTarget, which says what to do instead.
"""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from collections.abc import Mapping
from pathlib import Path

import httpx
from botocore.exceptions import ClientError

from ..localcloud.safety import is_loopback_url
from .clean import MANAGED_TAG
from .layout import find_templates, stack_name
from .local_target import LocalTarget
from .target import (
    PREFIX_TAG,
    DeployError,
    NotOnThisTarget,
    Progress,
    StackInfo,
    Target,
    WorkspaceDeployment,
    _quiet,
    describe_stack,
    layer_version,
    zip_entries_size,
)

SAM_INSTALL = "install the AWS SAM CLI beside the course (docs/setup.md: AWS route), then try again"


class AwsTarget(Target):
    """A real account: stacks the learner deployed with `sam deploy`, found by name prefix."""

    name = "aws"
    real_account = True
    grading_deploys = False  # the learner's account: a check judges what is there and never deploys

    def __init__(self, region: str | None = None, profile: str | None = None,
                 profiles: Mapping[str, str] | None = None) -> None:
        self.region = region
        self.profile = profile
        self.profiles = dict(profiles or {})  # account name (dev, prod, ...) -> the AWS profile that reaches it
        self._sizes: dict[str, int | None] = {}

    @property
    def log_delivery_s(self) -> float:  # type: ignore[override]
        """CloudWatch Logs usually shows an event within seconds, sometimes a minute; an endpoint on
        this machine (AWS_ENDPOINT_URL at the local cloud posing as an account) writes it at once."""
        endpoint = self.session().client("logs").meta.endpoint_url
        return LocalTarget.log_delivery_s if is_loopback_url(endpoint) else 90.0

    def session(self, account: str = "default"):
        import boto3
        if account != "default" and account not in self.profiles:
            raise NotOnThisTarget(f"the {account} account needs a profile of its own on the aws target "
                                  f"(none was given for it)")
        return boto3.Session(profile_name=self.profiles.get(account, self.profile), region_name=self.region)

    # -- deploy: the SAM CLI, as the learner would run it ---------------------------------------

    def deploy_template(self, template: Path, stack: str, account: str = "default",
                        parameters: dict[str, str] | None = None, progress: Progress = _quiet,
                        tags: Mapping[str, str] | None = None) -> StackInfo:
        if shutil.which("sam") is None:
            raise DeployError(f"the aws target deploys with the SAM CLI, which is not on PATH: {SAM_INSTALL}")
        if not template.is_file():
            raise DeployError(f"{template}: no such template")
        template = template.resolve()  # sam runs in the template's folder: a relative path would be doubled
        overrides = " ".join(f"{k}={v}" for k, v in (parameters or {}).items())
        tag_pairs = [f"{k}={v}" for k, v in {MANAGED_TAG: "true", **(tags or {})}.items()]
        location = ["--region", self.region] if self.region else []
        profile = self.profiles.get(account, self.profile)
        location += ["--profile", profile] if profile else []
        commands = [
            ["sam", "build", "--template-file", str(template)],
            ["sam", "deploy", "--stack-name", stack, "--resolve-s3", "--no-confirm-changeset",
             "--no-fail-on-empty-changeset", "--capabilities", "CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND",
             "--tags", *tag_pairs]
            + (["--parameter-overrides", overrides] if overrides else []) + location,
        ]
        for command in commands:
            progress(f"{stack}: {' '.join(command[:2])}")
            done = subprocess.run(command, cwd=template.parent, capture_output=True, text=True)
            if done.returncode != 0:
                said = (done.stderr or done.stdout).strip().splitlines()
                raise DeployError(f"{stack}: {said[-1] if said else command[1] + ' failed'}")
        info = describe_stack(self.session(account).client("cloudformation"), stack)
        if info is None:
            raise DeployError(f"{stack}: sam deploy finished but no stack {stack} exists in this account and region")
        return info

    def deploy_tree(self, root: Path, prefix: str, account: str = "default",
                    progress: Progress = _quiet,
                    parameters: dict[str, str] | None = None) -> WorkspaceDeployment:
        result = WorkspaceDeployment()
        templates = find_templates(root)
        if not templates:
            result.errors[prefix] = f"no template.yaml under {root}"
        for template in templates:
            name = stack_name(prefix, root, template)
            result.templates[name] = template
            try:
                result.stacks[name] = self.deploy_template(template, name, account, parameters, progress,
                                                           tags={PREFIX_TAG: prefix})
            except DeployError as exc:
                result.errors[name] = str(exc)
        return result

    def grading_deployment(self, root: Path, prefix: str) -> WorkspaceDeployment:
        # the learner deployed each template as PREFIX-FOLDER (the README's convention): pair them the same way
        templates = {stack_name(prefix, root, t): t for t in find_templates(root)}
        found = WorkspaceDeployment(stacks=self.find_stacks(prefix), templates=templates)
        found.missing = (f"no stack named {prefix} or {prefix}-* in this account and region",
                         "deploy each service with `sam deploy --stack-name PREFIX-SERVICE`, "
                         "then pass --stack-prefix PREFIX (and --region)")
        return found

    def validate_tree(self, root: Path) -> dict[str, str]:
        raise NotOnThisTarget("the aws target validates a template when `sam build` and `sam deploy` run it")

    def destroy_stack(self, stack: str, account: str = "default") -> bool:
        cloudformation = self.session(account).client("cloudformation")
        if describe_stack(cloudformation, stack) is None:
            return False
        cloudformation.delete_stack(StackName=stack)
        cloudformation.get_waiter("stack_delete_complete").wait(StackName=stack)
        return True

    def destroy_prefix(self, prefix: str, account: str = "default") -> list[str]:
        raise NotOnThisTarget("the aws target never deletes stacks by name: "
                              "`workshop clean --target aws` deletes the workshop's stacks after asking")

    # -- artifacts: read back from the account --------------------------------------------------

    def _unzipped_sizes(self, function: str, layer_arns: list[str], stacks: Mapping[str, StackInfo],
                        account: str) -> list[int | None]:
        """Each package downloaded from its Code.Location / Content.Location and its zip directory summed."""
        lam = self.session(account).client("lambda")
        locations = []
        try:
            locations.append(lam.get_function(FunctionName=function)["Code"].get("Location"))
        except ClientError:
            locations.append(None)
        for arn in layer_arns:
            try:
                locations.append(layer_version(lam, arn)["Content"].get("Location"))
            except ClientError:
                locations.append(None)
        return [self._download_size(url) if url else None for url in locations]

    def _download_size(self, url: str) -> int | None:
        if url not in self._sizes:
            try:
                response = httpx.get(url, timeout=60, follow_redirects=True)
                response.raise_for_status()
                self._sizes[url] = zip_entries_size(response.content)
            except (httpx.HTTPError, zipfile.BadZipFile, OSError):  # a figure we cannot read is reported as unknown
                self._sizes[url] = None
        return self._sizes[url]
