"""S3: bucket policies in CloudFormation, and template URLs in path style on a loopback host.

The SAM CLI's `--resolve-s3` creates the stack aws-sam-cli-managed-default: a bucket and its
AWS::S3::BucketPolicy, a type moto 5.2.5 has no CloudFormation model for. Then it uploads the
template and sends `TemplateURL=http://127.0.0.1:PORT/BUCKET/KEY` (path style, the form it
builds from a custom endpoint); moto reads the bucket from the host name unless the URL
contains "localhost", and answers NoSuchBucket. The managed bucket's policy denies every
request made without TLS (`Bool: aws:SecureTransport: false`); moto ignores conditions, so it
denies every request. The local cloud's loopback endpoint stands in for AWS's TLS endpoints:
a request to it counts as secure transport, and that statement does not apply.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from moto.core.common_models import CloudFormationModel
from moto.s3.models import s3_backends
from moto.utilities.utils import get_partition

from ..safety import is_loopback_url
from .models import ModelOfOurs

if TYPE_CHECKING:
    from ..server import LocalCloud


def template_location(template_url: str) -> tuple[str, str] | None:
    """(bucket, key) of a path-style URL on a loopback host; None for the forms moto already reads."""
    if not is_loopback_url(template_url):
        return None
    bucket, _, key = urlsplit(template_url).path.lstrip("/").partition("/")
    return unquote(bucket), unquote(key)


def _insecure_transport_only(statement: dict[str, Any]) -> bool:
    """A statement that applies only to requests without TLS (AWS's documented `aws:SecureTransport`)."""
    condition = statement.get("Condition") or {}
    values = [str(v).lower() for v in (condition.get("Bool") or {}).values()] if list(condition) == ["Bool"] else []
    return list(condition.get("Bool") or {}) == ["aws:SecureTransport"] and values == ["false"]


def policy_over_secure_transport(policy: bytes) -> bytes:
    """A bucket policy as it applies to a request over TLS."""
    document = json.loads(policy)
    statements = document.get("Statement", [])
    statements = [statements] if isinstance(statements, dict) else statements
    document["Statement"] = [s for s in statements if not _insecure_transport_only(s)]
    return json.dumps(document).encode()


def apply(cloud: LocalCloud | None = None) -> None:  # moto only: needs nothing of the running cloud
    from moto.cloudformation import models, parsing, responses, utils
    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.s3.models import FakeBucket

    def get_permission(self, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        return IAMPolicy(policy_over_secure_transport(self.policy).decode()).is_action_permitted(action, resource)

    FakeBucket.get_permission = get_permission

    original = utils.get_stack_from_s3_url

    def get_stack_from_s3_url(template_url: str, account_id: str, partition: str) -> str:
        location = template_location(template_url)
        if location is None:
            return original(template_url, account_id=account_id, partition=partition)
        return s3_backends[account_id][partition].get_object(*location).value.decode("utf-8")

    for module in (utils, responses, models):  # each imported the function by name
        module.get_stack_from_s3_url = get_stack_from_s3_url

    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()  # moto builds its type map once; BucketPolicy below joins it


class BucketPolicy(ModelOfOurs, CloudFormationModel):
    """AWS::S3::BucketPolicy: the policy set on the bucket; Ref is the bucket's name.

    https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-s3-bucketpolicy.html
    """

    TYPE = "AWS::S3::BucketPolicy"
    REF = "bucket_name"

    def __init__(self, account_id: str, partition: str, bucket_name: str) -> None:
        self.account_id, self.partition, self.bucket_name = account_id, partition, bucket_name

    @classmethod
    def create(cls, account_id: str, region_name: str, name: str, properties: dict[str, Any]) -> BucketPolicy:
        policy = cls(account_id, get_partition(region_name), properties["Bucket"])
        policy._put(properties)
        return policy

    def update(self, name: str, properties: dict[str, Any]) -> bool:
        if properties["Bucket"] != self.bucket_name:
            return False  # another bucket: the old one's policy goes
        self._put(properties)
        return True

    def _put(self, properties: dict[str, Any]) -> None:
        document = properties["PolicyDocument"]
        policy = document if isinstance(document, str) else json.dumps(document)
        s3_backends[self.account_id][self.partition].put_bucket_policy(self.bucket_name, policy.encode())

    def delete(self, account_id: str, region_name: str) -> None:
        backend = s3_backends[self.account_id][self.partition]
        if self.bucket_name in backend.buckets:  # the bucket may already be gone
            backend.delete_bucket_policy(self.bucket_name)
