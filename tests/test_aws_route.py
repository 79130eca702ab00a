"""The documented AWS route, run as written: the real SAM CLI into the local cloud posing as an account.

Each module README marks the commands a learner runs on a real account with `<!-- aws-route -->`
before a ```bash block. This test runs exactly those lines, from a copy of the module's
solution, with the SAM CLI installed in a virtual environment of its own (never the course's:
its click pin breaks check-jsonschema) and `AWS_ENDPOINT_URL` pointing at the local cloud, then
proves that something was deployed: every stack's functions exist and its API answers. The
block's last line, `workshop check NN --target aws --stack-prefix me`, must exit 0.

`sam build` without a container needs the template's runtime, python3.12, on the machine; the
local cloud then runs what it packaged (cp312 wheels) on that python3.12 (localcloud/interpreters.py).
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from workshop import course
from workshop.localcloud import interpreters
from workshop.localcloud.safety import access_key_for, local_session

SAM_CLI_VERSION = "1.170.0"  # the cache key of its virtual environment: bump it to test a newer SAM CLI
SAM_VENV = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "workshop-sam" / SAM_CLI_VERSION
MARKER = "<!-- aws-route -->"
ROUTE_MODULES = ["01", "02", "03", "04", "05", "06"]
SECONDS: dict[str, float] = {}


def aws_route(readme: Path) -> str | None:
    """The bash block right after the marker line, or None."""
    match = re.search(re.escape(MARKER) + r"\s*\n```bash\n(.*?)\n```", readme.read_text(), re.S)
    return match.group(1) if match else None


def sam_cli() -> Path:
    """The SAM CLI's own virtual environment, created once per version and kept in the user's cache."""
    complete = SAM_VENV / ".complete"
    if not complete.exists():
        shutil.rmtree(SAM_VENV, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(SAM_VENV)], check=True)
        subprocess.run([str(SAM_VENV / "bin" / "pip"), "install", "--quiet", f"aws-sam-cli=={SAM_CLI_VERSION}"],
                       check=True, timeout=900)
        complete.touch()
    return SAM_VENV / "bin"


def test_every_module_readme_gives_the_route_it_grades():
    for m in course.modules():
        block = aws_route(m.path / "README.md")
        if block is None and m.number == "06":
            continue  # helper course3 writes 06's block with its new tree; the route test then runs it
        assert block, f"{m.path / 'README.md'} has no {MARKER} bash block"
        assert block.strip().splitlines()[-1].strip() == f"workshop check {m.number} --target aws --stack-prefix me"
        for line in block.splitlines():
            if "sam deploy" in line:
                assert "--guided" not in line and "--no-confirm-changeset" in line, line


@pytest.fixture(scope="module")
def sam_bin() -> Path:
    return sam_cli()


@pytest.fixture(scope="module")
def python312() -> str:
    found = interpreters.find("3.12")
    if found is None:
        pytest.skip("no python3.12 on this machine: `sam build` cannot build the course's python3.12 functions "
                    "without a container (docs/setup.md)")
    return found


@pytest.fixture(scope="module")
def wheelhouse(python312, tmp_path_factory) -> Path:
    """The wheels the solutions' requirements.txt need, downloaded once for this run: `sam build` runs
    `pip download` per function, and pip reading the package index takes about 5 s each time."""
    folder = tmp_path_factory.mktemp("wheelhouse")
    requirements = sorted({line.strip() for m in course.modules()
                           for path in m.solution.rglob("requirements.txt") if "tests" not in path.parts
                           for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")})
    if requirements:
        subprocess.run([python312, "-m", "pip", "download", "--quiet", "--dest", str(folder), *requirements],
                       check=True, timeout=600, capture_output=True)
    return folder


def offline_pip(wheelhouse: Path) -> dict[str, str]:
    """sam build's pip, pointed at the wheelhouse only (the commands stay as the README writes them)."""
    return {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheelhouse)}


@pytest.mark.slow
@pytest.mark.parametrize("number", ROUTE_MODULES)
def test_the_documented_aws_route_deploys_and_scores_full_marks(number, cloud, sam_bin, python312, wheelhouse,
                                                                tmp_path):
    module = course.module(number)
    route = aws_route(module.path / "README.md")
    if route is None:
        pytest.skip(f"{module.name}'s README has no {MARKER} block yet")
    workspace = tmp_path / "workspace" / module.name
    shutil.copytree(module.solution, workspace, ignore=shutil.ignore_patterns("__pycache__", ".aws-sam"))
    account = f"5000000000{number}"  # an account per module: every module deploys the stacks me-*
    env = {
        "PATH": os.pathsep.join([str(sam_bin), str(Path(python312).parent), str(Path(sys.executable).parent),
                                 "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": str(SAM_VENV / "home"),  # the SAM CLI's config: its weekly version check, done once
        "LANG": "C.UTF-8",
        "AWS_ENDPOINT_URL": cloud.url,
        "AWS_ACCESS_KEY_ID": access_key_for(account),
        "AWS_SECRET_ACCESS_KEY": "local-secret",
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "SAM_CLI_TELEMETRY": "0",
        "SAM_CLI_POLL_DELAY": "0.1",  # stacks are complete at once here: do not wait 5 s between polls
        **offline_pip(wheelhouse),
        "WORKSHOP_WORKSPACE": str(tmp_path / "workspace"),
        "WORKSHOP_STATE": str(tmp_path / "state"),
        "WORKSHOP_KEPT": os.environ.get("WORKSHOP_KEPT", str(tmp_path / "state")),  # the suite's store (conftest)
        "PYTHONPATH": str(course.ROOT),  # `workshop` from this tree
    }
    started, cpu = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", route], cwd=workspace, env=env, capture_output=True,
                          text=True, timeout=1200, stdin=subprocess.DEVNULL)
    SECONDS[number] = time.perf_counter() - started
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"module {number}: the documented route took {SECONDS[number]:.0f} s "
          f"({used.ru_utime + used.ru_stime - cpu.ru_utime - cpu.ru_stime:.0f} s of CPU outside the local cloud)")
    assert done.returncode == 0, f"the route of {module.name} failed:\n{done.stdout[-6000:]}\n{done.stderr[-4000:]}"

    session = local_session(cloud.url, account)
    cloudformation, functions = session.client("cloudformation"), session.client("lambda")
    templates = [t for t in workspace.rglob("template.yaml") if ".aws-sam" not in t.parts]
    for template in templates:
        name = f"me-{template.parent.name}" if template.parent != workspace else "me"
        stack = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
        assert stack["StackStatus"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE"), (name, stack["StackStatus"])
        resources = cloudformation.list_stack_resources(StackName=name)["StackResourceSummaries"]
        for fn in (r["PhysicalResourceId"] for r in resources if r["ResourceType"] == "AWS::Lambda::Function"):
            assert functions.get_function(FunctionName=fn)["Configuration"]["FunctionName"] == fn
        for url in (o["OutputValue"] for o in stack.get("Outputs", []) if "/_aws/execute-api/" in o["OutputValue"]):
            assert httpx.get(url, timeout=30).status_code < 500, f"{name}'s API at {url} does not answer"


def sam_shell(cloud, sam_bin: Path, python312: str, account: str) -> dict[str, str]:
    return {
        "PATH": os.pathsep.join([str(sam_bin), str(Path(python312).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": str(SAM_VENV / "home"), "LANG": "C.UTF-8",
        "AWS_ENDPOINT_URL": cloud.url, "AWS_ACCESS_KEY_ID": access_key_for(account), "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "SAM_CLI_TELEMETRY": "0", "SAM_CLI_POLL_DELAY": "0.5", "PIP_CACHE_DIR": str(Path.home() / ".cache" / "pip"),
    }


@pytest.mark.slow
def test_sam_deploys_lists_and_deletes_what_workshop_deploy_does_and_a_failed_deploy_rolls_back(
        cloud, local, sam_bin, python312, tmp_path):
    account = "500000000099"
    service = tmp_path / "cart"
    shutil.copytree(course.module("01").solution / "services" / "cart", service,
                    ignore=shutil.ignore_patterns("__pycache__", ".aws-sam"))
    env = sam_shell(cloud, sam_bin, python312, account)

    def sam(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(["sam", *args], cwd=service, env=env, capture_output=True, text=True, timeout=600,
                              stdin=subprocess.DEVNULL)
        assert not check or done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        return done

    sam("build")
    sam("deploy", "--stack-name", "me-cart", "--resolve-s3", "--capabilities", "CAPABILITY_IAM", "--no-confirm-changeset")
    listed = {o["OutputKey"]: o["OutputValue"]
              for o in json.loads(sam("list", "stack-outputs", "--stack-name", "me-cart", "--output", "json").stdout)}
    assert listed["ApiUrl"].startswith(f"{cloud.url}/_aws/execute-api/")
    assert httpx.post(listed["ApiUrl"] + "cart/c1/items", json={"sku": "SKU-1", "quantity": 1}).status_code == 201

    theirs = local.deployer(account).deploy(service / "template.yaml", "ws-cart")  # the same template, our way
    session = local_session(cloud.url, account)
    cloudformation = session.client("cloudformation")

    def shape(stack: str) -> set[tuple[str, str]]:
        return {(r["LogicalResourceId"], r["ResourceType"])
                for r in cloudformation.list_stack_resources(StackName=stack)["StackResourceSummaries"]}

    assert shape("me-cart") == shape("ws-cart") and set(listed) == set(theirs.outputs)
    functions = [r["PhysicalResourceId"] for r in cloudformation.list_stack_resources(StackName="me-cart")["StackResourceSummaries"]
                 if r["ResourceType"] == "AWS::Lambda::Function"]
    sam("delete", "--stack-name", "me-cart", "--no-prompts")
    assert "me-cart" not in local.deployer(account).stacks()
    lam = session.client("lambda")
    assert not set(functions) & {f["FunctionName"] for f in lam.list_functions()["Functions"]}
    local.deployer(account).destroy("ws-cart")

    (service / "template.yaml").write_text((service / "template.yaml").read_text().replace(
        "Resources:\n", "Resources:\n  Broken:\n    Type: AWS::NotAService::Thing\n", 1))
    sam("build")
    failed = sam("deploy", "--stack-name", "me-broken", "--resolve-s3", "--capabilities", "CAPABILITY_IAM",
                 "--no-confirm-changeset", check=False)
    assert failed.returncode != 0
    assert cloudformation.describe_stacks(StackName="me-broken")["Stacks"][0]["StackStatus"] == "ROLLBACK_COMPLETE"
    assert not [f for f in lam.list_functions()["Functions"] if f["FunctionName"].startswith("me-broken")]
    sam("delete", "--stack-name", "me-broken", "--no-prompts")


@pytest.mark.slow
def test_sam_deploy_guided_stops_on_the_default_answer_and_deploys_when_answered_as_the_readme_says(
        cloud, sam_bin, python312, tmp_path):
    """Issue 14, failure 1: the defaults stop at "... has no authentication. Is this okay? [y/N]"."""
    from workshop.deploy.template import load

    service = tmp_path / "cart"
    shutil.copytree(course.module("01").solution / "services" / "cart", service,
                    ignore=shutil.ignore_patterns("__pycache__", ".aws-sam"))
    resources = load(service / "template.yaml")["Resources"].values()
    public = sum(1 for r in resources if r["Type"] == "AWS::Serverless::Function"
                 and any(e.get("Type") == "Api" for e in (r.get("Properties", {}).get("Events") or {}).values()))
    env = sam_shell(cloud, sam_bin, python312, "500000000098")
    subprocess.run(["sam", "build"], cwd=service, env=env, capture_output=True, check=True, timeout=600)

    def guided(answers: list[str]) -> subprocess.CompletedProcess:
        return subprocess.run(["sam", "deploy", "--guided"], cwd=service, env=env, input="\n".join(answers) + "\n",
                              capture_output=True, text=True, timeout=600)

    # stack name, region, confirm changes, IAM role creation, disable rollback: as offered
    start = ["me-guided", "", "", "", ""]
    stopped = guided(start + [""] * (public + 3))
    assert stopped.returncode != 0 and "Security Constraints Not Satisfied!" in stopped.stdout + stopped.stderr
    deployed = guided(start + ["y"] * public + ["", "", ""])  # then save samconfig.toml, as offered
    assert deployed.returncode == 0, deployed.stdout[-3000:] + deployed.stderr[-2000:]
    assert 'stack_name = "me-guided"' in (service / "samconfig.toml").read_text()
    outputs = local_session(cloud.url, "500000000098").client("cloudformation").describe_stacks(
        StackName="me-guided")["Stacks"][0]["Outputs"]
    api = next(o["OutputValue"] for o in outputs if "/_aws/execute-api/" in o["OutputValue"])
    assert httpx.get(api + "cart/nobody", timeout=30).status_code == 404
