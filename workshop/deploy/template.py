"""Read a template as SAM CLI does: short-form tags, dates kept as strings, AWS::Include inlined."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml


class TemplateError(Exception):
    """A template that cannot be read, with the file and the reason."""


# SafeLoader on libyaml when PyYAML was built with it: several times faster, the same documents and marks
FASTEST_SAFE_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _TemplateLoader(FASTEST_SAFE_LOADER):  # the C loader when PyYAML has libyaml, else the pure one
    """SafeLoader's rules; libyaml's parser when PyYAML has it (several times faster, same marks)."""


# `Version: 2012-10-17` must stay the string IAM expects, not a datetime.date.
_TemplateLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _intrinsic(loader: yaml.Loader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = tag_suffix if tag_suffix == "Ref" or tag_suffix == "Condition" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if name == "Fn::GetAtt" and isinstance(value, str):
            value = value.split(".", 1)  # !GetAtt Table.Arn is the list form
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_TemplateLoader.add_multi_constructor("!", _intrinsic)


def parse(text: str, source: str = "<template>") -> dict[str, Any]:
    try:
        document = yaml.load(text, Loader=_TemplateLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise TemplateError(f"{source} is not valid YAML: {exc}") from None
    if not isinstance(document, dict) or "Resources" not in document:
        raise TemplateError(f"{source} is not a CloudFormation template (no Resources section)")
    return document


def load(path: Path) -> dict[str, Any]:
    """The template at path, with `Fn::Transform: AWS::Include` of local files inlined."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise TemplateError(f"cannot read {path}: {exc.strerror}") from None
    return _inline_includes(parse(text, str(path)), path.parent)


def _inline_includes(node: Any, base: Path) -> Any:
    if isinstance(node, list):
        return [_inline_includes(item, base) for item in node]
    if not isinstance(node, dict):
        return node
    transform = node.get("Fn::Transform")
    if isinstance(transform, dict) and transform.get("Name") == "AWS::Include":
        location = str(transform.get("Parameters", {}).get("Location", ""))
        if "://" in location:
            raise TemplateError(f"AWS::Include of {location}: only local files can be included locally")
        included = base / location
        try:
            text = included.read_text()
        except OSError:
            raise TemplateError(f"AWS::Include: {included} does not exist") from None
        content = json.loads(text) if included.suffix == ".json" else yaml.load(text, Loader=_TemplateLoader)  # noqa: S506 - a SafeLoader subclass
        content = _inline_includes(content, included.parent)
        siblings = {key: value for key, value in node.items() if key != "Fn::Transform"}
        if siblings and isinstance(content, dict):  # an include beside other keys merges into them
            return {**_inline_includes(siblings, base), **content}
        return content
    return {key: _inline_includes(value, base) for key, value in node.items()}
