"""Every change we make to moto 5.2.5, in one place, each with a test in tests/localcloud/.

A patch is a submodule (or subpackage) with one entry point, `apply(cloud)`: it changes moto
once, and may keep a reference to the running LocalCloud (its executor, its functions) or
ignore it. Tests in tests/localcloud/ fail loudly when a moto upgrade moves what a patch relies
on. Modules without `apply` (models.py) are shared helpers, not patches.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING, Protocol, cast

if TYPE_CHECKING:
    from ..server import LocalCloud

_applied = False


class Patch(Protocol):
    def apply(self, cloud: LocalCloud) -> None: ...


def patches() -> list[Patch]:
    """The patch modules, in name order (the order they are applied in)."""
    found = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "apply"):
            found.append(cast(Patch, module))  # a module with apply(cloud) is a Patch
    return found


def apply_all(cloud: LocalCloud) -> None:
    global _applied
    if _applied:
        return
    for patch in patches():
        patch.apply(cloud)
    _applied = True
