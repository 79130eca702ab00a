"""`workshop doctor`: is this machine ready for the course, on the local target or on aws?"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from importlib import metadata

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
        import boto3
        session = boto3.Session()
        report(session.get_credentials() is not None, "AWS credentials found",
               "configure credentials: aws configure, or aws sso login --profile NAME")
        report(bool(session.region_name), f"region {session.region_name}", "set AWS_REGION or a profile region")
        sam = shutil.which("sam")
        version = subprocess.run([sam, "--version"], capture_output=True, text=True).stdout.strip() if sam else ""
        report(bool(sam), version or "SAM CLI", "pip install 'serverless-at-scale-workshop[aws]'")
    console.print("All good." if not problems else f"{problems} problem(s) to fix.")
    return 1 if problems else 0
