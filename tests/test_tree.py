"""workshop/tree.py: the one list of folders that are not a learner's source, used by every tool and check."""

from __future__ import annotations

import shutil
from pathlib import Path

from workshop.deploy.layout import find_templates, stack_name
from workshop.tree import copy_ignoring, is_ignored, source_files


def _shop(root: Path) -> Path:
    for name in ("services/cart/template.yaml", "services/cart/src/app.py", "services/cart/tests/test_app.py",
                 "services/cart/tests/template.yaml", "services/cart/.aws-sam/build/template.yaml",
                 "services/cart/src/__pycache__/app.cpython-312.pyc", "node_modules/x/template.yaml",
                 ".venv/lib/site.py", "template.yaml"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("")
    return root


def test_build_output_caches_and_environments_are_never_source(tmp_path):
    shop = _shop(tmp_path)
    assert [p.relative_to(shop).as_posix() for p in source_files(shop, "*.py")] == [
        "services/cart/src/app.py", "services/cart/tests/test_app.py"]
    assert [p.relative_to(shop).as_posix() for p in source_files(shop, "*.py", skip_tests=True)] == [
        "services/cart/src/app.py"]
    assert is_ignored(Path(".aws-sam")) and is_ignored(Path("a/.venv/b.py")) and not is_ignored(Path("a/tests/b.py"))
    assert is_ignored(Path("a/tests/b.py"), skip_tests=True)


def test_templates_outside_tests_and_build_output_are_the_stacks(tmp_path):
    shop = _shop(tmp_path)
    templates = find_templates(shop)
    assert [p.relative_to(shop).as_posix() for p in templates] == ["services/cart/template.yaml", "template.yaml"]
    assert [stack_name("me", shop, t) for t in templates] == ["me-cart", "me"]


def test_a_copy_leaves_out_what_is_not_source(tmp_path):
    shop = _shop(tmp_path / "shop")
    shutil.copytree(shop, tmp_path / "copy", ignore=copy_ignoring())
    copied = {p.relative_to(tmp_path / "copy").as_posix() for p in (tmp_path / "copy").rglob("*") if p.is_file()}
    assert "services/cart/tests/test_app.py" in copied
    assert not any(part in copied_path for copied_path in copied for part in (".aws-sam", "__pycache__", ".venv"))
