"""Package a SAM template's local code as `sam build` + `sam package` would, offline.

A function's artifact is its CodeUri folder plus what its requirements.txt lists and their
dependencies, taken from the course's own environment; the runtime's own packages (boto3)
are left out. Artifacts go to the target's S3 bucket, keyed by their content, and the
template is rewritten to point at them.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .. import kept
from ..distributions import RUNTIME_PROVIDED, MissingDistribution, closure, read_requirements, top_level_paths
from ..tree import NOT_SOURCE
from .template import TemplateError, _TemplateLoader

UNZIPPED_LIMIT = 262_144_000  # bytes, function plus layers, as Lambda enforces
FIXED_DATE = (1980, 1, 1, 0, 0, 0)  # same content, same zip, same key: unchanged code is not re-uploaded
ARTIFACTS, ARTIFACTS_KEPT = "artifacts", 200  # zips kept between deploys (a FastAPI function's takes 0.6 s to make)


class PackageError(TemplateError):
    """Code that cannot be packaged; names the resource."""


@dataclass
class Artifact:
    logical_id: str
    key: str
    data: bytes
    unzipped_size: int
    files: int


@dataclass
class PackageResult:
    template: dict[str, Any]
    artifacts: list[Artifact] = field(default_factory=list)


Uploader = Callable[[str, bytes], tuple[str, str]]  # (key, zip) -> (bucket, key)


def package(template: dict[str, Any], base: Path, upload: Uploader) -> PackageResult:
    """Rewrite local code locations in the template to uploaded artifacts."""
    result = PackageResult(template=json.loads(json.dumps(template)))
    globals_function = result.template.get("Globals", {}).get("Function", {})
    for logical_id, resource in result.template.get("Resources", {}).items():
        kind = resource.get("Type")
        props = resource.setdefault("Properties", {})
        if kind == "AWS::Serverless::Function":
            if "InlineCode" in props or props.get("PackageType") == "Image":
                continue
            code_uri = props.get("CodeUri", globals_function.get("CodeUri", "."))
            if _is_local(code_uri):
                artifact = _build(logical_id, base / code_uri, with_requirements=True)
                bucket, key = upload(artifact.key, artifact.data)
                props["CodeUri"] = {"Bucket": bucket, "Key": key}
                result.artifacts.append(artifact)
        elif kind == "AWS::Serverless::LayerVersion":
            content_uri = props.get("ContentUri")
            if _is_local(content_uri):
                build_method = str(resource.get("Metadata", {}).get("BuildMethod", ""))
                artifact = _build(logical_id, base / content_uri, build_method.startswith("python"), layer=True)
                bucket, key = upload(artifact.key, artifact.data)
                props["ContentUri"] = {"Bucket": bucket, "Key": key}
                result.artifacts.append(artifact)
        elif kind == "AWS::Lambda::Function" and _is_local(props.get("Code")):
            artifact = _build(logical_id, base / props["Code"], False)
            bucket, key = upload(artifact.key, artifact.data)
            props["Code"] = {"S3Bucket": bucket, "S3Key": key}
            result.artifacts.append(artifact)
        elif kind == "AWS::Lambda::LayerVersion" and _is_local(props.get("Content")):
            artifact = _build(logical_id, base / props["Content"], False, layer=True)
            bucket, key = upload(artifact.key, artifact.data)
            props["Content"] = {"S3Bucket": bucket, "S3Key": key}
            result.artifacts.append(artifact)
        elif kind == "AWS::Serverless::StateMachine" and _is_local(props.get("DefinitionUri")):
            props["Definition"] = _read_document(logical_id, base / props.pop("DefinitionUri"))
        elif kind == "AWS::Serverless::Api" and _is_local(props.get("DefinitionUri")):
            props["DefinitionBody"] = _read_document(logical_id, base / props.pop("DefinitionUri"))
    return result


def _is_local(uri: Any) -> bool:
    return isinstance(uri, str) and "://" not in uri


def _read_document(logical_id: str, path: Path) -> Any:
    try:
        text = path.read_text()
    except OSError:
        raise PackageError(f"{logical_id}: {path} does not exist") from None
    try:
        return json.loads(text) if path.suffix == ".json" else yaml.load(text, Loader=_TemplateLoader)  # noqa: S506 - a SafeLoader subclass
    except (ValueError, yaml.YAMLError) as exc:
        raise PackageError(f"{logical_id}: {path} cannot be read: {exc}") from None


def _files(root: Path, prefix: str = "") -> list[tuple[str, Path]]:
    """(name in the zip, file) for every file under root, links followed, caches skipped."""
    if root.is_file():
        return [(prefix + root.name, root)]
    found = []
    for folder, dirs, names in os.walk(root, followlinks=True):
        dirs[:] = sorted(d for d in dirs if d not in NOT_SOURCE)
        for name in sorted(names):
            if name.endswith(".pyc"):
                continue
            path = Path(folder) / name
            found.append((prefix + path.relative_to(root).as_posix(), path))
    return found


def _dependencies(logical_id: str, requirements: Path, prefix: str) -> list[tuple[str, Path]]:
    try:
        dists = closure(read_requirements(requirements), provided=RUNTIME_PROVIDED)
    except MissingDistribution as exc:
        raise PackageError(f"{logical_id}: {exc}") from None
    entries = []
    for dist in sorted(dists, key=lambda d: d.metadata["Name"].lower()):
        for top in sorted(top_level_paths(dist)):
            entries += _files(top, f"{prefix}{top.name}/" if top.is_dir() else prefix)
    return entries


def _build(logical_id: str, source: Path, with_requirements: bool, layer: bool = False) -> Artifact:
    if not source.exists():
        what = "ContentUri" if layer else "CodeUri"
        raise PackageError(f"{logical_id}: {what} {source} does not exist")
    # a layer built by `sam build` (BuildMethod: python3.x) gets its code and packages under python/
    prefix = "python/" if layer and with_requirements else ""
    entries = _files(source, prefix)
    requirements = source / "requirements.txt"
    if with_requirements and requirements.is_file():
        entries += _dependencies(logical_id, requirements, prefix)
    unzipped = 0
    for _, path in entries:
        unzipped += path.stat().st_size
        if unzipped > UNZIPPED_LIMIT:
            raise PackageError(
                f"{logical_id}: unzipped size must be smaller than {UNZIPPED_LIMIT} bytes "
                f"(Lambda's 250 MB limit); {source} is bigger")
    key = _entries_digest(entries, source) + ".zip"
    data = kept.read(ARTIFACTS, key)
    if data is None:
        data = _zip(entries)
        kept.keep(ARTIFACTS, key, data, ARTIFACTS_KEPT)
    digest = hashlib.sha256(data).hexdigest()
    return Artifact(logical_id, f"{digest}.zip", data, unzipped, len(entries))


def _entries_digest(entries: list[tuple[str, Path]], source: Path) -> str:
    """What a zip of these entries holds: the code's files by content; an installed package's files,
    which change only when it is reinstalled, by size and modification time (a stat, not a read)."""
    digest = hashlib.sha256(b"zip 1\0")
    for name, path in entries:
        if path.is_relative_to(source):
            digest.update(name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
        else:
            stat = path.stat()
            digest.update(f"{name}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    return digest.hexdigest()


def _zip(entries: list[tuple[str, Path]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, path in entries:
            info = zipfile.ZipInfo(name, FIXED_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return buffer.getvalue()
