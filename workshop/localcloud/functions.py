"""From moto's Lambda model to what an execution environment runs: code, layers, runtime."""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import threading
import zipfile
from pathlib import Path

from ..distributions import RUNTIME_PROVIDED, closure, vendor
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
        return FunctionConfig(
            name=fn.function_name,
            arn=fn.function_arn,
            handler=fn.handler or "index.handler",
            code_dir=self._unzip("code", fn.code_sha_256, fn.code_bytes),
            layer_dirs=layers,
            runtime_dir=self.runtime_dir,
            timeout=int(fn.timeout or 3),
            memory_size=int(fn.memory_size or 128),
            environment=tuple(sorted((k, str(v)) for k, v in (fn.environment_vars or {}).items())),
            account_id=fn.account_id,
            region=fn.region,
            endpoint_url=self.endpoint_url,
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
