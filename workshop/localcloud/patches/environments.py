"""Lambda: a function updated or deleted stops its warm execution environments at once.

On Lambda an update of a function's code or configuration means the next invocation runs in a
new environment, and a deleted function's environments are gone. moto 5.2.5 knows nothing of
our environments, so its update and delete calls (the API's and CloudFormation's alike) tell
the executor; a function left alone by a stack update keeps its warm environments.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from moto.awslambda import models

if TYPE_CHECKING:
    from ..server import LocalCloud


def apply(cloud: LocalCloud) -> None:
    def retire(fn) -> None:
        cloud.executor.retire(fn.account_id, fn.region, fn.function_name)

    for method in ("update_configuration", "update_function_code"):
        original = getattr(models.LambdaFunction, method)

        def updated(self, spec, _original=original):
            result = _original(self, spec)
            if not (isinstance(spec, dict) and spec.get("DryRun")):
                retire(self)
            return result

        setattr(models.LambdaFunction, method, updated)

    original_delete = models.LambdaBackend.delete_function

    def delete_function(self, function_name, qualifier=None):
        try:
            doomed = self.get_function(function_name)
        except Exception:  # noqa: BLE001 - moto answers a missing function its own way below
            doomed = None
        original_delete(self, function_name, qualifier)
        if doomed is not None and not qualifier:
            retire(doomed)

    models.LambdaBackend.delete_function = delete_function
