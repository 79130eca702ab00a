"""Installed distributions as `sam build` would vendor them, taken offline from this environment.

Used to package a function's requirements.txt, to give execution environments the packages
the Lambda runtime provides (boto3), and to stand in for public layers such as Powertools.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name


class MissingDistribution(Exception):
    """A requirement that this environment does not have installed."""


def read_requirements(path: Path) -> list[str]:
    lines = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            lines.append(line)
    return lines


def closure(requirements: Iterable[str], provided: Iterable[str] = ()) -> list[metadata.Distribution]:
    """The distributions named and everything they require, minus those the runtime provides."""
    skip = {canonicalize_name(name) for name in provided}
    found: dict[str, metadata.Distribution] = {}
    pending: list[tuple[str, str | None]] = [(r, None) for r in requirements]  # (requirement, who needs it)
    while pending:
        text, parent = pending.pop()
        try:
            req = Requirement(text)
        except InvalidRequirement as exc:
            raise MissingDistribution(f"cannot read requirement {text!r}: {exc}") from None
        name = canonicalize_name(req.name)
        if name in skip or name in found:
            continue
        if req.marker and not req.marker.evaluate({"extra": ""}):
            continue
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            via = f" (needed by {parent})" if parent else ""
            raise MissingDistribution(
                f"requirement '{req.name}'{via} is not installed in the course environment; "
                "the local deploy packages offline from it") from None
        found[name] = dist
        extras_wanted = req.extras
        for dep in dist.requires or []:
            dep_req = Requirement(dep)
            if dep_req.marker and not any(
                    dep_req.marker.evaluate({"extra": e}) for e in (extras_wanted or {""})):
                continue
            pending.append((str(dep_req).split(";")[0], req.name))
    return list(found.values())


def top_level_paths(dist: metadata.Distribution) -> set[Path]:
    """The importable files and folders a distribution put into site-packages."""
    roots = set()
    for file in dist.files or []:
        first = file.parts[0]
        if first in ("..", "__pycache__") or first.endswith((".dist-info", ".egg-info", ".pth")):
            continue
        roots.add(Path(str(dist.locate_file(first))))
    return {p for p in roots if p.exists()}


def vendor(dists: Iterable[metadata.Distribution], target: Path, link: bool = False) -> None:
    """Put the distributions' files into target, copied (for a package) or linked (for a runtime)."""
    target.mkdir(parents=True, exist_ok=True)
    for dist in dists:
        for source in top_level_paths(dist):
            dest = target / source.name
            if dest.exists() or dest.is_symlink():
                continue
            if link:
                dest.symlink_to(source)
            elif source.is_dir():
                shutil.copytree(source, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                shutil.copy2(source, dest)


RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3")
"""What the Lambda Python runtime already has: never packaged, always importable."""
