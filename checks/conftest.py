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

_verdicts: list[dict] = []
_deploy_errors: dict[str, str] = {}  # stack -> why it did not deploy; every failing verdict mentions it


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("workshop checkpoints")
    group.addoption("--target", choices=["local", "aws"], default=os.environ.get("WORKSHOP_TARGET", "local"))
    group.addoption("--workspace", type=Path, help="the shop tree to check (a module's workspace)")
    group.addoption("--stack-prefix", default=None, help="stack name prefix (aws: of the stacks you deployed)")
    group.addoption("--cloud-url", default=os.environ.get("WORKSHOP_CLOUD_URL"), help="local cloud URL")
    group.addoption("--region", default=None)
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
def target(request):
    from workshop.deploy.targets import AwsTarget, LocalTarget

    if request.config.getoption("--target") == "aws":
        return AwsTarget(region=request.config.getoption("--region"))
    from workshop.localcloud.safety import refuse_non_loopback_connections
    refuse_non_loopback_connections()  # on the local target, nothing this process opens leaves 127.0.0.1
    url = request.config.getoption("--cloud-url")
    if not url:
        from workshop.localcloud import control
        url = control.up()[0].url
    return LocalTarget(url)


@pytest.fixture(scope="session")
def stack_prefix(request, workspace) -> str:
    given = request.config.getoption("--stack-prefix")
    return given or "ws-" + workspace.name.lower()[:40]


@pytest.fixture(scope="session")
def deployment(target, workspace, stack_prefix):
    """The workspace's stacks: deployed now on local, as the learner deployed them on aws."""
    if target.name == "local":
        target.destroy_prefix(stack_prefix)  # a check always starts from the tree as it is now
        result = target.deploy_tree(workspace, stack_prefix)
        _deploy_errors.update(result.errors)
        return result
    from workshop.deploy.targets import WorkspaceDeployment, find_templates, stack_name
    # the learner deployed each template as PREFIX-FOLDER (the README's convention): pair them the same way
    templates = {stack_name(stack_prefix, workspace, t): t for t in find_templates(workspace)}
    return WorkspaceDeployment(stacks=target.stacks_with_prefix(stack_prefix), templates=templates)


@pytest.fixture(scope="session")
def stacks(deployment, target, stack_prefix) -> dict:
    """The deployed stacks; a checkpoint that needs them fails with the deploy error."""
    if deployment.errors and not deployment.stacks:
        first = next(iter(deployment.errors.values()))
        raise CheckpointFailed(f"nothing deployed: {first}", "fix the template or code named above, then check again")
    if not deployment.stacks and target.name == "aws":
        raise CheckpointFailed(f"no stack named {stack_prefix} or {stack_prefix}-* in this account and region",
                               "deploy each service with `sam deploy --stack-name PREFIX-SERVICE`, "
                               "then pass --stack-prefix PREFIX (and --region)")
    return deployment.stacks


@pytest.fixture(scope="session")
def aws(target):
    """aws('dynamodb') -> a boto3 client for the target (accounts: aws('s3', account='prod'))."""
    sessions = {}

    def client(service: str, account: str = "default"):
        if account not in sessions:
            sessions[account] = target.session(account)
        return sessions[account].client(service)

    return client


@pytest.fixture(scope="session")
def http(target):
    """An HTTP client for the shop; on local it refuses any host but loopback."""
    from workshop.localcloud.safety import RealAwsRefused, is_loopback_url

    def guard(request: httpx.Request) -> None:
        if target.name == "local" and not is_loopback_url(str(request.url)):
            raise RealAwsRefused(f"the local target may not call {request.url.host}")

    with httpx.Client(timeout=30, event_hooks={"request": [guard]}) as client:
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
    if report.failed and call.excinfo is not None:
        status, message = _explain(call.excinfo)
        if _deploy_errors:
            message += "\n(not deployed: " + "; ".join(f"{s}: {e}" for s, e in _deploy_errors.items()) + ")"
        if status == "fail" or not os.environ.get("WORKSHOP_DEBUG"):
            report.longrepr = message  # pytest and its JUnit XML show this, not the checker's traceback
    elif report.skipped:
        status, message = "skip", str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else ""
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


def pytest_sessionfinish(session, exitstatus):
    path = session.config.getoption("--results")
    if path:
        path.write_text(json.dumps({"verdicts": _verdicts}, indent=2))
