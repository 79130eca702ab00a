"""A local dry run of a GitHub Actions deploy workflow: `workshop pipeline NN [--approve]`.

workflow.py reads the workflow as GitHub schedules it (reusable workflows expanded, builds
followed through artifacts); run.py carries it out on the local cloud, each job as the role it
assumes (identity.py: the tree's bootstrap deployed, the role taken with the job's OIDC subject); review.py judges its
shape (tests first, one build promoted, smoke tests, every service in dependency order);
printer.py shows a run.
"""

from .printer import print_run
from .review import (
                  Finding,
                  promoted_builds,
                  service_order,
                  smoke_tests,
                  unit_tests_first,
)
from .run import (
                  BuildResult,
                  CheckResult,
                  DeployResult,
                  JobResult,
                  JobStatus,
                  PipelineRun,
                  StepStatus,
                  destroy,
                  run,
)
from .stages import STAGES, stage_of
from .workflow import PipelineError, SamDeploy, Workflow, find_workflows, load_workflow

__all__ = [
                  "STAGES",
                  "BuildResult",
                  "CheckResult",
                  "DeployResult",
                  "Finding",
                  "JobResult",
                  "JobStatus",
                  "PipelineError",
                  "PipelineRun",
                  "SamDeploy",
                  "StepStatus",
                  "Workflow",
                  "destroy",
                  "find_workflows",
                  "load_workflow",
                  "print_run",
                  "promoted_builds",
                  "run",
                  "service_order",
                  "smoke_tests",
                  "stage_of",
                  "unit_tests_first",
]
