"""API Gateway mapping templates: Velocity (airspeed-ext) with `$input`, `$util`, `$context`
and `$stageVariables`, as described in API Gateway's mapping template reference.

`render()` mutates `context["requestOverride"]` / `context["responseOverride"]` the way a
template's `#set($context.responseOverride.status = 404)` asks, so the caller reads them back.
"""

from __future__ import annotations

import base64
import json
import re
from functools import lru_cache
from typing import Any
from urllib.parse import quote_plus, unquote_plus

import airspeed
from airspeed import operators
from jsonpath_ng.ext import parse as parse_jsonpath


class BodyNotJson(ValueError):
    """A template asked for a JSONPath of a body that is not JSON."""


class VtlMap(dict):
    """A JSON object in a template: renders like a Java Map (`{a=1, b=x}`), as on AWS."""

    def __str__(self) -> str:
        return "{" + ", ".join(f"{key}={operators.value_to_string(value)}" for key, value in self.items()) + "}"


class VtlList(list):
    """A JSON array in a template: renders as JSON, as on AWS."""

    def __str__(self) -> str:
        return json.dumps(self, separators=(",", ":"), ensure_ascii=False)


class HeaderMap(VtlMap):
    """Request headers: names are matched case-insensitively, as HTTP says."""

    def _key(self, name: Any) -> Any:
        if isinstance(name, str):
            for key in self.keys():
                if key.lower() == name.lower():
                    return key
        return name

    def __getitem__(self, name: Any) -> Any:
        return super().__getitem__(self._key(name))

    def __contains__(self, name: object) -> bool:
        return super().__contains__(self._key(name))

    def get(self, name: Any, default: Any = None) -> Any:
        return super().get(self._key(name), default)


def to_vtl(value: Any) -> Any:
    """JSON values as template objects: maps and lists that behave (and render) as on AWS."""
    if isinstance(value, dict):
        return VtlMap((key, to_vtl(item)) for key, item in value.items())
    if isinstance(value, list):
        return VtlList(to_vtl(item) for item in value)
    return value


def _register_java_methods() -> None:
    """Java methods templates call on maps, lists and strings that airspeed lacks."""
    methods = operators.__additional_methods__
    map_methods = {
        **methods[dict],
        "size": len,
        "isEmpty": lambda self: len(self) == 0,
        "containsKey": lambda self, key: key in self,
        "entrySet": lambda self: [VtlMap(key=k, value=v) for k, v in self.items()],
        "values": lambda self: list(self.values()),
    }
    for cls in (VtlMap, HeaderMap):
        methods[cls] = map_methods
    methods[VtlList] = methods[list]
    string_methods = {
        "toLowerCase": str.lower,
        "toUpperCase": str.upper,
        "trim": str.strip,
        "isEmpty": lambda self: len(self) == 0,
        "equals": lambda self, other: self == other,
        "equalsIgnoreCase": lambda self, other: isinstance(other, str) and self.lower() == other.lower(),
        "endsWith": lambda self, suffix: self.endswith(suffix),
        "replace": lambda self, old, new: self.replace(old, new),
        "split": lambda self, pattern: re.split(pattern, self),
        "toString": str,
    }
    for name, method in string_methods.items():
        methods[str].setdefault(name, method)


def _use_velocity_null_semantics() -> None:
    """Velocity (what API Gateway runs) treats a null reference as false: `#if($missing)` is
    false and `#if(!$missing)` true. airspeed-ext 0.6.9 answers the opposite for both, which
    breaks the common `#if(!$item.cartId)` not-found check."""

    def condition(self: Any, namespace: Any, loader: Any) -> bool:
        return bool(self.expression.calculate(namespace, loader))

    def negation(self: Any, namespace: Any, loader: Any) -> bool:
        return not self.value.calculate(namespace, loader)

    operators.Condition.calculate = condition
    operators.UnaryOperatorValue.calculate = negation


_register_java_methods()
_use_velocity_null_semantics()


# ---------------------------------------------------------------- JSONPath


@lru_cache(maxsize=512)
def _compiled_path(path: str) -> Any:
    return parse_jsonpath(path)


INDEFINITE_PATH = re.compile(r"\*|\.\.|\?\(|\[[^\]]*[:,][^\]]*\]")


def select(document: Any, path: str) -> Any:
    """The value a JSONPath selects: one value for a definite path (None when absent),
    a list for a path with wildcards, filters or slices."""
    path = path.strip() or "$"
    matches = [match.value for match in _compiled_path(path).find(document)]
    if INDEFINITE_PATH.search(path):
        return matches
    return matches[0] if matches else None


# ---------------------------------------------------------------- $input, $util


class VelocityInput:
    """`$input`: the payload (request body or integration response) and the method request's
    parameters."""

    def __init__(self, body: str, params: dict[str, dict[str, str]]):
        self._body = body
        self._params = VtlMap(
            path=VtlMap(params.get("path") or {}),
            querystring=VtlMap(params.get("querystring") or {}),
            header=HeaderMap(params.get("header") or {}),
        )
        self._document: Any = None
        self._parsed = False

    @property
    def body(self) -> str:
        return self._body

    def _json_document(self) -> Any:
        """The payload parsed once, as template objects: what `$input.path` hands out are references
        into it, so a `#set` on one of their fields shows in a later `$input.json`, as in API Gateway."""
        if not self._parsed:
            try:
                self._document = to_vtl(json.loads(self._body)) if self._body.strip() else VtlMap()
            except json.JSONDecodeError as error:
                raise BodyNotJson(str(error)) from error
            self._parsed = True
        return self._document

    def json(self, path: str = "$") -> str:
        """The JSON text the path selects."""
        value = select(self._json_document(), path)
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False) if value is not None else '""'

    def path(self, path: str) -> Any:
        """The object the path selects, by reference ("" when it selects nothing, so `#if($x == "")` works)."""
        value = select(self._json_document(), path)
        if isinstance(value, list) and not isinstance(value, VtlList):
            return VtlList(value)  # the matches of an indefinite path: a new list of references
        return "" if value is None else value

    def params(self, name: str | None = None) -> Any:
        """All parameters, or the named one from the path, query string or headers, in that order."""
        if name is None:
            return self._params
        for location in ("path", "querystring", "header"):
            if (value := self._params[location].get(name)) is not None:
                return value
        return ""


class VelocityUtil:
    """`$util`."""

    @staticmethod
    def escapeJavaScript(value: Any) -> str:
        """Java's StringEscapeUtils.escapeJavaScript, which API Gateway uses: `'` becomes `\\'`."""
        if value is None:
            return ""
        text = value if isinstance(value, str) else operators.value_to_string(value)
        return "".join(_escape_js_char(char) for char in text)

    @staticmethod
    def parseJson(text: str) -> Any:
        return to_vtl(json.loads(text))

    @staticmethod
    def urlEncode(text: str) -> str:
        # java.net.URLEncoder: keeps letters, digits and . - * _; space becomes +.
        return quote_plus(str(text), safe="*").replace("~", "%7E")

    @staticmethod
    def urlDecode(text: str) -> str:
        return unquote_plus(str(text))

    @staticmethod
    def base64Encode(text: str) -> str:
        return base64.b64encode(str(text).encode()).decode()

    @staticmethod
    def base64Decode(text: str) -> str:
        return base64.b64decode(str(text)).decode(errors="replace")


JS_ESCAPES = {
    "'": "\\'", '"': '\\"', "\\": "\\\\", "/": "\\/",
    "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t",
}


def _escape_js_char(char: str) -> str:
    if char in JS_ESCAPES:
        return JS_ESCAPES[char]
    code = ord(char)
    if code < 32 or code > 0x7E:
        if code > 0xFFFF:  # Java strings are UTF-16: a surrogate pair
            high, low = divmod(code - 0x10000, 0x400)
            return f"\\u{0xD800 + high:04X}\\u{0xDC00 + low:04X}"
        return f"\\u{code:04X}"
    return char


# ---------------------------------------------------------------- rendering


@lru_cache(maxsize=256)
def _compiled_template(template: str) -> airspeed.Template:
    compiled = airspeed.Template(template)
    compiled.ensure_compiled()
    return compiled


def render(
    template: str,
    *,
    body: str,
    params: dict[str, dict[str, str]],
    context: dict[str, Any],
    stage_variables: dict[str, str] | None = None,
) -> str:
    """Render a mapping template. Raises BodyNotJson when it reads JSON from a non-JSON body."""
    namespace = {
        "input": VelocityInput(body, params),
        "util": VelocityUtil(),
        "context": context,
        "stageVariables": VtlMap(stage_variables or {}),
    }
    try:
        return _compiled_template(template).merge(namespace)
    except airspeed.TemplateExecutionError as error:
        if isinstance(error.__cause__, BodyNotJson):
            raise error.__cause__ from None
        raise
