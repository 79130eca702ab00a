"""Module 06: one template per service for every environment, and a pipeline that tests, builds once, promotes and gates.

The checkpoints read the workspace's files (templates, samconfig, the workflow, the bootstrap
template) through workshop's readers (workshop/deploy: templates, samconfig, intrinsics;
workshop/pipeline: the workflow and its review) and, on the local target, deploy every service
into the dev and prod accounts and dry-run the workflow. Every account is reached by boto3.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from checks.support import expect, fail
from workshop import kept
from workshop.deploy import samconfig
from workshop.deploy import template as cfn_templates
from workshop.deploy.intrinsics import (
    EVALUATION_ERRORS,
    Evaluator,
    Unresolved,
    resources,
)
from workshop.deploy.targets import find_templates
from workshop.pipeline import (
    STAGES,
    BuildResult,
    CheckResult,
    JobStatus,
    PipelineError,
    StepStatus,
    Workflow,
    destroy,
    find_workflows,
    load_workflow,
    promoted_builds,
    run,
    service_order,
    smoke_tests,
    stage_of,
    unit_tests_first,
)
from workshop.tree import NOT_SOURCE, TEST_FOLDERS

FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
APP_TYPES = FUNCTION_TYPES + ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine",
                              "AWS::Serverless::Api")
SKIPPED = NOT_SOURCE | TEST_FOLDERS
TEMPLATE_SUFFIXES = {".yaml", ".yml", ".json", ".template"}
GITHUB_OIDC = "token.actions.githubusercontent.com"
# An access key id: four capitals then sixteen; spelt in pieces so this file holds none.
KEY_ID = re.compile(r"\b(?:" + "AK" + "IA|AS" + "IA)" + r"[A-Z0-9]{16}\b")
KEY_NAMES = re.compile(r"AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|aws-access-key-id|aws-secret-access-key")
KEY_SECRETS = re.compile(r"secrets\.\w*(?:ACCESS_KEY|SECRET_KEY)\w*", re.IGNORECASE)


# -- the workspace's files -------------------------------------------------------------------

def _files(workspace: Path, skip: frozenset[str] = SKIPPED) -> list[Path]:
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
        found.append((path, document))
    return found


def _is_app(document: dict) -> bool:
    transform = document.get("Transform")
    transforms = transform if isinstance(transform, list) else [transform]
    return "AWS::Serverless-2016-10-31" in transforms or any(
        r.get("Type") in APP_TYPES for r in resources(document).values())


def _app_templates(workspace: Path) -> list[tuple[Path, dict]]:
    """The templates that hold the application (SAM templates, or any with functions or workflows)."""
    return [(p, d) for p, d in _templates(workspace) if _is_app(d)]


def _services(workspace: Path) -> dict[Path, list[tuple[Path, dict]]]:
    """service folder -> its application templates (one, or drifted copies)."""
    grouped: dict[Path, list[tuple[Path, dict]]] = {}
    for path, document in _app_templates(workspace):
        grouped.setdefault(path.parent, []).append((path, document))
    return grouped


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
    fail(unreadable[0] if unreadable else "no SAM template in the workspace",
         "fix the template's YAML" if unreadable else "keep each service's SAM template (services/<name>/template.yaml)")


def _rel(workspace: Path, path: Path) -> str:
    return path.relative_to(workspace).as_posix() if path.is_relative_to(workspace) else str(path)


def _function_setting(document: dict, logical_id: str, name: str, default: Any = None) -> Any:
    """A function's property as written: its own, else the Globals' (SAM functions), else default."""
    resource = resources(document).get(logical_id, {})
    properties = resource["Properties"] if isinstance(resource.get("Properties"), dict) else {}
    if name in properties:
        return properties[name]
    if resource.get("Type") == "AWS::Serverless::Function":
        globals_ = document["Globals"] if isinstance(document.get("Globals"), dict) else {}
        globals_ = globals_["Function"] if isinstance(globals_.get("Function"), dict) else {}
        if name in globals_:
            return globals_[name]
    return default


def _drift(copies: list[tuple[Path, dict]]) -> str:
    """What differs between copies of a template, in a few words."""
    notes = []
    for setting in ("MemorySize", "Timeout", "Runtime"):
        values = []
        for _, document in copies:
            functions = [k for k, r in resources(document).items() if r.get("Type") in FUNCTION_TYPES]
            values.append(str(_function_setting(document, functions[0], setting, "-")) if functions else "-")
        if len(set(values)) > 1:
            notes.append(f"{setting} {'/'.join(values)}")
    ids = [set(resources(d)) for _, d in copies]
    partial = sorted(set[str]().union(*ids) - ids[0].intersection(*ids))
    if partial:
        notes.append(f"{', '.join(partial[:3])} only in some")
    return "; ".join(notes)


def _config(folder: Path) -> tuple[Path | None, dict | None, str | None]:
    """The samconfig file the SAM CLI reads in folder, its tables, and why it cannot be read."""
    path = samconfig.find(folder)
    if path is None:
        return None, None, None
    try:
        return path, samconfig.load(path), None
    except samconfig.SamConfigError as exc:
        return path, None, str(exc)


def _config_envs(config: dict | None) -> dict[str, str]:
    """stage -> the config env that deploys it: dev or development, staging or test, prod or production."""
    found: dict[str, str] = {}
    for name in samconfig.environments(config or {}):
        stage = stage_of(name)
        if stage and stage not in found and samconfig.parameters(config or {}, name) is not None:
            found[stage] = name
    return found


def _workflow(workspace: Path) -> Workflow:
    try:
        return load_workflow(workspace)
    except PipelineError as exc:
        fail(f"the deploy workflow cannot be read: {exc}",
             "add .github/workflows/deploy.yml with a job per environment that runs sam deploy --config-env <env>")
    raise AssertionError("unreachable")


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

def _mechanisms_missing(document: dict) -> list[str]:
    has_functions = any(r.get("Type") == "AWS::Serverless::Function" for r in resources(document).values())
    sections = ("Parameters", "Mappings", "Conditions") + (("Globals",) if has_functions else ())
    missing = [s for s in sections if not document.get(s)]
    if missing:
        return [f"no {', '.join(missing)}"]
    body = {k: v for k, v in document.items() if k not in ("Parameters", "Mappings", "Conditions")}
    unused = []
    if not _uses(body, "Fn::FindInMap"):
        unused.append("no value is taken from the Mappings (Fn::FindInMap)")
    sections_used = [v for key in ("Resources", "Outputs") if isinstance(document.get(key), dict)
                     for v in document[key].values() if isinstance(v, dict)]
    if not (any(v.get("Condition") for v in sections_used) or _uses(body, "Fn::If")):
        unused.append("no resource uses a Condition")
    if not any(_refers_to(body, p) for p in document["Parameters"]):
        unused.append("no parameter is used")
    if has_functions and not (isinstance(document["Globals"], dict) and document["Globals"].get("Function")):
        unused.append("Globals has no Function section")
    return unused


@pytest.mark.checkpoint("06.1", points=2)
def test_one_template_per_service_for_every_environment(workspace):
    """One template per service, adapting with Parameters, Mappings, Conditions (and Globals for functions); cfn-lint clean."""
    services = _services(workspace)
    if not services:
        _no_app_template(workspace)
    for folder, copies in sorted(services.items()):
        if len(copies) > 1:
            names = ", ".join(_rel(workspace, p) for p, _ in copies)
            drift = _drift(copies)
            fail(f"{_rel(workspace, folder) or '.'} has {len(copies)} copies of its template ({names})"
                 + (f" that have drifted: {drift}" if drift else ""),
                 "merge them into one template.yaml; what differs per environment goes into Parameters, Mappings and Conditions")
    for _folder, ((path, document),) in sorted(services.items()):
        problems = _mechanisms_missing(document)
        expect(not problems, f"{_rel(workspace, path)}: {'; '.join(problems)}",
               "an Environment parameter, per-environment values from a mapping keyed by it, prod-only resources "
               "under a Condition, shared function settings in Globals.Function")
    paths = [p for copies in services.values() for p, _ in copies]
    # cfn-lint reads the templates and its config files (.cfnlintrc here or at home), nothing else
    configs = [folder / f".cfnlintrc{suffix}" for folder in (workspace, Path.home()) for suffix in ("", ".yaml", ".yml")]
    try:
        lint = kept.run("cfn-lint", ["--format", "parseable", "--", *[_rel(workspace, p) for p in paths]], workspace,
                        paths + configs, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        fail(f"cfn-lint could not run: {exc}", "reinstall the course's environment (make setup)")
    # cfn-lint's exit code is a bit mask: 2 errors, 4 warnings, 8 informational
    findings = [line for line in lint.stdout.splitlines() if line.strip()]
    expect(lint.returncode & 6 == 0 and lint.returncode < 16,
           f"cfn-lint: {'; '.join(findings[:2]) or lint.stderr.strip()[-200:]}",
           "run `cfn-lint services/*/template.yaml` and fix what it reports")


# -- 06.2 ------------------------------------------------------------------------------------

def _parameters_for(folder: Path, document: dict, env: str) -> dict[str, str]:
    """What `sam deploy --config-env <env>` passes, else the parameter whose allowed values name env."""
    _, config, _ = _config(folder)
    names = _config_envs(config)
    if config is not None and env in names:
        found = samconfig.overrides(config, names[env])
        if found is not None:
            return found
    parameters = {}
    for name, spec in (document.get("Parameters") or {}).items():
        allowed = [str(v) for v in (spec or {}).get("AllowedValues", [])]
        chosen = next((v for v in allowed if stage_of(v) == env), None)
        if chosen:
            parameters[name] = chosen
    return parameters


def _deploy_order(plan: list[tuple[Path, dict, str]], parameters: dict[Path, dict[str, str]]) -> list[tuple[Path, dict, str]]:
    """The services in an order that deploys exports before their imports (else as found)."""
    links = {}
    for path, document, name in plan:
        evaluator = Evaluator(document, parameters[path], {"AWS::StackName": name})
        links[path] = (set(evaluator.exports()), set(evaluator.imports()))
    ordered: list[tuple[Path, dict, str]] = []
    pending = list(plan)
    while pending:
        exported_later = {e for p, _, _ in pending for e in links[p][0]}
        ready = next((item for item in pending if not links[item[0]][1] & exported_later), pending[0])
        ordered.append(ready)
        pending.remove(ready)
    return ordered


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
    """Every service deployed into the dev and the prod account: memory as the template maps it (dev below prod),
    prod-only resources only in prod, nothing else differs."""
    if not target.grading_deploys:
        pytest.skip("dev and prod live in two accounts: this checkpoint deploys both on the local target only")
    services = _services(workspace)
    if not services:
        _no_app_template(workspace)
    copies = [f for f, c in services.items() if len(c) > 1]
    expect(not copies, f"{_rel(workspace, copies[0]) if copies else ''} still has a template per environment",
           "deploy every environment from one template per service")
    names = {folder: f"{stack_prefix}-{folder.name}" for folder in services}
    plans = {}
    for env in ("dev", "prod"):
        items = []
        parameters = {}
        for folder, ((path, document),) in services.items():
            parameters[path] = _parameters_for(folder, document, env)
            items.append((path, document, names[folder]))
        plans[env] = (_deploy_order(sorted(items, key=lambda i: str(i[0])), parameters), parameters)
    deployed: dict[str, dict[Path, Any]] = {"dev": {}, "prod": {}}
    try:
        for env, (ordered, parameters) in plans.items():
            for _path, _, name in reversed(ordered):
                target.destroy_stack(name, env)
            for path, _, name in ordered:
                try:
                    deployed[env][path] = target.deploy_template(path, name, env, parameters[path])
                except Exception as exc:  # noqa: BLE001 - a deploy error is the learner's to fix
                    fail(f"{_rel(workspace, path)} does not deploy as {env} (parameters {parameters[path]}): {exc}",
                         "fix the template or its samconfig overrides for that environment")
        problems = _compare(aws, workspace, services, plans, deployed, names)
        expect(not problems, "; ".join(problems[:3]),
               "deploy one template everywhere: memory from the mapping, prod-only resources under a Condition, "
               "everything else identical, dev and prod in their own accounts")
    finally:
        for env, (ordered, _) in plans.items():
            for _, _, name in reversed(ordered):
                try:
                    target.destroy_stack(name, env)
                except Exception:  # noqa: BLE001, S110 - cleaning up is best effort
                    pass


def _expected(document: dict, parameters: dict[str, str], written: Any) -> Any:
    try:
        return Evaluator(document, parameters).value(written)
    except (Unresolved, *EVALUATION_ERRORS):
        return None


# SAM names these after a hash of what they hold (a layer's: its code's S3 location, so each account's
# bucket gives another suffix): the same resource in dev and prod, under two logical ids.
HASHED_BY_SAM = {"AWS::Lambda::LayerVersion", "AWS::Lambda::Version", "AWS::ApiGateway::Deployment"}


def _stable_id(logical_id: str, kind: str) -> str:
    return re.sub(r"[0-9a-f]{10}$", "", logical_id) if kind in HASHED_BY_SAM else logical_id


def _compare(aws, workspace, services, plans, deployed, names) -> list[str]:
    problems = []
    memory: dict[str, set[int]] = {"dev": set(), "prod": set()}
    for folder, ((path, document),) in sorted(services.items()):
        where = _rel(workspace, folder) or "."
        accounts = {env: _stack_account(aws, env, names[folder])[0] for env in ("dev", "prod")}
        if accounts["dev"] == accounts["prod"]:
            problems.append(f"{where}: the dev and prod stacks are both in account {accounts['dev']}")
        found = {env: {(_stable_id(r["logicalId"], r["type"]), r["type"]) for r in deployed[env][path].resources
                       if r["logicalId"] and r["type"]}
                 for env in ("dev", "prod")}
        only_prod, only_dev = found["prod"] - found["dev"], found["dev"] - found["prod"]
        if not only_prod:  # every copy of the start had an alarm somewhere: it belongs to prod
            problems.append(f"{where}: prod has no resource that dev lacks (no prod-only alarm)")
        conditional = {k for k, r in resources(document).items() if r.get("Condition")}
        if only_dev:
            problems.append(f"{where}: dev has {', '.join(sorted(i for i, _ in only_dev)[:3])}, which prod lacks")
        unexplained = sorted(i for i, _ in only_prod if not any(i == c or i.startswith(c) for c in conditional))
        if unexplained:
            problems.append(f"{where}: {', '.join(unexplained[:3])} exist only in prod, but no Condition in the "
                            "template makes them prod-only")
        configs = {env: _function_configs(aws, env, deployed[env][path]) for env in ("dev", "prod")}
        notes: dict[str, list[str]] = {}
        for function in sorted(set(configs["dev"]) & set(configs["prod"])):
            for setting in ("MemorySize", "Timeout", "Runtime", "Handler"):
                seen = {env: configs[env][function].get(setting) for env in configs}
                written = _function_setting(document, function, setting)
                if setting == "MemorySize":
                    memory["dev"].add(seen["dev"] or 0)  # Lambda always reports MemorySize
                    memory["prod"].add(seen["prod"] or 0)
                if isinstance(written, dict):  # chosen per environment: as the template evaluates
                    for env in ("dev", "prod"):
                        expected = _expected(document, plans[env][1][path], written)
                        if expected is not None and str(expected) != str(seen[env]):
                            notes.setdefault(f"{setting} in {env} is {seen[env]}, the template gives {expected}",
                                             []).append(function)
                elif seen["dev"] != seen["prod"]:
                    notes.setdefault(f"{setting} differs: {seen['dev']} in dev, {seen['prod']} in prod", []).append(function)
            variables = {env: set((configs[env][function].get("Environment") or {}).get("Variables", {}))
                         for env in configs}
            if variables["dev"] != variables["prod"]:
                notes.setdefault(f"environment variables differ: {', '.join(sorted(variables['dev'] ^ variables['prod']))}",
                                 []).append(function)
        problems += [f"{where}: {note} ({', '.join(fs[:2])}{'…' if len(fs) > 2 else ''})" for note, fs in notes.items()]
    if memory["dev"] and memory["prod"] and not max(memory["dev"]) < min(memory["prod"]):
        problems.append(f"functions get {'/'.join(map(str, sorted(memory['dev'])))} MB in dev and "
                        f"{'/'.join(map(str, sorted(memory['prod'])))} MB in prod: memory is not mapped per environment "
                        "(dev smaller than prod)")
    return problems


# -- 06.3 ------------------------------------------------------------------------------------

@pytest.mark.checkpoint("06.3", points=1)
def test_samconfig_environments_differ_only_in_overrides(workspace):
    """Beside each service's template, a samconfig (toml, yaml or yml) with dev, staging and prod config
    environments that differ only in parameter_overrides."""
    services = _services(workspace)
    if not services:
        _no_app_template(workspace)
    for folder, copies in sorted(services.items()):
        where = _rel(workspace, folder) or "."
        path, config, problem = _config(folder)
        expect(path is not None, f"no samconfig.toml (or .yaml) in {where}",
               f"add {where}/samconfig.toml with [dev.deploy.parameters], [staging.deploy.parameters] and [prod.deploy.parameters]")
        shown = _rel(workspace, path)
        expect(config is not None, f"{shown}: {problem}", "fix its syntax")
        names = _config_envs(config)
        missing = [env for env in STAGES if env not in names]
        if missing:
            fail(f"{shown} has no {', '.join(f'[{env}.deploy.parameters]' for env in missing)}",
                 "add a config environment per environment: sam deploy --config-env dev|staging|prod")
        options = {env: dict(samconfig.parameters(config, names[env]) or {}) for env in STAGES}
        for env in STAGES:
            options[env].pop("parameter_overrides", None)
        for env in ("staging", "prod"):
            keys = sorted(k for k in set(options["dev"]) | set(options[env]) if options["dev"].get(k) != options[env].get(k))
            expect(not keys, f"{shown}: [{names[env]}] differs from [{names['dev']}] beyond parameter_overrides: "
                   + ", ".join(f"{k} ({options['dev'].get(k)!r} vs {options[env].get(k)!r})" for k in keys[:3]),
                   "keep every other setting identical; what differs per environment belongs in parameter_overrides")
        overrides = {env: samconfig.overrides(config, names[env]) or {} for env in STAGES}
        empty = [env for env, o in overrides.items() if not o]
        if empty:
            fail(f"{shown}: {', '.join(f'[{names[env]}]' for env in empty)} has no parameter_overrides",
                 'give each environment its parameter, e.g. parameter_overrides = "Environment=prod"')
        same = [(a, b) for i, a in enumerate(STAGES) for b in STAGES[i + 1:] if overrides[a] == overrides[b]]
        if same:
            fail(f"{shown}: {same[0][0]} and {same[0][1]} get the same parameter_overrides ({overrides[same[0][0]]})",
                 "each environment passes its own name: Environment=dev, Environment=staging, Environment=prod")
        if len(copies) == 1:
            declared = set(copies[0][1].get("Parameters") or {})
            unknown = sorted({k for o in overrides.values() for k in o} - declared)
            expect(not unknown, f"{shown}: parameter_overrides set {', '.join(unknown)}, which "
                   f"{_rel(workspace, copies[0][0])} does not declare", "override only the template's Parameters")


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
    """The workflows pass GitHub's schema, the deploying jobs ask for id-token: write, and no AWS key is stored anywhere."""
    workflows = find_workflows(workspace)
    expect(workflows, "no workflow in .github/workflows/", "add .github/workflows/deploy.yml")
    for path in workflows:
        try:  # the schema is built in: the workflow file is all it reads
            done = kept.run("check-jsonschema", ["--builtin-schema", "vendor.github-workflows", _rel(workspace, path)],
                            workspace, [path], timeout=120)
        except (OSError, subprocess.TimeoutExpired) as exc:
            fail(f"check-jsonschema could not run: {exc}", "reinstall the course's environment (make setup)")
        expect(done.returncode == 0, f"{_rel(workspace, path)} is not a valid GitHub workflow: "
               f"{_schema_error(done.stdout + done.stderr, Path(_rel(workspace, path)))}",
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
        named = KEY_NAMES.search(text)
        if secrets:
            stored.append(f"{where} reads {', '.join(secrets)}")
        elif path in workflows and named:
            stored.append(f"{where} passes {named.group(0)}")
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
    by_stage = {env: workflow.jobs_deploying(env) for env in STAGES}
    missing = [env for env in STAGES if not by_stage[env]]
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
    roles: dict[str, set[str]] = {env: set() for env in STAGES}
    accounts: dict[str, set[str]] = {env: set() for env in STAGES}
    for deploy in workflow.deploys:
        stage = deploy.stage
        expect(not deploy.stored_keys, f"job {deploy.job} deploys {stage or deploy.stack_name} with stored access keys: "
               "every environment lands in the one account those keys belong to",
               "assume a role per environment: configure-aws-credentials with role-to-assume (OIDC)")
        expect(deploy.role_arn, f"job {deploy.job} assumes no role before sam deploy",
               "add aws-actions/configure-aws-credentials with role-to-assume before sam deploy")
        expect(deploy.account, f"job {deploy.job}: role-to-assume {deploy.role_arn!r} does not name its account",
               "write the role's full ARN, arn:aws:iam::<account id>:role/<name> (a role ARN is not a secret)")
        if stage and deploy.role_arn and deploy.account:
            roles[stage].add(deploy.role_arn)
            accounts[stage].add(deploy.account)
    missing = [env for env in STAGES if not roles[env]]
    expect(not missing, f"no job deploys {', '.join(missing)} with a role", "give each environment a job and a role")
    shared = [(a, b) for i, a in enumerate(STAGES) for b in STAGES[i + 1:] if roles[a] & roles[b]]
    if shared:
        fail(f"{shared[0][0]} and {shared[0][1]} assume the same role ({', '.join(sorted(roles[shared[0][0]]))})",
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
        if any(stage_of(v) in STAGES for v in values):
            scenarios += [{name: v} for v in values]
    return scenarios or [{}]


def _trust_statements(policy: Any) -> list[dict]:
    raw = policy.get("Statement", []) if isinstance(policy, dict) else []
    return [s for s in (raw if isinstance(raw, list) else [raw]) if isinstance(s, dict) and s.get("Effect") == "Allow"]


def _admits_github(statement: dict) -> bool:
    actions = statement.get("Action", [])
    actions = actions if isinstance(actions, list) else [actions]
    principal = statement.get("Principal")
    federated = principal.get("Federated", []) if isinstance(principal, dict) else []
    federated = federated if isinstance(federated, list) else [federated]
    tests = statement["Condition"] if isinstance(statement.get("Condition"), dict) else {}
    keyed = any(str(k).lower().startswith(GITHUB_OIDC + ":") for t in tests.values() if isinstance(t, dict) for k in t)
    if not (any(GITHUB_OIDC in str(f) for f in federated) or (federated and keyed)):
        return False
    return any(a in ("sts:AssumeRoleWithWebIdentity", "sts:*", "*") for a in actions)


def _github_trust(workspace: Path) -> tuple[list[dict], list[str]]:
    """The statements that let GitHub's OIDC tokens assume a role, evaluated; and problems with providers."""
    statements, problems = [], []
    for path, document in _templates(workspace):
        for lid, resource in resources(document).items():
            if resource.get("Type") != "AWS::IAM::OIDCProvider":
                continue
            properties = resource.get("Properties") or {}
            try:
                url = str(Evaluator(document).value(properties.get("Url", "")))
                clients = Evaluator(document).value(properties.get("ClientIdList", []))
            except (Unresolved, *EVALUATION_ERRORS):
                continue
            if GITHUB_OIDC in url and "sts.amazonaws.com" not in clients:
                problems.append(f"{lid} in {_rel(workspace, path)} lists client ids {clients}, not sts.amazonaws.com")
        for scenario in _scenarios(document):
            evaluator = Evaluator(document, scenario)
            for lid, resource in resources(document).items():
                if resource.get("Type") != "AWS::IAM::Role":
                    continue
                try:
                    if not evaluator.resource_exists(resource):
                        continue
                    policy = evaluator.value((resource.get("Properties") or {}).get("AssumeRolePolicyDocument") or {})
                except (Unresolved, *EVALUATION_ERRORS) as exc:
                    problems.append(f"the trust policy of {lid} cannot be read: {exc}")
                    continue
                for statement in _trust_statements(policy):
                    if not _admits_github(statement):
                        continue
                    where = f"{lid} ({_rel(workspace, path)}" + (
                        f", {', '.join(f'{k}={v}' for k, v in scenario.items())})" if scenario else ")")
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
    """Each deploy role trusts GitHub's tokens for sts.amazonaws.com from this repository only;
    prod's only from the production environment."""
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
        repository = re.fullmatch(r"repo:([^:]+):.*", statement["sub"][0][0])
        wanted = f"repo:{repository.group(1) if repository else 'OWNER/REPO'}:environment:{production}"
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
def test_the_pipeline_runs_stage_by_stage_and_stops_at_the_gate(target, workspace, aws):
    """A local dry run of the workflow: tests, build, dev then staging each in its account with its smoke test,
    a stop before prod, and prod once approved."""
    if not target.grading_deploys:
        pytest.skip("the dry run deploys into local accounts; on aws, run the workflow on GitHub")
    try:
        pipeline = run(workspace, target)
    except PipelineError as exc:
        fail(f"the workflow cannot be dry-run: {exc}", "fix .github/workflows/deploy.yml")
    try:
        _judge_the_run(pipeline, aws)
    finally:
        destroy(pipeline, target)


def _judge_the_run(pipeline, aws) -> None:
    expect(any(j.deploys for j in pipeline.jobs) or pipeline.stopped_at_gate,
           f"{pipeline.workflow.name} runs no sam deploy", "deploy each environment with sam deploy --config-env <env>")
    _no_failure(pipeline, "")
    early = [d for d in pipeline.deployed if d.stage == "prod"]
    if early:
        fail(f"the pipeline deployed prod (job {early[0].job}) with nobody approving it",
             "run the prod job in `environment: production` (with required reviewers), after dev and staging")
    expect(pipeline.stopped_at_gate, "the pipeline never stops for an approval", "put the prod job behind `environment: production`")
    stages = pipeline.deployed_stages
    expect("dev" in stages and "staging" in stages,
           f"before the gate the pipeline deployed {', '.join(stages) or 'nothing'}, not dev and staging",
           "deploy dev, then staging, before the prod job")
    expect(stages.index("dev") < stages.index("staging"), "staging was deployed before dev", "staging needs dev")
    pipeline.approve()
    _no_failure(pipeline, "once approved, ")
    prod = [d for d in pipeline.deployed if d.stage == "prod"]
    expect(prod, "once approved, the pipeline still deploys no prod", "deploy prod in the gated job")
    dev = [d for d in pipeline.deployed if d.stage == "dev"]
    shared = {d.account for d in prod} & {d.account for d in dev}
    expect(not shared, f"dev and prod are deployed into the same account ({', '.join(sorted(str(a) for a in shared))})",
           "give prod a role in an account of its own")
    for deploy in pipeline.deployed:
        try:
            account, parameters = _stack_account(aws, str(deploy.account), deploy.stack_name)
        except Exception as exc:  # noqa: BLE001 - what the account holds is the verdict
            fail(f"{deploy.stage or deploy.job}: no stack {deploy.stack_name} in account {deploy.account} ({exc})",
                 "the stage must deploy into the account of the role it assumes")
        if deploy.stage == "prod" or deploy.stage == "dev":
            expect(account == deploy.account,
                   f"{deploy.stage}: stack {deploy.stack_name} is in account {account}, not in {deploy.account} (its role's)",
                   "each stage deploys into the account of the role it assumes")
            wrong = {k: parameters.get(k) for k, v in deploy.parameters.items() if parameters.get(k) != v}
            expect(not wrong, f"{deploy.stage}: the stack {deploy.stack_name} in account {account} has {wrong}, "
                   f"not {deploy.parameters}", "each environment's stack must keep its own parameters: one account per environment")


def _no_failure(pipeline, when: str) -> None:
    for job in pipeline.jobs:
        if job.status != JobStatus.FAILED:
            continue
        step = next((s for s in job.steps if s.status == StepStatus.FAILED), None)
        what = ("smoke test" if step.smoke else "unit tests") if isinstance(step, CheckResult) else \
            "build" if isinstance(step, BuildResult) else "deploy"
        fail(f"{when}job {job.job} failed in its {what}: {job.message}",
             "fix what that step reports (its template, samconfig config env, role, tests or smoke test)")


# -- 06.9 - 06.12: the pipeline's shape ---------------------------------------------------------

def _review(workspace: Path, judge) -> None:
    workflow = _workflow(workspace)
    expect(workflow.deploys, f"{workflow.path.name} runs no sam deploy",
           "deploy each environment with sam deploy --config-env <env>")
    findings = judge(workflow)
    if findings:
        fail(findings[0].saw, findings[0].fix)


@pytest.mark.checkpoint("06.9", points=1)
def test_unit_tests_run_before_anything_deploys(workspace):
    """Every deployed service's unit tests run (pytest) in a job that the deploying jobs need, before they deploy."""
    _review(workspace, unit_tests_first)


@pytest.mark.checkpoint("06.10", points=2)
def test_built_once_and_promoted(workspace):
    """Each service is built once; dev, staging and prod deploy that build (carried by an artifact), never a rebuild."""
    _review(workspace, promoted_builds)


@pytest.mark.checkpoint("06.11", points=1)
def test_a_smoke_test_follows_every_stage(workspace):
    """Every deploying job calls what it deployed after its last sam deploy (the dry run of 06.8 runs it)."""
    _review(workspace, smoke_tests)


@pytest.mark.checkpoint("06.12", points=1)
def test_every_service_deploys_in_dependency_order(workspace):
    """Each stage deploys every service's template, each after the stacks whose exports it imports."""
    services = find_templates(workspace)
    _review(workspace, lambda workflow: service_order(workflow, services))
