"""The local target: the embedded cloud on 127.0.0.1; deploy packages and transforms offline."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ..localcloud.safety import is_loopback_url, local_session, refuse_non_loopback_connections, region_of
from .layout import find_templates, stack_name
from .local import LocalDeployer
from .target import PREFIX_TAG, DeployError, Progress, StackInfo, Target, WorkspaceDeployment, _quiet, has_prefix


class LocalTarget(Target):
    name = "local"
    real_account = False
    grading_deploys = True  # a check deploys the tree as it is now, in seconds
    log_delivery_s = 5.0  # the executor writes its log lines as the invocation ends

    def __init__(self, cloud_url: str, region: str | None = None) -> None:
        self.cloud_url = cloud_url
        self.region = region_of(region)  # --region, else AWS_REGION / AWS_DEFAULT_REGION, as the AWS CLI
        self._deployers: dict[str, LocalDeployer] = {}

    def session(self, account: str = "default"):
        return local_session(self.cloud_url, account, self.region)

    def confine(self) -> None:
        refuse_non_loopback_connections()  # nothing this process opens leaves 127.0.0.1

    def allows_url(self, url: str) -> bool:
        return is_loopback_url(url)

    def deployer(self, account: str = "default") -> LocalDeployer:
        """One per account, kept: a deployer's session and clients take a tenth of a second to make."""
        if account not in self._deployers:
            self._deployers[account] = LocalDeployer(self.cloud_url, account, self.region)
        return self._deployers[account]

    def deploy_template(self, template: Path, stack: str, account: str = "default",
                        parameters: dict[str, str] | None = None, progress: Progress = _quiet) -> StackInfo:
        return self.deployer(account).deploy(template, stack, parameters, progress=progress)

    def deploy_tree(self, root: Path, prefix: str, account: str = "default",
                    progress: Progress = _quiet,
                    parameters: dict[str, str] | None = None) -> WorkspaceDeployment:
        """Bring the prefix's stacks in line with the tree: create new ones, update changed ones in
        place, leave unchanged ones alone (their functions keep their warm environments) and
        delete those whose template is gone.

        A template that fails to deploy leaves no stack of its name behind, so nothing is judged
        on what an older version of the tree deployed.
        """
        result = WorkspaceDeployment()
        deployer = self.deployer(account)
        templates = find_templates(root)
        if not templates:
            result.errors[prefix] = f"no template.yaml under {root}"
        tags = {PREFIX_TAG: prefix}
        exported = deployer.exports()
        for template in templates:
            name = stack_name(prefix, root, template)
            result.templates[name] = template
            self._deploy_one(deployer, template, name, parameters, tags, progress, result)
        # A replaced stack may export new values (a table's new name); moto resolved each import when
        # its stack was made, so a stack that imports is made again from them (CloudFormation would
        # have refused to change an export in use).
        moved = {n for n, v in exported.items() if deployer.exports().get(n, v) != v}
        for name, template in result.templates.items():
            if moved and name in result.stacks and "ImportValue" in template.read_text(errors="replace"):
                progress(f"{name}: deploying again (an export it may import changed)")
                deployer.destroy(name)
                self._deploy_one(deployer, template, name, parameters, tags, progress, result)
        for name in self._stacks_of_prefix(deployer, prefix):
            if name not in result.templates:
                progress(f"{name}: deleting (its template is gone)")
                deployer.destroy(name)
        return result

    @staticmethod
    def _deploy_one(deployer: LocalDeployer, template: Path, name: str, parameters: dict[str, str] | None,
                    tags: dict[str, str], progress: Progress, result: WorkspaceDeployment) -> None:
        try:
            result.stacks[name] = deployer.deploy(template, name, parameters, tags=tags, progress=progress)
        except DeployError as exc:
            result.stacks.pop(name, None)
            result.errors[name] = str(exc)
            if deployer.destroy(name):
                progress(f"{name}: deleted (its template no longer deploys)")

    @staticmethod
    def _stacks_of_prefix(deployer: LocalDeployer, prefix: str) -> list[str]:
        """Stacks this prefix deployed: tagged with it, or (from before the tag) named PREFIX or PREFIX-*."""
        found = []
        for stack in deployer.described_stacks():
            name, tags = stack["StackName"], {t["Key"]: t["Value"] for t in stack.get("Tags", [])}
            if tags.get(PREFIX_TAG) == prefix or PREFIX_TAG not in tags and has_prefix(name, prefix):
                found.append(name)
        return sorted(found)

    def grading_deployment(self, root: Path, prefix: str) -> WorkspaceDeployment:
        return self.deploy_tree(root, prefix)  # incremental: unchanged stacks and warm functions are kept

    def validate_tree(self, root: Path) -> dict[str, str]:
        errors = {}
        deployer = self.deployer()  # one for the tree: validating talks to no cloud
        for template in find_templates(root):
            try:
                deployer.validate(template)
            except DeployError as exc:
                errors[str(template.relative_to(root))] = str(exc)
        if not find_templates(root):
            errors[str(root)] = f"no template.yaml under {root}"
        return errors

    def destroy_stack(self, stack: str, account: str = "default") -> bool:
        return self.deployer(account).destroy(stack)

    def destroy_prefix(self, prefix: str, account: str = "default") -> list[str]:
        deployer = self.deployer(account)
        doomed = self._stacks_of_prefix(deployer, prefix)
        for name in doomed:
            deployer.destroy(name)
        return doomed

    def _unzipped_sizes(self, function: str, layer_arns: list[str], stacks: Mapping[str, StackInfo],
                        account: str) -> list[int | None]:
        """The figures the local deploy recorded when it packaged each artifact (no download needed)."""
        sizes: dict[tuple[str, str], int] = {}
        logical_of: dict[str, tuple[str, str]] = {}
        for info in stacks.values():
            for artifact in info.artifacts:
                sizes[(info.name, artifact["logicalId"])] = int(artifact["unzippedBytes"])
            for resource in info.resources:
                logical_of[resource["physicalId"]] = (info.name, resource["logicalId"])
        found: list[int | None] = []
        for physical in [function, *layer_arns]:
            stack, logical = logical_of.get(physical, ("", ""))
            exact = sizes.get((stack, logical))
            # SAM names a layer version's CloudFormation resource after the layer's logical id plus a hash
            matches = [size for (s, lid), size in sizes.items() if s == stack and logical.startswith(lid)]
            found.append(exact if exact is not None else max(matches) if matches else None)
        return found
