"""What a local deploy checks before it creates anything, each finding named by file and line.

- every `Ref`, `Fn::GetAtt` and `${...}` of `Fn::Sub` names a parameter, a resource, a pseudo
  parameter or something the SAM transform generates (anywhere, a function's Environment too);
- a function's local CodeUri folder exists, and so does the file its Handler names (Python).

CloudFormation rejects an unresolved name only once the stack is created ("Template format
error: Unresolved resource dependencies [X] in the Resources block of the template",
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference-ref.html),
and `sam build` fails on a missing CodeUri; here both are found first, with the line to change.
Line numbers come from the YAML nodes, read with the same loader as the deploy (template.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from .template import TemplateError, _TemplateLoader

PSEUDO_PARAMETERS = {"AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition", "AWS::Region",
                     "AWS::StackId", "AWS::StackName", "AWS::URLSuffix"}
# names the SAM transform makes without a resource of that logical id in the template
SAM_IMPLICIT = ("ServerlessRestApi", "ServerlessHttpApi", "ServerlessDeploymentApplication")
SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


@dataclass
class Finding:
    line: int
    message: str


def _node_value(node: yaml.Node):
    return node.value if isinstance(node, yaml.ScalarNode) else None


def _mapping(node: yaml.Node) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {str(k.value): (k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)}


def _references(node: yaml.Node):
    """(kind, name, line) of every Ref, GetAtt and Sub variable under node, short or long form."""
    tag = node.tag if node.tag.startswith("!") else ""
    line = node.start_mark.line + 1
    if tag == "!Ref" and isinstance(node, yaml.ScalarNode):
        yield "Ref", node.value, line
    elif tag == "!GetAtt":
        if isinstance(node, yaml.ScalarNode):
            yield "GetAtt", node.value.split(".", 1)[0], line
        elif isinstance(node, yaml.SequenceNode) and node.value:
            yield from _getatt_list(node, line)
    elif tag == "!Sub":
        yield from _sub(node, line)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = _node_value(key)
            if name == "Ref" and isinstance(value, yaml.ScalarNode) and len(node.value) == 1:
                yield "Ref", value.value, value.start_mark.line + 1
                continue
            if name == "Fn::GetAtt" and len(node.value) == 1:
                if isinstance(value, yaml.ScalarNode):
                    yield "GetAtt", value.value.split(".", 1)[0], value.start_mark.line + 1
                elif isinstance(value, yaml.SequenceNode) and value.value:
                    yield from _getatt_list(value, value.start_mark.line + 1)
                continue
            if name == "Fn::Sub" and len(node.value) == 1:
                yield from _sub(value, value.start_mark.line + 1)
                continue
            yield from _references(value)
    elif isinstance(node, yaml.SequenceNode) and tag not in ("!GetAtt", "!Sub"):
        for item in node.value:
            yield from _references(item)


def _getatt_list(node: yaml.SequenceNode, line: int):
    first = node.value[0]
    if isinstance(first, yaml.ScalarNode):
        yield "GetAtt", first.value, line
    for item in node.value[1:]:  # an attribute name may itself be a Ref
        yield from _references(item)


def _sub(node: yaml.Node, line: int):
    """Fn::Sub: the string's ${Name} and ${Name.Attr}, less the variables its own map defines."""
    if isinstance(node, yaml.ScalarNode):
        text, local = node.value, set()
    elif isinstance(node, yaml.SequenceNode) and node.value and isinstance(node.value[0], yaml.ScalarNode):
        text = node.value[0].value
        local = set(_mapping(node.value[1])) if len(node.value) > 1 else set()
        for item in node.value[1:]:
            yield from _references(item)
    else:
        return
    for match in SUB_VARIABLE.finditer(text):
        name = match.group(1).strip().split(".", 1)[0]
        if name not in local:
            yield "Sub", name, line + text[:match.start()].count("\n")


def _known(parameters: dict, resources: dict) -> tuple[set[str], tuple[str, ...]]:
    """Names a reference may use, and prefixes of names the SAM transform generates."""
    known = set(parameters) | set(resources) | PSEUDO_PARAMETERS
    generated = list(SAM_IMPLICIT)
    for logical_id, (_, body) in resources.items():
        kind = _node_value(_mapping(body).get("Type", (None, yaml.ScalarNode("", "")))[1]) or ""
        if kind.startswith("AWS::Serverless::"):
            generated.append(logical_id)  # FnRole, FnAlias, Fn.Version, ApiProdStage, ...
    return known, tuple(generated)


def _python_handler_file(code_dir: Path, handler: str) -> bool:
    module = handler.rsplit(".", 1)[0]
    base = code_dir / module.replace(".", "/")
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file() or base.with_suffix(".so").is_file()


def _code_findings(resources: dict, globals_function: dict, base: Path) -> list[Finding]:
    findings = []
    for logical_id, (key, body) in resources.items():
        props = _mapping(body)
        kind = _node_value(props.get("Type", (None, yaml.ScalarNode("", "")))[1])
        if kind != "AWS::Serverless::Function":
            continue
        properties = _mapping(props["Properties"][1]) if "Properties" in props else {}
        if "InlineCode" in properties or _node_value(properties.get("PackageType", (None, yaml.ScalarNode("", "")))[1]) == "Image":
            continue
        code_key, code_node = properties.get("CodeUri") or globals_function.get("CodeUri") or (key, None)
        code_uri = _node_value(code_node) if code_node is not None else "."
        if not isinstance(code_uri, str) or "://" in code_uri:
            continue  # an S3 location or an expression: nothing local to look at
        code_dir = base / code_uri
        line = (code_node or key).start_mark.line + 1
        if not code_dir.exists():
            findings.append(Finding(line, f"{logical_id}: CodeUri {code_dir} does not exist"))
            continue
        runtime = _node_value((properties.get("Runtime") or globals_function.get("Runtime") or (None, yaml.ScalarNode("", "")))[1]) or ""
        handler_key, handler_node = properties.get("Handler") or globals_function.get("Handler") or (key, None)
        handler = _node_value(handler_node) if handler_node is not None else None
        if (runtime.startswith("python") and handler_node is not None and isinstance(handler, str) and "." in handler
                and code_dir.is_dir()):
            if not _python_handler_file(code_dir, handler):
                module = handler.rsplit(".", 1)[0].replace(".", "/")
                findings.append(Finding(handler_node.start_mark.line + 1,
                                        f"{logical_id}: Handler {handler} names {module}.py, which is not in {code_dir}"))
    return findings


def validate(path: Path) -> list[str]:
    """'path:line: what is wrong' for each finding, in line order; [] when the template is sound."""
    try:
        text = path.read_text()
        root = yaml.compose(text, Loader=_TemplateLoader)  # noqa: S506 - a SafeLoader subclass
    except OSError as exc:
        raise TemplateError(f"cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise TemplateError(f"{path} is not valid YAML: {exc}") from None
    top = _mapping(root)
    if "Resources" not in top:
        raise TemplateError(f"{path} is not a CloudFormation template (no Resources section)")
    resources = _mapping(top["Resources"][1])
    parameters = _mapping(top["Parameters"][1]) if "Parameters" in top else {}
    known, generated = _known(parameters, resources)
    findings = []
    # names an AWS::Include brings in are not in this file: then only the code is checked here
    sections = () if "AWS::Include" in text else ("Resources", "Outputs", "Conditions", "Globals")
    for section in sections:
        if section not in top:
            continue
        for kind, name, line in _references(top[section][1]):
            if name in known or name.startswith(generated) or "${" in name:
                continue
            what = {"Ref": "Ref", "GetAtt": "GetAtt", "Sub": "${} in Sub"}[kind]
            findings.append(Finding(line, f"{what} {name}: no parameter or resource of that name in this template"))
    globals_function = _mapping(_mapping(top["Globals"][1]).get("Function", (None, None))[1]) if "Globals" in top else {}
    findings += _code_findings(resources, globals_function, path.parent)
    return [f"{path}:{f.line}: {f.message}" for f in sorted(findings, key=lambda f: (f.line, f.message))]
