"""Module 06: one template for every environment, and a pipeline with OIDC, a gate and separate accounts.

The checkpoints read the workspace's files (the template, samconfig.toml, the workflow, the
bootstrap template) and, on the local target, deploy the one template into the dev and prod
accounts and dry-run the workflow (workshop/pipeline.py). Every account is reached by boto3.
"""

from __future__ import annotations

import copy
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from checks.support import expect, fail
from workshop.deploy import template as cfn_templates
from workshop.pipeline import PipelineError, Workflow, destroy, find_workflows, load_workflow, parse_overrides, run, stage_of

ENVIRONMENTS = ("dev", "staging", "prod")
FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
SKIPPED = {".aws-sam", "node_modules", ".venv", "__pycache__", ".pytest_cache", ".git", "tests"}
TEMPLATE_SUFFIXES = {".yaml", ".yml", ".json", ".template"}
GITHUB_OIDC = "token.actions.githubusercontent.com"
BIN = Path(sys.executable).parent
# An access key id: four capitals then sixteen; spelt in pieces so this file holds none.
KEY_ID = re.compile(r"\b(?:" + "AK" + "IA|AS" + "IA)" + r"[A-Z0-9]{16}\b")
KEY_NAMES = re.compile(r"AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|aws-access-key-id|aws-secret-access-key")
KEY_SECRETS = re.compile(r"secrets\.\w*(?:ACCESS_KEY|SECRET_KEY)\w*", re.IGNORECASE)


# -- the workspace's files -------------------------------------------------------------------

def _files(workspace: Path, skip: set[str] = SKIPPED) -> list[Path]:
    return sorted(p for p in workspace.rglob("*")
                  if p.is_file() and not skip.intersection(p.relative_to(workspace).parts[:-1]))


def _templates(workspace: Path) -> list[tuple[Path, dict]]:
    """Every CloudFormation template of the tree (workflows and other YAML are not templates)."""
    found = []
    for path in _files(workspace, SKIPPED | {".github"}):
        if path.suffix not in TEMPLATE_SUFFIXES or path.stat().st_size > 1_000_000:
            continue
        try:
            document = cfn_templates.load(path)
        except cfn_templates.TemplateError:
            continue
        if isinstance(document.get("Resources"), dict):
            found.append((path, document))
    return found


def _resources(document: dict) -> dict[str, dict]:
    return {k: v for k, v in (document.get("Resources") or {}).items() if isinstance(v, dict)}


def _unreadable_templates(workspace: Path) -> list[str]:
    """Why the files that look like templates (template*.yaml) could not be read."""
    reasons = []
    for path in _files(workspace, SKIPPED | {".github"}):
        if path.name.startswith("template") and path.suffix in TEMPLATE_SUFFIXES:
            try:
                cfn_templates.load(path)
            except cfn_templates.TemplateError as exc:
                reasons.append(str(exc).replace(str(path), _rel(workspace, path)).splitlines()[0][:200])
    return reasons


def _no_app_template(workspace: Path) -> None:
    unreadable = _unreadable_templates(workspace)
    fail(unreadable[0] if unreadable else "no template in the workspace declares a function",
         "fix the template's YAML" if unreadable else "keep the cart service's SAM template (template.yaml) in the workspace")


def _app_templates(workspace: Path) -> list[tuple[Path, dict]]:
    """The templates that hold the application: the ones with functions."""
    return [(p, d) for p, d in _templates(workspace) if any(r.get("Type") in FUNCTION_TYPES for r in _resources(d).values())]


def _rel(workspace: Path, path: Path) -> str:
    return path.relative_to(workspace).as_posix() if path.is_relative_to(workspace) else str(path)


def _function_setting(document: dict, logical_id: str, name: str, default: Any = None) -> Any:
    """A function's property as written: its own, else the Globals' (SAM functions), else default."""
    resource = _resources(document).get(logical_id, {})
    properties = resource.get("Properties") if isinstance(resource.get("Properties"), dict) else {}
    if name in properties:
        return properties[name]
    if resource.get("Type") == "AWS::Serverless::Function":
        globals_ = document.get("Globals") if isinstance(document.get("Globals"), dict) else {}
        globals_ = globals_.get("Function") if isinstance(globals_.get("Function"), dict) else {}
        if name in globals_:
            return globals_[name]
    return default


def _drift(apps: list[tuple[Path, dict]], workspace: Path) -> str:
    """What differs between copies of the template, in a few words."""
    notes = []
    for setting in ("MemorySize", "Timeout", "Runtime"):
        values = []
        for _, document in apps:
            functions = [k for k, r in _resources(document).items() if r.get("Type") in FUNCTION_TYPES]
            values.append(str(_function_setting(document, functions[0], setting, "-")) if functions else "-")
        if len(set(values)) > 1:
            notes.append(f"{setting} {'/'.join(values)}")
    ids = [set(_resources(d)) for _, d in apps]
    partial = sorted(set.union(*ids) - set.intersection(*ids))
    if partial:
        notes.append(f"{', '.join(partial[:3])} only in some")
    return "; ".join(notes)


def _samconfig_path(workspace: Path, template: Path | None) -> Path:
    if template is not None and (template.parent / "samconfig.toml").exists():
        return template.parent / "samconfig.toml"
    return workspace / "samconfig.toml"


def _samconfig(workspace: Path, template: Path | None) -> dict | None:
    try:
        return tomllib.loads(_samconfig_path(workspace, template).read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return None


def _config_envs(config: dict | None) -> dict[str, str]:
    """stage -> the config env that deploys it: dev or development, staging or test, prod or production."""
    found: dict[str, str] = {}
    for name in config or {}:
        stage = stage_of(str(name))
        if stage and stage not in found and _env_overrides(config, str(name)) is not None:
            found[stage] = str(name)
    return found


def _env_overrides(config: dict | None, env: str) -> dict[str, str] | None:
    try:
        return parse_overrides(config[env]["deploy"]["parameters"].get("parameter_overrides"))
    except (KeyError, TypeError, AttributeError, ValueError):
        return None


def _workflow(workspace: Path) -> Workflow:
    try:
        return load_workflow(workspace)
    except PipelineError as exc:
        fail(f"the deploy workflow cannot be read: {exc}",
             "add .github/workflows/deploy.yml with a job per environment that runs sam deploy --config-env <env>")


# -- reading intrinsic functions (enough for mappings, conditions and trust policies) --------

class Unresolved(Exception):
    pass


PSEUDO = {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws",
          "AWS::StackName": "stack", "AWS::URLSuffix": "amazonaws.com", "AWS::NoValue": None}


class Evaluator:
    """Evaluates a template's values for given parameters; an unknown parameter becomes <Name>."""

    def __init__(self, document: dict, parameters: dict[str, str]) -> None:
        self.document = document
        self.declared = document.get("Parameters") or {}
        self.parameters = parameters
        self.conditions = document.get("Conditions") or {}

    def ref(self, name: str) -> Any:
        if name in self.parameters:
            return self.parameters[name]
        if name in PSEUDO:
            return PSEUDO[name]
        if name in self.declared:
            default = (self.declared[name] or {}).get("Default")
            return str(default) if default is not None else f"<{name}>"
        resource = _resources(self.document).get(name)
        if resource and resource.get("Type") == "AWS::IAM::OIDCProvider":
            url = str(self.value((resource.get("Properties") or {}).get("Url", "")))
            return f"arn:aws:iam::123456789012:oidc-provider/{url.removeprefix('https://')}"
        return f"<{name}>"

    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            raise Unresolved(f"no condition {name}")
        return bool(self.value(self.conditions[name]))

    def value(self, node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in (self.value(item) for item in node) if v is not None]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, arg), = node.items()
            if key == "Ref":
                return self.ref(str(arg))
            if key == "Condition":
                return self.condition(str(arg))
            if key == "Fn::Equals":
                a, b = self.value(arg)
                return str(a) == str(b)
            if key == "Fn::Not":
                return not self.value(arg[0])
            if key == "Fn::And":
                return all(self.value(arg))
            if key == "Fn::Or":
                return any(self.value(arg))
            if key == "Fn::If":
                name, yes, no = arg
                return self.value(yes if self.condition(str(name)) else no)
            if key == "Fn::FindInMap":
                name, first, second = (str(self.value(a)) for a in arg[:3])
                try:
                    return self.document["Mappings"][name][first][second]
                except (KeyError, TypeError):
                    raise Unresolved(f"no {name}.{first}.{second} in Mappings") from None
            if key == "Fn::Sub":
                return self.sub(arg)
            if key == "Fn::Join":
                separator, items = arg
                return str(separator).join(str(v) for v in self.value(items))
            if key == "Fn::Select":
                index, items = arg
                return self.value(items)[int(self.value(index))]
            if key == "Fn::ImportValue":
                return f"<import {self.value(arg)}>"
            if key == "Fn::GetAtt":
                parts = arg if isinstance(arg, list) else str(arg).split(".", 1)
                return f"<{'.'.join(map(str, parts))}>"
            if key.startswith("Fn::"):
                raise Unresolved(key)
        return {k: self.value(v) for k, v in node.items()}

    def sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1] if len(arg) > 1 else {})

        def replace(match: re.Match) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(self.value(variables[name]))
            if "." in name:
                return f"<{name}>"
            return str(self.ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, str(text))

    def resource_exists(self, resource: dict) -> bool:
        name = resource.get("Condition")
        return True if not name else self.condition(str(name))


def _uses(node: Any, key: str) -> bool:
    if isinstance(node, dict):
        return key in node or any(_uses(v, key) for v in node.values())
    if isinstance(node, list):
        return any(_uses(v, key) for v in node)
    return False


def _refers_to(node: Any, name: str) -> bool:
    """Does node use the parameter `name` (Ref, or ${name} in a Sub)?"""
    if isinstance(node, dict):
        if node.get("Ref") == name:
            return True
        return any(_refers_to(v, name) for v in node.values())
    if isinstance(node, list):
        return any(_refers_to(v, name) for v in node)
    return isinstance(node, str) and "${" + name + "}" in node


# -- 06.1 ------------------------------------------------------------------------------------

@pytest.mark.checkpoint("06.1", points=2)
def test_one_template_for_every_environment(workspace):
    """Exactly one application template, adapting with Parameters, Mappings, Conditions and Globals; cfn-lint clean."""
    apps = _app_templates(workspace)
    if not apps:
        _no_app_template(workspace)
    names = ", ".join(_rel(workspace, p) for p, _ in apps)
    drift = _drift(apps, workspace) if len(apps) > 1 else ""
    expect(len(apps) == 1, f"{len(apps)} copies of the application template ({names})"
           + (f" that have drifted: {drift}" if drift else ""),
           "merge them into one template.yaml; what differs per environment goes into Parameters, Mappings and Conditions")
    path, document = apps[0]
    missing = [s for s in ("Parameters", "Mappings", "Conditions", "Globals") if not document.get(s)]
    expect(not missing, f"{_rel(workspace, path)} has no {', '.join(missing)}",
           "declare an Environment parameter, a mapping of per-environment values, a prod-only condition and Globals")
    body = {k: v for k, v in document.items() if k not in ("Parameters", "Mappings", "Conditions")}
    unused = []
    if not _uses(body, "Fn::FindInMap"):
        unused.append("no value is taken from the Mappings (Fn::FindInMap)")
    sections = [v for key in ("Resources", "Outputs") if isinstance(document.get(key), dict)
                for v in document[key].values() if isinstance(v, dict)]
    if not (any(v.get("Condition") for v in sections) or _uses(body, "Fn::If")):
        unused.append("no resource uses a Condition")
    if not any(_refers_to(body, p) for p in document["Parameters"]):
        unused.append("no parameter is used")
    if not isinstance(document["Globals"], dict) or not document["Globals"].get("Function"):
        unused.append("Globals has no Function section")
    expect(not unused, f"{_rel(workspace, path)}: {'; '.join(unused)}",
           "memory from a mapping keyed by the Environment parameter, prod-only resources under a Condition, "
           "shared function settings in Globals.Function")
    linter = BIN / "cfn-lint"
    try:
        lint = subprocess.run([str(linter if linter.exists() else "cfn-lint"), "--format", "parseable", "--", str(path)],
                              capture_output=True, text=True, timeout=300, cwd=path.parent)
    except (OSError, subprocess.TimeoutExpired) as exc:
        fail(f"cfn-lint could not run: {exc}", "reinstall the course's environment (make setup)")
    # cfn-lint's exit code is a bit mask: 2 errors, 4 warnings, 8 informational
    findings = [line.split(":", 5)[-1] for line in lint.stdout.splitlines() if line.strip()]
    expect(lint.returncode & 6 == 0 and lint.returncode < 16,
           f"cfn-lint {_rel(workspace, path)}: {'; '.join(findings[:2]) or lint.stderr.strip()[-200:]}",
           f"run `cfn-lint {_rel(workspace, path)}` and fix what it reports")


# -- 06.2 ------------------------------------------------------------------------------------

def _environment_templates(workspace: Path) -> dict[str, tuple[Path, dict, dict[str, str]]]:
    """env -> (template, its document, parameters) to deploy dev and prod as the workspace says."""
    apps = _app_templates(workspace)
    if not apps:
        _no_app_template(workspace)
    plan = {}
    for env in ("dev", "prod"):
        if len(apps) == 1:
            path, document = apps[0]
        else:  # copies per environment: template-dev.yaml and the like
            matching = [(p, d) for p, d in apps if stage_of(p.stem) == env]
            expect(matching, f"no template for {env} among {', '.join(_rel(workspace, p) for p, _ in apps)}",
                   "deploy every environment from one template.yaml")
            path, document = matching[0]
        config = _samconfig(workspace, path)
        parameters = _env_overrides(config, env)
        if parameters is None:  # no samconfig: the parameter whose allowed values name the environment
            parameters = {}
            for name, spec in (document.get("Parameters") or {}).items():
                if any(stage_of(str(v)) == env for v in (spec or {}).get("AllowedValues", [])):
                    parameters[name] = next(str(v) for v in spec["AllowedValues"] if stage_of(str(v)) == env)
        plan[env] = (path, document, parameters)
    return plan


def _stack_account(aws, account: str, stack: str) -> tuple[str, dict[str, str]]:
    described = aws("cloudformation", account=account).describe_stacks(StackName=stack)["Stacks"][0]
    return described["StackId"].split(":")[4], {p["ParameterKey"]: p["ParameterValue"]
                                                for p in described.get("Parameters", [])}


def _function_configs(aws, account: str, info) -> dict[str, dict]:
    lam = aws("lambda", account=account)
    return {r["logicalId"]: lam.get_function_configuration(FunctionName=r["physicalId"])
            for r in info.resources if r["type"] == "AWS::Lambda::Function"}


@pytest.mark.checkpoint("06.2", points=3)
def test_dev_and_prod_differ_only_as_mapped(target, workspace, stack_prefix, aws):
    """The template deployed into the dev and the prod account: memory as mapped, prod-only resources only in prod, nothing else differs."""
    if target.name != "local":
        pytest.skip("dev and prod live in two accounts: this checkpoint deploys both on the local target only")
    plan = _environment_templates(workspace)
    deployed, names = {}, {env: f"{stack_prefix}-{env}" for env in plan}
    try:
        for env, (path, _, parameters) in plan.items():
            deployer = target.deployer(env)
            deployer.destroy(names[env])
            try:
                deployed[env] = deployer.deploy(path, names[env], parameters)
            except Exception as exc:  # noqa: BLE001 - a deploy error is the learner's to fix
                fail(f"{_rel(workspace, path)} does not deploy as {env} (parameters {parameters}): {exc}",
                     "fix the template or the samconfig.toml overrides for that environment")
        problems = _compare(aws, plan, deployed, names)
        expect(not problems, "; ".join(problems[:3]),
               "deploy one template everywhere: memory from the mapping, prod-only resources under a Condition, "
               "everything else identical, dev and prod in their own accounts")
    finally:
        for env in plan:
            try:
                target.deployer(env).destroy(names[env])
            except Exception:  # noqa: BLE001 - cleaning up is best effort
                pass


def _compare(aws, plan, deployed, names) -> list[str]:
    problems = []
    accounts = {env: _stack_account(aws, env, names[env])[0] for env in deployed}
    if accounts["dev"] == accounts["prod"]:
        problems.append(f"the dev and prod stacks are both in account {accounts['dev']}")
    resources = {env: {(r["logicalId"], r["type"]) for r in info.resources if r["logicalId"] and r["type"]}
                 for env, info in deployed.items()}
    only_prod, only_dev = resources["prod"] - resources["dev"], resources["dev"] - resources["prod"]
    conditional = {k for k, r in _resources(plan["prod"][1]).items() if r.get("Condition")}
    if only_dev:
        problems.append(f"dev has {', '.join(sorted(i for i, _ in only_dev)[:3])}, which prod lacks")
    if not only_prod:
        problems.append("prod has no resource that dev lacks (no prod-only alarm or topic)")
    unexplained = sorted(i for i, _ in only_prod if not any(i == c or i.startswith(c) for c in conditional))
    if unexplained:
        problems.append(f"{', '.join(unexplained[:3])} exist only in prod, but no Condition in the template makes them prod-only")

    configs = {env: _function_configs(aws, env, deployed[env]) for env in deployed}
    notes: dict[str, list[str]] = {}
    for function in sorted(set(configs["dev"]) & set(configs["prod"])):
        for setting, field in (("MemorySize", "MemorySize"), ("Timeout", "Timeout"), ("Runtime", "Runtime"),
                               ("Handler", "Handler")):
            seen = {env: configs[env][function].get(field) for env in configs}
            written = {env: _function_setting(plan[env][1], function, setting) for env in plan}
            if setting == "MemorySize" and not all(_uses(w, "Fn::FindInMap") for w in written.values()):
                notes.setdefault(f"MemorySize is not taken from Mappings (dev {seen['dev']} MB, prod {seen['prod']} MB)",
                                 []).append(function)
                continue
            if any(isinstance(w, dict) for w in written.values()):  # chosen per environment: as the template says
                for env in plan:
                    try:
                        expected = Evaluator(plan[env][1], plan[env][2]).value(written[env])
                    except (Unresolved, ValueError, TypeError, IndexError, KeyError, AttributeError):
                        continue
                    if str(expected) != str(seen[env]):
                        notes.setdefault(f"{setting} in {env} is {seen[env]}, the template maps {expected}", []).append(function)
            elif seen["dev"] != seen["prod"]:
                notes.setdefault(f"{setting} differs: {seen['dev']} in dev, {seen['prod']} in prod", []).append(function)
        variables = {env: set((configs[env][function].get("Environment") or {}).get("Variables", {})) for env in configs}
        if variables["dev"] != variables["prod"]:
            notes.setdefault(f"environment variables differ: {', '.join(sorted(variables['dev'] ^ variables['prod']))}",
                             []).append(function)
    problems += [f"{note} ({', '.join(functions[:2])}{'…' if len(functions) > 2 else ''})" for note, functions in notes.items()]
    return problems


# -- 06.3 ------------------------------------------------------------------------------------

def _flatten(table: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(table, dict):
        return {prefix: table}
    flat = {}
    for key, value in table.items():
        flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


@pytest.mark.checkpoint("06.3", points=1)
def test_samconfig_environments_differ_only_in_overrides(workspace):
    """samconfig.toml has dev, staging and prod config environments that differ only in parameter_overrides."""
    apps = _app_templates(workspace)
    template = apps[0][0] if len(apps) == 1 else None
    path = _samconfig_path(workspace, template)
    expect(path.exists(), f"no samconfig.toml beside {_rel(workspace, template) if template else 'the template'}",
           "add samconfig.toml with [dev.deploy.parameters], [staging.deploy.parameters] and [prod.deploy.parameters]")
    try:
        config = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        fail(f"{_rel(workspace, path)} is not valid TOML: {exc}", "fix its syntax")
    names = _config_envs(config)
    missing = [env for env in ENVIRONMENTS if env not in names]
    if missing:
        fail(f"{_rel(workspace, path)} has no {', '.join(f'[{env}.deploy.parameters]' for env in missing)}",
             "add a config environment per environment: sam deploy --config-env dev|staging|prod")
    flat = {}
    for env in ENVIRONMENTS:
        table = copy.deepcopy(config[names[env]])
        table["deploy"]["parameters"].pop("parameter_overrides", None)
        flat[env] = _flatten(table)
    for env in ("staging", "prod"):
        keys = sorted(k for k in set(flat["dev"]) | set(flat[env]) if flat["dev"].get(k) != flat[env].get(k))
        expect(not keys, f"[{env}] differs from [dev] beyond parameter_overrides: "
               + ", ".join(f"{k} ({flat['dev'].get(k)!r} vs {flat[env].get(k)!r})" for k in keys[:3]),
               "keep every other setting identical; what differs per environment belongs in parameter_overrides")
    overrides = {env: _env_overrides(config, names[env]) for env in ENVIRONMENTS}
    empty = [env for env, o in overrides.items() if not o]
    if empty:
        fail(f"{', '.join(f'[{env}.deploy.parameters]' for env in empty)} has no parameter_overrides",
             'give each environment its parameter, e.g. parameter_overrides = "Environment=prod"')
    same = [(a, b) for i, a in enumerate(ENVIRONMENTS) for b in ENVIRONMENTS[i + 1:] if overrides[a] == overrides[b]]
    if same:
        fail(f"{same[0][0]} and {same[0][1]} get the same parameter_overrides ({overrides[same[0][0]]})",
             "each environment passes its own name: Environment=dev, Environment=staging, Environment=prod")
    if template is not None:
        declared = set(apps[0][1].get("Parameters") or {})
        unknown = sorted({k for o in overrides.values() for k in o} - declared)
        expect(not unknown, f"parameter_overrides set {', '.join(unknown)}, which {_rel(workspace, template)} does not declare",
               "override only the template's Parameters")


# -- 06.4 ------------------------------------------------------------------------------------

def _schema_error(output: str, path: Path) -> str:
    """The most specific error check-jsonschema reports, in one line."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    parse = next((i for i, line in enumerate(lines) if line.startswith("Failed to parse")), None)
    if parse is not None:  # not YAML at all: the parser's reason and where
        where = next((line for line in lines[parse:] if line.startswith("in ")), "")
        return f"not valid YAML: {' '.join(lines[parse + 1:parse + 3])} {where.replace('<byte string>', 'the file')}"[:200]
    for heading in ("Best Deep Match:", "Best Match:"):
        if heading in lines and lines.index(heading) + 1 < len(lines):
            return lines[lines.index(heading) + 1][:200]
    found = [line.replace(str(path) + "::", "") for line in lines if line.startswith(str(path))]
    return (found or lines[-1:] or ["no details"])[0][:200]


@pytest.mark.checkpoint("06.4", points=2)
def test_workflow_is_valid_uses_oidc_and_stores_no_keys(workspace):
    """The workflow passes GitHub's schema, asks for id-token: write, and no AWS key is stored anywhere in the module."""
    workflows = find_workflows(workspace)
    expect(workflows, "no workflow in .github/workflows/", "add .github/workflows/deploy.yml")
    checker = BIN / "check-jsonschema"
    for path in workflows:
        try:
            done = subprocess.run([str(checker if checker.exists() else "check-jsonschema"), "--builtin-schema",
                                   "vendor.github-workflows", str(path)], capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as exc:
            fail(f"check-jsonschema could not run: {exc}", "reinstall the course's environment (make setup)")
        expect(done.returncode == 0, f"{_rel(workspace, path)} is not a valid GitHub workflow: "
               f"{_schema_error(done.stdout + done.stderr, path)}",
               "fix the workflow's structure (check-jsonschema --builtin-schema vendor.github-workflows)")
    stored = []
    for path in _files(workspace, SKIPPED - {"tests"}):
        if path.stat().st_size > 1_000_000:
            continue
        try:
            text = path.read_text()
        except (OSError, UnicodeDecodeError):
            continue
        where = _rel(workspace, path)
        if KEY_ID.search(text):
            stored.append(f"{where} holds an access key id")
        secrets = sorted(set(KEY_SECRETS.findall(text)))
        if secrets:
            stored.append(f"{where} reads {', '.join(secrets)}")
        elif path in workflows and KEY_NAMES.search(text):
            stored.append(f"{where} passes {KEY_NAMES.search(text).group(0)}")
    expect(not stored, "; ".join(stored[:2]),
           "delete the stored keys: each job assumes a role with GitHub's OIDC token "
           "(configure-aws-credentials with role-to-assume); then deactivate those keys in IAM")
    workflow = _workflow(workspace)
    lacking = []
    for job in workflow.jobs.values():
        if not job.deploys and not job.role_arns:
            continue
        permissions = job.permissions
        allowed = permissions == "write-all" or (isinstance(permissions, dict) and permissions.get("id-token") == "write")
        if not allowed:
            lacking.append(job.id)
    expect(not lacking, f"job {', '.join(lacking)} cannot ask GitHub for an OIDC token (no permissions: id-token: write)",
           "add `permissions: {id-token: write, contents: read}` to the workflow (or to each deploying job)")


# -- 06.5 ------------------------------------------------------------------------------------

@pytest.mark.checkpoint("06.5", points=2)
def test_stages_are_chained_and_prod_waits_at_a_gate(workspace):
    """A job per environment chained by needs (dev, staging, prod); prod runs in the production environment."""
    workflow = _workflow(workspace)
    by_stage = {env: workflow.jobs_deploying(env) for env in ENVIRONMENTS}
    missing = [env for env in ENVIRONMENTS if not by_stage[env]]
    if missing:
        fail(f"{workflow.path.name} deploys no {', '.join(missing)} (no sam deploy --config-env {missing[0]})",
             "give each environment a job that runs sam deploy --config-env <env>")
    for job in by_stage["prod"]:
        shared = [env for env in ("dev", "staging") if job in by_stage[env]]
        expect(not shared, f"job {job} deploys {', '.join(shared)} and prod in one go: nothing can stop before prod",
               "one job per environment; the prod job needs the others")
        upstream = workflow.upstream(job)
        skipped = [env for env in ("dev", "staging") if not set(by_stage[env]) & upstream]
        expect(not skipped, f"job {job} deploys prod without needing the {' and '.join(skipped)} job",
               f"chain the jobs: prod `needs: [{', '.join(by_stage['dev'][:1] + by_stage['staging'][:1])}]`")
        environment = workflow.jobs[job].environment
        expect(stage_of(environment) == "prod",
               f"job {job} runs in {'environment ' + environment if environment else 'no environment'}: "
               "nobody approves it before it deploys prod",
               "add `environment: production` to the prod job and give that environment required reviewers")
    for job in by_stage["staging"]:
        expect(set(by_stage["dev"]) & workflow.upstream(job),
               f"job {job} deploys staging without needing the dev job", "chain the jobs: staging `needs: dev`")


# -- 06.6 ------------------------------------------------------------------------------------

@pytest.mark.checkpoint("06.6", points=2)
def test_each_environment_assumes_its_own_role_prod_in_its_own_account(workspace):
    """Each environment's job assumes its own role with OIDC; prod's role is in another account than dev's and staging's."""
    workflow = _workflow(workspace)
    roles: dict[str, set[str]] = {env: set() for env in ENVIRONMENTS}
    accounts: dict[str, set[str]] = {env: set() for env in ENVIRONMENTS}
    for deploy in workflow.deploys:
        stage = deploy.stage
        expect(not deploy.stored_keys, f"job {deploy.job} deploys {stage or deploy.stack_name} with stored access keys: "
               "every environment lands in the one account those keys belong to",
               "assume a role per environment: configure-aws-credentials with role-to-assume (OIDC)")
        expect(deploy.role_arn, f"job {deploy.job} assumes no role before sam deploy",
               "add aws-actions/configure-aws-credentials with role-to-assume before sam deploy")
        expect(deploy.account, f"job {deploy.job}: role-to-assume {deploy.role_arn!r} does not name its account",
               "write the role's full ARN, arn:aws:iam::<account id>:role/<name> (a role ARN is not a secret)")
        if stage:
            roles[stage].add(deploy.role_arn)
            accounts[stage].add(deploy.account)
    missing = [env for env in ENVIRONMENTS if not roles[env]]
    expect(not missing, f"no job deploys {', '.join(missing)} with a role", "give each environment a job and a role")
    shared = [(a, b) for i, a in enumerate(ENVIRONMENTS) for b in ENVIRONMENTS[i + 1:] if roles[a] & roles[b]]
    if shared:
        fail(f"{shared[0][0]} and {shared[0][1]} assume the same role ({', '.join(roles[shared[0][0]])})",
             "one deploy role per environment (pipeline/bootstrap.yaml deployed in each account)")
    for env in ("dev", "staging"):
        together = accounts["prod"] & accounts[env]
        expect(not together, f"prod's role is in account {', '.join(sorted(together))}, the same as {env}'s",
               "put production in an account of its own: a mistake in dev must not be able to touch it")


# -- 06.7 ------------------------------------------------------------------------------------

def _glob_matches(pattern: str, value: str, like: bool) -> bool:
    if not like:
        return pattern == value
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value) is not None


def _scenarios(document: dict) -> list[dict[str, str]]:
    """Parameter sets to evaluate a bootstrap template with: one per environment it can be deployed as."""
    scenarios = []
    for name, spec in (document.get("Parameters") or {}).items():
        values = [str(v) for v in (spec or {}).get("AllowedValues", [])]
        if any(stage_of(v) in ENVIRONMENTS for v in values):
            scenarios += [{name: v} for v in values]
    return scenarios or [{}]


def _github_trust(workspace: Path) -> tuple[list[dict], list[str]]:
    """The statements that let GitHub's OIDC tokens assume a role, evaluated; and problems with providers."""
    statements, problems = [], []
    for path, document in _templates(workspace):
        for lid, resource in _resources(document).items():
            if resource.get("Type") != "AWS::IAM::OIDCProvider":
                continue
            properties = resource.get("Properties") or {}
            try:
                url = str(Evaluator(document, {}).value(properties.get("Url", "")))
                clients = Evaluator(document, {}).value(properties.get("ClientIdList", []))
            except (Unresolved, ValueError, TypeError, IndexError, KeyError, AttributeError):
                continue
            if GITHUB_OIDC in url and "sts.amazonaws.com" not in clients:
                problems.append(f"{lid} in {_rel(workspace, path)} lists client ids {clients}, not sts.amazonaws.com")
        for scenario in _scenarios(document):
            evaluator = Evaluator(document, scenario)
            for lid, resource in _resources(document).items():
                if resource.get("Type") != "AWS::IAM::Role":
                    continue
                try:
                    if not evaluator.resource_exists(resource):
                        continue
                    policy = evaluator.value((resource.get("Properties") or {}).get("AssumeRolePolicyDocument") or {})
                except (Unresolved, ValueError, TypeError, IndexError, KeyError, AttributeError) as exc:
                    problems.append(f"the trust policy of {lid} cannot be read: {exc}")
                    continue
                raw = policy.get("Statement", []) if isinstance(policy, dict) else []
                for statement in raw if isinstance(raw, list) else [raw]:
                    if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
                        continue
                    actions = statement.get("Action", [])
                    actions = actions if isinstance(actions, list) else [actions]
                    federated = (statement.get("Principal") or {}).get("Federated", []) if isinstance(statement.get("Principal"), dict) else []
                    federated = federated if isinstance(federated, list) else [federated]
                    tests = statement.get("Condition") if isinstance(statement.get("Condition"), dict) else {}
                    keyed = any(str(k).lower().startswith(GITHUB_OIDC + ":")
                                for t in tests.values() if isinstance(t, dict) for k in t)
                    if not (any(GITHUB_OIDC in str(f) for f in federated) or (federated and keyed)):
                        continue
                    if not any(a in ("sts:AssumeRoleWithWebIdentity", "sts:*", "*") for a in actions):
                        continue
                    where = f"{lid} ({_rel(workspace, path)}" + (f", {', '.join(f'{k}={v}' for k, v in scenario.items())})" if scenario else ")")
                    statements.append({"where": where, **_claims(statement.get("Condition") or {})})
    return statements, problems


def _claims(condition: dict) -> dict:
    """aud values and sub patterns of a trust statement: {'aud': [(value, like)], 'sub': [(pattern, like)]}."""
    claims: dict[str, list[tuple[str, bool]]] = {"aud": [], "sub": []}
    for operator, tests in condition.items():
        base = str(operator).split(":")[-1]
        if base not in ("StringEquals", "StringLike") or not isinstance(tests, dict):
            continue
        for key, values in tests.items():
            claim = str(key).lower()
            if not claim.startswith(GITHUB_OIDC + ":"):
                continue
            name = claim.split(":", 1)[1]
            if name in claims:
                claims[name] += [(str(v), base == "StringLike") for v in (values if isinstance(values, list) else [values])]
    return claims


@pytest.mark.checkpoint("06.7", points=2)
def test_oidc_trust_policies_are_bound_to_the_repository_and_production(workspace):
    """Each deploy role trusts GitHub's tokens for sts.amazonaws.com from this repository only; prod's only from the production environment."""
    statements, problems = _github_trust(workspace)
    expect(not problems, "; ".join(problems[:2]), "fix the OIDC provider or the trust policy named above")
    expect(statements, "no IAM role in the workspace trusts GitHub's OIDC provider (token.actions.githubusercontent.com)",
           "add a bootstrap template (e.g. pipeline/bootstrap.yaml) with the OIDC provider and a deploy role per account")
    try:
        workflow = load_workflow(workspace)
        prod_jobs = workflow.jobs_deploying("prod")
        production = next((workflow.jobs[j].environment for j in prod_jobs if workflow.jobs[j].environment), "production")
    except PipelineError:
        production = "production"
    admitting = []
    for statement in statements:
        where = statement["where"]
        expect(statement["aud"] and all(value == "sts.amazonaws.com" for value, _ in statement["aud"]),
               f"{where} does not require the audience sts.amazonaws.com",
               'add StringEquals "token.actions.githubusercontent.com:aud": sts.amazonaws.com')
        expect(statement["sub"], f"{where} admits a token of any repository on GitHub (no sub condition)",
               'bind it: StringEquals "token.actions.githubusercontent.com:sub": repo:OWNER/REPO:...')
        for pattern, like in statement["sub"]:
            bound = re.fullmatch(r"repo:([^:/*?]+/[^:/*?]+):(.+)", pattern)
            expect(bound and not (like and re.search(r"[*?]", bound.group(1))),
                   f"{where} admits {pattern!r}: not bound to one repository",
                   "name the repository exactly: repo:OWNER/REPO:...")
        repository = re.fullmatch(r"repo:([^:]+):.*", statement["sub"][0][0]).group(1)
        wanted = f"repo:{repository}:environment:{production}"
        if any(_glob_matches(p, wanted, like) for p, like in statement["sub"]):
            admitting.append(statement)
            leaks = [p for p, _ in statement["sub"] if p != wanted]
            if leaks:
                fail(f"{where} admits {production} but also {leaks[0]}: a job without the gate could deploy to prod",
                     f"prod's role admits only repo:OWNER/REPO:environment:{production}")
    expect(admitting, f"no role admits the sub claim repo:OWNER/REPO:environment:{production}: "
           "the prod job declares an environment, so its token's sub names the environment, not the branch",
           f"the prod account's role must trust repo:OWNER/REPO:environment:{production}")


# -- 06.8 ------------------------------------------------------------------------------------

@pytest.mark.checkpoint("06.8", points=3)
def test_the_pipeline_runs_stage_by_stage_and_stops_at_the_gate(target, workspace, stack_prefix, aws):
    """A local dry run of the workflow deploys dev then staging, each in its account, waits before prod, and deploys prod once approved."""
    if target.name != "local":
        pytest.skip("the dry run deploys into local accounts; on aws, run the workflow on GitHub")
    prefix = f"{stack_prefix}-pipe"
    runs = []
    try:
        try:
            first = run(workspace, target, prefix=prefix)
        except PipelineError as exc:
            fail(f"the workflow cannot be dry-run: {exc}", "fix .github/workflows/deploy.yml")
        runs.append(first)
        expect(any(j.deploys for j in first.jobs) or first.stopped_at_gate,
               f"{first.workflow.name} runs no sam deploy", "deploy each environment with sam deploy --config-env <env>")
        failed = [d for d in (x for j in first.jobs for x in j.deploys) if d.status == "failed"]
        if failed:
            fail(f"job {failed[0].job} failed: {failed[0].message}",
                 "fix that job's sam deploy (its template, samconfig.toml config env or role)")
        early = [d for d in first.deployed if d.stage == "prod"]
        if early:
            fail(f"the pipeline deployed prod (job {early[0].job}) with nobody approving it",
                 "run the prod job in `environment: production` (with required reviewers), after dev and staging")
        expect(first.stopped_at_gate, "the pipeline never stops for an approval", "put the prod job behind `environment: production`")
        stages = first.deployed_stages
        expect("dev" in stages and "staging" in stages,
               f"before the gate the pipeline deployed {', '.join(stages) or 'nothing'}, not dev and staging",
               "deploy dev, then staging, before the prod job")
        expect(stages.index("dev") < stages.index("staging"), "staging was deployed before dev", "staging needs dev")
        second = run(workspace, target, prefix=prefix, approve=True)
        runs.append(second)
        failed = [j for j in second.jobs if j.status != "succeeded"]
        if failed:
            fail(f"once approved, job {failed[0].job} {failed[0].status}: {failed[0].message}", "fix that job")
        prod = [d for d in second.deployed if d.stage == "prod"]
        expect(prod, "once approved, the pipeline still deploys no prod", "deploy prod in the gated job")
        dev = [d for d in second.deployed if d.stage == "dev"]
        shared = {d.account for d in prod} & {d.account for d in dev}
        expect(not shared, f"dev and prod are deployed into the same account ({', '.join(sorted(shared))})",
               "give prod a role in an account of its own")
        for deploy in second.deployed:
            try:
                account, parameters = _stack_account(aws, deploy.account, deploy.stack_name)
            except Exception as exc:  # noqa: BLE001 - what the account holds is the verdict
                fail(f"{deploy.stage or deploy.job}: no stack {deploy.stack_name} in account {deploy.account} ({exc})",
                     "the stage must deploy into the account of the role it assumes")
            expect(account == deploy.account,
                   f"{deploy.stage}: stack {deploy.stack_name} is in account {account}, not in {deploy.account} (its role's)",
                   "each stage deploys into the account of the role it assumes")
            wrong = {k: parameters.get(k) for k, v in deploy.parameters.items() if parameters.get(k) != v}
            expect(not wrong, f"{deploy.stage}: the stack in account {account} has {wrong}, not {deploy.parameters}",
                   "each environment's stack must keep its own parameters: one account per environment")
    finally:
        for done in runs:
            destroy(done, target)
