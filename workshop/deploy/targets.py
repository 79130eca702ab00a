"""Choosing a target by its name: the one place (with the CLI's option) that reads it.

The interface is target.py; the two targets are local_target.py and aws_target.py.
"""

from __future__ import annotations

from .aws_target import AwsTarget
from .layout import TEMPLATE_NAMES, find_templates, stack_name
from .local_target import LocalTarget
from .target import ArtifactSize, DeployError, NotOnThisTarget, StackInfo, Target, UrlRefused, WorkspaceDeployment

TARGET_NAMES = ("local", "aws")

__all__ = ["TARGET_NAMES", "TEMPLATE_NAMES", "ArtifactSize", "AwsTarget", "DeployError", "LocalTarget",
           "NotOnThisTarget", "StackInfo", "Target", "UrlRefused", "WorkspaceDeployment", "find_templates", "open_target",
           "stack_name"]


def open_target(name: str, cloud_url: str | None = None, region: str | None = None,
                profile: str | None = None, profiles: dict[str, str] | None = None) -> Target:
    """The target called `name`. local: the cloud at cloud_url, or the one running (started if none is)."""
    if name == "aws":
        return AwsTarget(region=region, profile=profile, profiles=profiles)
    if name != "local":
        raise ValueError(f"no target {name!r}: choose {' or '.join(TARGET_NAMES)}")
    if cloud_url is None:
        from ..localcloud import control
        cloud_url = control.up()[0].url
    return LocalTarget(cloud_url, region)
