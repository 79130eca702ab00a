"""Temporary credentials for a role, and the principal behind an access key.

A Lambda function gets its execution role's temporary credentials, an API Gateway integration
its credentials role's, a Step Functions task its state machine role's
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html). Here they are
moto's own STS sessions (`AssumedRole`), so moto maps their access keys to the role's account and
the evaluation finds the role again from the key.
"""

from __future__ import annotations

import secrets
import string
import threading
from dataclasses import dataclass, field
from typing import Any

from ..safety import account_of_access_key

PARTITION = "aws"
SESSION_SECONDS = 12 * 3600  # the longest a role session lasts; moto does not expire them anyway


@dataclass(frozen=True)
class RoleCredentials:
    access_key_id: str
    secret_access_key: str
    session_token: str
    role_arn: str


@dataclass
class Principal:
    """Who signed a request: an assumed role session or an IAM user (never the account's root)."""

    arn: str                 # arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION or arn:aws:iam::ACCOUNT:user/NAME
    account_id: str
    role: Any = None         # moto's Role, when it exists
    user: Any = None         # moto's User
    session_policy: str | None = None
    kind: str = "AssumedRole"
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.arn.rsplit("/", 1)[-1] if self.kind == "User" else self.arn.split("/")[1]


def random_session_name() -> str:
    """Step Functions names its role sessions with 32 random letters."""
    return "".join(secrets.choice(string.ascii_letters) for _ in range(32))


_cache: dict[tuple[str, str], RoleCredentials] = {}
_sessions: dict[str, tuple[str, str, str, str | None]] = {}  # access key -> (account, role ARN, session, policy)
_lock = threading.Lock()


def role_credentials(role_arn: str, session_name: str, region: str = "us-east-1") -> RoleCredentials:
    """The same session for the same (role, session name) while this cloud runs, as a warm
    execution environment keeps its credentials."""
    from moto.sts.models import sts_backends

    key = (role_arn, session_name)
    with _lock:
        found = _cache.get(key)
        if found is None:
            account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else "123456789012"
            session = sts_backends[account][PARTITION].assume_role(
                region_name=region, role_session_name=session_name[:64], role_arn=role_arn,
                policy=None, duration=SESSION_SECONDS, external_id=None)
            found = _cache[key] = RoleCredentials(session.access_key_id, session.secret_access_key,
                                                  session.session_token, role_arn)
        return found


def forget_credentials() -> None:
    with _lock:
        _cache.clear()


def principal_of(access_key_id: str) -> Principal | None:
    """The role session or user behind an access key; None for the account's root (LOCALKEY...)
    and for keys this cloud never issued, which act as the root of the account they name."""
    if not access_key_id or account_of_access_key(access_key_id):
        return None
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    session = _sessions.get(access_key_id)
    if session is None:
        for account_id, partitions in list(dict.items(sts_backends)):
            backend = dict.get(partitions, PARTITION)
            for assumed in list(backend.assumed_roles) if backend is not None else []:
                if assumed.access_key_id == access_key_id:
                    session = _sessions[access_key_id] = (account_id, assumed.role_arn, assumed.session_name,
                                                          assumed.policy or None)
    if session is not None:
        account_id, role_arn, session_name, policy = session
        role = _role(iam_backends, account_id, role_arn)  # afresh: its policies may have changed
        return Principal(f"arn:{PARTITION}:sts::{account_id}:assumed-role/{role_arn.split('/')[-1]}/{session_name}",
                         account_id, role=role, session_policy=policy)
    for account_id, partitions in list(dict.items(iam_backends)):
        backend = dict.get(partitions, PARTITION)
        if backend is None:
            continue
        for user in list(backend.users.values()):
            if any(key.access_key_id == access_key_id for key in user.access_keys):
                return Principal(user.arn, account_id, user=user, kind="User")
    return None


def _role(iam_backends, account_id: str, role_arn: str):
    backend = dict.get(iam_backends, account_id)
    if backend is None:
        return None
    for role in list(dict.get(backend, PARTITION).roles.values()):
        if role.arn == role_arn:
            return role
    return None


def role_session(endpoint_url: str, role_arn: str, session_name: str = "workshop", region: str = "us-east-1"):
    """A boto3 session with a role's temporary credentials, got as a deployer gets them: the
    account's own key calls sts:AssumeRole (the local cloud does not evaluate that trust policy),
    then every client of the session signs as `assumed-role/ROLE/session_name`."""
    from ..safety import local_session

    account = role_arn.split(":")[4]
    sts = local_session(endpoint_url, account, region).client("sts")
    answer = sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name)["Credentials"]
    return _session_of(endpoint_url, answer, region)


GITHUB_ISSUER = "https://token.actions.githubusercontent.com"


def web_identity_session(endpoint_url: str, role_arn: str, subject: str, *, issuer: str = GITHUB_ISSUER,
                         audience: str = "sts.amazonaws.com", session_name: str = "GitHubActions",
                         region: str = "us-east-1"):
    """A role's session got as a GitHub Actions job gets it (configure-aws-credentials with
    `role-to-assume`): sts:AssumeRoleWithWebIdentity with a token for `subject`, such as
    `repo:OWNER/REPO:environment:production`. The role's trust policy decides (federation.py);
    a refusal raises botocore's ClientError (AccessDenied: "Not authorized to perform
    sts:AssumeRoleWithWebIdentity", or InvalidIdentityToken)."""
    from botocore import UNSIGNED
    from botocore.config import Config

    from ..safety import RealAwsRefused, boto3_session, is_loopback_url, refuse_non_loopback
    from .federation import unsigned_token

    if not is_loopback_url(endpoint_url):
        raise RealAwsRefused(f"the local cloud must be on a loopback address, not {endpoint_url}")
    sts = boto3_session(region_name=region).client("sts", endpoint_url=endpoint_url,
                                                    config=Config(signature_version=UNSIGNED))
    sts.meta.events.register("before-send", refuse_non_loopback)
    answer = sts.assume_role_with_web_identity(
        RoleArn=role_arn, RoleSessionName=session_name,
        WebIdentityToken=unsigned_token(issuer, subject, audience))["Credentials"]
    return _session_of(endpoint_url, answer, region)


def _session_of(endpoint_url: str, credentials: dict, region: str):
    from ..safety import boto3_session, refuse_non_loopback

    session = boto3_session(aws_access_key_id=credentials["AccessKeyId"],
                            aws_secret_access_key=credentials["SecretAccessKey"],
                            aws_session_token=credentials["SessionToken"], region_name=region)
    session.events.register("before-send", refuse_non_loopback)
    original_client = session.client

    def client(service: str, **kwargs):
        kwargs.setdefault("endpoint_url", endpoint_url)
        return original_client(service, **kwargs)

    session.client = client
    return session
