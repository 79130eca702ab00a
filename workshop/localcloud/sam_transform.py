"""The SAM transform, applied offline with aws-sam-translator as CloudFormation applies it.

Used by the local deploy and by the local cloud's change sets (what `sam deploy` sends), so a
template means the same thing on both roads.
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/transform-aws-serverless.html
"""

from __future__ import annotations

import functools
import logging
from typing import Any


class TransformError(ValueError):
    """A template the transform refuses, with the reason."""


SAM_TRANSFORM = "AWS::Serverless-2016-10-31"
logging.getLogger("samtranslator").setLevel(logging.ERROR)  # its metrics warnings mean nothing offline


def transform(template: dict[str, Any], parameters: dict[str, str], account: str, region: str,
              stack_name: str) -> dict[str, Any]:
    transforms = template.get("Transform", [])
    transforms = [transforms] if isinstance(transforms, str) else list(transforms)
    others = [t for t in transforms if t != SAM_TRANSFORM]
    if others:
        raise TransformError(f"transform {', '.join(map(str, others))} is not available on the local target")
    if not transforms:
        return template
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.arn_generator import ArnGenerator
    from samtranslator.translator.translator import Translator

    _reuse_policy_templates()
    ArnGenerator.BOTO_SESSION_REGION_NAME = region  # the stack's region, not this machine's profile
    values = {
        **parameters,
        "AWS::Region": region, "AWS::AccountId": account, "AWS::Partition": "aws",
        "AWS::StackName": stack_name, "AWS::URLSuffix": "amazonaws.com",
    }
    translator = Translator(None, Parser(), boto_session=_translator_session(region))
    try:
        return translator.translate(template, parameter_values=values, get_managed_policy_map=dict)
    except InvalidDocumentException as exc:
        causes = "; ".join(cause.message for cause in exc.causes)
        raise TransformError(f"the SAM template is invalid: {causes}") from None


@functools.cache
def _translator_session(region: str):
    """The translator asks a session only for its region and partition: one per region will do."""
    import boto3
    return boto3.Session(region_name=region)


def _reuse_policy_templates() -> None:
    """The translator loads and schema-checks its policy templates on every translate (about
    0.15 s each); the plugin holds no state between templates, so one serves every deploy."""
    from samtranslator.translator import translator

    if not hasattr(translator.make_policy_template_for_function_plugin, "cache_info"):
        translator.make_policy_template_for_function_plugin = functools.cache(
            translator.make_policy_template_for_function_plugin)
