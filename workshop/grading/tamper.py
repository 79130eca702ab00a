"""What a grade relies on is the course's: checks/ and the workshop code they run, against a checksum manifest.

The manifest (checks/MANIFEST.sha256, written by `make manifest`) lists every file of checks/ and
every module of the `workshop` package that the checks import, directly or through other modules
(found by reading the imports, so the list follows the code). A learner who edits any of them,
say the deploy that the checks call, is told so before a grade is given.
"""

from __future__ import annotations

import ast
import hashlib
import re
from pathlib import Path

from ..course import CHECKS_DIR

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # the workshop package
PACKAGE = PACKAGE_DIR.name
MANIFEST_NAME = "MANIFEST.sha256"
MANIFEST = CHECKS_DIR / MANIFEST_NAME
CHECKS_FILES = (".py", ".ini", ".json")
_MODULE_NAME = re.compile(rf"^{PACKAGE}(\.\w+)+$")


def _module_file(dotted: str) -> Path | None:
    """The file of a workshop module or package, or None (not ours, or not a module)."""
    parts = dotted.split(".")
    if parts[0] != PACKAGE:
        return None
    base = PACKAGE_DIR.joinpath(*parts[1:])
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _package_of(path: Path) -> str:
    relative = path.relative_to(PACKAGE_DIR).with_suffix("")
    return ".".join([PACKAGE, *relative.parts][:-1])  # a module's package; an __init__'s own package


def _imported(path: Path, package: str | None) -> set[str]:
    """Dotted names a file imports (relative ones resolved against its package), and names it spells as strings."""
    try:
        tree = ast.parse(path.read_text(), str(path))
    except (SyntaxError, OSError, UnicodeDecodeError):
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level and package:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)  # `from pkg import module`
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _MODULE_NAME.match(node.value):
            names.add(node.value)  # `python -m workshop.localcloud.server`, importlib.import_module("workshop...")
    return names


def _with_parents(module: Path) -> list[Path]:
    """A module and the `__init__.py` of every package above it (importing it runs them all)."""
    found, folder = [module], module.parent
    while folder == PACKAGE_DIR or PACKAGE_DIR in folder.parents:
        init = folder / "__init__.py"
        if init.is_file():
            found.append(init)
        folder = folder.parent
    return found


def _loads_its_submodules(path: Path) -> bool:
    """A package that imports its submodules by listing them (pkgutil), as localcloud/patches does."""
    return path.name == "__init__.py" and "iter_modules(__path__)" in path.read_text()


def workshop_modules_used_by(checks: Path = CHECKS_DIR) -> list[Path]:
    """Every file of the workshop package that grading runs: the grader (workshop/grading) and what it
    and the checks import, directly or transitively."""
    grader = sorted((PACKAGE_DIR / "grading").glob("*.py"))
    seen: set[Path] = set(grader)
    queue: list[tuple[Path, str | None]] = [(p, None) for p in sorted(checks.rglob("*.py")) if "__pycache__" not in p.parts]
    queue += [(p, _package_of(p)) for p in grader]
    while queue:
        path, package = queue.pop()
        for name in _imported(path, package):
            module = _module_file(name)
            if module is None:
                continue
            found = _with_parents(module)
            if _loads_its_submodules(module):
                found += sorted(module.parent.glob("*.py"))
            for file in found:
                if file not in seen:
                    seen.add(file)
                    queue.append((file, _package_of(file)))
    return sorted(seen)


def _covered(checks: Path) -> dict[str, Path]:
    """manifest name -> file: checks/ as `checks/...`, the workshop modules as `workshop/...`."""
    files = {f"checks/{p.relative_to(checks).as_posix()}": p for p in sorted(checks.rglob("*"))
             if p.is_file() and p.suffix in CHECKS_FILES and "__pycache__" not in p.parts}
    files.update({f"{PACKAGE}/{p.relative_to(PACKAGE_DIR).as_posix()}": p for p in workshop_modules_used_by(checks)})
    return files


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_manifest(checks: Path = CHECKS_DIR) -> None:
    lines = [f"{_digest(path)}  {name}" for name, path in _covered(checks).items()]
    (checks / MANIFEST_NAME).write_text("\n".join(lines) + "\n")


def verify_checks(checks: Path = CHECKS_DIR) -> list[str]:
    """What differs from the manifest: changed, missing or added files (empty when intact)."""
    try:
        text = (checks / MANIFEST_NAME).read_text()
    except OSError:
        return [f"{MANIFEST_NAME} is missing"]
    expected = {name: digest for digest, name in (line.split("  ", 1) for line in text.splitlines() if line)}
    actual = {name: _digest(path) for name, path in _covered(checks).items()}
    problems = [f"{name} changed" for name in expected if name in actual and actual[name] != expected[name]]
    problems += [f"{name} missing" for name in expected if name not in actual]
    problems += [f"{name} added" for name in actual if name not in expected]
    return sorted(problems)


if __name__ == "__main__":
    write_manifest()
