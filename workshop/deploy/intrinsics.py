"""Evaluate a template's intrinsic functions for given parameters, without deploying it.

Enough of CloudFormation's intrinsics to read what a template *means* per environment:
Ref (parameters, pseudo parameters), conditions, Fn::If / Equals / Not / And / Or,
Fn::FindInMap, Fn::Sub, Fn::Join, Fn::Select, Fn::Split; values only known once deployed
(Fn::GetAtt, a resource's Ref, Fn::ImportValue) become placeholders such as `<Table.Arn>`.
Semantics as in https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html
"""

from __future__ import annotations

import re
from typing import Any

PSEUDO = {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws",
          "AWS::StackName": "stack", "AWS::URLSuffix": "amazonaws.com", "AWS::NoValue": None}
# What a malformed intrinsic raises while being evaluated: the caller reports it, never crashes.
EVALUATION_ERRORS = (ValueError, TypeError, IndexError, KeyError, AttributeError)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _sequence(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


class Unresolved(Exception):
    """A value the template does not define (a missing condition or mapping entry)."""


def resources(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = document.get("Resources")
    return {str(k): v for k, v in found.items() if isinstance(v, dict)} if isinstance(found, dict) else {}


class Evaluator:
    """Evaluates a template's values for given parameters; an unknown parameter becomes <Name>."""

    def __init__(self, document: dict[str, Any], parameters: dict[str, str] | None = None,
                 pseudo: dict[str, Any] | None = None) -> None:
        self.document = document
        self.declared = _mapping(document.get("Parameters"))
        self.parameters = dict(parameters or {})
        self.conditions = _mapping(document.get("Conditions"))
        self.pseudo = {**PSEUDO, **(pseudo or {})}

    def ref(self, name: str) -> Any:
        if name in self.parameters:
            return self.parameters[name]
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.declared:
            default = (self.declared[name] or {}).get("Default")
            return str(default) if default is not None else f"<{name}>"
        resource = resources(self.document).get(name)
        if resource and resource.get("Type") == "AWS::IAM::OIDCProvider":
            url = str(self.value((resource.get("Properties") or {}).get("Url", "")))
            return f"arn:aws:iam::{self.pseudo['AWS::AccountId']}:oidc-provider/{url.removeprefix('https://')}"
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
            if key == "Fn::Split":
                separator, text = arg
                return str(self.value(text)).split(str(separator))
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

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(self.value(variables[name]))
            if "." in name:
                return f"<{name}>"
            return str(self.ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, str(text))

    def resource_exists(self, resource: dict[str, Any]) -> bool:
        name = resource.get("Condition")
        return True if not name else self.condition(str(name))

    def exports(self) -> list[str]:
        """The export names of the template's outputs that exist with these parameters."""
        names = []
        outputs = _mapping(self.document.get("Outputs"))
        for output in outputs.values():
            if not isinstance(output, dict) or not isinstance(output.get("Export"), dict):
                continue
            try:
                if self.resource_exists(output):
                    names.append(str(self.value(output["Export"].get("Name"))))
            except (Unresolved, *EVALUATION_ERRORS):
                continue
        return names

    def imports(self) -> list[str]:
        """The export names the template imports (Fn::ImportValue), evaluated."""
        found: list[str] = []

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                if len(node) == 1 and "Fn::ImportValue" in node:
                    try:
                        found.append(str(self.value(node["Fn::ImportValue"])))
                    except (Unresolved, *EVALUATION_ERRORS):
                        pass
                    return
                for child in node.values():
                    walk(child)
            elif isinstance(node, list):
                for child in node:
                    walk(child)

        for resource in resources(self.document).values():
            try:
                if self.resource_exists(resource):
                    walk(resource)
            except (Unresolved, *EVALUATION_ERRORS):
                walk(resource)
        return sorted(set(found))
