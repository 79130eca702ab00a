"""Read a GitHub Actions deploy workflow as GitHub would schedule it, and what its steps do.

The job graph (`needs`), reusable workflows expanded (a job `uses: ./.github/workflows/x.yml`
with `with:` inputs becomes the called workflow's jobs, named `caller/job`, with `${{ inputs.X }}`
replaced), each job's AWS credentials (`aws-actions/configure-aws-credentials` with a
`role-to-assume`, or stored keys), and the steps the dry run carries out, in order:

- `sam build` makes a build of a template; `actions/upload-artifact` and
  `actions/download-artifact` carry builds between jobs (paths kept relative to the uploaded
  paths' common folder, as upload-artifact does), so each `sam deploy` knows which build it
  deploys, or that it deploys unbuilt source;
- `sam deploy` (`--config-env X` with the options of samconfig's `[X.deploy.parameters]`);
- Python commands (`pytest`, `python -m pytest`, `python script.py`): run by the dry run, as
  unit tests when no deploy came before them in their job, as a smoke test after one.

A script's `cd DIR` moves its later commands, as in a shell; loops, subshells and other
programs (curl, aws) are not followed.

`${{ env.X }}` is resolved from the workflow's, job's and step's `env`; a value the dry run
needs behind `${{ vars.X }}`, `${{ secrets.X }}` or `${{ matrix.X }}` stops that deploy with a
message naming it. Step `if:` conditions are not evaluated; other commands are ignored.
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from ..deploy import samconfig
from ..deploy.template import FASTEST_SAFE_LOADER
from ..localcloud.safety import ACCOUNTS
from .commands import is_pytest, option, option_values, python_command, split_script
from .stages import Stage, stage_of

STORED_KEYS_ACCOUNT = ACCOUNTS["default"]  # stored keys: one account, whichever it is, for every stage
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/(.+)$")
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
KEY_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
BUILD_DIR = PurePosixPath(".aws-sam/build")


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _sequence(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


class PipelineError(Exception):
    """The workflow cannot be dry-run at all (missing, unreadable, a broken job graph)."""


@dataclass
class Credentials:
    """What a step runs as: the role configure-aws-credentials assumed, or stored keys."""

    role_arn: str | None = None
    stored_keys: bool = False

    @property
    def account(self) -> str | None:
        if self.role_arn:
            match = ROLE_ARN.match(self.role_arn)
            return match.group(1) if match else None
        return STORED_KEYS_ACCOUNT if self.stored_keys else None

    def describe(self) -> str:
        if self.role_arn:
            return f"OIDC role {self.role_arn}"
        return "stored access keys" if self.stored_keys else "no AWS credentials"


@dataclass
class Build:
    """One `sam build`: the template it builds, in the job that ran it."""

    id: str
    job: str
    template: Path
    workdir: Path


@dataclass
class Check:
    """A Python command the dry run runs: unit tests before any deploy of its job, a smoke test after one."""

    job: str
    step: str
    arguments: list[str]  # after the interpreter: ["-m", "pytest", ...] or ["script.py", ...]
    workdir: Path
    env: dict[str, str]
    credentials: Credentials
    after_deploy: bool

    @property
    def is_smoke_test(self) -> bool:
        return self.after_deploy

    @property
    def command(self) -> str:
        return " ".join(["python", *self.arguments])

    @property
    def runs_pytest(self) -> bool:
        return is_pytest(self.arguments)


@dataclass
class SamDeploy:
    """One `sam deploy` of a job, resolved as SAM CLI would resolve it."""

    job: str
    step: str
    command: str
    workdir: Path
    config_env: str | None = None
    template: Path | None = None  # the source template (a build's source when deploying a build)
    stack_name: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)
    credentials: Credentials = field(default_factory=Credentials)
    build: Build | None = None  # the build it deploys; None: unbuilt source
    problem: str | None = None  # why this deploy cannot run (it fails the job when reached)

    @property
    def stage(self) -> Stage | None:
        """dev, staging or prod: by its config env, else its parameters, else its file and stack names."""
        names = [self.config_env] if self.config_env else []
        names += list(self.parameters.values()) + [self.stack_name or ""]
        for text in names:
            found = stage_of(text)
            if found:
                return found
        return stage_of(self.template.stem) if self.template else None

    @property
    def role_arn(self) -> str | None:
        return self.credentials.role_arn

    @property
    def stored_keys(self) -> bool:
        return self.credentials.stored_keys

    @property
    def account(self) -> str | None:
        return self.credentials.account


@dataclass
class Upload:
    name: str
    paths: list[str]


@dataclass
class Download:
    name: str | None
    path: str


Action = Build | Check | SamDeploy | Upload | Download


@dataclass
class Job:
    id: str
    needs: list[str]
    environment: str | None
    actions: list[Action] = field(default_factory=list)
    role_arns: list[str] = field(default_factory=list)
    stored_keys: bool = False
    permissions: Any = None
    called_from: str | None = None  # the caller job, for a job of a reusable workflow

    @property
    def deploys(self) -> list[SamDeploy]:
        return [a for a in self.actions if isinstance(a, SamDeploy)]

    @property
    def checks(self) -> list[Check]:
        return [a for a in self.actions if isinstance(a, Check)]

    @property
    def builds(self) -> list[Build]:
        return [a for a in self.actions if isinstance(a, Build)]


@dataclass
class Workflow:
    path: Path
    root: Path
    document: dict[str, Any]
    jobs: dict[str, Job]  # in the file's order, reusable workflows expanded in place

    def order(self) -> list[str]:
        """Job ids so that every job comes after the jobs it needs (file order among equals)."""
        done: list[str] = []
        pending = list(self.jobs)
        while pending:
            ready = [j for j in pending if all(n in done for n in self.jobs[j].needs)]
            if not ready:
                raise PipelineError(f"{self.path.name}: the jobs {', '.join(pending)} need each other in a cycle")
            done.append(ready[0])
            pending.remove(ready[0])
        return done

    def upstream(self, job_id: str) -> set[str]:
        """Every job that must finish before job_id starts (needs, transitively)."""
        seen: set[str] = set()
        stack = list(self.jobs[job_id].needs)
        while stack:
            current = stack.pop()
            if current not in seen:
                seen.add(current)
                stack += self.jobs[current].needs
        return seen

    @property
    def deploys(self) -> list[SamDeploy]:
        return [d for j in self.order() for d in self.jobs[j].deploys]

    @property
    def checks(self) -> list[Check]:
        return [c for j in self.order() for c in self.jobs[j].checks]

    def jobs_deploying(self, stage: str) -> list[str]:
        return [j for j in self.order() if any(d.stage == stage for d in self.jobs[j].deploys)]


# -- finding and reading files ---------------------------------------------------------------

def find_workflows(root: Path) -> list[Path]:
    folder = root / ".github" / "workflows"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*") if p.suffix in (".yml", ".yaml") and p.is_file())


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        document = yaml.load(path.read_text(), Loader=FASTEST_SAFE_LOADER)  # noqa: S506 - a SafeLoader
    except (OSError, yaml.YAMLError) as exc:
        raise PipelineError(f"{path.name} is not readable YAML: {exc}") from None
    if not isinstance(document, dict):
        raise PipelineError(f"{path.name} is not a workflow (not a mapping)")
    return document


def _on(document: dict[Any, Any]) -> Any:
    """The workflow's triggers: YAML 1.1 reads the key `on` as True."""
    return document.get("on", document.get(True))


def _triggers(document: dict[str, Any]) -> set[str]:
    on = _on(document)
    if isinstance(on, str):
        return {on}
    if isinstance(on, list):
        return {str(t) for t in on}
    return {str(t) for t in on} if isinstance(on, dict) else set()


def _only_called(path: Path) -> bool:
    """A reusable workflow that nothing but another workflow starts."""
    try:
        return _triggers(read_yaml(path)) == {"workflow_call"}
    except PipelineError:
        return False


def load_workflow(root: Path, workflow: Path | None = None) -> Workflow:
    """The deploy workflow of a tree: the workflow that runs `sam deploy` (itself or in a workflow it calls)."""
    root = root.resolve()
    if workflow is None:
        candidates = [p for p in find_workflows(root) if not _only_called(p)]
        if not candidates:
            raise PipelineError(f"no workflow in {root / '.github' / 'workflows'}")
        deploying = [p for p in candidates if _runs_sam_deploy(root, p)]
        if len(deploying) > 1:
            raise PipelineError(f"several workflows run sam deploy ({', '.join(p.name for p in deploying)}): name one")
        workflow = (deploying or candidates)[0]
    document = read_yaml(workflow)
    jobs = _read_jobs(root, workflow, document, inputs=None, caller=None, seen=(workflow.resolve(),))
    parsed = Workflow(workflow, root, document, jobs)
    parsed.order()  # a cycle is an error now, not halfway through a run
    _connect_builds(parsed)
    return parsed


def _runs_sam_deploy(root: Path, path: Path, depth: int = 0) -> bool:
    text = path.read_text(errors="replace")
    if "sam deploy" in text:
        return True
    called = re.findall(r"uses:\s*['\"]?\./(\.github/workflows/[^\s'\"@]+)", text)
    return depth < 5 and any((root / c).is_file() and _runs_sam_deploy(root, root / c, depth + 1) for c in called)


# -- the job graph, reusable workflows expanded ----------------------------------------------

def _substitute_inputs(node: Any, inputs: dict[str, str]) -> Any:
    """The called workflow with `${{ inputs.X }}` replaced by the caller's `with:` values."""
    if isinstance(node, dict):
        return {k: _substitute_inputs(v, inputs) for k, v in node.items()}
    if isinstance(node, list):
        return [_substitute_inputs(v, inputs) for v in node]
    if isinstance(node, str):
        def replace(match: re.Match[str]) -> str:
            ref = re.fullmatch(r"inputs\.([A-Za-z_][A-Za-z0-9_-]*)", match.group(1))
            return inputs.get(ref.group(1), match.group(0)) if ref else match.group(0)
        return EXPRESSION.sub(replace, node)
    return node


def _called_inputs(document: dict[str, Any], given: dict[str, str]) -> dict[str, str]:
    on = _on(document)
    declared = _mapping(_mapping(_mapping(on).get("workflow_call")).get("inputs"))
    values = {str(k): str(spec["default"]) for k, spec in declared.items()
              if isinstance(spec, dict) and spec.get("default") is not None}
    return {**values, **given}


def _read_jobs(root: Path, path: Path, document: dict[str, Any], inputs: dict[str, str] | None,
               caller: dict[str, Any] | None, seen: tuple[Path, ...]) -> dict[str, Job]:
    if inputs is not None:
        document = _substitute_inputs(document, inputs)
    raw_jobs = document.get("jobs")
    if not isinstance(raw_jobs, dict) or not raw_jobs:
        raise PipelineError(f"{path.name} has no jobs")
    workflow_env = _env_of(document)
    expanded: dict[str, list[str]] = {}  # a job id of this file -> the job ids it became
    jobs: dict[str, Job] = {}
    for job_id, spec in raw_jobs.items():
        job_id = str(job_id)
        if not isinstance(spec, dict):
            raise PipelineError(f"{path.name}: job {job_id} is not a mapping")
        uses = spec.get("uses")
        if isinstance(uses, str):
            called = _call(root, path, job_id, spec, document, workflow_env, seen)
            expanded[job_id] = list(called)
            jobs.update(called)
            continue
        job = _read_job(job_id, spec, document, workflow_env, root)
        if caller is not None and job.permissions is None:
            job.permissions = caller.get("permissions")
        jobs[job_id] = job
        expanded[job_id] = [job_id]
    direct = {str(k) for k, spec in raw_jobs.items() if isinstance(spec, dict) and not isinstance(spec.get("uses"), str)}
    for job_id, job in jobs.items():
        if job_id not in direct:
            continue  # a called job's needs were resolved inside its own file
        unknown = [n for n in job.needs if n not in expanded]
        if unknown:
            raise PipelineError(f"{path.name}: job {job_id} needs {', '.join(unknown)}, which no job is called")
        job.needs = [e for n in job.needs for e in expanded[n]]
    for caller_id, members in expanded.items():  # a called workflow's first jobs wait for what its caller needs
        if members != [caller_id]:
            needs = _as_list(raw_jobs[caller_id].get("needs"))
            unknown = [n for n in needs if n not in expanded]
            if unknown:
                raise PipelineError(f"{path.name}: job {caller_id} needs {', '.join(unknown)}, which no job is called")
            outer = [e for n in needs for e in expanded[n]]
            for member in members:
                if not any(n in members for n in jobs[member].needs):
                    jobs[member].needs = outer + jobs[member].needs
    return jobs


def _call(root: Path, path: Path, job_id: str, spec: dict[str, Any], document: dict[str, Any],
          workflow_env: dict[str, str], seen: tuple[Path, ...]) -> dict[str, Job]:
    uses = str(spec["uses"])
    if not uses.startswith("./"):
        raise PipelineError(f"{path.name}: job {job_id} calls {uses}; the dry run reads only this "
                            "repository's workflows (uses: ./.github/workflows/NAME.yml)")
    target = (root / uses.split("@", 1)[0]).resolve()
    if not target.is_file():
        raise PipelineError(f"{path.name}: job {job_id} calls {uses}, which does not exist")
    if target in seen:
        raise PipelineError(f"{path.name}: job {job_id} calls {uses}, which calls it back")
    called = read_yaml(target)
    given = _mapping(spec.get("with"))
    inputs = _called_inputs(called, {str(k): _expand(str(v), workflow_env) for k, v in given.items()})
    caller = {"permissions": spec.get("permissions", document.get("permissions"))}
    inner = _read_jobs(root, target, called, inputs, caller, seen + (target,))
    renamed: dict[str, Job] = {}
    for inner_id, job in inner.items():
        job.id = f"{job_id}/{inner_id}"
        job.needs = [f"{job_id}/{n}" for n in job.needs]
        job.called_from = job.called_from or job_id
        for action in job.actions:
            if isinstance(action, (SamDeploy, Check, Build)):
                action.job = job.id
        renamed[job.id] = job
    return renamed


def _env_of(spec: dict[str, Any]) -> dict[str, str]:
    env = spec.get("env")
    return {str(k): str(v) for k, v in env.items()} if isinstance(env, dict) else {}


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _expand(text: str, env: dict[str, str]) -> str:
    """${{ env.X }} replaced; any other expression left as it is."""
    def replace(match: re.Match[str]) -> str:
        ref = re.fullmatch(r"env\.([A-Za-z_][A-Za-z0-9_]*)", match.group(1))
        return env.get(ref.group(1), match.group(0)) if ref else match.group(0)
    return EXPRESSION.sub(replace, text)


def unresolved(text: str) -> str | None:
    match = EXPRESSION.search(text)
    return match.group(0) if match else None


def _working_directory(root: Path, *specs: Any) -> Path:
    for spec in specs:  # the step's own first, then the job's defaults, then the workflow's
        if isinstance(spec, dict):
            defaults = _mapping(spec.get("defaults"))
            run_defaults = _mapping(defaults.get("run"))
            value = spec.get("working-directory") or run_defaults.get("working-directory")
            if value:
                return (root / str(value)).resolve()
    return root


# -- a job's steps ---------------------------------------------------------------------------

def _read_job(job_id: str, spec: dict[str, Any], document: dict[str, Any], workflow_env: dict[str, str],
              root: Path) -> Job:
    environment = spec.get("environment")
    if isinstance(environment, dict):
        environment = environment.get("name")
    job = Job(job_id, _as_list(spec.get("needs")), str(environment) if environment else None,
              permissions=spec.get("permissions", document.get("permissions")))
    job_env = {**workflow_env, **_env_of(spec)}
    credentials = Credentials(stored_keys=any(k in job_env for k in KEY_VARIABLES))
    deployed = False
    steps = _sequence(spec.get("steps"))
    for index, step in enumerate(steps):
        if not isinstance(step, dict):
            continue
        env = {**job_env, **_env_of(step)}
        label = str(step.get("name") or step.get("uses") or f"step {index + 1}")
        uses = str(step.get("uses") or "")
        inputs = _mapping(step.get("with"))
        if uses.startswith("aws-actions/configure-aws-credentials"):
            if inputs.get("role-to-assume"):
                credentials = Credentials(role_arn=_expand(str(inputs["role-to-assume"]), env))
                job.role_arns.append(credentials.role_arn or "")
            elif inputs.get("aws-access-key-id"):
                credentials = Credentials(stored_keys=True)
            continue
        if uses.startswith("actions/upload-artifact"):
            paths = [p.strip() for p in _expand(str(inputs.get("path") or ""), env).splitlines() if p.strip()]
            job.actions.append(Upload(_expand(str(inputs.get("name") or "artifact"), env), paths))
            continue
        if uses.startswith("actions/download-artifact"):
            name = inputs.get("name")
            job.actions.append(Download(_expand(str(name), env) if name else None,
                                        _expand(str(inputs.get("path") or "."), env)))
            continue
        if "run" not in step:
            continue
        workdir = _working_directory(root, step, spec, document)
        step_credentials = credentials
        if not credentials.role_arn and any(k in env for k in KEY_VARIABLES):
            step_credentials = Credentials(stored_keys=True)
        for command in split_script(_expand(str(step["run"]), env)):
            if command[0] == "cd" and len(command) == 2:  # the script's later commands run there
                workdir = (workdir / command[1]).resolve()
            elif command[:2] == ["sam", "build"]:
                template = option(command, "--template-file", "--template", "-t")
                source = (workdir / template) if template else _default_template(workdir)
                job.actions.append(Build("", job_id, source.resolve(), workdir))
            elif command[:2] == ["sam", "deploy"]:
                deploy = _read_deploy(job_id, label, command, workdir, root)
                deploy.credentials = step_credentials
                _credential_problem(deploy)
                job.actions.append(deploy)
                deployed = True
            else:
                arguments = python_command(command)
                if arguments is not None:
                    plain = {k: v for k, v in env.items() if not unresolved(v)}
                    job.actions.append(Check(job_id, label, arguments, workdir, plain, step_credentials, deployed))
    job.stored_keys = credentials.stored_keys or any(d.stored_keys for d in job.deploys)
    return job


def _credential_problem(deploy: SamDeploy) -> None:
    if deploy.problem:
        return
    role = deploy.credentials.role_arn
    if role:
        hidden = unresolved(role)
        if hidden:
            deploy.problem = f"the role to assume is {hidden}: write the role ARN in the workflow to dry-run it"
        elif not ROLE_ARN.match(role):
            deploy.problem = f"role-to-assume {role!r} is not a role ARN (arn:aws:iam::<account>:role/<name>)"
    elif not deploy.credentials.stored_keys:
        deploy.problem = "the job has no AWS credentials before sam deploy (configure-aws-credentials)"


def _default_template(workdir: Path) -> Path:
    return next((workdir / n for n in ("template.yaml", "template.yml") if (workdir / n).exists()),
                workdir / "template.yaml")


def _shown(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)


def _read_deploy(job_id: str, step: str, command: list[str], workdir: Path, root: Path) -> SamDeploy:
    deploy = SamDeploy(job=job_id, step=step, command=" ".join(command), workdir=workdir)
    deploy.config_env = option(command, "--config-env")
    hidden = unresolved(deploy.command)
    if hidden:
        deploy.problem = f"`{deploy.command}` uses {hidden}, which a dry run cannot know"
        return deploy
    settings: dict[str, Any] = {}
    given_file = option(command, "--config-file")
    config_file = samconfig.find(workdir, given_file)
    env = deploy.config_env or "default"
    if config_file is None and (given_file or deploy.config_env):
        deploy.problem = f"--config-env {env}, but there is no {given_file or 'samconfig.toml'} in {_shown(root, workdir) or '.'}"
    elif config_file is not None:
        try:
            found = samconfig.parameters(samconfig.load(config_file), env)
        except samconfig.SamConfigError as exc:
            found, deploy.problem = None, str(exc)
        if found is None and not deploy.problem and deploy.config_env:
            deploy.problem = f"{config_file.name} has no [{env}.deploy.parameters] for --config-env {env}"
        settings = found or {}
    overrides = option_values(command, "--parameter-overrides")
    deploy.parameters = samconfig.parse_overrides(overrides if overrides is not None else settings.get("parameter_overrides"))
    deploy.stack_name = option(command, "--stack-name") or settings.get("stack_name")
    template = option(command, "--template-file", "--template", "-t") or settings.get("template_file")
    deploy.template = (workdir / str(template)).resolve() if template else None
    if not deploy.stack_name and not deploy.problem:
        deploy.problem = f"no stack name: give --stack-name or stack_name in {config_file.name if config_file else 'samconfig.toml'}"
    return deploy


# -- which build each deploy deploys ---------------------------------------------------------

def _build_folder(path: Path) -> Path | None:
    """The folder whose `.aws-sam/build` holds path, if path lies in a build output."""
    parts = path.parts
    if ".aws-sam" not in parts:
        return None
    return Path(*parts[:parts.index(".aws-sam")])


def _static_prefix(pattern: str) -> str:
    """The folders of an upload path before its first wildcard."""
    parts = PurePosixPath(pattern).parts
    fixed = []
    for part in parts:
        if any(c in part for c in "*?["):
            break
        fixed.append(part)
    return str(PurePosixPath(*fixed)) if fixed else "."


def _uploaded(paths: list[str], build_dir: str) -> bool:
    for raw in paths:
        pattern = raw.removeprefix("./").rstrip("/")
        if raw.startswith("!"):
            continue
        if fnmatch.fnmatch(build_dir, pattern) or build_dir == pattern:
            return True
        if build_dir.startswith(pattern + "/") or pattern.startswith(build_dir + "/") or pattern in (".", ""):
            return True
    return False


def _connect_builds(workflow: Workflow) -> None:
    """Follow builds through each job's files and the run's artifacts: which build each deploy deploys."""
    root = workflow.root
    artifacts: dict[str, tuple[str, list[tuple[PurePosixPath, Build]]]] = {}
    counter = 0
    for job_id in workflow.order():
        job = workflow.jobs[job_id]
        upstream = workflow.upstream(job_id)
        built: dict[Path, Build] = {}  # the folder sam build ran in -> the build now in its .aws-sam/build
        for action in job.actions:
            if isinstance(action, Build):
                counter += 1
                action.id = f"build {counter}"
                built[action.workdir] = action
            elif isinstance(action, Upload):
                entries = []
                base = PurePosixPath(os.path.commonpath([_static_prefix(p.removeprefix("./")) for p in action.paths])
                                     if action.paths else ".")
                for folder, build in built.items():
                    build_dir = (PurePosixPath(_shown(root, folder)) / BUILD_DIR) if folder != root else BUILD_DIR
                    if folder.is_relative_to(root) and _uploaded(action.paths, str(build_dir)):
                        relative = PurePosixPath(os.path.relpath(str(build_dir), str(base)))
                        entries.append((relative, build))
                artifacts[action.name] = (job_id, entries)
            elif isinstance(action, Download):
                names = [action.name] if action.name else list(artifacts)
                for name in names:
                    uploader, entries = artifacts.get(name, ("", []))
                    if uploader not in upstream:
                        continue  # not uploaded yet when this job starts
                    target = PurePosixPath(action.path.removeprefix("./")) / ("" if action.name else name)
                    for relative, build in entries:
                        placed = (root / str(target / relative)).resolve()
                        if placed.parts[-2:] == BUILD_DIR.parts:  # where sam deploy looks for a build
                            built[placed.parent.parent] = build
            elif isinstance(action, SamDeploy):
                _resolve_template(action, built, root)


def _resolve_template(deploy: SamDeploy, built: dict[Path, Build], root: Path) -> None:
    explicit = deploy.template
    if explicit is not None:
        folder = _build_folder(explicit)
        if folder is None:  # a source template, deployed unbuilt
            if not explicit.exists() and not deploy.problem:
                deploy.problem = f"no template {_shown(root, explicit)} to deploy"
            return
        build = built.get(folder.resolve())
        if build is None:
            if not deploy.problem:
                deploy.problem = (f"{_shown(root, explicit)} is a build output, but no build of it is in this job: "
                                  "run sam build, or download the build artifact, first")
            return
        deploy.build, deploy.template = build, build.template
        return
    build = built.get(deploy.workdir.resolve())
    if build is not None:  # sam deploy takes .aws-sam/build/template.yaml when it exists
        deploy.build, deploy.template = build, build.template
        return
    deploy.template = _default_template(deploy.workdir)
    if not deploy.template.exists() and not deploy.problem:
        deploy.problem = f"no template {_shown(root, deploy.template)} to deploy"
