"""The checkpoint plugin: targets, fixtures, and verdicts a learner can act on.

Options: --target local|aws, --workspace DIR, --stack-prefix P, --cloud-url URL (local),
--results FILE (the raw verdicts, which `workshop check` renders and converts).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import httpx
import pytest

from checks.support import CheckpointFailed
from workshop.deploy.targets import NotOnThisTarget, Target, WorkspaceDeployment, open_target

_verdicts: list[dict] = []
_deploy_errors: dict[str, str] = {}  # template path in the workspace -> why it did not deploy (reported once)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("workshop checkpoints")
    group.addoption("--target", choices=["local", "aws"], default=os.environ.get("WORKSHOP_TARGET", "local"))
    group.addoption("--workspace", type=Path, help="the shop tree to check (a module's workspace)")
    group.addoption("--stack-prefix", default=None, help="stack name prefix (aws: of the stacks you deployed)")
    group.addoption("--cloud-url", default=os.environ.get("WORKSHOP_CLOUD_URL"), help="local cloud URL")
    group.addoption("--region", default=None)
    group.addoption("--prod-profile", default=os.environ.get("WORKSHOP_PROD_PROFILE"),
                    help="aws: the profile of your second (prod) account; aws(service, account='prod') uses it")
    group.addoption("--results", type=Path, default=None, help="write the verdicts as JSON here")
    group.addoption("--checkpoint", action="append", default=[], help="run only these checkpoint ids")


def pytest_collection_modifyitems(config, items):
    wanted = set(config.getoption("--checkpoint"))
    if not wanted:
        return
    selected = [i for i in items if (m := i.get_closest_marker("checkpoint")) and m.args[0] in wanted]
    config.hook.pytest_deselected(items=[i for i in items if i not in selected])
    items[:] = selected


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "checkpoint(id, points): a graded checkpoint")


# -- fixtures --------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def workspace(request) -> Path:
    path = request.config.getoption("--workspace")
    if path is None:
        pytest.exit("give the tree to check with --workspace DIR (workshop check does this)", returncode=4)
    return path.resolve()


@pytest.fixture(scope="session")
def target(request) -> Target:
    prod_profile = request.config.getoption("--prod-profile")  # aws: the second account (module 06)
    chosen = open_target(request.config.getoption("--target"), cloud_url=request.config.getoption("--cloud-url"),
                         region=request.config.getoption("--region"),
                         profiles={"prod": prod_profile} if prod_profile else None)
    chosen.confine()  # on the local target, nothing this process opens leaves 127.0.0.1
    return chosen


@pytest.fixture(scope="session")
def stack_prefix(request, workspace) -> str:
    given = request.config.getoption("--stack-prefix")
    return given or "ws-" + workspace.name.lower()[:40]


@pytest.fixture(scope="session")
def deployment(target, workspace, stack_prefix) -> WorkspaceDeployment:
    """The workspace's stacks: deployed now on local, as the learner deployed them on aws."""
    result = target.grading_deployment(workspace, stack_prefix)
    for name, error in result.errors.items():  # reported once, by the template's path
        template = result.templates.get(name)
        # paths in the message read as in the report's key: relative to the workspace
        _deploy_errors[template.relative_to(workspace).as_posix() if template else "."] = error.replace(
            f"{workspace}/", "")
    return result


@pytest.fixture(scope="session")
def stacks(deployment) -> dict:
    """The deployed stacks; a checkpoint that needs them fails with the deploy error."""
    if not deployment.stacks:
        raise CheckpointFailed(*deployment.nothing_deployed())
    return deployment.stacks


@pytest.fixture(scope="session")
def aws(target):
    """aws('dynamodb') -> a boto3 client for the target (accounts: aws('s3', account='prod')).

    On aws, account='prod' is the account of --prod-profile; without it, a checkpoint that needs
    the second account is not gradable there (checks/support.py: not_gradable_here).
    """
    from checks.support import not_gradable_here

    sessions, clients = {}, {}

    def client(service: str, account: str = "default"):
        if account not in sessions:
            try:
                sessions[account] = target.session(account)
            except NotOnThisTarget:
                not_gradable_here(f"it reads your second ({account}) account: pass --prod-profile PROFILE")
        if (service, account) not in clients:  # a client costs 10-20 ms to make; botocore's are thread-safe
            clients[service, account] = sessions[account].client(service)
        return clients[service, account]

    return client


@pytest.fixture(scope="session")
def http(target):
    """An HTTP client for the shop; on local it refuses any host but loopback."""
    with target.http_client() as client:
        yield client


@pytest.fixture
def now_ms() -> int:
    return int(time.time() * 1000)


# -- verdicts --------------------------------------------------------------------------------

def _explain(excinfo) -> tuple[str, str]:
    """(status, message): a checkpoint's own words, or a short note that the checker broke."""
    error = excinfo.value
    if isinstance(error, CheckpointFailed):
        return "fail", str(error)
    if isinstance(error, AssertionError):
        text = str(error).split("\nassert ")[0].strip()
        return "fail", text or "a checkpoint condition did not hold"
    if isinstance(error, httpx.HTTPError):
        return "fail", f"the shop did not answer: {type(error).__name__}: {error}"
    return "error", f"the checker could not finish: {type(error).__name__}: {error}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    marker = item.get_closest_marker("checkpoint")
    if marker is None or report.when == "teardown" and report.passed:
        return
    if report.failed and call.excinfo is not None and isinstance(call.excinfo.value, NotOnThisTarget):
        report.outcome = "skipped"  # what a target cannot judge is left out of the total, never an error
        report.longrepr = (str(item.path), item.location[1], f"not gradable on this target: {call.excinfo.value}")
    if report.failed and call.excinfo is not None:
        status, message = _explain(call.excinfo)
        if status == "fail" or not os.environ.get("WORKSHOP_DEBUG"):
            report.longrepr = message  # pytest and its JUnit XML show this, not the checker's traceback
    elif report.skipped:
        said = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else ""
        status, message = "skip", said.removeprefix("Skipped: ")  # not gradable on this target, and why
    elif report.when == "call":  # a passing checkpoint may still report what it measured
        status, message = "pass", "; ".join(str(v) for k, v in item.user_properties if k == "note")
    else:
        return
    if report.when == "call" or report.failed or report.skipped:
        _verdicts.append({
            "id": marker.args[0],
            "points": marker.kwargs.get("points", 1),
            "name": item.name,
            "nodeid": item.nodeid,
            "doc": (item.function.__doc__ or "").strip().splitlines()[0] if item.function.__doc__ else "",
            "status": status,
            "message": message,
            "duration": round(report.duration, 3),
        })
        item.user_properties += [("checkpoint", marker.args[0]), ("points", marker.kwargs.get("points", 1))]


def pytest_terminal_summary(terminalreporter):
    for path, error in sorted(_deploy_errors.items()):
        terminalreporter.write_line(f"Did not deploy: {path}: {error}", red=True)


def pytest_sessionfinish(session, exitstatus):
    path = session.config.getoption("--results")
    if path:
        path.write_text(json.dumps({"verdicts": _verdicts, "deploy_errors": dict(sorted(_deploy_errors.items()))},
                                   indent=2))
