"""`workshop clean --target aws`: delete the learner's stacks, and only those, in an order that works.

The learner's stacks are those tagged `workshop:managed=true` (the README's commands and the aws
target's deploy put the tag on), or with `--stack-prefix P` those named P or P-*. The SAM CLI's
own `aws-sam-cli-managed-default` stack is never one of them.

CloudFormation refuses to delete a stack whose export another stack imports, so importers go
first (ListImports). Each delete is waited for; a stack that fails to delete is named with
CloudFormation's reason, and whatever it imports from stays for the learner to see. Buckets a
stack owns are emptied first (CloudFormation cannot delete a bucket with objects), and the
artifacts `sam deploy` uploaded for the stack (the s3:// locations in its original template,
in the managed bucket) are removed, as `sam delete` does.
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-stack-exports.html
https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ListImports.html
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from botocore.exceptions import ClientError, WaiterError

MANAGED_TAG = "workshop:managed"
SAM_MANAGED_STACK = "aws-sam-cli-managed-default"
_S3_URI = re.compile(r"s3://([a-z0-9][a-z0-9.-]+)/([^\s\"']+)")


@dataclass
class CleanReport:
    deleted: list[str] = field(default_factory=list)  # in the order they went
    failed: dict[str, str] = field(default_factory=dict)  # stack -> why it is still there
    emptied_buckets: dict[str, int] = field(default_factory=dict)  # bucket -> objects removed
    removed_artifacts: list[str] = field(default_factory=list)  # s3://bucket/key
    kept: list[str] = field(default_factory=list)  # stacks that are not the learner's


def learner_stacks(cloudformation, prefix: str | None = None) -> tuple[list[str], list[str]]:
    """(the learner's stack names, the others), deleted stacks left out."""
    ours: list[str] = []
    others: list[str] = []
    for page in cloudformation.get_paginator("describe_stacks").paginate():
        for stack in page["Stacks"]:
            name = stack["StackName"]
            if stack["StackStatus"] == "DELETE_COMPLETE":
                continue
            tags = {t["Key"]: t["Value"] for t in stack.get("Tags", [])}
            if prefix is not None:
                mine = name == prefix or name.startswith(prefix + "-")
            else:
                mine = tags.get(MANAGED_TAG) == "true"
            (ours if mine and name != SAM_MANAGED_STACK else others).append(name)
    return sorted(ours), sorted(others)


def importers_of(cloudformation, stack: str) -> set[str]:
    """The stacks importing any of stack's exports."""
    described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    found: set[str] = set()
    for output in described.get("Outputs", []):
        if output.get("ExportName"):
            try:
                pages = cloudformation.get_paginator("list_imports").paginate(ExportName=output["ExportName"])
                found.update(name for page in pages for name in page.get("Imports", []))
            except ClientError:  # "is not imported by any stack"
                continue
    return found - {stack}


def deletion_order(cloudformation, stacks: list[str]) -> tuple[list[str], dict[str, str]]:
    """(stacks in an order CloudFormation accepts, stacks that cannot go -> why)."""
    importers = {name: importers_of(cloudformation, name) for name in stacks}
    blocked = {}
    for name, users in importers.items():
        foreign = sorted(users - set(stacks))
        if foreign:
            blocked[name] = f"its exports are imported by {', '.join(foreign)}, which is not yours to delete"
    remaining = [name for name in stacks if name not in blocked]
    order: list[str] = []
    while remaining:
        ready = [name for name in remaining if not importers[name] & set(remaining)]
        if not ready:  # a cycle cannot be deployed either; delete the rest as they come
            ready = remaining[:1]
        order += ready
        remaining = [name for name in remaining if name not in ready]
    return order, blocked


def _empty_bucket(s3, bucket: str) -> int:
    removed = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        doomed = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                  for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        if doomed:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed, "Quiet": True})
            removed += len(doomed)
    return removed


def _artifacts(cloudformation, stack: str) -> list[tuple[str, str]]:
    """The s3:// locations in the stack's template as submitted (what `sam deploy` uploaded)."""
    try:
        body = cloudformation.get_template(StackName=stack, TemplateStage="Original")["TemplateBody"]
    except ClientError:
        return []
    text = body if isinstance(body, str) else json.dumps(body)
    return sorted(set(_S3_URI.findall(text)))


def _why_delete_failed(cloudformation, stack: str, waited: Exception) -> str:
    try:
        events = cloudformation.describe_stack_events(StackName=stack)["StackEvents"]
    except ClientError:
        return str(waited)
    reasons = [e.get("ResourceStatusReason") for e in events if e["ResourceStatus"] == "DELETE_FAILED"]
    return next((r for r in reasons if r), str(waited))


def clean(session, confirm: Callable[[list[str]], bool], prefix: str | None = None,
          wait_delay: int = 5) -> CleanReport:
    """Delete the learner's stacks once `confirm(names)` says yes; report what went and what did not."""
    cloudformation, s3 = session.client("cloudformation"), session.client("s3")
    ours, others = learner_stacks(cloudformation, prefix)
    report = CleanReport(kept=others)
    if not ours or not confirm(ours):
        return report
    order, report.failed = deletion_order(cloudformation, ours)
    for name in order:
        stuck = sorted(importer for importer in importers_of(cloudformation, name) if importer in report.failed)
        if stuck:
            report.failed[name] = f"{', '.join(stuck)} still import(s) its exports"
            continue
        artifacts = _artifacts(cloudformation, name)
        resources = cloudformation.list_stack_resources(StackName=name)["StackResourceSummaries"]
        for bucket in (r["PhysicalResourceId"] for r in resources if r["ResourceType"] == "AWS::S3::Bucket"):
            report.emptied_buckets[bucket] = _empty_bucket(s3, bucket)
        try:
            cloudformation.delete_stack(StackName=name)
            cloudformation.get_waiter("stack_delete_complete").wait(
                StackName=name, WaiterConfig={"Delay": wait_delay, "MaxAttempts": 720 // max(wait_delay, 1)})
        except (ClientError, WaiterError) as exc:
            report.failed[name] = _why_delete_failed(cloudformation, name, exc)
            continue
        report.deleted.append(name)
        for bucket, key in artifacts:
            try:
                s3.delete_object(Bucket=bucket, Key=key)
                report.removed_artifacts.append(f"s3://{bucket}/{key}")
            except ClientError:
                continue  # another stack's deploy may share it, or it is gone already
    return report
