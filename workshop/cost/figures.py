"""Each module's start against its solution, priced at the default profile: docs/data/cost.json.

Run by `make bench` (`python -m workshop.cost.figures`); the site's module pages draw it
(docs/hooks/cost.py). Every figure is measured on the local target in one run.
"""

from __future__ import annotations

import json
import platform
import sys
from datetime import date

from rich.console import Console

from .. import course
from ..deploy.targets import LocalTarget
from .estimate import PriceList, Profile
from .run import cost_of_tree, prefix_for

OUT = course.ROOT / "docs" / "data" / "cost.json"


def module_costs(target, module: course.Module, profile: Profile, calls: int, say=print) -> dict:
    sides = {}
    for side, tree in (("start", module.start), ("solution", module.solution)):
        prefix = prefix_for(tree)
        try:
            result = cost_of_tree(target, tree, prefix, profile, calls=calls, progress=lambda m: None)
            data = result.to_json()
            sides[side] = {"total_usd_month": data["total_usd_month"], "lines": data["lines"],
                           "answered": all(any(200 <= int(s) < 300 for s in r["statuses"]) for r in data["routes"]),
                           "not_served": data["not_served"]}
        except ValueError as exc:
            sides[side] = {"error": str(exc)}
        finally:
            target.destroy_prefix(prefix)
        say(f"  {module.number} {side}: {sides[side].get('total_usd_month', sides[side].get('error'))}")
    return sides


def main(argv: list[str] | None = None) -> int:
    from ..localcloud import control

    console = Console()
    argv = argv if argv is not None else sys.argv[1:]
    wanted = set(argv)
    info, _ = control.up()
    target = LocalTarget(info.url)
    profile = Profile.load()
    modules = {}
    for module in course.modules():
        if wanted and module.number not in wanted:
            continue
        console.print(f"pricing module {module.number}: start and solution")
        modules[module.number] = module_costs(target, module, profile, calls=3, say=console.print)
    previous = json.loads(OUT.read_text()).get("modules", {}) if OUT.exists() else {}
    OUT.write_text(json.dumps({
        "schema": 1,
        "measured_on": f"{date.today()}, {platform.system()} {platform.machine()}, Python {platform.python_version()}",
        "target": "local",
        "region": PriceList.load().region,
        "profile": {"name": profile.name, "routes": profile.routes},
        "modules": previous | modules,
    }, indent=2) + "\n")
    console.print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
