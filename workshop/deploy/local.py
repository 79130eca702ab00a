"""Deploy a SAM template into the local cloud: package, transform offline, create or update a stack."""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from .. import kept
from ..localcloud import sam_transform
from ..localcloud.safety import account_id, local_session, region_of
from . import template as templates
from .package import package
from .target import DeployError, StackInfo, describe_stack
from .validate import validate as validate_template

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]


TRANSFORMS, TRANSFORMS_KEPT = "transforms", 500  # kept transform results; the oldest go first


def transform(template: dict[str, Any], parameters: dict[str, str], account: str, region: str,
              stack_name: str) -> dict[str, Any]:
    """The template with the SAM transform applied (localcloud/sam_transform.py); DeployError if refused.

    The transform is deterministic, and importing and running aws-sam-translator costs 0.2 to 0.7 s
    a template, so a result is kept under a digest of all it depends on (the packaged template,
    parameters, account, region, the stack name where the template names it, the translator's
    version and our transform module): an unchanged template is not transformed again. A
    function's code location is left out of the digest (the translator copies it to the
    function's Code and nowhere else), so an edit to a handler reuses the template's transform."""
    template, code_keys = _code_keys_out(template)
    text = json.dumps(template, sort_keys=True, default=str)
    # the translator reads the stack name only where the template names it (a Ref or Sub of
    # AWS::StackName): otherwise the same template under another stack name transforms the same
    named = stack_name if "AWS::StackName" in text else None
    inputs = json.dumps([text, parameters, account, region, named, _transform_version()], sort_keys=True)
    key = hashlib.sha256(inputs.encode()).hexdigest() + ".json"
    try:
        return _code_keys_in(json.loads(kept.read(TRANSFORMS, key) or b""), code_keys)
    except ValueError:
        pass  # not transformed before (or a damaged record): transform now
    try:
        result = sam_transform.transform(template, parameters, account, region, stack_name)
    except sam_transform.TransformError as exc:
        raise DeployError(str(exc)) from None
    kept.keep(TRANSFORMS, key, json.dumps(result).encode(), TRANSFORMS_KEPT)
    return _code_keys_in(result, code_keys)


# What makes SAM derive something from a function's code location (a Version's logical id)
_HASHES_CODE = ("AutoPublishAlias", "AutoPublishCodeSha256", "DeploymentPreference")


def _code_keys_out(template: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The template with each packaged function's code key replaced by a stand-in, and the
    stand-ins' real keys. Functions whose Version SAM names after their code keep their keys."""
    globals_function = (template.get("Globals") or {}).get("Function") or {}
    if any(name in globals_function for name in _HASHES_CODE):
        return template, {}
    template, code_keys = json.loads(json.dumps(template, default=str)), {}
    for logical_id, resource in (template.get("Resources") or {}).items():
        if not isinstance(resource, dict) or resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = resource.get("Properties") or {}
        code = props.get("CodeUri")
        if isinstance(code, dict) and isinstance(code.get("Key"), str) and not any(n in props for n in _HASHES_CODE):
            stand_in = f"workshop-code-of-{logical_id}"
            code_keys[stand_in], code["Key"] = code["Key"], stand_in
    return template, code_keys


def _code_keys_in(document: Any, code_keys: dict[str, str]) -> Any:
    if not code_keys:
        return document
    if isinstance(document, dict):
        return {k: _code_keys_in(v, code_keys) for k, v in document.items()}
    if isinstance(document, list):
        return [_code_keys_in(v, code_keys) for v in document]
    return code_keys.get(document, document) if isinstance(document, str) else document


@functools.cache
def _transform_version() -> str:
    ours = hashlib.sha256(Path(sam_transform.__file__).read_bytes()).hexdigest()
    return f"aws-sam-translator {importlib.metadata.version('aws-sam-translator')}, {ours}"


class LocalDeployer:
    """Deploys into one account of the local cloud at cloud_url."""

    def __init__(self, cloud_url: str, account: str = "default", region: str | None = None, *,
                 session=None, bucket: str | None = None) -> None:
        """`session`: deploy as someone else than the account's root, e.g. a deploy role's session
        (workshop.localcloud.iam.role_session), whose policies the local cloud then evaluates;
        `bucket`: where the code goes (a role may write only to SAM's managed bucket)."""
        self.account = account_id(account)
        self.region = region = region_of(region)
        self.session = session or local_session(cloud_url, self.account, region)
        self.cloudformation = self.session.client("cloudformation")
        self._s3_client = None
        self.bucket = bucket or f"workshop-artifacts-{self.account}-{region}"

    @property
    def _s3(self):
        if self._s3_client is None:  # made when first needed: an unchanged deploy uploads nothing new
            self._s3_client = self.session.client("s3")
        return self._s3_client

    def _upload(self, key: str, data: bytes) -> tuple[str, str]:
        try:
            self._s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError:
            self._s3.put_object(Bucket=self.bucket, Key=key, Body=data)
        return self.bucket, key

    def _ensure_bucket(self) -> None:
        try:
            self._s3.head_bucket(Bucket=self.bucket)
        except ClientError:
            # S3 wants the Region named, except us-east-1 (s3 API CreateBucket: LocationConstraint)
            where = {} if self.region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": self.region}}
            self._s3.create_bucket(Bucket=self.bucket, **where)

    def build(self, template_path: Path, stack_name: str, parameters: dict[str, str],
              progress: Callable[[str], None] = lambda _: None, upload: bool = True):
        """What a deploy sends: the template packaged and transformed (upload=False: packaged only)."""
        progress(f"{stack_name}: reading {template_path}")
        try:
            findings = validate_template(template_path)  # before anything is packaged or created
            if findings:
                raise DeployError("; ".join(findings))
            sam = templates.load(template_path)
            if upload:
                self._ensure_bucket()
            progress(f"{stack_name}: packaging code")
            packaged = package(sam, template_path.parent, self._upload if upload else _no_upload)
        except templates.TemplateError as exc:
            raise DeployError(str(exc)) from None
        except ClientError as exc:  # the artifacts bucket refused us (a deploy role without S3, say)
            raise DeployError(f"{stack_name}: {_reason(exc)}") from None
        progress(f"{stack_name}: transforming with aws-sam-translator")
        cfn = transform(packaged.template, parameters, self.account, self.region, stack_name)
        unknown = sorted(set(parameters) - set(cfn.get("Parameters", {})))
        if unknown:
            raise DeployError(f"{template_path}: no such parameter(s) {', '.join(unknown)}")
        _check_parameter_values(cfn.get("Parameters", {}), parameters)
        return cfn, packaged

    def validate(self, template_path: Path) -> None:
        """Raise DeployError if the template could not deploy from where it is (files, SAM, parameters)."""
        self.build(template_path, "validate", {}, upload=False)

    def deploy(self, template_path: Path, stack_name: str, parameters: dict[str, str] | None = None,
               tags: dict[str, str] | None = None, progress: Callable[[str], None] = lambda _: None) -> StackInfo:
        parameters = dict(parameters or {})
        cfn, packaged = self.build(template_path, stack_name, parameters, progress)
        body = json.dumps(cfn)
        request = {
            "StackName": stack_name,
            "TemplateBody": body,
            "Parameters": [{"ParameterKey": k, "ParameterValue": str(v)} for k, v in parameters.items()],
            "Capabilities": CAPABILITIES,
            "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()],
        }
        current = self.describe(stack_name)
        if current is None:
            progress(f"{stack_name}: creating stack")
            info = self._create(request)
        else:
            progress(f"{stack_name}: updating stack")
            changed = self._update(request, current)
            info = (self.describe(stack_name) or current) if changed else current
            info.changed = changed
        info.artifacts = [
            {"logicalId": a.logical_id, "zippedBytes": len(a.data), "unzippedBytes": a.unzipped_size, "files": a.files}
            for a in packaged.artifacts
        ]
        progress(f"{stack_name}: {info.status}")
        return info

    def _create(self, request: dict[str, Any]) -> StackInfo:
        try:
            self.cloudformation.create_stack(**request)
        except ClientError as exc:
            self._discard(request["StackName"])
            raise DeployError(f"{request['StackName']}: {_reason(exc)}") from None
        except Exception as exc:  # moto raises from the resource that failed, mid-create
            self._discard(request["StackName"])
            raise DeployError(f"{request['StackName']}: the stack could not be created: {exc}") from None
        created = self.describe(request["StackName"])
        if created is None or not created.status.endswith("_COMPLETE"):
            self._discard(request["StackName"])
            raise DeployError(f"{request['StackName']}: creation ended in {created and created.status}")
        return created

    def _update(self, request: dict[str, Any], stack: StackInfo) -> bool:
        current = _document(self.cloudformation.get_template(StackName=request["StackName"])["TemplateBody"])
        wanted = json.loads(request["TemplateBody"])
        current_params = stack.parameters
        wanted_params = {p["ParameterKey"]: p["ParameterValue"] for p in request["Parameters"]}
        same_parameters = all(current_params.get(k) == v for k, v in wanted_params.items())
        if current == wanted and same_parameters:
            return False  # as CloudFormation: "No updates are to be performed"
        if not (same_parameters and current is not None and _code_only_change(current, wanted)):
            return self._replace(request)
        try:
            self.cloudformation.update_stack(**request)
        except ClientError as exc:
            if "No updates are to be performed" in str(exc):
                return False
            return self._replace(request)  # moto could not apply it in place: start from a clean stack
        return True

    def exports(self) -> dict[str, str]:
        """The account's exports, name -> value."""
        found = {}
        for page in self.cloudformation.get_paginator("list_exports").paginate():
            found.update({e["Name"]: e["Value"] for e in page.get("Exports", [])})
        return found

    def _replace(self, request: dict[str, Any]) -> bool:
        """The stack deleted and created again from the new template: what moto's in-place update
        gets wrong (a replaced table whose functions keep its old name, an API whose new deployment
        is created before the API it points at) cannot leave a stale stack behind."""
        self.cloudformation.delete_stack(StackName=request["StackName"])
        self._create(request)
        return True

    def _discard(self, stack_name: str) -> None:
        """A failed create leaves no stack behind (moto would leave it CREATE_IN_PROGRESS)."""
        try:
            self.cloudformation.delete_stack(StackName=stack_name)
        except Exception:  # noqa: BLE001 - the stack may never have been recorded
            pass

    def describe(self, stack_name: str) -> StackInfo | None:
        return describe_stack(self.cloudformation, stack_name)

    def destroy(self, stack_name: str) -> bool:
        if self.describe(stack_name) is None:
            return False
        self.cloudformation.delete_stack(StackName=stack_name)
        return True

    def described_stacks(self) -> list[dict[str, Any]]:
        """Every live stack of this account, with its tags (one paged call, not one per stack)."""
        found = []
        for page in self.cloudformation.get_paginator("describe_stacks").paginate():
            found += [s for s in page["Stacks"] if s["StackStatus"] != "DELETE_COMPLETE"]
        return found

    def stacks(self) -> list[str]:
        summaries = self.cloudformation.list_stacks()["StackSummaries"]
        return sorted(s["StackName"] for s in summaries if s["StackStatus"] != "DELETE_COMPLETE")


def _check_parameter_values(declared: dict[str, Any], given: dict[str, str]) -> None:
    """CloudFormation's own checks of parameter values (moto makes none of them)."""
    for name, spec in declared.items():
        value = given.get(name, spec.get("Default"))
        if value is None:
            if not name.startswith("AWS::"):
                raise DeployError(f"Parameters: [{name}] must have values")
            continue
        value = str(value)
        allowed = [str(v) for v in spec.get("AllowedValues", [])]
        if allowed and value not in allowed:
            raise DeployError(f"Parameter '{name}' must be one of AllowedValues ({', '.join(allowed)}), not {value!r}")
        pattern = spec.get("AllowedPattern")
        if pattern and not re.fullmatch(pattern, value):
            raise DeployError(f"Parameter '{name}' must match pattern {pattern}")
        if spec.get("Type") == "Number":
            try:
                number = float(value)
            except ValueError:
                raise DeployError(f"Parameter '{name}' must be a number") from None
            if "MinValue" in spec and number < float(spec["MinValue"]) or "MaxValue" in spec and number > float(spec["MaxValue"]):
                raise DeployError(f"Parameter '{name}' must be between {spec.get('MinValue')} and {spec.get('MaxValue')}")


def _no_upload(key: str, data: bytes) -> tuple[str, str]:
    return "not-uploaded", key


def _code_only_change(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """Whether the templates differ only in Lambda functions' properties (new code, configuration):
    the learner's everyday edit, which moto applies in place. Anything else is replaced."""
    old, new = before.get("Resources") or {}, after.get("Resources") or {}
    if {k: v for k, v in before.items() if k != "Resources"} != {k: v for k, v in after.items() if k != "Resources"}:
        return False
    if set(old) != set(new):
        return False
    changed = [name for name in new if new[name] != old[name]]
    return all(new[name].get("Type") == old[name].get("Type") == "AWS::Lambda::Function"
               and (new[name].get("Properties") or {}).get("FunctionName") == (old[name].get("Properties") or {}).get("FunctionName")
               for name in changed)


def _document(body: Any) -> dict[str, Any] | None:
    """A stack's template body as CloudFormation answers it (a string, or already a document)."""
    try:
        return json.loads(body) if isinstance(body, str) else body
    except ValueError:
        return None


def _reason(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Message") or str(exc)
