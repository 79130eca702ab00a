"""Nothing local may reach a real account: fake credentials, loopback endpoints, and a refusal."""

from __future__ import annotations

import functools
import ipaddress
import os
import re
import sys
from urllib.parse import urlsplit

ACCOUNTS = {"default": "123456789012", "dev": "111111111111", "prod": "222222222222", "staging": "333333333333"}
DEFAULT_REGION = "us-east-1"
_ACCESS_KEY = re.compile(r"^LOCALKEY(\d{12})$")  # 20 characters: moto reads no other length


class RealAwsRefused(RuntimeError):
    """A request from the local target was about to leave this machine."""


def account_id(name_or_id: str) -> str:
    if re.fullmatch(r"\d{12}", name_or_id):
        return name_or_id
    try:
        return ACCOUNTS[name_or_id]
    except KeyError:
        raise ValueError(f"unknown local account {name_or_id!r}: use one of {', '.join(ACCOUNTS)} or a 12-digit id") from None


def access_key_for(account: str) -> str:
    return f"LOCALKEY{account_id(account)}"


def account_of_access_key(access_key: str) -> str | None:
    match = _ACCESS_KEY.match(access_key or "")
    return match.group(1) if match else None


def use_fake_credentials(account: str = "default") -> None:
    """Forget whatever AWS identity this process inherited, and take a local one."""
    for name in list(os.environ):
        if name.startswith("AWS_") and name not in ("AWS_DEFAULT_REGION", "AWS_REGION"):
            del os.environ[name]
    os.environ.update({
        "AWS_ACCESS_KEY_ID": access_key_for(account),
        "AWS_SECRET_ACCESS_KEY": "local-secret",
        "AWS_SESSION_TOKEN": "local-session",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    })
    os.environ.setdefault("AWS_DEFAULT_REGION", DEFAULT_REGION)


def region_of(given: str | None = None) -> str:
    """The Region to work in, as the AWS CLI chooses it: the --region option, then AWS_REGION,
    then AWS_DEFAULT_REGION (no profile is read on the local target); us-east-1 when none is set."""
    return given or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION


def is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _loopback_only(event: str, args: tuple) -> None:
    if event == "socket.connect" and isinstance(args[1], tuple):  # (host, port[, ...]); unix sockets pass
        host = str(args[1][0])
        if not is_loopback_url(f"http://[{host}]/" if ":" in host else f"http://{host}/"):
            raise RealAwsRefused(f"refused a connection to {host}: the local target stays on this machine")


def refuse_non_loopback_connections() -> None:
    """From now on this process cannot open a connection past loopback (an audit hook, before any packet)."""
    if _loopback_only not in _installed_hooks:
        sys.addaudithook(_loopback_only)
        _installed_hooks.append(_loopback_only)


_installed_hooks: list = []


def refuse_non_loopback(request, **_) -> None:
    """A botocore before-send hook: the local target never sends a byte past 127.0.0.1."""
    if not is_loopback_url(request.url):
        raise RealAwsRefused(f"refused to send a request to {urlsplit(request.url).hostname}: "
                             "the local target only talks to the local cloud on 127.0.0.1")


@functools.cache
def _shared_loader():
    import botocore.loaders
    return botocore.loaders.create_loader()


def boto3_session(**kwargs):
    """A boto3 session whose service models come from one loader per process: each new session
    would otherwise read and parse them again (about 80 ms for a session and its first client,
    10 ms with the loader shared). Sessions stay separate, so threads may still use one each."""
    import boto3
    import botocore.session
    core = botocore.session.get_session()
    core.register_component("data_loader", _shared_loader())
    return boto3.Session(botocore_session=core, **kwargs)


def local_session(endpoint_url: str, account: str = "default", region: str | None = None):
    """A boto3 session whose every client goes to the local cloud, as `account`, in `region`
    (by default the one the environment names: region_of)."""
    if not is_loopback_url(endpoint_url):
        raise RealAwsRefused(f"the local cloud must be on a loopback address, not {endpoint_url}")
    session = boto3_session(
        aws_access_key_id=access_key_for(account),
        aws_secret_access_key="local-secret",
        aws_session_token="local-session",
        region_name=region_of(region),
    )
    session.events.register("before-send", refuse_non_loopback)
    original_client = session.client

    def client(service: str, **kwargs):
        kwargs.setdefault("endpoint_url", endpoint_url)
        return original_client(service, **kwargs)

    session.client = client
    return session
