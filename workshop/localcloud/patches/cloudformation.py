"""CloudFormation: errors that name the resource; execute-api outputs point at the local gateway.

moto 5.2.5 answers a resource that fails to create with an HTML 500 and no name, and "creates"
a resource of a type it does not know as nothing. Here both become a ValidationError naming the
logical id, its type and the reason.

A changed resource of a type moto has no update for (a DynamoDB table) is replaced: deleted and
created from its new properties (moto stored None for it, and every Ref and GetAtt of the stack
then failed with an HTML 500).

An UpdateStack refreshes the stack's exports (moto 5.2.5 keeps those of its first template, so an
export added by an update cannot be imported, and one removed lingers).

A stack's `https://{api}.execute-api.{region}.amazonaws.com/{stage}/` output becomes
`http://127.0.0.1:{port}/_aws/execute-api/{api}/{stage}/`, so clients use the URL they are
given and no request from the local target can go to an amazonaws.com host.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from moto.cloudformation import parsing
from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.models import CloudFormationBackend, Stack

if TYPE_CHECKING:
    from ..server import LocalCloud

EXECUTE_API = re.compile(r"https://([a-z0-9]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com")


def local_execute_api_url(value: str, cloud_url: str) -> str:
    return EXECUTE_API.sub(lambda m: f"{cloud_url}/_aws/execute-api/{m.group(1)}", value)


def refresh_exports(backend: CloudFormationBackend, stack: Stack) -> None:
    """The account's exports hold exactly what the stack's current outputs export."""
    for name in [n for n, e in backend.exports.items() if e.exporting_stack_id == stack.stack_id]:
        backend.exports.pop(name)
    backend._validate_export_uniqueness(stack)
    for export in stack.exports:
        backend.exports[export.name] = export


def apply(cloud: LocalCloud) -> None:
    original_update = CloudFormationBackend.update_stack

    def update_stack(self, name, template, role_arn, parameters, tags):
        stack = original_update(self, name, template, role_arn, parameters, tags)
        refresh_exports(self, stack)
        return stack

    if not getattr(original_update, "_refreshes_exports", False):
        update_stack._refreshes_exports = True
        CloudFormationBackend.update_stack = update_stack

    original = parsing.parse_output

    def parse_output(output_logical_id, output_json, resources_map):
        output = original(output_logical_id, output_json, resources_map)
        if output is not None and isinstance(output.value, str):
            output.value = local_execute_api_url(output.value, cloud.url)
        return output

    parsing.parse_output = parse_output

    original_create = parsing.parse_and_create_resource

    def parse_and_create_resource(logical_id, resource_json, resources_map, account_id, region_name):
        kind = resource_json.get("Type", "")
        condition = resource_json.get("Condition")
        skipped = bool(condition) and not resources_map.lazy_condition_map[condition]
        if not skipped and kind not in parsing.NULL_MODELS and parsing.resource_class_from_type(kind) is None:
            # moto would "create" it as nothing and report success; say so instead
            raise ValidationError(message=f"Resource {logical_id} ({kind}) is not available on the local target")
        try:
            return original_create(logical_id, resource_json, resources_map, account_id, region_name)
        except ValidationError:
            raise
        except Exception as exc:  # noqa: BLE001 - any model error becomes a named resource failure
            reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            raise ValidationError(message=f"Resource {logical_id} ({resource_json.get('Type')}) failed to create: {reason}") from exc

    parsing.parse_and_create_resource = parse_and_create_resource

    original_resource_update = parsing.parse_and_update_resource

    def parse_and_update_resource(logical_id, resource_json, resources_map, account_id, region_name):
        kind = parsing.resource_class_from_type(resource_json.get("Type", ""))
        if kind is None or not hasattr(kind.update_from_cloudformation_json, "__isabstractmethod__"):
            return original_resource_update(logical_id, resource_json, resources_map, account_id, region_name)
        return replace_resource(logical_id, resource_json, resources_map, account_id, region_name)

    parsing.parse_and_update_resource = parse_and_update_resource


def replace_resource(logical_id, resource_json, resources_map, account_id, region_name):
    """A changed resource of a type moto cannot update (a DynamoDB table): deleted and created again
    from the new properties, as CloudFormation replaces one, under the same physical name unless
    the template names it (moto would store None and break every Ref and GetAtt of the stack)."""
    old = resources_map._parsed_resources.get(logical_id)
    kind, properties_json, name = parsing.parse_resource_and_generate_name(logical_id, resource_json, resources_map)
    name_property = parsing.resource_name_property_from_type(resource_json["Type"])
    if old is not None:
        resources_map._delete_resource(old, resource_json)
        if not (name_property and name_property in (resource_json.get("Properties") or {})):
            name = getattr(old, "physical_resource_id", name)  # what the stack's Refs already resolved to
    try:
        new = kind.create_from_cloudformation_json(name, properties_json, account_id, region_name)
    except Exception as exc:  # noqa: BLE001 - a model error becomes a named resource failure
        raise ValidationError(message=f"Resource {logical_id} ({resource_json.get('Type')}) failed to update: "
                                      f"{type(exc).__name__}: {exc}") from exc
    new.cf_resource_type = resource_json["Type"]
    new.logical_resource_id = logical_id
    return new
