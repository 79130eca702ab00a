"""The cost of a shop tree: deploy it (local target) or find its stacks (aws), measure, price."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from .estimate import Estimate, PriceList, Profile, estimate
from .measure import measure


def prefix_for(tree: Path) -> str:
    """A stack prefix of its own for a tree priced with --path, stable across runs."""
    return "cost-" + hashlib.sha1(str(tree.resolve()).encode()).hexdigest()[:8]


def cost_of_tree(target, tree: Path | None, prefix: str, profile: Profile, calls: int = 5,
                 free_tier: bool = False, progress: Callable[[str], None] = lambda _: None) -> Estimate:
    """Deploy `tree` under `prefix` on the local target (or, with no tree, use the stacks deployed under
    `prefix`), call each route of the profile `calls` times and price a month of it."""
    if tree is not None and not target.real_account:
        progress(f"deploying {tree}")
        deployment = target.deploy_tree(tree, prefix, progress=progress)
        if deployment.errors:
            where, why = sorted(deployment.errors.items())[0]
            raise ValueError(f"{where} did not deploy: {why}")
        stacks = deployment.stacks
    else:  # a real account: the stacks the learner deployed, never deployed by us
        stacks = target.find_stacks(prefix)
    if not stacks:
        raise ValueError(f"no stack named {prefix} or {prefix}-*: deploy the shop first")
    measured = measure(target.session(), stacks, list(profile.routes), target.name, calls=calls,
                       http=target.http_client(), estimate=target.real_account, progress=progress)
    if not measured.routes:
        raise ValueError("the shop serves none of the profile's routes: " + ", ".join(measured.missing))
    return estimate(measured, profile, PriceList.load(), free_tier=free_tier)
