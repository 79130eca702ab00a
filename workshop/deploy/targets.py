"""The two targets, and the one place that knows how they differ.

`local`: the embedded cloud on 127.0.0.1; deploy packages and transforms offline.
`aws`: the learner's account; deploy is `sam build` + `sam deploy`, only when asked.
Both give boto3 sessions, so checkpoints run unchanged on either.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..localcloud.safety import DEFAULT_REGION, local_session
from .clean import MANAGED_TAG
from .local import DeployError, LocalDeployer, StackInfo

SKIPPED_FOLDERS = {".aws-sam", "tests", "node_modules", ".venv", "__pycache__", ".git"}
TEMPLATE_NAMES = ("template.yaml", "template.yml")


def find_templates(root: Path) -> list[Path]:
    """Every template under root, one stack each: the tree's own layout decides the stacks."""
    found = []
    for name in TEMPLATE_NAMES:
        for path in root.rglob(name):
            if not SKIPPED_FOLDERS.intersection(path.relative_to(root).parts[:-1]):
                found.append(path)
    return sorted(found)


def stack_name(prefix: str, root: Path, template: Path) -> str:
    folder = template.parent.relative_to(root)
    name = prefix if folder == Path(".") else f"{prefix}-{folder.name}"
    return re.sub(r"[^A-Za-z0-9-]", "-", name)[:128]


@dataclass
class WorkspaceDeployment:
    stacks: dict[str, StackInfo] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # stack name -> what went wrong
    templates: dict[str, Path] = field(default_factory=dict)


class LocalTarget:
    name = "local"

    def __init__(self, cloud_url: str, region: str = DEFAULT_REGION) -> None:
        self.cloud_url = cloud_url
        self.region = region

    def session(self, account: str = "default"):
        return local_session(self.cloud_url, account, self.region)

    def deployer(self, account: str = "default") -> LocalDeployer:
        return LocalDeployer(self.cloud_url, account, self.region)

    def deploy_tree(self, root: Path, prefix: str, account: str = "default",
                    progress: Callable[[str], None] = lambda _: None,
                    parameters: dict[str, str] | None = None) -> WorkspaceDeployment:
        result = WorkspaceDeployment()
        deployer = self.deployer(account)
        templates = find_templates(root)
        if not templates:
            result.errors[prefix] = f"no template.yaml under {root}"
        for template in templates:
            name = stack_name(prefix, root, template)
            result.templates[name] = template
            try:
                result.stacks[name] = deployer.deploy(template, name, parameters, progress=progress)
            except DeployError as exc:
                result.errors[name] = str(exc)
        return result

    def validate_tree(self, root: Path) -> dict[str, str]:
        """template path -> why it could not deploy from this tree, without creating anything."""
        errors = {}
        for template in find_templates(root):
            try:
                self.deployer().validate(template)
            except DeployError as exc:
                errors[str(template.relative_to(root))] = str(exc)
        if not find_templates(root):
            errors[str(root)] = f"no template.yaml under {root}"
        return errors

    def destroy_prefix(self, prefix: str, account: str = "default") -> list[str]:
        deployer = self.deployer(account)
        doomed = [s for s in deployer.stacks() if s == prefix or s.startswith(prefix + "-")]
        for name in doomed:
            deployer.destroy(name)
        return doomed


class AwsTarget:
    """A real account: stacks the learner deployed with `sam deploy`, found by name prefix."""

    name = "aws"

    def __init__(self, region: str | None = None, profile: str | None = None) -> None:
        self.region = region
        self.profile = profile

    def session(self, account: str = "default"):
        import boto3
        return boto3.Session(profile_name=self.profile, region_name=self.region)

    def stacks_with_prefix(self, prefix: str) -> dict[str, StackInfo]:
        cloudformation = self.session().client("cloudformation")
        found = {}
        for page in cloudformation.get_paginator("describe_stacks").paginate():
            for stack in page["Stacks"]:
                name = stack["StackName"]
                if (name == prefix or name.startswith(prefix + "-")) and not stack["StackStatus"].startswith("DELETE"):
                    resources = cloudformation.list_stack_resources(StackName=name)["StackResourceSummaries"]
                    found[name] = StackInfo(
                        name=name, status=stack["StackStatus"],
                        outputs={o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])},
                        resources=[{"logicalId": r["LogicalResourceId"], "physicalId": r.get("PhysicalResourceId", ""),
                                    "type": r["ResourceType"]} for r in resources],
                        changed=False)
        return found

    def deploy_tree(self, root: Path, prefix: str, account: str = "default",
                    progress: Callable[[str], None] = lambda _: None,
                    parameters: dict[str, str] | None = None) -> WorkspaceDeployment:
        """`sam build` + `sam deploy` for each template: only when the learner asks for it."""
        if shutil.which("sam") is None:
            raise DeployError("the aws target deploys with the SAM CLI: pip install 'serverless-at-scale-workshop[aws]'")
        result = WorkspaceDeployment()
        for template in find_templates(root):
            name = stack_name(prefix, root, template)
            result.templates[name] = template
            overrides = " ".join(f"{k}={v}" for k, v in (parameters or {}).items())
            commands = [
                ["sam", "build", "--template-file", str(template)],
                ["sam", "deploy", "--stack-name", name, "--resolve-s3", "--no-confirm-changeset",
                 "--no-fail-on-empty-changeset", "--capabilities", "CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND",
                 "--tags", f"workshop:stack-prefix={prefix}", f"{MANAGED_TAG}=true"]
                + (["--parameter-overrides", overrides] if overrides else [])
                + (["--region", self.region] if self.region else []),
            ]
            for command in commands:
                progress(f"{name}: {' '.join(command[:2])}")
                done = subprocess.run(command, cwd=template.parent, capture_output=True, text=True)
                if done.returncode != 0:
                    said = (done.stderr or done.stdout).strip().splitlines()
                    result.errors[name] = said[-1] if said else f"{command[1]} failed"
                    break
        result.stacks.update(self.stacks_with_prefix(prefix))
        return result
