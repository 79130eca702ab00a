"""The evaluation of IAM policy documents, as the IAM User Guide documents it.

https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html:
an explicit Deny in any policy wins; otherwise some Allow is needed; otherwise the request is
implicitly denied. Actions match case-insensitively, resources case-sensitively, both with the
wildcards `*` and `?`; an ARN matches segment by segment
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html).
Condition operators: https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
"""

from __future__ import annotations

import datetime
import enum
import ipaddress
import json
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any


class Decision(enum.Enum):
    ALLOW = "allow"
    IMPLICIT_DENY = "implicit"
    EXPLICIT_DENY = "explicit"


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


@lru_cache(maxsize=4096)
def _glob(pattern: str, ignore_case: bool) -> re.Pattern:
    escaped = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(f"^{escaped}$", re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def like(pattern: str, value: str, ignore_case: bool = False) -> bool:
    return bool(_glob(pattern, ignore_case).match(value))


def arn_like(pattern: str, value: str) -> bool:
    """ArnLike: each of the six colon-separated parts matches on its own (a `*` never spans a colon
    before the resource part, which may itself hold colons)."""
    if pattern == "*":
        return True
    if not pattern.startswith("arn:") or not value.startswith("arn:"):
        return like(pattern, value)
    wanted, actual = pattern.split(":", 5), value.split(":", 5)
    if len(wanted) != 6 or len(actual) != 6:
        return like(pattern, value)
    return all(like(w, a) for w, a in zip(wanted, actual, strict=False))


def action_matches(pattern: str, action: str) -> bool:
    return like(pattern, action, ignore_case=True)


def resource_matches(pattern: str, resource: str) -> bool:
    if resource == "*":  # an action without a resource type: only a Resource of "*" names it
        return pattern == "*"
    return arn_like(pattern, resource)


# -- conditions ------------------------------------------------------------------------------------

def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _date(value: Any) -> datetime.datetime | None:
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.isdigit()):
        return datetime.datetime.fromtimestamp(float(value), datetime.UTC)
    try:
        parsed = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


def _ip_in(value: str, network: str) -> bool:
    try:
        return ipaddress.ip_address(value) in ipaddress.ip_network(network, strict=False)
    except ValueError:
        return False


def _compare(kind: str, policy_value: Any, actual: str) -> bool:
    """One positive comparison; the Not operators negate the whole match."""
    if kind == "StringEquals":
        return str(policy_value) == actual
    if kind == "StringEqualsIgnoreCase":
        return str(policy_value).lower() == actual.lower()
    if kind == "StringLike":
        return like(str(policy_value), actual)
    if kind in ("ArnEquals", "ArnLike"):
        return arn_like(str(policy_value), actual)
    if kind == "Bool":
        return str(policy_value).lower() == actual.lower()
    if kind.startswith("Numeric"):
        a, b = _number(actual), _number(policy_value)
        if a is None or b is None:
            return False
        return {"NumericEquals": a == b, "NumericLessThan": a < b, "NumericLessThanEquals": a <= b,
                "NumericGreaterThan": a > b, "NumericGreaterThanEquals": a >= b}[kind]
    if kind.startswith("Date"):
        when, limit = _date(actual), _date(policy_value)
        if when is None or limit is None:
            return False
        return {"DateEquals": when == limit, "DateLessThan": when < limit, "DateLessThanEquals": when <= limit,
                "DateGreaterThan": when > limit, "DateGreaterThanEquals": when >= limit}[kind]
    if kind == "IpAddress":
        return _ip_in(actual, str(policy_value))
    raise UnsupportedCondition(kind)


NEGATED = {"StringNotEquals": "StringEquals", "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
           "StringNotLike": "StringLike", "ArnNotEquals": "ArnEquals", "ArnNotLike": "ArnLike",
           "NumericNotEquals": "NumericEquals", "DateNotEquals": "DateEquals", "NotIpAddress": "IpAddress"}


class UnsupportedCondition(ValueError):
    """An operator we do not evaluate: the statement then does not apply (documented)."""


def condition_holds(operator: str, key: str, policy_values: Any, context: Mapping[str, Any]) -> bool:
    qualifier = ""
    if ":" in operator:
        qualifier, operator = operator.split(":", 1)  # ForAnyValue: / ForAllValues:
    if_exists = operator.endswith("IfExists")
    if if_exists:
        operator = operator[: -len("IfExists")]
    present = {k.lower(): v for k, v in context.items()}
    actual = present.get(key.lower())
    wanted = _as_list(policy_values)
    if operator == "Null":
        is_null = actual is None
        return any(str(w).lower() == ("true" if is_null else "false") for w in wanted)
    if actual is None:
        if qualifier == "ForAllValues":
            return True  # an empty set: every one of its values matches
        return if_exists and not qualifier.startswith("ForAny")
    values = [str(v).lower() if isinstance(v, bool) else str(v) for v in _as_list(actual)]
    positive = NEGATED.get(operator, operator)
    negate = operator in NEGATED

    def matches(value: str) -> bool:
        hit = any(_compare(positive, w, value) for w in wanted)
        return not hit if negate else hit

    if qualifier == "ForAllValues":
        return all(matches(v) for v in values)
    if qualifier == "ForAnyValue" or len(values) > 1:
        return any(matches(v) for v in values)
    return matches(values[0])


def conditions_hold(block: Mapping[str, Any] | None, context: Mapping[str, Any]) -> bool:
    for operator, pairs in (block or {}).items():
        for key, values in (pairs or {}).items():
            if not condition_holds(operator, key, values, context):
                return False
    return True


# -- statements and documents ------------------------------------------------------------------------

def statement_applies(statement: Mapping[str, Any], action: str, resource: str, context: Mapping[str, Any]) -> bool:
    if "NotAction" in statement:
        if any(action_matches(p, action) for p in _as_list(statement["NotAction"])):
            return False
    elif not any(action_matches(p, action) for p in _as_list(statement.get("Action"))):
        return False
    if "NotResource" in statement:
        if any(resource_matches(p, resource) for p in _as_list(statement["NotResource"])):
            return False
    elif "Resource" in statement and not any(resource_matches(p, resource) for p in _as_list(statement["Resource"])):
        return False
    try:
        return conditions_hold(statement.get("Condition"), context)
    except UnsupportedCondition:
        return False


def parse_document(document: str | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(document, str):
        try:
            return json.loads(document)
        except ValueError:
            from urllib.parse import unquote
            return json.loads(unquote(document))  # IAM hands documents back URL-encoded
    return dict(document)


def evaluate(documents: Iterable[str | Mapping[str, Any]], action: str, resource: str,
             context: Mapping[str, Any] | None = None) -> Decision:
    """One set of policies of one type (identity, boundary, session) for one action on one resource."""
    context = context or {}
    allowed = False
    for document in documents:
        for statement in _as_list(parse_document(document).get("Statement")):
            if not statement_applies(statement, action, resource, context):
                continue
            if statement.get("Effect") == "Deny":
                return Decision.EXPLICIT_DENY
            if statement.get("Effect") == "Allow":
                allowed = True
    return Decision.ALLOW if allowed else Decision.IMPLICIT_DENY
