"""The one Target interface: what the CLI and the checkpoints may ask of a place stacks live.

Two targets implement it: `LocalTarget` (local_target.py, the embedded cloud) and `AwsTarget`
(aws_target.py, the learner's account). Callers never compare a target's name: they ask the
target, and a target that cannot do something raises `NotOnThisTarget`, which the checkpoints
show as "not gradable on this target" (left out of the total), never as a crash.
"""

from __future__ import annotations

import io
import zipfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from botocore.exceptions import ClientError

from .logs import log_lines

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


class DeployError(Exception):
    """A stack that could not deploy, with a message a person can act on."""


class NotOnThisTarget(Exception):
    """This target cannot do what was asked (the message says why, and what to do instead)."""


class UrlRefused(RuntimeError):
    """The target's HTTP client was asked for a host it must not reach (local: anything past loopback)."""


@dataclass
class StackInfo:
    name: str
    status: str
    outputs: dict[str, str] = field(default_factory=dict)
    resources: list[dict[str, str]] = field(default_factory=list)
    changed: bool = True  # False when a deploy found nothing to update
    parameters: dict[str, str] = field(default_factory=dict)
    artifacts: list[dict[str, Any]] = field(default_factory=list)  # what the local deploy packaged


@dataclass
class WorkspaceDeployment:
    stacks: dict[str, StackInfo] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # stack name -> what went wrong
    templates: dict[str, Path] = field(default_factory=dict)
    missing: tuple[str, str] | None = None  # (what was seen, what to do) when no stack was found

    def nothing_deployed(self) -> tuple[str, str]:
        """(saw, fix) for a checkpoint that needs stacks when there are none."""
        if self.errors:
            return ("nothing deployed: no template of the workspace deployed",
                    "fix what the deploy errors (listed once, above) name, then check again")
        return self.missing or ("nothing deployed", "deploy the shop's services")


@dataclass(frozen=True)
class ArtifactSize:
    """One deployed package: a function's code or one of its layers. None: not readable here."""

    name: str  # the function's name or the layer version's ARN
    zipped: int | None
    unzipped: int | None


def describe_stack(cloudformation, name: str) -> StackInfo | None:
    """A stack with its outputs and resources, or None when there is none (or it is deleted)."""
    try:
        stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
    except ClientError:
        return None
    if stack["StackStatus"] == "DELETE_COMPLETE":
        return None
    resources = cloudformation.list_stack_resources(StackName=name)["StackResourceSummaries"]
    return StackInfo(
        name=name,
        status=stack["StackStatus"],
        outputs={o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])},
        resources=[{"logicalId": r["LogicalResourceId"], "physicalId": r.get("PhysicalResourceId", ""),
                    "type": r["ResourceType"]} for r in resources],
        parameters={p["ParameterKey"]: p["ParameterValue"] for p in stack.get("Parameters", [])},
    )


PREFIX_TAG = "workshop:stack-prefix"  # which workspace deployed a stack, on both targets


def has_prefix(stack: str, prefix: str) -> bool:
    return stack == prefix or stack.startswith(prefix + "-")


def layer_version(lam, arn: str) -> dict:
    """GetLayerVersion by a version ARN (the answer GetLayerVersionByArn gives; the local target lacks that call)."""
    layer, _, number = arn.rpartition(":")
    return lam.get_layer_version(LayerName=layer, VersionNumber=int(number))


class Target(ABC):
    """A place stacks are deployed to and graded in."""

    name: str  # for messages and option parsing only: never compared outside workshop/deploy
    grading_deploys: bool  # True: a check deploys the tree itself; False: it judges what the learner deployed
    log_delivery_s: float  # how long CloudWatch Logs may take to show an event here
    real_account: bool  # True: AWS itself (charges apply; metrics arrive per minute and late)

    # -- boto3 and HTTP ------------------------------------------------------------------------

    @abstractmethod
    def session(self, account: str = "default"):
        """A boto3 session for an account of this target ("default", or a named one the target knows)."""

    def confine(self) -> None:  # noqa: B027 - a hook: most targets have nothing to guard
        """Guard this whole process for grading on this target (local: nothing leaves loopback)."""

    def allows_url(self, url: str) -> bool:
        """Whether the HTTP client may call this URL."""
        return True

    def http_client(self, timeout: float = 30) -> httpx.Client:
        """An HTTP client for the shop that refuses what `allows_url` refuses."""

        def guard(request: httpx.Request) -> None:
            if not self.allows_url(str(request.url)):
                raise UrlRefused(f"the {self.name} target may not call {request.url.host}")

        return httpx.Client(timeout=timeout, event_hooks={"request": [guard]})

    # -- stacks --------------------------------------------------------------------------------

    @abstractmethod
    def deploy_template(self, template: Path, stack: str, account: str = "default",
                        parameters: dict[str, str] | None = None, progress: Progress = _quiet) -> StackInfo:
        """Deploy one template as one stack (create or update)."""

    @abstractmethod
    def deploy_tree(self, root: Path, prefix: str, account: str = "default",
                    progress: Progress = _quiet,
                    parameters: dict[str, str] | None = None) -> WorkspaceDeployment:
        """Deploy every template under root, one stack each, named `<prefix>-<folder>`."""

    @abstractmethod
    def grading_deployment(self, root: Path, prefix: str) -> WorkspaceDeployment:
        """The workspace's stacks as the checkpoints grade them, paired with their templates."""

    @abstractmethod
    def validate_tree(self, root: Path) -> dict[str, str]:
        """template path -> why it could not deploy from this tree, without creating anything."""

    @abstractmethod
    def destroy_stack(self, stack: str, account: str = "default") -> bool:
        """Delete one stack; False when there was none."""

    @abstractmethod
    def destroy_prefix(self, prefix: str, account: str = "default") -> list[str]:
        """Delete the stacks named `prefix` or `prefix-*`; their names."""

    def find_stacks(self, prefix: str, account: str = "default") -> dict[str, StackInfo]:
        """The stacks named `prefix` or `prefix-*`, with outputs and resources."""
        cloudformation = self.session(account).client("cloudformation")
        found = {}
        for page in cloudformation.get_paginator("describe_stacks").paginate():
            for stack in page["Stacks"]:
                name = stack["StackName"]
                if has_prefix(name, prefix) and not stack["StackStatus"].startswith("DELETE"):
                    info = describe_stack(cloudformation, name)
                    if info is not None:
                        found[name] = info
        return dict(sorted(found.items()))

    # -- what deployed functions are made of, and what they log ---------------------------------

    def artifact_sizes(self, function: str, stacks: Mapping[str, StackInfo],
                       account: str = "default") -> list[ArtifactSize]:
        """The function's package, then each of its layers: bytes zipped (as Lambda reports) and unzipped."""
        config = self.session(account).client("lambda").get_function_configuration(FunctionName=function)
        layers = config.get("Layers") or []
        zipped = [config.get("CodeSize")] + [layer.get("CodeSize") for layer in layers]
        unzipped = self._unzipped_sizes(function, [layer["Arn"] for layer in layers], stacks, account)
        names = [function] + [layer["Arn"] for layer in layers]
        return [ArtifactSize(name, z, u) for name, z, u in zip(names, zipped, unzipped, strict=False)]

    @abstractmethod
    def _unzipped_sizes(self, function: str, layer_arns: list[str], stacks: Mapping[str, StackInfo],
                        account: str) -> list[int | None]:
        """Unzipped bytes of the function's package and of each layer, in that order."""

    def log_events(self, function: str, since_ms: int = 0, wait: float = 0.0,
                   account: str = "default") -> list[tuple[str, str]]:
        """(log stream, message) of a function's log group, oldest first; waits up to `wait` s for a first event."""
        return log_lines(self.session(account).client("logs"), function, since_ms, wait)


def zip_entries_size(data: bytes) -> int:
    """The unzipped size of a zip archive, from its directory."""
    return sum(entry.file_size for entry in zipfile.ZipFile(io.BytesIO(data)).infolist())
