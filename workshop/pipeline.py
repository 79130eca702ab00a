"""A local dry run of a GitHub Actions deploy workflow: `workshop pipeline NN [--approve]`.

It reads a shop tree's `.github/workflows/*.yml` as GitHub would schedule it: the job graph
(`needs`), each job's AWS credentials (`aws-actions/configure-aws-credentials` with a
`role-to-assume`, or stored keys) and each `sam deploy` the job runs (`--config-env X` with
the overrides of `[X.deploy.parameters]` in samconfig.toml). Then it deploys, job after job
in `needs` order, each stage into the local account of the role it assumes: the 12-digit
account id of the role's ARN is the local account (access key `LOCAL<id>`), so dev, staging
and prod land in separate accounts exactly when their roles do. A job that runs in a
protected environment (`environment: production`) waits at the gate, and the jobs that need
it with it, until the run is approved (`approve=True`, the CLI's `--approve`).

Only `sam build` (nothing to do: the local deploy packages the code) and `sam deploy` are
carried out; the other steps are read for credentials and ignored. `${{ env.X }}` is
resolved from the workflow's, job's and step's `env`; a value the dry run needs behind
`${{ vars.X }}`, `${{ secrets.X }}` or `${{ matrix.X }}` stops it with a message naming it.
Step `if:` conditions are not evaluated.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

from .localcloud.safety import ACCOUNTS

DEFAULT_PROTECTED = ("production", "prod")
STORED_KEYS_ACCOUNT = ACCOUNTS["default"]  # stored keys: one account, whichever it is, for every stage
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/(.+)$")
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
KEY_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
STAGE_NAMES = {"dev": "dev", "development": "dev", "staging": "staging", "stage": "staging",
               "test": "staging",
               "prod": "prod", "production": "prod"}
_STAGE_IN_NAME = re.compile(r"(?<![a-z])(development|dev|staging|stage|test|production|prod)(?![a-z])")


class PipelineError(Exception):
    """The workflow cannot be dry-run at all (missing, unreadable, a broken job graph)."""


# -- reading the workflow --------------------------------------------------------------------

@dataclass
class SamDeploy:
    """One `sam deploy` of a job, resolved as SAM CLI would resolve it."""

    job: str
    step: str
    command: str
    config_env: str | None = None
    template: Path | None = None
    stack_name: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)
    role_arn: str | None = None
    stored_keys: bool = False
    problem: str | None = None  # why this deploy cannot run (it fails the job when reached)

    @property
    def stage(self) -> str | None:
        """dev, staging or prod: by its config env, else its parameters, else its file and stack names."""
        for text in ([self.config_env] if self.config_env else []) + list(self.parameters.values()) + [
                self.template.stem if self.template else "", self.stack_name or ""]:
            found = stage_of(text)
            if found:
                return found
        return None

    @property
    def account(self) -> str | None:
        if self.role_arn:
            match = ROLE_ARN.match(self.role_arn)
            return match.group(1) if match else None
        return STORED_KEYS_ACCOUNT if self.stored_keys else None

    @property
    def credentials(self) -> str:
        if self.role_arn:
            return f"OIDC role {self.role_arn}"
        return "stored access keys" if self.stored_keys else "no AWS credentials"


@dataclass
class Job:
    id: str
    needs: list[str]
    environment: str | None
    deploys: list[SamDeploy] = field(default_factory=list)
    role_arns: list[str] = field(default_factory=list)
    stored_keys: bool = False
    permissions: Any = None


@dataclass
class Workflow:
    path: Path
    root: Path
    document: dict
    jobs: dict[str, Job]  # in the file's order

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

    def jobs_deploying(self, stage: str) -> list[str]:
        return [j for j in self.order() if any(d.stage == stage for d in self.jobs[j].deploys)]


def stage_of(text: str | None) -> str | None:
    if not text:
        return None
    lowered = text.lower()
    if lowered in STAGE_NAMES:
        return STAGE_NAMES[lowered]
    found = _STAGE_IN_NAME.findall(lowered)
    return STAGE_NAMES[found[-1]] if found else None


def find_workflows(root: Path) -> list[Path]:
    folder = root / ".github" / "workflows"
    return sorted(p for p in folder.glob("*") if p.suffix in (".yml", ".yaml") and p.is_file()) if folder.is_dir() else []


def read_yaml(path: Path) -> dict:
    try:
        document = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise PipelineError(f"{path.name} is not readable YAML: {exc}") from None
    if not isinstance(document, dict):
        raise PipelineError(f"{path.name} is not a workflow (not a mapping)")
    return document


def load_workflow(root: Path, workflow: Path | None = None) -> Workflow:
    """The deploy workflow of a tree: the one file under .github/workflows that runs `sam deploy`."""
    root = root.resolve()
    if workflow is None:
        candidates = find_workflows(root)
        if not candidates:
            raise PipelineError(f"no workflow in {root / '.github' / 'workflows'}")
        deploying = [p for p in candidates if "sam deploy" in p.read_text(errors="replace")]
        if len(deploying) > 1:
            raise PipelineError(f"several workflows run sam deploy ({', '.join(p.name for p in deploying)}): name one")
        workflow = (deploying or candidates)[0]
    document = read_yaml(workflow)
    raw_jobs = document.get("jobs")
    if not isinstance(raw_jobs, dict) or not raw_jobs:
        raise PipelineError(f"{workflow.name} has no jobs")
    workflow_env = _env_of(document)
    jobs: dict[str, Job] = {}
    for job_id, spec in raw_jobs.items():
        if not isinstance(spec, dict):
            raise PipelineError(f"{workflow.name}: job {job_id} is not a mapping")
        jobs[str(job_id)] = _read_job(str(job_id), spec, document, workflow_env, root)
    for job in jobs.values():
        unknown = [n for n in job.needs if n not in jobs]
        if unknown:
            raise PipelineError(f"{workflow.name}: job {job.id} needs {', '.join(unknown)}, which no job is called")
    parsed = Workflow(workflow, root, document, jobs)
    parsed.order()  # a cycle is an error now, not halfway through a run
    return parsed


def _env_of(spec: dict) -> dict[str, str]:
    env = spec.get("env")
    return {str(k): str(v) for k, v in env.items()} if isinstance(env, dict) else {}


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _expand(text: str, env: dict[str, str]) -> str:
    """${{ env.X }} replaced; any other expression left as it is."""
    def replace(match: re.Match) -> str:
        ref = re.fullmatch(r"env\.([A-Za-z_][A-Za-z0-9_]*)", match.group(1))
        return env.get(ref.group(1), match.group(0)) if ref else match.group(0)
    return EXPRESSION.sub(replace, text)


def _unresolved(text: str) -> str | None:
    match = EXPRESSION.search(text)
    return match.group(0) if match else None


def _working_directory(root: Path, *specs: Any) -> Path:
    for spec in specs:  # the step's own first, then the job's defaults, then the workflow's
        if isinstance(spec, dict):
            defaults = spec.get("defaults") if isinstance(spec.get("defaults"), dict) else {}
            run_defaults = defaults.get("run") if isinstance(defaults.get("run"), dict) else {}
            value = spec.get("working-directory") or run_defaults.get("working-directory")
            if value:
                return (root / str(value)).resolve()
    return root


def _read_job(job_id: str, spec: dict, document: dict, workflow_env: dict[str, str], root: Path) -> Job:
    environment = spec.get("environment")
    if isinstance(environment, dict):
        environment = environment.get("name")
    job = Job(job_id, _as_list(spec.get("needs")), str(environment) if environment else None,
              permissions=spec.get("permissions", document.get("permissions")))
    job_env = {**workflow_env, **_env_of(spec)}
    role: str | None = None
    stored = any(k in job_env for k in KEY_VARIABLES)
    built_template: Path | None = None
    steps = spec.get("steps") if isinstance(spec.get("steps"), list) else []
    for index, step in enumerate(steps):
        if not isinstance(step, dict):
            continue
        env = {**job_env, **_env_of(step)}
        label = str(step.get("name") or step.get("uses") or f"step {index + 1}")
        uses = str(step.get("uses") or "")
        if uses.startswith("aws-actions/configure-aws-credentials"):
            inputs = step.get("with") if isinstance(step.get("with"), dict) else {}
            if inputs.get("role-to-assume"):
                role = _expand(str(inputs["role-to-assume"]), env)
                job.role_arns.append(role)
                stored = False
            elif inputs.get("aws-access-key-id"):
                stored, role = True, None
            continue
        if "run" not in step:
            continue
        workdir = _working_directory(root, step, spec, document)
        for command in _commands(_expand(str(step["run"]), env)):
            if command[:2] == ["sam", "build"]:
                template = _option(command, "--template-file", "--template", "-t")
                built_template = (workdir / template) if template else None
            elif command[:2] == ["sam", "deploy"]:
                deploy = _read_deploy(job_id, label, command, workdir, built_template, root)
                # the last credentials configured before the step are the ones sam uses
                deploy.role_arn = role
                deploy.stored_keys = role is None and (stored or any(k in env for k in KEY_VARIABLES))
                if deploy.role_arn and not deploy.problem:
                    hidden = _unresolved(deploy.role_arn)
                    if hidden:
                        deploy.problem = f"the role to assume is {hidden}: write the role ARN in the workflow to dry-run it"
                    elif not ROLE_ARN.match(deploy.role_arn):
                        deploy.problem = f"role-to-assume {deploy.role_arn!r} is not a role ARN (arn:aws:iam::<account>:role/<name>)"
                if not deploy.role_arn and not deploy.stored_keys and not deploy.problem:
                    deploy.problem = "the job has no AWS credentials before sam deploy (configure-aws-credentials)"
                job.deploys.append(deploy)
    job.stored_keys = stored or any(d.stored_keys for d in job.deploys)
    return job


def _commands(script: str) -> list[list[str]]:
    """The shell commands of a `run:` script, as argument lists (continuations joined)."""
    commands = []
    for line in script.replace("\\\n", " ").splitlines():
        try:
            tokens = shlex.split(line, comments=True)
        except ValueError:
            continue
        current: list[str] = []
        for token in tokens:
            if token in ("&&", "||", ";", "|"):
                if current:
                    commands.append(current)
                current = []
            else:
                current.append(token)
        if current:
            commands.append(current)
    return commands


def _option(command: list[str], *names: str) -> str | None:
    for index, token in enumerate(command):
        for name in names:
            if token == name and index + 1 < len(command):
                return command[index + 1]
            if token.startswith(name + "="):
                return token.split("=", 1)[1]
    return None


def _option_values(command: list[str], name: str) -> list[str] | None:
    """All the values after `name` up to the next option (sam's --parameter-overrides A=1 B=2)."""
    for index, token in enumerate(command):
        if token == name:
            values = []
            for value in command[index + 1:]:
                if value.startswith("--"):
                    break
                values.append(value)
            return values
        if token.startswith(name + "="):
            return [token.split("=", 1)[1]]
    return None


def parse_overrides(value: Any) -> dict[str, str]:
    """samconfig's parameter_overrides (a string or a list) or the CLI's, as a dict.

    Both forms SAM accepts: `Key=Value Key2="a b"` and `ParameterKey=Key,ParameterValue=Value`.
    """
    items: list[str] = []
    for part in (value if isinstance(value, list) else [value] if value else []):
        try:
            split = shlex.split(str(part))
        except ValueError:
            split = [str(part)]
        # "A=1 B=2" is two pairs; an argument already split by the shell, A=two words, is one
        items += split if isinstance(value, str) or all("=" in s for s in split) else [str(part)]
    overrides = {}
    for item in items:
        long_form = re.fullmatch(r"ParameterKey=([^,]+),ParameterValue=(.*)", item)
        if long_form:
            overrides[long_form.group(1)] = long_form.group(2)
        elif "=" in item:
            key, _, val = item.partition("=")
            overrides[key] = val
    return overrides


def read_samconfig(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text())
    except OSError:
        raise FileNotFoundError(path) from None


def samconfig_parameters(config: dict, env: str, command: str = "deploy") -> dict[str, Any] | None:
    """The parameters SAM CLI uses for `sam <command> --config-env env`: global, then the command's."""
    table = config.get(env)
    if not isinstance(table, dict):
        return None
    merged: dict[str, Any] = {}
    for section in ("global", command):
        params = (table.get(section) or {}).get("parameters") if isinstance(table.get(section), dict) else None
        if isinstance(params, dict):
            merged.update(params)
    return merged if command in table or "global" in table else None


def _read_deploy(job_id: str, step: str, command: list[str], workdir: Path, built: Path | None, root: Path) -> SamDeploy:
    deploy = SamDeploy(job=job_id, step=step, command=" ".join(command))
    deploy.config_env = _option(command, "--config-env")
    config_file = workdir / (_option(command, "--config-file") or "samconfig.toml")
    settings: dict[str, Any] = {}
    hidden = _unresolved(deploy.command)
    if hidden:
        deploy.problem = f"`{deploy.command}` uses {hidden}, which a dry run cannot know"
        return deploy
    if deploy.config_env or config_file.exists():
        env = deploy.config_env or "default"
        try:
            found = samconfig_parameters(read_samconfig(config_file), env)
        except FileNotFoundError:
            found = None
            deploy.problem = f"--config-env {env}, but there is no {config_file.relative_to(root) if config_file.is_relative_to(root) else config_file}"
        except tomllib.TOMLDecodeError as exc:
            found = None
            deploy.problem = f"{config_file.name} is not valid TOML: {exc}"
        if found is None and not deploy.problem and deploy.config_env:
            deploy.problem = f"{config_file.name} has no [{env}.deploy.parameters] for --config-env {env}"
        settings = found or {}
    overrides = _option_values(command, "--parameter-overrides")
    deploy.parameters = parse_overrides(overrides if overrides is not None else settings.get("parameter_overrides"))
    deploy.stack_name = _option(command, "--stack-name") or settings.get("stack_name")
    template = _option(command, "--template-file", "--template", "-t") or settings.get("template_file")
    if template:
        deploy.template = (workdir / template).resolve()
    elif built is not None:
        deploy.template = built.resolve()
    else:
        deploy.template = next((workdir / n for n in ("template.yaml", "template.yml") if (workdir / n).exists()),
                               workdir / "template.yaml")
    if ".aws-sam" in deploy.template.parts and not deploy.problem:
        deploy.problem = f"{deploy.template.name} is a build output: deploy the source template instead"
    elif not deploy.template.exists() and not deploy.problem:
        deploy.problem = f"no template {deploy.template.relative_to(root) if deploy.template.is_relative_to(root) else deploy.template} to deploy"
    if not deploy.stack_name and not deploy.problem:
        deploy.problem = "no stack name: give --stack-name or stack_name in samconfig.toml"
    return deploy


# -- running it ------------------------------------------------------------------------------

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
    status: str  # deployed | failed
    message: str = ""
    outputs: dict[str, str] = field(default_factory=dict)

    @property
    def account_name(self) -> str:
        names = {v: k for k, v in ACCOUNTS.items()}
        return f"{names[self.account]} ({self.account})" if self.account in names else str(self.account)


@dataclass
class JobResult:
    job: str
    needs: list[str]
    environment: str | None
    status: str  # succeeded | failed | waiting (at a gate) | blocked (needs a waiting job) | skipped (needs a failed job)
    deploys: list[DeployResult] = field(default_factory=list)
    message: str = ""


@dataclass
class PipelineRun:
    workflow: Path
    approved: bool
    jobs: list[JobResult] = field(default_factory=list)

    @property
    def deployed(self) -> list[DeployResult]:
        return [d for j in self.jobs for d in j.deploys if d.status == "deployed"]

    @property
    def deployed_stages(self) -> list[str]:
        return [d.stage or d.stack_name for d in self.deployed]

    @property
    def waiting(self) -> list[str]:
        """Jobs stopped at a protected environment, waiting for approval."""
        return [j.job for j in self.jobs if j.status == "waiting"]

    @property
    def stopped_at_gate(self) -> bool:
        return bool(self.waiting)

    @property
    def failed(self) -> list[JobResult]:
        return [j for j in self.jobs if j.status == "failed"]

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
        shared = sorted({o.stage for o in others for p in prod if o.account == p.account})
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

    def to_dict(self) -> dict:
        return {
            "workflow": str(self.workflow), "approved": self.approved, "stopped_at_gate": self.stopped_at_gate,
            "waiting": self.waiting, "deployed": self.deployed_stages,
            "jobs": [{"job": j.job, "needs": j.needs, "environment": j.environment, "status": j.status,
                      "message": j.message,
                      "deploys": [{"stage": d.stage, "config_env": d.config_env, "account": d.account,
                                   "credentials": d.credentials, "stack": d.stack_name, "template": d.template,
                                   "parameters": d.parameters, "status": d.status, "message": d.message}
                                  for d in j.deploys]} for j in self.jobs],
        }


def run(root: Path, target, *, approve: bool = False, prefix: str | None = None,
        protected: tuple[str, ...] = DEFAULT_PROTECTED, workflow: Path | None = None,
        progress: Callable[[str], None] = lambda _: None) -> PipelineRun:
    """Dry-run the tree's deploy workflow against a LocalTarget; stacks are named `<prefix>-<stack>`."""
    parsed = load_workflow(root, workflow)
    result = PipelineRun(parsed.path, approve)
    statuses: dict[str, str] = {}
    gates = {p.lower() for p in protected}
    for job_id in parsed.order():
        job = parsed.jobs[job_id]
        outcome = JobResult(job_id, job.needs, job.environment, "succeeded")
        waiting = [n for n in job.needs if statuses[n] in ("waiting", "blocked")]
        broken = [n for n in job.needs if statuses[n] in ("failed", "skipped")]
        if broken:
            outcome.status, outcome.message = "skipped", f"needs {', '.join(broken)}, which did not succeed"
        elif waiting:
            outcome.status, outcome.message = "blocked", f"needs {', '.join(waiting)}, which waits for approval"
        elif job.environment and job.environment.lower() in gates and not approve:
            outcome.status = "waiting"
            outcome.message = f"environment {job.environment} needs a reviewer's approval (run again with --approve)"
        else:
            progress(f"job {job_id}")
            for deploy in job.deploys:
                done = _deploy(deploy, target, prefix, parsed.root, progress)
                outcome.deploys.append(done)
                if done.status != "deployed":
                    outcome.status, outcome.message = "failed", done.message
                    break
        statuses[job_id] = outcome.status
        result.jobs.append(outcome)
    return result


def _deploy(deploy: SamDeploy, target, prefix: str | None, root: Path, progress) -> DeployResult:
    from .deploy.local import DeployError

    name = deploy.stack_name or "?"
    name = re.sub(r"[^A-Za-z0-9-]", "-", f"{prefix}-{name}" if prefix else name)[:128]
    template = deploy.template
    shown = str(template.relative_to(root)) if template and template.is_relative_to(root) else str(template)
    done = DeployResult(deploy.job, deploy.stage, deploy.config_env, deploy.account, deploy.credentials,
                        name, shown, dict(deploy.parameters), "failed")
    if deploy.problem:
        done.message = deploy.problem
        return done
    progress(f"{deploy.job}: sam deploy {name} into account {deploy.account}")
    try:
        info = target.deployer(deploy.account).deploy(template, name, deploy.parameters, progress=progress)
    except (DeployError, ValueError) as exc:
        done.message = str(exc)
        return done
    done.status, done.outputs = "deployed", dict(info.outputs)
    return done


def destroy(result: PipelineRun, target) -> None:
    """Delete the stacks a dry run deployed (the checkpoints clean up after themselves)."""
    for account, stack in result.stacks():
        try:
            target.deployer(account).destroy(stack)
        except Exception:  # noqa: BLE001 - best effort: a stack already gone is fine
            pass


# -- showing it ------------------------------------------------------------------------------

STATUS_STYLE = {"succeeded": "green", "deployed": "green", "failed": "red", "waiting": "yellow",
                "blocked": "yellow", "skipped": "dim"}


def print_run(result: PipelineRun, console) -> None:
    from rich.table import Table

    table = Table(title=f"Pipeline dry run of {result.workflow.name}" + (" (approved)" if result.approved else ""))
    for column in ("job", "needs", "environment", "deploys", "account", "stack", "status"):
        table.add_column(column, overflow="fold")
    for job in result.jobs:
        rows = job.deploys or [None]
        for index, deploy in enumerate(rows):
            first = index == 0
            status = deploy.status if deploy else job.status
            table.add_row(
                job.job if first else "", ", ".join(job.needs) if first else "", (job.environment or "") if first else "",
                (deploy.config_env or Path(deploy.template).name) if deploy else "",
                deploy.account_name if deploy else "", deploy.stack_name if deploy else "",
                f"[{STATUS_STYLE.get(status, '')}]{status}[/]",
            )
    console.print(table)
    for job in result.jobs:
        if job.message:
            console.print(f"[{STATUS_STYLE.get(job.status, '')}]{job.job}[/]: {job.message}")
    for note in result.notes():
        console.print(f"[yellow]Note:[/] {note}")
    if result.stopped_at_gate:
        console.print(f"[yellow]Stopped at the gate:[/] {', '.join(result.waiting)} waits for a reviewer; "
                      "run again with --approve to play the reviewer.")
    elif result.ok:
        console.print("[green]Every job succeeded.[/]")


def main(argv: list[str] | None = None) -> int:
    """`python -m workshop.pipeline TREE [--approve]`: the same dry run without the course CLI."""
    import argparse

    from rich.console import Console

    from .deploy.targets import LocalTarget

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree", type=Path, help="the shop tree holding .github/workflows/")
    parser.add_argument("--approve", action="store_true", help="approve the protected environments (production)")
    parser.add_argument("--prefix", default=None, help="prefix for the stack names")
    parser.add_argument("--cloud-url", default=None, help="a running local cloud (default: start or reuse one)")
    args = parser.parse_args(argv)
    console = Console()
    url = args.cloud_url
    if not url:
        from .localcloud import control
        url = control.up()[0].url
    try:
        result = run(args.tree, LocalTarget(url), approve=args.approve, prefix=args.prefix,
                     progress=lambda message: console.print(f"[dim]{message}[/]"))
    except PipelineError as exc:
        console.print(f"[red]{exc}[/]")
        return 2
    print_run(result, console)
    return 0 if result.ok else 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
