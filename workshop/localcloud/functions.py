"""From moto's Lambda model to what an execution environment runs: code, layers, runtime."""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import threading
import zipfile
from pathlib import Path
from typing import Any, cast

from ..distributions import RUNTIME_PROVIDED, closure, vendor
from .interpreters import interpreter_for
from .lambda_executor import FunctionConfig

# The public Powertools for AWS Lambda (Python) layers, any region, version and architecture.
# The public layer bundles Powertools with its extras (the docs: "[all]" as a dev dependency).
POWERTOOLS_LAYER_CONTENTS = "aws-lambda-powertools[tracer,validation,parser]"
POWERTOOLS_LAYER = re.compile(r"^arn:aws:lambda:[a-z0-9-]+:017000801446:layer:AWSLambdaPowertoolsPython[A-Za-z0-9_-]*:\d+$")


class UnknownFunction(LookupError):
    pass


class FunctionResolver:
    def __init__(self, state_dir: Path, endpoint_url: str) -> None:
        self.state_dir = state_dir
        self.endpoint_url = endpoint_url
        self._lock = threading.Lock()
        self._ready: set[Path] = set()  # folders prepared by this process: no disk check per invoke
        self.runtime_dir = self._linked_distributions("runtime", RUNTIME_PROVIDED, provided=())

    def _linked_distributions(self, name: str, requirements, provided=RUNTIME_PROVIDED) -> str:
        target = self.state_dir / name
        with self._lock:  # two first invocations at once must not build the same folder together
            if target not in self._ready:
                marker, wanted = target / ".complete", "\n".join(sorted(requirements))
                if not marker.exists() or marker.read_text() != wanted:  # a state folder from an older course
                    shutil.rmtree(target, ignore_errors=True)
                    vendor(closure(requirements, provided), target, link=True)
                    marker.write_text(wanted)
                self._ready.add(target)
        return str(target)

    def _unzip(self, kind: str, sha: str, code: bytes) -> str:
        target = self.state_dir / kind / (hashlib.sha256(sha.encode()).hexdigest()[:32] if code else "empty")
        with self._lock:
            if target not in self._ready:
                if not (target / ".complete").exists():
                    target.mkdir(parents=True, exist_ok=True)
                    if code:
                        zipfile.ZipFile(io.BytesIO(code)).extractall(target)
                    (target / ".complete").touch()
                self._ready.add(target)
        return str(target)

    def powertools_layer(self) -> str:
        """The public Powertools layer, as the installed aws-lambda-powertools in the python/ layout."""
        self._linked_distributions("layers/powertools/python", [POWERTOOLS_LAYER_CONTENTS])
        return str(self.state_dir / "layers" / "powertools")

    def _layer_dir(self, backend, arn: str) -> str:
        if POWERTOOLS_LAYER.match(arn):
            return self.powertools_layer()
        version = backend.layers_versions_by_arn(arn)
        if version is None:
            raise UnknownFunction(f"layer {arn} does not exist")
        return self._unzip("layers", version.code_sha_256, version.code_bytes)

    def config_for(self, fn) -> FunctionConfig:
        from moto.awslambda.models import lambda_backends

        backend = lambda_backends[fn.account_id][fn.region]
        layers = tuple(self._layer_dir(backend, layer["Arn"]) for layer in fn.layers or [])
        code_dir = self._unzip("code", fn.code_sha_256, fn.code_bytes)
        python, python_version = interpreter_for((code_dir, *layers))
        return FunctionConfig(
            name=fn.function_name,
            arn=fn.function_arn,
            handler=fn.handler or "index.handler",
            code_dir=code_dir,
            layer_dirs=layers,
            runtime_dir=self.runtime_dir,
            timeout=int(fn.timeout or 3),
            memory_size=int(fn.memory_size or 128),
            environment=tuple(sorted((k, str(v)) for k, v in (fn.environment_vars or {}).items())),
            account_id=fn.account_id,
            region=fn.region,
            endpoint_url=self.endpoint_url,
            reserved_concurrency=None if fn.reserved_concurrency is None else int(fn.reserved_concurrency),
            credentials=execution_role_credentials(fn),
            python=python,
            python_version=python_version,
        )

    def config_for_arn(self, arn: str) -> FunctionConfig:
        from moto.awslambda.models import lambda_backends

        parts = arn.split(":")
        if len(parts) < 7 or parts[2] != "lambda":
            raise UnknownFunction(f"not a function ARN: {arn}")
        region, account, name = parts[3], parts[4], parts[6]
        qualifier = parts[7] if len(parts) > 7 else None
        try:
            fn = lambda_backends[account][region].get_function(name, qualifier)
        except Exception:
            raise UnknownFunction(f"function {arn} does not exist") from None
        return self.config_for(fn)


def reserved_in_account(account: str, region: str) -> int:
    """The sum of the reserved concurrency of an account's functions in a Region."""
    from moto.awslambda.models import lambda_backends

    regions: dict[str, Any] = dict.get(cast(dict, lambda_backends), account) or {}  # dict's own get: no backend created on the way
    backend = dict.get(regions, region)
    if backend is None:
        return 0
    return sum(int(fn.reserved_concurrency) for fn in backend.list_functions() if fn.reserved_concurrency is not None)


def execution_role_credentials(fn) -> tuple[str, str, str] | None:
    """The function's execution role session, named after the function as Lambda names it."""
    from .iam import role_credentials

    if not fn.role or ":role/" not in fn.role:
        return None
    found = role_credentials(fn.role, fn.function_name, fn.region)
    return found.access_key_id, found.secret_access_key, found.session_token
