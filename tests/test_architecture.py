"""The four rules of DESIGN.md section 6, checked over the code's imports (read with ast, never run).

1. The shop's code in modules/ never imports the workshop package.
2. checks/ reach a target through boto3 and HTTP: of the workshop package they import only the
   engines that read what a learner wrote and the Target interface (CHECKS_MAY_IMPORT), never the
   local cloud's internals, the course or the grader.
3. The local cloud knows nothing of the course: workshop/localcloud imports nothing of the course,
   the grader or the checks, and names no module.
4. Deploy is the one place that knows how the targets differ: outside workshop/deploy, only the
   CLI's option parsing compares a target's name.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from workshop import course
from workshop.tree import source_files

ROOT = Path(__file__).resolve().parents[1]
WORKSHOP = ROOT / "workshop"
CHECKS = ROOT / "checks"

# What a checkpoint may use of the tooling: engines that read templates, samconfig, workflows
# and trees as AWS and GitHub do, and the one Target interface (workshop/deploy/target.py).
CHECKS_MAY_IMPORT = (
    "workshop.deploy.target", "workshop.deploy.targets", "workshop.deploy.layout", "workshop.deploy.logs",
    "workshop.deploy.template", "workshop.deploy.intrinsics", "workshop.deploy.samconfig", "workshop.deploy.apis",
    "workshop.deploy.tokens",
    "workshop.pipeline", "workshop.tree", "workshop.unit_tests", "workshop.kept",
)
LOCALCLOUD_MAY_NOT_IMPORT = ("workshop.course", "workshop.grading", "workshop.cli", "checks")
# Usable on its own: of the rest of the package, the local cloud needs only the reader of installed
# distributions (what a function's requirements.txt packages); the SAM transform lives inside it.
LOCALCLOUD_MAY_IMPORT_OUTSIDE = ("workshop.localcloud", "workshop.distributions")
TARGET_NAMES = {"local", "aws"}
# Where a target's name may be compared: the targets themselves, and the CLI turning an option into one.
# doctor.py runs the checklist of the route the option names, before any target exists.
MAY_COMPARE_TARGET_NAMES = ("workshop/deploy/", "workshop/cli.py", "workshop/doctor.py")


def _python(root: Path) -> list[Path]:
    return [p for p in source_files(root, "*.py") if "trees_" not in p.as_posix()]


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute dotted name) of every import, relative ones resolved against the file's package."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_the_shop_never_imports_the_workshop_package():
    found = [f"{p.relative_to(ROOT)}:{line} imports {name}" for p in _python(ROOT / "modules")
             for line, name in _imports(p) if _within(name, ("workshop",))]
    assert not found, found


def test_checks_import_only_the_engines_and_the_target_interface():
    found = [f"{p.relative_to(ROOT)}:{line} imports {name}" for p in _python(CHECKS)
             for line, name in _imports(p) if _within(name, ("workshop",)) and not _within(name, CHECKS_MAY_IMPORT)]
    assert not found, f"checks/ may import only {CHECKS_MAY_IMPORT}: {found}"


def test_the_local_cloud_imports_nothing_of_the_course_the_grader_or_the_checks():
    found = [f"{p.relative_to(ROOT)}:{line} imports {name}" for p in _python(WORKSHOP / "localcloud")
             for line, name in _imports(p) if _within(name, LOCALCLOUD_MAY_NOT_IMPORT)]
    assert not found, found


def test_the_local_cloud_stands_on_its_own():
    found = [f"{p.relative_to(ROOT)}:{line} imports {name}" for p in _python(WORKSHOP / "localcloud")
             for line, name in _imports(p)
             if _within(name, ("workshop",)) and not _within(name, LOCALCLOUD_MAY_IMPORT_OUTSIDE)]
    assert not found, found


def test_the_local_cloud_names_no_module_of_the_course():
    # a module by its folder or title (slugs such as "layers" are AWS words too), the course tree, a checkpoint
    names = {n for m in course.modules() for n in (m.name, m.title)} | {"modules/", "checkpoint"}
    found = [f"{p.relative_to(ROOT)} names {n!r}" for p in _python(WORKSHOP / "localcloud")
             for n in names if n.lower() in p.read_text().lower()]
    assert not found, found


def _compares_a_target_name(node: ast.Compare) -> bool:
    for operand in [node.left, *node.comparators]:
        constants = operand.elts if isinstance(operand, (ast.Tuple, ast.List, ast.Set)) else [operand]
        if any(isinstance(c, ast.Constant) and c.value in TARGET_NAMES for c in constants):
            return True
        if isinstance(operand, ast.Attribute) and operand.attr == "name" and "target" in ast.unparse(operand.value):
            return True
    return False


def test_only_deploy_and_the_option_parsing_compare_a_target_name():
    found = []
    for path in _python(WORKSHOP) + _python(CHECKS):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith(MAY_COMPARE_TARGET_NAMES):
            continue
        for node in ast.walk(ast.parse(path.read_text(), relative)):
            if isinstance(node, ast.Compare) and _compares_a_target_name(node):
                found.append(f"{relative}:{node.lineno}: {ast.unparse(node)}")
    assert not found, "ask the Target (workshop/deploy/target.py) instead: " + "; ".join(found)


@pytest.mark.parametrize("source, expected", [
    ("target.name == 'local'", True), ("if chosen in ('aws', 'x'): pass", True),
    ("self.target.name != x", True), ("m.name == 'local-thing'", False), ("target.grading_deploys", False),
])
def test_the_name_rule_sees_the_comparisons_it_should(source, expected):
    compares = [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Compare)]
    assert any(_compares_a_target_name(n) for n in compares) is expected
