"""What the CloudFormation types we add (where moto 5.2.5 has none) share.

A mixin, not a base class: moto finds models among CloudFormationModel's *direct* subclasses,
so each type is declared `class X(ModelOfOurs, CloudFormationModel)`.
"""

from __future__ import annotations

from typing import ClassVar


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
