"""Start, find and stop the local cloud process: `workshop cloud up | down | status`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .server import HEALTH_PATH


class CloudError(RuntimeError):
    pass


@dataclass
class CloudInfo:
    url: str
    port: int
    pid: int
    iam: bool = True  # identity policies evaluated


def default_state_dir() -> Path:
    return Path(os.environ.get("WORKSHOP_STATE", Path.cwd() / ".workshop")) / "cloud"


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + HEALTH_PATH, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running(state_dir: Path | None = None) -> CloudInfo | None:
    """The cloud recorded in state_dir, if it really answers; a stale record is removed."""
    path = (state_dir or default_state_dir()) / "cloud.json"
    try:
        info = CloudInfo(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None
    if _pid_alive(info.pid) and _healthy(info.url):
        return info
    path.unlink(missing_ok=True)  # a stale record from a cloud that died
    return None


def up(state_dir: Path | None = None, timeout: float = 60,
       account_concurrency: int | None = None, iam: bool | None = None) -> tuple[CloudInfo, bool]:
    """Start a cloud, or reuse the running one; returns (info, started_now).

    account_concurrency: Lambda's concurrency limit per account and Region for a cloud started now.
    `iam` False starts it with identity policies not evaluated; None follows $WORKSHOP_IAM (on by
    default). A running cloud is reused whatever its mode: `info.iam` says which it is."""
    state_dir = state_dir or default_state_dir()
    info = running(state_dir)
    if info:
        return info, False
    state_dir.mkdir(parents=True, exist_ok=True)
    with open(state_dir / "cloud.log", "ab") as log:  # the child keeps its own copy of the handle
        process = subprocess.Popen(
            [sys.executable, "-m", "workshop.localcloud.server", "--state", str(state_dir),
             *(["--account-concurrency", str(account_concurrency)] if account_concurrency else []),
             *(() if iam is None else ("--iam", "on" if iam else "off"))],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,  # outlives the command that started it
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CloudError(f"the local cloud exited at start (code {process.returncode}); "
                             f"see {state_dir / 'cloud.log'}")
        info = running(state_dir)
        if info and info.pid == process.pid:
            return info, True
        time.sleep(0.1)
    process.kill()
    raise CloudError(f"the local cloud did not answer within {timeout:.0f} s; see {state_dir / 'cloud.log'}")


def down(state_dir: Path | None = None, timeout: float = 10) -> bool:
    """Stop the running cloud; False when none ran."""
    state_dir = state_dir or default_state_dir()
    path = state_dir / "cloud.json"
    try:
        pid = json.loads(path.read_text())["pid"]
    except (OSError, ValueError, KeyError):
        return False
    if not _pid_alive(pid):
        path.unlink(missing_ok=True)
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
        try:
            os.waitpid(pid, os.WNOHANG)  # reap it when we are its parent
        except ChildProcessError:
            pass
    if _pid_alive(pid):
        os.killpg(pid, signal.SIGKILL)
    path.unlink(missing_ok=True)
    return True
