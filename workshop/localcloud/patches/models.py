"""What the CloudFormation types we add (where moto 5.2.5 has none) share: Ref, GetAtt, and one
create / update / delete flow.

A mixin, not a base class: moto finds models among CloudFormationModel's *direct* subclasses,
so each type is declared `class X(ModelOfOurs, CloudFormationModel)`.

A type says how to `create` itself from its properties, whether it can `update` in place, and
how to `delete` itself; the mixin turns those into the hooks moto's CloudFormation calls. An
update that cannot happen in place is a replacement, as CloudFormation does it for properties
marked "Update requires: Replacement": the old resource goes and a new one is created.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self


class ModelOfOurs:
    """A CloudFormation type: Ref answers the attribute named REF, GetAtt those in ATTRIBUTES."""

    TYPE: ClassVar[str] = ""  # never registered: moto keys its type map by this
    NAME_PROPERTY: ClassVar[str] = ""  # the property that names the resource, if any
    REF: ClassVar[str] = ""
    ATTRIBUTES: ClassVar[dict[str, str]] = {}  # GetAtt name -> instance attribute

    @property
    def physical_resource_id(self) -> str:
        return getattr(self, self.REF)

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.TYPE

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return cls.NAME_PROPERTY

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRIBUTES

    def get_cfn_attribute(self, attribute_name: str) -> str:
        return getattr(self, self.ATTRIBUTES[attribute_name])

    # -- the lifecycle a type fills in ------------------------------------------------------------

    @classmethod
    def create(cls, account_id: str, region_name: str, name: str, properties: dict[str, Any]) -> Self:
        """Create the resource called `name` (the logical id when the template names none)."""
        raise NotImplementedError(f"{cls.TYPE} cannot be created")

    def update(self, name: str, properties: dict[str, Any]) -> bool:
        """Apply new properties in place; False when the change needs a replacement (the default)."""
        return False

    def delete(self, account_id: str, region_name: str) -> None:
        """Remove the resource (moto's stack deletion calls this)."""
        raise NotImplementedError(f"{self.TYPE} cannot be deleted")

    # -- moto's CloudFormation hooks ------------------------------------------------------------

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
        region_name: str, **kwargs: Any,
    ) -> Self:
        return cls.create(account_id, region_name, resource_name, cloudformation_json.get("Properties") or {})

    @classmethod
    def update_from_cloudformation_json(
        cls, original_resource: Self, new_resource_name: str, cloudformation_json: dict[str, Any],
        account_id: str, region_name: str,
    ) -> Self:
        properties = cloudformation_json.get("Properties") or {}
        if original_resource.update(new_resource_name, properties):
            return original_resource
        original_resource.delete(account_id, region_name)
        return cls.create(account_id, region_name, new_resource_name, properties)
