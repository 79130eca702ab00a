"""CloudFormation change sets as `sam deploy` uses them: transformed, executed, rolled back.

moto 5.2.5 keeps a change set's template as given, so `Transform: AWS::Serverless-2016-10-31`
is "CREATE_COMPLETE" with raw AWS::Serverless::Function entries; executing one gives the stack
no Outputs (the output map is never rebuilt), registers no exports, writes only two events, and
a resource that fails leaves the stack half made with no rollback. Here:

- CreateChangeSet applies the SAM transform offline, with the same aws-sam-translator call as
  the local deploy (workshop/deploy/local.py); a template it rejects gives a FAILED change set
  whose StatusReason says why, as CloudFormation does.
- ExecuteChangeSet creates or updates the stack as CreateStack/UpdateStack do (outputs,
  exports, tags), writes an event per resource, and on a failure rolls back: a new stack ends
  ROLLBACK_COMPLETE with nothing left, an update UPDATE_ROLLBACK_COMPLETE on its previous
  template.
- GetTemplate answers the template as submitted (TemplateStage Original, the default) or as
  transformed (Processed); `sam delete` reads the original to find the artifacts it uploaded.
- ListImports, which moto lacks: the stacks whose templates import an export.

https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-changesets.html
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/transform-aws-serverless.html
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.models import CloudFormationBackend, Event, Stack
from moto.cloudformation.parsing import OutputMap
from moto.cloudformation.responses import CloudFormationResponse
from moto.core.responses import ActionResult

from ..sam_transform import SAM_TRANSFORM, TransformError, transform
from .cloudformation import refresh_exports

if TYPE_CHECKING:
    from ..server import LocalCloud

# A stack whose creation failed must be deleted before it can be deployed again.
UNUPDATABLE = ("ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "ROLLBACK_IN_PROGRESS", "REVIEW_IN_PROGRESS")


def _transforms(template: dict[str, Any]) -> list[str]:
    named = template.get("Transform", [])
    return [named] if isinstance(named, str) else list(named)


def processed_template(template_body: str, parameters: dict[str, str], account: str, region: str,
                       stack_name: str) -> str:
    """The template CloudFormation would run: SAM's transform applied; raises ValueError with the reason."""
    template = Stack.parse_template(template_body)
    if not isinstance(template, dict) or SAM_TRANSFORM not in _transforms(template):
        return template_body
    try:
        return json.dumps(transform(template, parameters, account, region, stack_name))
    except TransformError as exc:
        raise ValueError(f"Transform {SAM_TRANSFORM} failed with: {exc}") from None


def _event(stack: Stack, logical_id: str, physical_id: str, kind: str, status: str, reason: str | None = None) -> None:
    stack.events.append(Event(stack_id=stack.stack_id, stack_name=stack.name, logical_resource_id=logical_id,
                              physical_resource_id=physical_id, resource_type=kind, resource_status=status,
                              resource_status_reason=reason, resource_properties=None))


def _resource_events(stack: Stack, verb: str) -> None:
    """CREATE_IN_PROGRESS and CREATE_COMPLETE (or UPDATE_...) for each resource, as the console shows."""
    for logical_id, resource in stack.resource_map._parsed_resources.items():
        if isinstance(resource, str) or logical_id.startswith("AWS::") or not hasattr(resource, "physical_resource_id"):
            continue  # parameters and pseudo parameters live in the same map
        kind = stack.resource_map._resource_json_map.get(logical_id, {}).get("Type", "")
        physical = str(getattr(resource, "physical_resource_id", "") or "")
        _event(stack, logical_id, physical, kind, f"{verb}_IN_PROGRESS")
        _event(stack, logical_id, physical, kind, f"{verb}_COMPLETE")


def _find(backend: CloudFormationBackend, change_set_name: str, stack_name: str | None):
    change_set = backend.change_sets.get(change_set_name)  # an ARN
    if change_set is None:
        change_set = next((cs for cs in backend.change_sets.values() if cs.change_set_name == change_set_name
                           and (not stack_name or stack_name in (cs.stack_name, cs.stack_id))), None)
    if change_set is None:
        raise ValidationError(message=f"ChangeSet [{change_set_name}] does not exist")
    return change_set


def _reason(exc: Exception) -> str:
    return getattr(exc, "message", None) or str(exc) or type(exc).__name__


def _create(backend: CloudFormationBackend, change_set) -> None:
    reviewed = backend.stacks[change_set.stack_id]
    stack = Stack(  # type: ignore[abstract]  # abstract to the type checker only: moto makes its stacks so
        stack_id=reviewed.stack_id, name=reviewed.name, template=change_set.template,
        parameters=change_set.parameters, account_id=backend.account_id, region_name=backend.region_name,
        notification_arns=change_set.notification_arns, tags=change_set.tags or reviewed.tags,
        role_arn=change_set.role_arn, cross_stack_resources=backend.exports)
    stack.events = reviewed.events
    stack.creation_time = reviewed.creation_time
    stack.original_template = change_set.original_template
    backend.stacks[stack.stack_id] = stack
    stack._add_stack_event("CREATE_IN_PROGRESS", resource_status_reason="User Initiated")
    try:
        stack.create_resources()  # before any output is read: reading one would create what it names
        refresh_exports(backend, stack)
    except Exception as exc:  # noqa: BLE001 - any failure rolls the new stack back, as CloudFormation does
        stack.status = "ROLLBACK_IN_PROGRESS"
        stack._add_stack_event("CREATE_FAILED", resource_status_reason=_reason(exc))
        stack._add_stack_event("ROLLBACK_IN_PROGRESS",
                               resource_status_reason=f"The following resource(s) failed to create: {_reason(exc)}")
        try:
            stack.resource_map.delete()
        except Exception:  # noqa: BLE001 - what moto made of a half-created resource may not delete
            pass
        for name in [n for n, e in backend.exports.items() if e.exporting_stack_id == stack.stack_id]:
            backend.exports.pop(name)
        # Nothing is left, and nothing may be made again: moto's maps create a resource when read.
        stack.resource_map._resource_json_map = {}
        stack.output_map = OutputMap(stack.resource_map, {}, stack.stack_id)
        stack._add_stack_event("ROLLBACK_COMPLETE")
        stack.status = "ROLLBACK_COMPLETE"
        return
    events = stack.events
    completed = events.pop() if events and events[-1].resource_status == "CREATE_COMPLETE" else None
    _resource_events(stack, "CREATE")
    if completed is not None:
        events.append(completed)  # the stack's own event comes last: the SAM CLI stops reading there
    else:
        stack.mark_creation_complete()


def _update(backend: CloudFormationBackend, change_set) -> None:
    stack = backend.stacks[change_set.stack_id]
    previous = (stack.template, dict(stack.parameters), stack.tags, getattr(stack, "original_template", None))
    try:
        stack.update(change_set.template, change_set.role_arn, parameters=change_set.parameters,
                     tags=change_set.tags or stack.tags)
        refresh_exports(backend, stack)
    except Exception as exc:  # noqa: BLE001 - an update that fails goes back to the last good template
        stack._add_stack_event("UPDATE_ROLLBACK_IN_PROGRESS", resource_status_reason=_reason(exc))
        template, parameters, tags, _ = previous
        try:
            stack.update(template, stack.role_arn, parameters=parameters, tags=tags)
            stack.events.pop()  # moto's UPDATE_COMPLETE of the rollback itself
            refresh_exports(backend, stack)
        except Exception:  # noqa: BLE001 - any failure of the rollback is CloudFormation's UPDATE_ROLLBACK_FAILED
            stack._add_stack_event("UPDATE_ROLLBACK_FAILED")
            stack.status = "UPDATE_ROLLBACK_FAILED"
            return
        stack._add_stack_event("UPDATE_ROLLBACK_COMPLETE")
        stack.status = "UPDATE_ROLLBACK_COMPLETE"
        return
    stack.original_template = change_set.original_template
    completed = stack.events.pop()
    _resource_events(stack, "UPDATE")
    stack.events.append(completed)


def apply(cloud: LocalCloud | None = None) -> None:  # moto only: needs nothing of the running cloud
    original_create_change_set = CloudFormationBackend.create_change_set

    def create_change_set(self, stack_name, change_set_name, template, parameters, description, change_set_type,
                          notification_arns=None, tags=None, role_arn=None):
        existing = next((s for s in self.stacks.values() if s.name == stack_name), None)
        if existing is not None and change_set_type == "CREATE":
            if existing.status != "REVIEW_IN_PROGRESS":
                raise ValidationError(message=f"Stack [{stack_name}] already exists and cannot be created again "
                                              f"with the changeSet [{change_set_name}].")
            self.stacks.pop(existing.stack_id)  # a stack under review takes the new change set, not a twin
        if existing is not None and change_set_type == "UPDATE" and existing.status in UNUPDATABLE:
            raise ValidationError(message=f"Stack:{existing.stack_id} is in {existing.status} state and can not "
                                          "be updated.")
        try:
            processed, why_not = processed_template(template, parameters, self.account_id, self.region_name,
                                                    stack_name), None
        except ValueError as exc:
            processed, why_not = json.dumps({"Resources": {}}), str(exc)
        change_set_id, stack_id = original_create_change_set(
            self, stack_name, change_set_name, processed, parameters, description, change_set_type,
            notification_arns=notification_arns, tags=tags, role_arn=role_arn)
        change_set = self.change_sets[change_set_id]
        change_set.original_template = template
        if why_not:
            change_set.status, change_set.execution_status, change_set.status_reason = "FAILED", "UNAVAILABLE", why_not
        return change_set_id, stack_id

    def execute_change_set(self, change_set_name, stack_name=None):
        change_set = _find(self, change_set_name, stack_name)
        if change_set.execution_status != "AVAILABLE":
            raise ValidationError(message=f"ChangeSet [{change_set.change_set_id}] cannot be executed in its "
                                          f"current status of [{change_set.status}]")
        change_set.execution_status = "EXECUTE_IN_PROGRESS"
        if change_set.change_set_type == "CREATE":
            _create(self, change_set)
        else:
            _update(self, change_set)
        failed = "ROLLBACK" in self.stacks[change_set.stack_id].status
        change_set.execution_status = "EXECUTE_FAILED" if failed else "EXECUTE_COMPLETE"

    CloudFormationBackend.create_change_set = create_change_set
    CloudFormationBackend.execute_change_set = execute_change_set

    def get_template(self) -> ActionResult:
        stack = self.cloudformation_backend.get_stack(self._get_param("StackName"))
        change_set_name = self._get_param("ChangeSetName")
        source = _find(self.cloudformation_backend, change_set_name, stack.stack_id) if change_set_name else stack
        original = getattr(source, "original_template", None)
        body = source.template if self._get_param("TemplateStage") == "Processed" or original is None else original
        return ActionResult({"TemplateBody": body, "StagesAvailable": ["Original", "Processed"]})

    def list_imports(self) -> ActionResult:
        name = self._get_param("ExportName")
        backend = self.cloudformation_backend
        if name not in backend.exports:
            raise ValidationError(message=f"Export '{name}' does not exist.")
        importers = sorted(stack.name for stack in backend.stacks.values()
                           if stack.status != "DELETE_COMPLETE" and _imports(stack.template_dict, name, stack))
        return ActionResult({"Imports": importers})

    CloudFormationResponse.get_template = get_template
    CloudFormationResponse.list_imports = list_imports


def _imports(node: Any, export_name: str, stack: Stack) -> bool:
    """Whether a template holds Fn::ImportValue of export_name, its argument resolved as the stack did."""
    from moto.cloudformation.parsing import clean_json

    if isinstance(node, list):
        return any(_imports(item, export_name, stack) for item in node)
    if not isinstance(node, dict):
        return False
    if "Fn::ImportValue" in node:
        try:
            return clean_json(node["Fn::ImportValue"], stack.resource_map) == export_name
        except Exception:  # noqa: BLE001 - an argument the stack could not resolve imports nothing
            return False
    return any(_imports(item, export_name, stack) for item in node.values())
