"""Every change we make to moto 5.2.5, in one place, each with a test in tests/localcloud/.

Each submodule has `apply(cloud)`; tests in tests/localcloud/test_moto_patches.py fail loudly
when a moto upgrade moves what a patch relies on.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

_applied = False


def apply_all(cloud) -> None:
    global _applied
    if _applied:
        return
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        apply = getattr(module, "apply", None)
        if apply is not None:
            apply(cloud) if inspect.signature(apply).parameters else apply()
    _applied = True
