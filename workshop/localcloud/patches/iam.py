"""IAM: inline role policies from CloudFormation are JSON documents, as IAM returns them.

moto 5.2.5 stores a CloudFormation role's inline `Policies` as the Python repr of a dict,
so get_role_policy answers a string that is not JSON.
"""

from __future__ import annotations

import json

from moto.iam.models import Role


def apply() -> None:
    original = Role.put_policy

    def put_policy(self, policy_name, policy_json):
        return original(self, policy_name, policy_json if isinstance(policy_json, str) else json.dumps(policy_json))

    Role.put_policy = put_policy
