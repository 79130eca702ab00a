"""`workshop clean --target aws`: delete the stacks the workshop deployed, and only those.

A stack is the workshop's when it carries the tag the aws target puts on every deploy.
Buckets the stacks own are emptied first (CloudFormation cannot delete a bucket with objects).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

MANAGED_TAG = "workshop:managed"


@dataclass
class CleanReport:
    deleted: list[str] = field(default_factory=list)
    emptied_buckets: dict[str, int] = field(default_factory=dict)  # bucket -> objects removed
    kept: list[str] = field(default_factory=list)  # stacks without our tag: not ours to delete


def workshop_stacks(cloudformation) -> tuple[list[str], list[str]]:
    """(tagged stack names, other stack names), deleted stacks left out."""
    ours, others = [], []
    for page in cloudformation.get_paginator("describe_stacks").paginate():
        for stack in page["Stacks"]:
            if stack["StackStatus"] == "DELETE_COMPLETE":
                continue
            tags = {t["Key"]: t["Value"] for t in stack.get("Tags", [])}
            (ours if tags.get(MANAGED_TAG) == "true" else others).append(stack["StackName"])
    return sorted(ours), sorted(others)


def _empty_bucket(s3, bucket: str) -> int:
    removed = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        doomed = [{"Key": v["Key"], "VersionId": v["VersionId"]}
                  for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        if doomed:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed, "Quiet": True})
            removed += len(doomed)
    return removed


def clean(session, confirm: Callable[[list[str]], bool]) -> CleanReport:
    """Delete every tagged stack once `confirm(names)` says yes; report what went."""
    cloudformation, s3 = session.client("cloudformation"), session.client("s3")
    ours, others = workshop_stacks(cloudformation)
    report = CleanReport(kept=others)
    if not ours or not confirm(ours):
        return report
    for name in ours:
        resources = cloudformation.list_stack_resources(StackName=name)["StackResourceSummaries"]
        for bucket in (r["PhysicalResourceId"] for r in resources if r["ResourceType"] == "AWS::S3::Bucket"):
            report.emptied_buckets[bucket] = _empty_bucket(s3, bucket)
        cloudformation.delete_stack(StackName=name)
        cloudformation.get_waiter("stack_delete_complete").wait(StackName=name, WaiterConfig={"Delay": 2})
        report.deleted.append(name)
    return report
