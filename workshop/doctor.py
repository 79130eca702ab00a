"""`workshop doctor`: is this machine ready for the course, on the local target or on aws?"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from rich.console import Console

REQUIRED = ("moto", "boto3", "aws-sam-translator", "airspeed-ext", "fastapi", "mangum",
            "aws-lambda-powertools", "typer", "rich", "watchfiles", "pytest", "httpx")


def run_doctor(target: str, console: Console) -> int:
    problems = 0

    def report(ok: bool, what: str, fix: str = "") -> None:
        nonlocal problems
        problems += not ok
        console.print(f"[{'green' if ok else 'red'}]{'✔' if ok else '✘'}[/] {what}" + ("" if ok else f"\n    → {fix}"))

    report(sys.version_info >= (3, 11), f"Python {sys.version.split()[0]}", "install Python 3.11 or newer")
    for name in REQUIRED:
        try:
            report(True, f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            report(False, f"{name} is not installed", "run `make setup` (or pip install -e .)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        report(True, f"a free port on 127.0.0.1 ({s.getsockname()[1]})")
    if target == "local":
        from .localcloud import control
        info = control.running()
        report(True, f"local cloud running on {info.url}" if info else "local cloud not running (checks start it)")
    else:
        _aws_route(report)
    console.print("All good." if not problems else f"{problems} problem(s) to fix.")
    return 1 if problems else 0


SAM_INSTALL = ("install it beside the course: `pipx install aws-sam-cli`, or a venv of its own "
               "(docs/setup.md), never into the course's .venv")


def _aws_route(report) -> None:
    """What the documented aws route needs: sam, python3.12 for `sam build`, credentials, a region."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    from .localcloud.interpreters import find

    sam = shutil.which("sam")
    version = ""
    if sam:
        try:
            version = subprocess.run([sam, "--version"], capture_output=True, text=True, timeout=60).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            version = ""
    report(bool(version), version or "the SAM CLI (sam) is not on your PATH", SAM_INSTALL)
    inside = sam is not None and Path(sam).resolve().is_relative_to(Path(sys.prefix).resolve())
    report(not inside, "the SAM CLI lives outside the course's environment" if not inside
           else f"the SAM CLI is installed in the course's environment ({sys.prefix})",
           "pip uninstall aws-sam-cli here (its click pin breaks check-jsonschema), then " + SAM_INSTALL)
    try:
        import check_jsonschema.cli  # noqa: F401 - what an old click breaks
        report(True, "check-jsonschema imports")
    except Exception as exc:  # noqa: BLE001 - any import failure is the problem to report
        report(False, f"check-jsonschema does not import: {type(exc).__name__}: {exc}",
               "reinstall the course (`make setup`) without aws-sam-cli in its environment")
    python312 = find("3.12")
    report(bool(python312), f"python3.12 for `sam build` ({python312})" if python312 else "no python3.12 on your PATH",
           "install Python 3.12 beside the course's Python (`sam build` builds the python3.12 runtime with it), "
           "or use `sam build --use-container`")
    session = boto3.Session()
    report(bool(session.region_name), f"region {session.region_name}", "set AWS_REGION or a profile region")
    try:
        sts = session.client("sts", region_name=session.region_name or "us-east-1",
                             config=Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 1}))
        identity = sts.get_caller_identity()
        report(True, f"credentials: account {identity['Account']} as {identity['Arn']}")
    except (BotoCoreError, ClientError) as exc:
        report(False, f"credentials: sts get-caller-identity failed ({exc})",
               "configure credentials: aws configure, or aws sso login --profile NAME and AWS_PROFILE=NAME")
