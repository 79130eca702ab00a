"""Carry out a workflow on the local cloud, job after job in `needs` order.

Each job's steps run in order: Python checks (unit tests, smoke tests) as subprocesses, each
`sam build` as a copy of the tree frozen at that moment (the build artifact: every deploy of
it deploys those very files), each `sam deploy` into the local account of the role the job
assumed (the 12-digit account id of the role's ARN), so dev, staging and prod land in separate
accounts exactly when their roles do. A job with a role runs as that role (identity.py): the
tree's bootstrap is deployed into the role's account, the job assumes the role with the OIDC
token GitHub would give it, and deploys and smoke-tests with the role's session, so its trust
policy and its permissions are put to the test; a refused role fails the job. Stored keys are
the account's root key (`LOCALKEY<id>`). A job that runs in a
protected environment (`environment: production`) waits at the gate, and the jobs that need
it with it, until the run is approved: `approve=True` up front (the CLI's `--approve`), or
`PipelineRun.approve()` later, which carries on the same run as a reviewer's click does.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..localcloud.safety import ACCOUNTS, access_key_for
from ..tree import copy_ignoring
from ..unit_tests import UnitTestRun
from .identity import AssumeRoleFailed, Bootstrap, assume, role_deployer, session_environment, subject
from .workflow import Build, Check, Credentials, Job, SamDeploy, Workflow, load_workflow

if TYPE_CHECKING:
    from ..deploy.targets import LocalTarget

DEFAULT_PROTECTED = ("production", "prod")
CHECK_TIMEOUT = 600  # seconds for one test or smoke command: bounded, never a hang
FROZEN_IGNORED = copy_ignoring([".workshop"])
Progress = Callable[[str], None]


class JobStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    WAITING = "waiting"  # at a protected environment's gate
    BLOCKED = "blocked"  # needs a waiting job
    SKIPPED = "skipped"  # needs a job that did not succeed


class StepStatus(StrEnum):
    PASSED = "passed"
    BUILT = "built"
    DEPLOYED = "deployed"
    FAILED = "failed"


@dataclass
class CheckResult:
    job: str
    step: str
    command: str
    smoke: bool  # after a deploy of its job: a smoke test; else unit tests
    status: StepStatus
    message: str = ""
    remembered: bool = False  # unit tests that passed before on these very files, not run again


@dataclass
class BuildResult:
    job: str
    build: str
    template: str
    status: StepStatus
    message: str = ""


@dataclass
class DeployResult:
    job: str
    stage: str | None
    config_env: str | None
    account: str | None
    credentials: str
    stack_name: str
    template: str
    parameters: dict[str, str]
    status: StepStatus
    build: str | None = None  # the build it deployed; None: unbuilt source
    message: str = ""
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def account_name(self) -> str:
        names = {v: k for k, v in ACCOUNTS.items()}
        return f"{names[self.account]} ({self.account})" if self.account in names else str(self.account)


StepResult = CheckResult | BuildResult | DeployResult


@dataclass
class JobResult:
    job: str
    needs: list[str]
    environment: str | None
    status: JobStatus
    steps: list[StepResult] = field(default_factory=list)
    message: str = ""

    @property
    def deploys(self) -> list[DeployResult]:
        return [s for s in self.steps if isinstance(s, DeployResult)]

    @property
    def checks(self) -> list[CheckResult]:
        return [s for s in self.steps if isinstance(s, CheckResult)]


@dataclass
class PipelineRun:
    workflow: Path
    approved: bool
    jobs: list[JobResult] = field(default_factory=list)
    parsed: Workflow | None = None
    target: LocalTarget | None = None
    prefix: str | None = None
    protected: tuple[str, ...] = DEFAULT_PROTECTED
    store: Path | None = None  # where the builds of this run are kept
    builds: dict[str, Path] = field(default_factory=dict)  # build id -> its frozen tree
    bootstrap: Bootstrap | None = None  # the tree's OIDC provider and deploy role, per account
    sessions: dict[tuple[str, str], Any] = field(default_factory=dict)  # (job, role ARN) -> the role's session
    assumed: list[tuple[str, str, str]] = field(default_factory=list)  # (job, role ARN, OIDC sub) it ran as
    progress: Progress = lambda _: None

    @property
    def deployed(self) -> list[DeployResult]:
        return [d for j in self.jobs for d in j.deploys if d.status == StepStatus.DEPLOYED]

    @property
    def deployed_stages(self) -> list[str]:
        """The stages deployed, in order, once each (a stage deploys several services)."""
        seen: list[str] = []
        for deploy in self.deployed:
            name = deploy.stage or deploy.stack_name
            if name not in seen:
                seen.append(name)
        return seen

    @property
    def checks(self) -> list[CheckResult]:
        return [c for j in self.jobs for c in j.checks]

    @property
    def waiting(self) -> list[str]:
        """Jobs stopped at a protected environment, waiting for approval."""
        return [j.job for j in self.jobs if j.status == JobStatus.WAITING]

    @property
    def stopped_at_gate(self) -> bool:
        return bool(self.waiting)

    @property
    def failed(self) -> list[JobResult]:
        return [j for j in self.jobs if j.status == JobStatus.FAILED]

    @property
    def ok(self) -> bool:
        return not self.failed

    def notes(self) -> list[str]:
        """What a reviewer of this pipeline would object to, even when every job succeeded."""
        found = []
        keyed = sorted({d.job for d in self.deployed if d.credentials == "stored access keys"})
        if keyed:
            found.append(f"job {', '.join(keyed)} deploys with stored access keys, not an OIDC role")
        prod = [d for d in self.deployed if d.stage == "prod"]
        others = [d for d in self.deployed if d.stage not in ("prod", None)]
        shared = sorted({str(o.stage) for o in others for p in prod if o.account == p.account})
        if shared:
            found.append(f"prod shares its account with {', '.join(shared)}")
        if prod and not self.approved:
            found.append("prod was deployed with nobody approving it")
        return found

    def job(self, job_id: str) -> JobResult:
        return next(j for j in self.jobs if j.job == job_id)

    def stacks(self) -> list[tuple[str, str]]:
        """(account, stack name) of every stack this run deployed."""
        return [(d.account, d.stack_name) for d in self.deployed if d.account]

    def approve(self) -> PipelineRun:
        """The reviewer approves: the waiting jobs, and the jobs after them, carry on in this run."""
        self.approved = True
        _advance(self)
        return self

    def close(self) -> None:
        """Forget the run's builds (the deployed stacks stay; `destroy` deletes them)."""
        if self.store is not None:
            shutil.rmtree(self.store, ignore_errors=True)
            self.store = None

    def to_dict(self) -> dict[str, object]:
        return {
            "workflow": str(self.workflow), "approved": self.approved, "stopped_at_gate": self.stopped_at_gate,
            "waiting": self.waiting, "deployed": self.deployed_stages,
            "jobs": [{"job": j.job, "needs": j.needs, "environment": j.environment, "status": str(j.status),
                      "message": j.message,
                      "checks": [{"command": c.command, "smoke": c.smoke, "status": str(c.status), "message": c.message}
                                 for c in j.checks],
                      "deploys": [{"stage": d.stage, "config_env": d.config_env, "account": d.account,
                                   "credentials": d.credentials, "stack": d.stack_name, "template": d.template,
                                   "build": d.build, "parameters": d.parameters, "status": str(d.status),
                                   "message": d.message}
                                  for d in j.deploys]} for j in self.jobs],
        }


def run(root: Path, target: LocalTarget, *, approve: bool = False, prefix: str | None = None,
        protected: tuple[str, ...] = DEFAULT_PROTECTED, workflow: Path | None = None,
        progress: Progress = lambda _: None) -> PipelineRun:
    """Dry-run the tree's deploy workflow on a LocalTarget; with a prefix, stacks are `<prefix>-<stack>`."""
    parsed = load_workflow(root, workflow)
    result = PipelineRun(parsed.path, approve, parsed=parsed, target=target, prefix=prefix,
                         protected=protected, store=Path(tempfile.mkdtemp(prefix="workshop-pipeline-")),
                         progress=progress, bootstrap=Bootstrap.of(parsed.root))
    _advance(result)
    return result


def _advance(result: PipelineRun) -> None:
    """Run every job that can run now; a finished job is never run twice."""
    parsed = result.parsed
    assert parsed is not None, "a PipelineRun made by run()"
    done = {j.job: j for j in result.jobs if j.status in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.SKIPPED)}
    statuses = {job_id: j.status for job_id, j in done.items()}
    gates = {p.lower() for p in result.protected}
    outcomes: list[JobResult] = []
    for job_id in parsed.order():
        if job_id in done:
            outcomes.append(done[job_id])
            continue
        job = parsed.jobs[job_id]
        outcome = JobResult(job_id, job.needs, job.environment, JobStatus.SUCCEEDED)
        waiting = [n for n in job.needs if statuses[n] in (JobStatus.WAITING, JobStatus.BLOCKED)]
        broken = [n for n in job.needs if statuses[n] in (JobStatus.FAILED, JobStatus.SKIPPED)]
        if broken:
            outcome.status, outcome.message = JobStatus.SKIPPED, f"needs {', '.join(broken)}, which did not succeed"
        elif waiting:
            outcome.status, outcome.message = JobStatus.BLOCKED, f"needs {', '.join(waiting)}, which waits for approval"
        elif job.environment and job.environment.lower() in gates and not result.approved:
            outcome.status = JobStatus.WAITING
            outcome.message = f"environment {job.environment} needs a reviewer's approval (run again with --approve)"
        else:
            result.progress(f"job {job_id}")
            _run_job(job, result, outcome)
        statuses[job_id] = outcome.status
        outcomes.append(outcome)
    result.jobs = outcomes


def _run_job(job: Job, result: PipelineRun, outcome: JobResult) -> None:
    for action in job.actions:
        step: StepResult
        if isinstance(action, Check):
            step = _run_check(action, result)
        elif isinstance(action, Build):
            step = _build(action, result)
        elif isinstance(action, SamDeploy):
            step = _deploy(action, result)
        else:
            continue  # artifact uploads and downloads: followed when the workflow was read
        outcome.steps.append(step)
        if step.status == StepStatus.FAILED:
            outcome.status, outcome.message = JobStatus.FAILED, step.message
            return


def _shown(root: Path, path: Path | None) -> str:
    if path is None:
        return "?"
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)


def _build(build: Build, result: PipelineRun) -> BuildResult:
    assert result.parsed is not None and result.store is not None
    root = result.parsed.root
    done = BuildResult(build.job, build.id, _shown(root, build.template), StepStatus.FAILED)
    if not build.template.is_file():
        done.message = f"sam build: no template {done.template}"
        return done
    if not build.template.is_relative_to(root):
        done.message = f"sam build: {build.template} lies outside the repository"
        return done
    result.progress(f"{build.job}: sam build {done.template}")
    frozen = result.store / build.id.replace(" ", "-")
    shutil.copytree(root, frozen, ignore=FROZEN_IGNORED, symlinks=True, dirs_exist_ok=True)
    result.builds[build.id] = frozen
    done.status = StepStatus.BUILT
    return done


def stack_name(deploy: SamDeploy, prefix: str | None) -> str:
    name = deploy.stack_name or "?"
    return re.sub(r"[^A-Za-z0-9-]", "-", f"{prefix}-{name}" if prefix else name)[:128]


def _deploy(deploy: SamDeploy, result: PipelineRun) -> DeployResult:
    from botocore.exceptions import ClientError

    from ..deploy.local import DeployError

    assert result.parsed is not None and result.target is not None
    root = result.parsed.root
    name = stack_name(deploy, result.prefix)
    done = DeployResult(deploy.job, deploy.stage, deploy.config_env, deploy.account, deploy.credentials.describe(),
                        name, _shown(root, deploy.template), dict(deploy.parameters), StepStatus.FAILED,
                        build=deploy.build.id if deploy.build else None)
    if deploy.problem:
        done.message = deploy.problem
        return done
    template = deploy.template
    assert template is not None, "a deploy without a problem has a template"
    if deploy.build is not None:  # the build's frozen files, not the tree as it is now
        frozen = result.builds.get(deploy.build.id)
        if frozen is None:
            done.message = f"{deploy.build.id} of {done.template} was never made in this run"
            return done
        template = frozen / template.relative_to(root)
    try:
        session = _role_session(result, deploy.job, deploy.credentials, deploy.stage)
    except AssumeRoleFailed as exc:
        done.message = str(exc)
        return done
    result.progress(f"{deploy.job}: sam deploy {name} into account {deploy.account}")
    account = deploy.account or "default"
    deployer = role_deployer(result.target, account, session) if session else result.target.deployer(account)
    try:
        info = deployer.deploy(template, name, deploy.parameters, progress=result.progress)
    except (DeployError, ValueError, ClientError) as exc:
        done.message = str(exc).replace(str(result.store), "<build>")
        return done
    done.status, done.outputs = StepStatus.DEPLOYED, dict(info.outputs)
    return done


def _role_session(result: PipelineRun, job: str, credentials: Credentials, stage: str | None) -> Any:
    """The session of the role the job assumed (once per job), after the bootstrap made the role;
    None for a job without a role."""
    assert result.parsed is not None and result.target is not None and result.bootstrap is not None
    if not credentials.role_arn or not credentials.account:
        return None
    key = (job, credentials.role_arn)
    if key not in result.sessions:
        result.bootstrap.ensure(result.target, credentials.account, stage)
        sub = subject(result.bootstrap.repository, result.parsed.jobs[job].environment)
        result.progress(f"{job}: assume {credentials.role_arn} as {sub}")
        result.sessions[key] = assume(result.target, credentials.role_arn, sub, result.bootstrap.errors)
        result.assumed.append((job, credentials.role_arn, sub))
    return result.sessions[key]


def _check_environment(check: Check, result: PipelineRun) -> dict[str, str]:
    """The process environment of a check: the job's env, and its credentials on the local cloud
    (the role's session, or the account's root key for stored keys)."""
    assert result.target is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(check.env)
    env.update(PYTHONDONTWRITEBYTECODE="1", AWS_EC2_METADATA_DISABLED="true")
    account = check.credentials.account
    if account:
        session = _role_session(result, check.job, check.credentials, None)
        keys = session_environment(session) if session else {
            "AWS_ACCESS_KEY_ID": access_key_for(account), "AWS_SECRET_ACCESS_KEY": "local"}
        env.update(keys, AWS_ENDPOINT_URL=result.target.cloud_url, AWS_DEFAULT_REGION=result.target.region,
                   AWS_REGION=result.target.region)
    return env


def _run_check(check: Check, result: PipelineRun) -> CheckResult:
    done = CheckResult(check.job, check.step, check.command, check.is_smoke_test, StepStatus.FAILED)
    arguments = list(check.arguments)
    if check.runs_pytest:  # nothing written into the learner's tree
        arguments[2:2] = ["-p", "no:cacheprovider"]
    result.progress(f"{check.job}: {check.command}")
    try:
        env = _check_environment(check, result)
    except AssumeRoleFailed as exc:
        done.message = str(exc)
        return done
    try:
        if check.runs_pytest and not check.is_smoke_test:  # unit tests: not re-run on bytes that passed
            assert result.parsed is not None
            tests = UnitTestRun(arguments, check.workdir, result.parsed.root, key_env=check.env, env=env)
            returncode, output = tests.result(CHECK_TIMEOUT)
            done.remembered = tests.remembered
        else:
            finished = subprocess.run([sys.executable, *arguments], cwd=check.workdir, env=env,
                                      capture_output=True, text=True, timeout=CHECK_TIMEOUT, check=False)
            returncode, output = finished.returncode, finished.stdout + finished.stderr
    except subprocess.TimeoutExpired:
        done.message = f"`{check.command}` did not finish within {CHECK_TIMEOUT} s"
        return done
    except OSError as exc:
        done.message = f"`{check.command}` could not start: {exc}"
        return done
    if returncode != 0:
        lines = [line for line in output.splitlines() if line.strip()]
        done.message = f"`{check.command}` failed: {' / '.join(lines[-2:])[:300]}"
        return done
    done.status = StepStatus.PASSED
    return done


def destroy(result: PipelineRun, target: LocalTarget) -> None:
    """Delete the stacks a dry run deployed, the last deployed first (imports before their exports),
    then the bootstrap it deployed; as each account's root, as an administrator cleans up."""
    bootstrap = result.bootstrap.stacks() if result.bootstrap else []
    for account, stack in reversed(result.stacks() + bootstrap):
        try:
            target.deployer(account).destroy(stack)
        except Exception:  # noqa: BLE001, S110 - best effort: a stack already gone is fine
            pass
    result.close()
