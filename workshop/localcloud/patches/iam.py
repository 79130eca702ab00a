"""IAM: inline role policies from CloudFormation are JSON; OIDC providers from CloudFormation exist;
a stack update changes a role's policies.

moto 5.2.5 stores a CloudFormation role's inline `Policies` as the Python repr of a dict,
so get_role_policy answers a string that is not JSON; it has no CloudFormation type for
AWS::IAM::OIDCProvider (the stack completes, no provider is made); and a stack update changes a
role's description only, so a corrected policy never reached the role.
"""

from __future__ import annotations

import functools
import json
from typing import TYPE_CHECKING, Any

from moto.cloudformation import parsing
from moto.core.common_models import CloudFormationModel
from moto.iam.aws_managed_policies import aws_managed_policies_data
from moto.iam.models import AWSManagedPolicy, Role, iam_backends
from moto.utilities.utils import get_partition

from .models import ModelOfOurs

if TYPE_CHECKING:
    from ..server import LocalCloud


def apply(cloud: LocalCloud | None = None) -> None:  # moto only: needs nothing of the running cloud
    original = Role.put_policy

    def put_policy(self, policy_name, policy_json):
        return original(self, policy_name, policy_json if isinstance(policy_json, str) else json.dumps(policy_json))

    Role.put_policy = put_policy

    create_role = Role.create_from_cloudformation_json.__func__

    def create_role_from_cloudformation(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):
        """moto ignores a CloudFormation role's ManagedPolicyArns: attach them, as IAM does."""
        role = create_role(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        backend = iam_backends[account_id][get_partition(region_name)]
        for arn in (cloudformation_json.get("Properties") or {}).get("ManagedPolicyArns") or []:
            if isinstance(arn, str) and _known_policy(backend, arn):
                backend.attach_role_policy(arn, role.name)
        return role

    Role.create_from_cloudformation_json = classmethod(create_role_from_cloudformation)

    delete_role = Role.delete_from_cloudformation_json.__func__

    def delete_role_from_cloudformation(cls, resource_name, cloudformation_json, account_id, region_name):
        """Detach the role's managed policies first: IAM refuses to delete a role that has some."""
        backend = iam_backends[account_id][get_partition(region_name)]
        for role in [r for r in backend.roles.values() if r.name == resource_name]:
            for arn in list(role.managed_policies):
                backend.detach_role_policy(arn, role.name)
        return delete_role(cls, resource_name, cloudformation_json, account_id, region_name)

    Role.delete_from_cloudformation_json = classmethod(delete_role_from_cloudformation)

    def update_role_from_cloudformation(cls, original_resource, new_resource_name, cloudformation_json, account_id,
                                        region_name):
        """IAM's update in place: trust policy, inline policies and managed policies as the template now says
        (moto updates the description only: a learner's corrected policy would never reach the role)."""
        properties = cloudformation_json.get("Properties") or {}
        backend = iam_backends[account_id][get_partition(region_name)]
        role = original_resource
        if properties.get("RoleName", role.name) != role.name or properties.get("Path", "/") != role.path:
            # a new name or path is a new role, as CloudFormation replaces it
            delete_role_from_cloudformation(cls, role.name, cloudformation_json, account_id, region_name)
            return create_role_from_cloudformation(cls, new_resource_name, cloudformation_json, account_id,
                                                   region_name)
        trust = properties.get("AssumeRolePolicyDocument")
        if trust is not None:
            backend.update_assume_role_policy(role.name, trust if isinstance(trust, str) else json.dumps(trust))
        inline = {p["PolicyName"]: p["PolicyDocument"] for p in properties.get("Policies") or []}
        for name in set(role.policies) - set(inline):
            role.delete_policy(name)
        for name, document in inline.items():
            role.put_policy(name, document)
        wanted = {arn for arn in properties.get("ManagedPolicyArns") or [] if isinstance(arn, str)}
        for arn in set(role.managed_policies) - wanted:
            backend.detach_role_policy(arn, role.name)
        for arn in wanted - set(role.managed_policies):
            if _known_policy(backend, arn):
                backend.attach_role_policy(arn, role.name)
        role.description = properties.get("Description", "")
        role.max_session_duration = properties.get("MaxSessionDuration", 3600)
        return role

    Role.update_from_cloudformation_json = classmethod(update_role_from_cloudformation)
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
    def create(cls, account_id: str, region_name: str, name: str, p: dict[str, Any]) -> OidcProvider:
        provider = iam_backends[account_id][get_partition(region_name)].create_open_id_connect_provider(
            p["Url"], p.get("ThumbprintList") or [], p.get("ClientIdList") or [], p.get("Tags") or [])
        return cls(account_id, provider.arn)

    @classmethod
    def delete_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str,
    ) -> None:
        iam_backends[account_id][get_partition(region_name)].delete_open_id_connect_provider(resource_name)

    def delete(self, account_id: str, region_name: str) -> None:
        iam_backends[account_id][get_partition(region_name)].delete_open_id_connect_provider(self.arn)


@functools.lru_cache(maxsize=1)
def _aws_managed_policies() -> dict:
    return json.loads(aws_managed_policies_data)  # megabytes: parsed once, not per role


def _known_policy(backend, arn: str) -> bool:
    """A policy of the account, or an AWS managed policy (moto's copy, loaded on first use)."""
    if arn in backend.managed_policies:
        return True
    if not arn.startswith("arn:aws:iam::aws:policy/"):
        return False
    name = arn.rsplit("/", 1)[-1]
    data = _aws_managed_policies().get(name)
    if data is None:
        return False
    policy = AWSManagedPolicy.from_data(name, backend.account_id, backend.region_name, data)
    backend.managed_policies[policy.arn] = policy
    return policy.arn == arn
