"""IAM: inline role policies from CloudFormation are JSON; OIDC providers from CloudFormation exist.

moto 5.2.5 stores a CloudFormation role's inline `Policies` as the Python repr of a dict,
so get_role_policy answers a string that is not JSON; and it has no CloudFormation type for
AWS::IAM::OIDCProvider (the stack completes, no provider is made).
"""

from __future__ import annotations

import json
from typing import Any

from moto.cloudformation import parsing
from moto.core.common_models import CloudFormationModel
from moto.iam.models import Role, iam_backends
from moto.utilities.utils import get_partition

from .models import ModelOfOurs


def apply() -> None:
    original = Role.put_policy

    def put_policy(self, policy_name, policy_json):
        return original(self, policy_name, policy_json if isinstance(policy_json, str) else json.dumps(policy_json))

    Role.put_policy = put_policy
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()  # moto builds its type map once; OidcProvider below joins it


class OidcProvider(ModelOfOurs, CloudFormationModel):
    """AWS::IAM::OIDCProvider (moto 5.2.5 has providers but no CloudFormation type); Ref is the ARN."""

    TYPE = "AWS::IAM::OIDCProvider"
    NAME_PROPERTY = ""
    REF = "arn"
    ATTRIBUTES = {"Arn": "arn"}

    def __init__(self, account_id: str, arn: str) -> None:
        self.account_id, self.arn = account_id, arn

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
        **kwargs: Any,
    ) -> OidcProvider:
        p = cloudformation_json.get("Properties") or {}
        provider = iam_backends[account_id][get_partition(region_name)].create_open_id_connect_provider(
            p["Url"], p.get("ThumbprintList") or [], p.get("ClientIdList") or [], p.get("Tags") or [])
        return cls(account_id, provider.arn)

    @classmethod
    def delete_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> None:
        iam_backends[account_id][get_partition(region_name)].delete_open_id_connect_provider(resource_name)

    def delete(self, account_id: str, region_name: str) -> None:
        iam_backends[account_id][get_partition(region_name)].delete_open_id_connect_provider(self.arn)
