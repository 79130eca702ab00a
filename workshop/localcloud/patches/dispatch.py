"""moto's request dispatcher lists its own package folder once, not on every request.

moto 5.2.5's DomainDispatcherApplication asks `backends.list_of_moto_modules()` (a listdir and an
isdir per entry, ~150 of them) for each request's host, under its lock: across the test suite 16 s
of the clouds' CPU. The folder does not change while the cloud runs.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from moto import backends

if TYPE_CHECKING:
    from ..server import LocalCloud


def apply(cloud: LocalCloud) -> None:
    if not hasattr(backends.list_of_moto_modules, "cache_info"):
        listed = backends.list_of_moto_modules
        backends.list_of_moto_modules = functools.cache(lambda: tuple(listed()))
