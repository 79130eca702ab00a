"""Run a module's checkpoints in their own pytest process, bounded in time, and read the verdicts.

The checkpoints always come from the course's checks/, never from the learner's tree; a
separate process keeps a hung or crashing check from taking the CLI or the grader with it.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from ..course import ROOT, Module

CHECK_TIMEOUT = int(os.environ.get("WORKSHOP_CHECK_TIMEOUT", "900"))


class Status(StrEnum):
    """A checkpoint's outcome (a str, so it compares and serialises as its value).

    checks/conftest.py writes these values (it imports nothing of the grader); _verdicts() reads them back."""

    PASS = "pass"
    FAIL = "fail"  # the learner's tree does not do what the checkpoint asks
    ERROR = "error"  # the checker could not finish: the grader's fault, never the learner's
    SKIP = "skip"  # not gradable on this target


@dataclass
class Verdict:
    id: str
    title: str
    points: int
    status: Status  # SKIP: not gradable on this target, left out of the score
    message: str = ""
    duration: float = 0.0
    test_name: str = ""
    line_no: int = 0  # the line of the checkpoint's test function in its checks file

    def __post_init__(self) -> None:
        self.status = Status(self.status)  # "fail" as read from JSON becomes Status.FAIL; anything else is refused

    @property
    def earned(self) -> int:
        return self.points if self.status is Status.PASS else 0


@dataclass
class CheckRun:
    module: Module
    workspace: Path
    target: str
    verdicts: list[Verdict] = field(default_factory=list)
    error: str | None = None  # the check itself could not run
    deploy_errors: dict[str, str] = field(default_factory=dict)  # template path -> why it did not deploy
    seconds: float = 0.0
    junit: str = ""

    @property
    def graded(self) -> list[Verdict]:
        """The verdicts that count: a checkpoint not gradable on this target is out of the score."""
        return [v for v in self.verdicts if v.status is not Status.SKIP]

    @property
    def not_gradable(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.status is Status.SKIP]

    @property
    def passed(self) -> bool:
        return self.error is None and bool(self.graded) and all(v.status is Status.PASS for v in self.graded)

    @property
    def score(self) -> tuple[int, int]:
        total = sum(v.points for v in self.graded) if self.verdicts else self.module.points
        return sum(v.earned for v in self.graded), total

    @property
    def exit_code(self) -> int:
        return 2 if self.error else 0 if self.passed else 1


def run_checks(module: Module, workspace: Path, target: str = "local", cloud_url: str | None = None,
               stack_prefix: str | None = None, region: str | None = None, prod_profile: str | None = None,
               timeout: int = CHECK_TIMEOUT, only: list[str] | None = None) -> CheckRun:
    run = CheckRun(module, workspace, target)
    started = time.perf_counter()
    if not workspace.is_dir():
        run.error = f"{workspace} does not exist (start the module with `workshop start {module.number}`)"
        return run
    if not module.checks_file.exists():
        run.error = f"the course has no checkpoints for module {module.number} ({module.checks_file.name})"
        return run
    with tempfile.TemporaryDirectory(prefix="workshop-check-") as tmp:
        results, junit = Path(tmp) / "verdicts.json", Path(tmp) / "junit.xml"
        command = [sys.executable, "-m", "pytest", str(module.checks_file), "-q", "-p", "no:cacheprovider",
                   "--rootdir", str(ROOT), "-c", str(ROOT / "checks" / "pytest.ini"),
                   "--workspace", str(workspace.resolve()), "--target", target, "--results", str(results),
                   "--junitxml", str(junit), "-o", f"junit_suite_name=module-{module.number}"]
        command += ["--cloud-url", cloud_url] if cloud_url else []
        command += ["--stack-prefix", stack_prefix] if stack_prefix else []
        command += ["--region", region] if region else []
        environment = {**os.environ, "AWS_REGION": region} if region else None  # the local target reads it
        command += ["--prod-profile", prod_profile] if prod_profile else []
        for checkpoint in only or []:
            command += ["--checkpoint", checkpoint]
        try:
            done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                                  stdin=subprocess.DEVNULL, env=environment)
        except subprocess.TimeoutExpired:
            run.error = f"the checkpoints did not finish within {timeout} s"
            return run
        finally:
            run.seconds = time.perf_counter() - started
        if results.exists():
            raw = json.loads(results.read_text())
            run.verdicts = _verdicts(module, raw["verdicts"], only)
            run.deploy_errors = dict(sorted(raw.get("deploy_errors", {}).items()))
            run.junit = junit.read_text() if junit.exists() else ""
        if done.returncode not in (0, 1) or not results.exists():
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-5:])
            run.error = f"the checkpoints could not run (pytest exit {done.returncode}): {tail}"
    return run


def _verdicts(module: Module, raw: list[dict], only: list[str] | None = None) -> list[Verdict]:
    """One verdict per checkpoint of module.toml, in its order; a checkpoint with no test is an error."""
    by_id: dict[str, dict] = {}
    for entry in raw:
        if entry["id"] not in by_id or entry["status"] != Status.PASS:
            by_id[entry["id"]] = entry
    verdicts = []
    lines = _test_lines(module.checks_file)
    for checkpoint in module.checkpoints:
        if only and checkpoint.id not in only:
            continue
        found = by_id.get(checkpoint.id)
        if found is None:
            verdicts.append(Verdict(checkpoint.id, checkpoint.title, checkpoint.points, Status.ERROR,
                                    "no checkpoint test ran for this id"))
        else:
            verdicts.append(Verdict(checkpoint.id, checkpoint.title, checkpoint.points, Status(found["status"]),
                                    found["message"], found["duration"], found["name"],
                                    lines.get(found["name"].split("[")[0], 0)))
    return verdicts


def _test_lines(checks_file: Path) -> dict[str, int]:
    """Each test function's line in its checks file (the `def`), for reporters that point at the test."""
    try:
        tree = ast.parse(checks_file.read_text())
    except (OSError, SyntaxError):
        return {}
    return {node.name: node.lineno for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test")}
