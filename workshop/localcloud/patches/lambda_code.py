"""Lambda: the code locations GetFunction and GetLayerVersion answer can be downloaded.

AWS answers GetFunction with Code.Location, a presigned URL to the deployment package valid
for ten minutes, and GetLayerVersion with Content.Location, the same for a layer. moto 5.2.5
answers an amazonaws.com host for a function (no function from a ZipFile gets one at all) and
"s3://" for a layer: nothing a client can fetch. A check on the aws target measures unzipped
sizes by downloading them, so here both are `{cloud}/_aws/lambda-code/{sha256}` on the local
cloud, which answers the zip. The public Powertools layer (account 017000801446) is readable by
anyone on AWS; here GetLayerVersion answers it too, its content being what the local cloud
runs for that ARN (the installed aws-lambda-powertools in the python/ layout).
https://docs.aws.amazon.com/lambda/latest/api/API_GetFunction.html
https://docs.aws.amazon.com/lambda/latest/api/API_GetLayerVersion.html
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
import zipfile
from pathlib import Path

PREFIX = "/_aws/lambda-code/"
_packages: dict[str, bytes] = {}  # sha256 hex -> the zip (the model's own bytes, not a copy)


def _location(cloud_url: str, code: bytes) -> str:
    digest = hashlib.sha256(code).hexdigest()
    _packages[digest] = code
    return f"{cloud_url}{PREFIX}{digest}"


class PublicPowertoolsVersion:
    """GetLayerVersion's answer for the public Powertools layer, from what the local cloud runs for it."""

    def __init__(self, arn: str, package: bytes, location: str) -> None:
        self.arn, self.package, self.location = arn, package, location

    def get_layer_version(self) -> dict:
        layer_arn, _, version = self.arn.rpartition(":")
        return {"Content": {"Location": self.location, "CodeSize": len(self.package),
                            "CodeSha256": hashlib.sha256(self.package).hexdigest()},
                "LayerArn": layer_arn, "LayerVersionArn": self.arn, "Version": int(version),
                "CompatibleRuntimes": ["python3.12"], "CreatedDate": "2024-01-01T00:00:00.000+0000"}


_powertools_zip: list[bytes] = []
_zip_lock = threading.Lock()


def _zip_folder(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for base, _, files in os.walk(folder, followlinks=True):  # the layer's folders link the course's packages
            for name in files:
                path = Path(base, name)
                if "__pycache__" not in path.parts:
                    archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


def apply(cloud) -> None:
    from moto.awslambda.models import LambdaBackend, LambdaFunction, LayerVersion
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    from ..functions import POWERTOOLS_LAYER

    original_code, original_layer = LambdaFunction.get_code, LayerVersion.get_layer_version

    def get_code(self):
        response = original_code(self)
        if getattr(self, "code_bytes", b"") and response.get("Code", {}).get("RepositoryType") != "ECR":
            response["Code"] = {"RepositoryType": "S3", "Location": _location(cloud.url, self.code_bytes)}
        return response

    def get_layer_version(self):
        response = original_layer(self)
        if getattr(self, "code_bytes", b""):
            response["Content"]["Location"] = _location(cloud.url, self.code_bytes)
        return response

    LambdaFunction.get_code, LayerVersion.get_layer_version = get_code, get_layer_version

    original_backend_layer = LambdaBackend.get_layer_version

    def backend_get_layer_version(self, layer_name: str, layer_version: str):
        arn = f"{layer_name}:{layer_version}"
        if not POWERTOOLS_LAYER.match(arn):
            return original_backend_layer(self, layer_name, layer_version)
        with _zip_lock:  # built once per process: a few MB of the course's packages
            if not _powertools_zip:
                _powertools_zip.append(_zip_folder(Path(cloud.functions.powertools_layer())))
        package = _powertools_zip[0]
        return PublicPowertoolsVersion(arn, package, _location(cloud.url, package))

    LambdaBackend.get_layer_version = backend_get_layer_version

    original_call = DomainDispatcherApplication.__call__

    def serve(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if not path.startswith(PREFIX):
            return original_call(self, environ, start_response)
        package = _packages.get(path[len(PREFIX):])
        if package is None:
            start_response("404 Not Found", [("Content-Type", "application/xml")])
            return [b"<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>"]
        start_response("200 OK", [("Content-Type", "application/zip"), ("Content-Length", str(len(package)))])
        return [package]

    DomainDispatcherApplication.__call__ = serve
