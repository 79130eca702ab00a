"""IAM in the local cloud: who signed a request, what it asks for, and whether their policies allow it.

- credentials.py: temporary credentials for a role (as Lambda, API Gateway and Step Functions
  get them), and the principal behind an access key.
- requests.py: an AWS API request -> the IAM actions and resource ARNs it needs, per service.
- policies.py: the evaluation of identity policies (Allow/Deny, wildcards, conditions).
- denial.py: the error a denied call answers with, in each service's own protocol.
- enforcement.py: the WSGI layer in front of moto that puts the three together.
- federation.py: sts:AssumeRoleWithWebIdentity judged by the role's trust policy.
- simulator.py: iam:SimulatePrincipalPolicy (moto has none) by the same evaluation.
"""

from .credentials import (  # noqa: F401 - the package's API
    Principal,
    RoleCredentials,
    principal_of,
    role_credentials,
    role_session,
    web_identity_session,
)
from .enforcement import Enforcement, enabled_by_default  # noqa: F401 - the package's API
