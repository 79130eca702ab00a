"""Template bodies parsed by the fastest parser that gives moto's answer: JSON by json, YAML by libyaml.

moto 5.2.5 parses every stack's and change set's body with PyYAML's pure-Python Loader, JSON
bodies too (JSON is YAML): in a module 06 check that was a fifth of the cloud's CPU. A body that
is JSON (every stack `workshop` deploys) is read by json; any other by libyaml's loader with
moto's own short-form tag constructor (`!Ref`, `!GetAtt a.b`, ...), the same document moto builds.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import yaml
from moto.cloudformation.models import ChangeSet, Stack
from moto.cloudformation.utils import yaml_tag_constructor

if TYPE_CHECKING:
    from ..server import LocalCloud


class _Loader(getattr(yaml, "CLoader", yaml.Loader)):  # type: ignore[misc]
    """moto's yaml.Loader, on libyaml when PyYAML was built with it."""


_Loader.add_multi_constructor("", yaml_tag_constructor)


def parse_body(body: str) -> dict[str, Any]:
    if body.lstrip().startswith("{"):
        try:
            return json.loads(body)
        except ValueError:
            pass  # YAML's flow style also opens with a brace
    return yaml.load(body, Loader=_Loader)  # noqa: S506 - moto's own choice of loader, tags and all


def apply(cloud: LocalCloud) -> None:
    Stack.parse_template = staticmethod(parse_body)

    def _parse_template(self: ChangeSet) -> None:
        self.template_dict = parse_body(self.template)

    ChangeSet._parse_template = _parse_template
