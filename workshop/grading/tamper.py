"""The checkpoints a grade relies on are the course's: checks/ against its checksum manifest."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..course import CHECKS_DIR

MANIFEST = CHECKS_DIR / "MANIFEST.sha256"


def _checked_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (".py", ".ini", ".json")
                  and "__pycache__" not in p.parts)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_manifest(root: Path = CHECKS_DIR) -> None:
    lines = [f"{_digest(p)}  {p.relative_to(root).as_posix()}" for p in _checked_files(root)]
    (root / MANIFEST.name).write_text("\n".join(lines) + "\n")


def verify_checks(root: Path = CHECKS_DIR) -> list[str]:
    """What differs from the manifest: changed, missing or added files (empty when intact)."""
    try:
        expected = dict(reversed(line.split("  ", 1)) for line in (root / MANIFEST.name).read_text().splitlines() if line)
    except OSError:
        return [f"{MANIFEST.name} is missing"]
    actual = {p.relative_to(root).as_posix(): _digest(p) for p in _checked_files(root)}
    problems = [f"{name} changed" for name in expected if name in actual and actual[name] != expected[name]]
    problems += [f"{name} missing" for name in expected if name not in actual]
    problems += [f"{name} added" for name in actual if name not in expected]
    return sorted(problems)


if __name__ == "__main__":
    write_manifest()
