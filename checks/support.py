"""What checkpoints share: how to fail clearly, and how to read a deployed shop through AWS APIs.

Checkpoints reach a target only through boto3 and HTTP, so they run unchanged on the local
target and on a real account.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NoReturn

# re-exported (`x as x`): checkpoints import what they share from here
from workshop.deploy.apis import EXECUTE_API as EXECUTE_API
from workshop.deploy.apis import Api as Api
from workshop.deploy.apis import api_routes as api_routes
from workshop.deploy.apis import api_urls as api_urls
from workshop.deploy.apis import function_arn_of as function_arn_of
from workshop.deploy.apis import route_matches as route_matches
from workshop.deploy.logs import REPORT as REPORT
from workshop.deploy.logs import Report as Report
from workshop.deploy.logs import log_lines as log_lines
from workshop.deploy.logs import reports as reports
from workshop.deploy.target import NotOnThisTarget as NotOnThisTarget
from workshop.tree import source_files
from workshop.unit_tests import UnitTestRun
from workshop.unit_tests import folder_digest as folder_digest
from workshop.unit_tests import passed_before as passed_before
from workshop.unit_tests import remember_pass as remember_pass


class CheckpointFailed(AssertionError):
    """A checkpoint's verdict: what it saw and what to change, in a line each."""

    def __init__(self, saw: str, fix: str = "") -> None:
        self.saw = saw
        self.fix = fix
        super().__init__(f"{saw}\n→ {fix}" if fix else saw)


def fail(saw: str, fix: str = "") -> NoReturn:
    raise CheckpointFailed(saw, fix)


def expect(condition: Any, saw: str, fix: str = "") -> None:
    if not condition:
        raise CheckpointFailed(saw, fix)


NOT_GRADABLE = "not gradable on this target"


def not_gradable_here(why: str) -> NoReturn:
    """Declare that this checkpoint cannot be judged on this target, and why (e.g. it needs a second account).

    Its points leave the total and the exit code, the table shows it as not gradable, and
    results.json leaves it out of the graded tests: it is never a failure nor an error.
    """
    import pytest

    pytest.skip(f"{NOT_GRADABLE}: {why}")


# -- stacks and APIs -------------------------------------------------------------------------
# How a deployed shop's APIs are read is an engine shared with `workshop cost`: workshop/deploy/apis.py

def api_for_route(apigateway, stacks: dict, method: str, path: str) -> tuple[Api, dict] | None:
    """The API (and its method) that serves METHOD path, among the deployed stacks."""
    for api in api_urls(stacks):
        for (m, p), spec in api_routes(apigateway, api.rest_api_id).items():
            if m in (method, "ANY") and route_matches(p, path):
                return api, spec
    return None


def why_it_failed(aws, stacks: dict, method: str, path: str) -> str:
    """The last error the function behind a route logged, for a 5xx a learner can act on."""
    found = api_for_route(aws("apigateway"), stacks, method, path)
    arn = function_arn_of(found[1].get("methodIntegration", {})) if found else None
    if not arn:
        return ""
    error = last_error(log_lines(aws("logs"), arn.split(":")[6]))
    return f" (the function logged: {error[:200]})" if error else ""


# -- logs ------------------------------------------------------------------------------------

PLATFORM_LINES = ("START ", "END ", "REPORT ", "INIT_START", "INIT_REPORT", "EXTENSION", "TELEMETRY")


def last_error(lines: Iterable[tuple[str, str]]) -> str:
    """The last error a function's code or runtime logged, as its first line ('[ERROR] KeyError: ...').

    The platform's own lines (REPORT ... Error Type: X) only repeat the type: the runtime's
    `[ERROR] Type: message` line says what went wrong, and a timeout is the platform's to say.
    """
    errors = [m.strip() for _, m in lines
              if "Task timed out" in m
              or (not m.startswith(PLATFORM_LINES) and ("Error" in m or m.startswith("[ERROR]")))]
    return errors[-1].splitlines()[0] if errors else ""


# -- source ----------------------------------------------------------------------------------

def python_files(root: Path) -> list[Path]:
    return source_files(root, "*.py")


def imported_modules(path: Path) -> list[tuple[str, int]]:
    """(dotted module, level) of every import in a file: plain, from, relative, importlib."""
    try:
        tree = ast.parse(path.read_text(), str(path))
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, 0) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            found.append((base, node.level))
            found += [(f"{base}.{alias.name}" if base else alias.name, node.level) for alias in node.names]
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            if name in ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
                found.append((str(node.args[0].value), 0))
    return found


# -- a service's own unit tests ---------------------------------------------------------------

def unit_tests(folder: Path) -> UnitTestRun:
    """`pytest` in a service folder copied alone, started now; not re-run on bytes that passed before."""
    return UnitTestRun(["-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "--rootdir", "."], cwd=folder, root=folder)
