"""Which templates of a shop tree are stacks, and what those stacks are called (CONVENTIONS.md: a shop tree)."""

from __future__ import annotations

import re
from pathlib import Path

from ..tree import source_files

TEMPLATE_NAMES = ("template.yaml", "template.yml")


def find_templates(root: Path) -> list[Path]:
    """Every template under root (test folders and build output left out), one stack each."""
    return sorted(p for name in TEMPLATE_NAMES for p in source_files(root, name, skip_tests=True))


def stack_name(prefix: str, root: Path, template: Path) -> str:
    """`<prefix>-<folder of the template>`, or `<prefix>` for a template at the tree's root."""
    folder = template.parent.relative_to(root)
    name = prefix if folder == Path(".") else f"{prefix}-{folder.name}"
    return re.sub(r"[^A-Za-z0-9-]", "-", name)[:128]
