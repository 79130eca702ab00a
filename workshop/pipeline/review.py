"""What a reviewer checks in a deploy workflow's shape, read without running it.

Each judgement returns findings (what was seen, what to change), empty when the workflow
does it right: the unit tests run before anything deploys; every service is built once and
that build is what every stage deploys; every stage ends with a smoke test; every stage
deploys every service, each after the services whose exports it imports.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..deploy import template as templates
from ..deploy.intrinsics import Evaluator
from .stages import STAGES
from .workflow import Check, SamDeploy, Workflow


@dataclass(frozen=True)
class Finding:
    saw: str
    fix: str


def _shown(workflow: Workflow, path: Path | None) -> str:
    if path is None:
        return "?"
    return path.relative_to(workflow.root).as_posix() if path.is_relative_to(workflow.root) else str(path)


def _paths(check: Check) -> list[Path]:
    """The files and folders a pytest command names (none: everything under its folder)."""
    return [(check.workdir / a).resolve() for a in check.arguments[2:] if not a.startswith("-")]


def _covers(check: Check, folder: Path) -> bool:
    if check.workdir == folder or check.workdir.is_relative_to(folder):
        return True
    named = _paths(check)
    if named:
        return any(p == folder or p.is_relative_to(folder) for p in named)
    return folder.is_relative_to(check.workdir)


def unit_tests_first(workflow: Workflow) -> list[Finding]:
    """Every deployed service's unit tests run (pytest) in the deploying job or a job it needs, before it deploys."""
    findings = []
    for job_id in workflow.order():
        job = workflow.jobs[job_id]
        if not job.deploys:
            continue
        jobs = [job_id, *sorted(workflow.upstream(job_id))]
        unit = [c for j in jobs for c in workflow.jobs[j].checks if c.runs_pytest and not c.after_deploy]
        if not unit:
            findings.append(Finding(
                f"job {job_id} deploys before any unit test runs (no pytest in it or in a job it needs)",
                "run each service's unit tests (python -m pytest in services/<name>) in a job that every deploy job needs"))
            continue
        for deploy in job.deploys:
            folder = deploy.template.parent if deploy.template else None
            if folder is not None and (folder / "tests").is_dir() and not any(_covers(c, folder) for c in unit):
                findings.append(Finding(
                    f"job {job_id} deploys {_shown(workflow, deploy.template)} but its unit tests "
                    f"({_shown(workflow, folder / 'tests')}) never run before it",
                    f"run python -m pytest in {_shown(workflow, folder)} in the tests job"))
    return findings


def promoted_builds(workflow: Workflow) -> list[Finding]:
    """Each template is built once and every stage deploys that one build (no rebuild, no unbuilt source)."""
    findings = []
    fix = ("sam build once in a build job, upload each .aws-sam/build with actions/upload-artifact, then in every "
           "stage's job download it and sam deploy it (no sam build there)")
    by_service: dict[str, list[SamDeploy]] = {}  # a service's folder: its copies per environment count as one
    for deploy in workflow.deploys:
        folder = deploy.template.parent if deploy.template else None
        by_service.setdefault(_shown(workflow, folder), []).append(deploy)
    for shown, deploys in sorted(by_service.items()):
        unbuilt = [d for d in deploys if d.build is None and not d.problem]
        if unbuilt:
            findings.append(Finding(f"job {unbuilt[0].job} deploys {_shown(workflow, unbuilt[0].template)} from source: "
                                    "no build reaches that job", fix))
            continue
        builds = {d.build.id: d.build.job for d in deploys if d.build is not None}
        if len(builds) > 1:
            jobs = sorted(set(builds.values()))
            findings.append(Finding(
                f"{shown or '.'} is built {len(builds)} times (in job {', '.join(jobs)}): each stage deploys a new build, "
                "not the one the stage before it tested", fix))
    return findings


def smoke_tests(workflow: Workflow) -> list[Finding]:
    """Every deploying job runs a check after its last sam deploy."""
    findings = []
    for job_id in workflow.order():
        job = workflow.jobs[job_id]
        if not job.deploys:
            continue
        last = max(i for i, a in enumerate(job.actions) if isinstance(a, SamDeploy))
        if not any(isinstance(a, Check) for a in job.actions[last + 1:]):
            stages = sorted({d.stage for d in job.deploys if d.stage})
            findings.append(Finding(
                f"job {job_id} deploys {', '.join(stages) or 'its stacks'} and never calls the deployed API after its "
                "last sam deploy: the run succeeds even when the application does not answer",
                "after the deploys, run a smoke test that calls each deployed API and exits non-zero when one does not "
                "answer (python pipeline/smoke_test.py ...)"))
    return findings


def service_order(workflow: Workflow, services: list[Path]) -> list[Finding]:
    """Each stage deploys every service template, each after the stacks whose exports it imports."""
    findings = []
    for stage in STAGES:
        deploys = [d for d in workflow.deploys if d.stage == stage]
        if not deploys:
            continue
        deployed = {d.template.resolve() for d in deploys if d.template}
        missing = [s for s in services if s.resolve() not in deployed]
        if missing:
            findings.append(Finding(f"{stage} never deploys {', '.join(_shown(workflow, m) for m in missing)}",
                                    f"deploy every service in the {stage} job (sam deploy in each service's folder)"))
        findings += _import_order(workflow, stage, deploys)
    return findings


def _import_order(workflow: Workflow, stage: str, deploys: list[SamDeploy]) -> list[Finding]:
    evaluated = []
    for deploy in deploys:
        if deploy.template is None or deploy.problem:
            continue
        try:
            document = templates.load(deploy.template)
        except templates.TemplateError:
            continue
        evaluator = Evaluator(document, deploy.parameters, {"AWS::StackName": deploy.stack_name or "stack"})
        evaluated.append((deploy, evaluator.exports(), evaluator.imports()))
    findings = []
    exported: dict[str, SamDeploy] = {}
    for index, (deploy, exports, imports) in enumerate(evaluated):
        for name in imports:
            if name in exported:
                continue
            later = next((d for d, e, _ in evaluated[index + 1:] if name in e), None)
            if later is not None:
                findings.append(Finding(
                    f"in {stage}, {_shown(workflow, deploy.template)} deploys before {_shown(workflow, later.template)}, "
                    f"whose export {name} it imports: its deploy fails",
                    f"deploy {_shown(workflow, later.template)} first in the {stage} job"))
            else:
                findings.append(Finding(
                    f"in {stage}, {_shown(workflow, deploy.template)} (stack {deploy.stack_name}) imports {name}, "
                    "which no stack of that stage exports",
                    "name the stacks as the imports expect (samconfig's stack_name) and deploy the exporting service"))
        for name in exports:
            exported[name] = deploy
    return findings
