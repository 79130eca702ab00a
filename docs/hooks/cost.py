"""mkdocs hook: what each module's refactor costs, start against solution, at build time.

Reads docs/data/cost.json (written by `make bench`: `python -m workshop.cost.figures`), draws one
chart per module with matplotlib's Agg backend (`assets/charts/cost-NN.png`, nothing written to
docs/) and appends a "What it costs" section to each generated module page: the chart, a table of
the monthly totals per service, and a plain sentence on which side costs more. A module without
figures gets a line saying how to measure them.
"""

from __future__ import annotations

import io
import json
import logging
import posixpath
from pathlib import Path

from mkdocs.structure.files import File, Files

log = logging.getLogger("mkdocs.hooks.cost")

DATA = Path(__file__).resolve().parents[1] / "data" / "cost.json"
START_COLOUR, SOLUTION_COLOUR = "#ff7043", "#3f51b5"

_data: dict = {}


def load() -> dict:
    if not DATA.exists():
        return {}
    try:
        return json.loads(DATA.read_text())
    except ValueError as exc:
        log.warning(f"{DATA}: not JSON ({exc})")
        return {}


def by_service(side: dict) -> dict[str, float]:
    totals: dict[str, float] = {}
    for line in side.get("lines", []):
        totals[line["service"]] = totals.get(line["service"], 0.0) + line["usd_month"]
    return totals


def draw(number: str, sides: dict) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    start, solution = by_service(sides.get("start", {})), by_service(sides.get("solution", {}))
    services = sorted(set(start) | set(solution), key=lambda s: -max(start.get(s, 0), solution.get(s, 0)))
    fig, ax = plt.subplots(figsize=(8.4, 3.4), dpi=110)
    x = range(len(services))
    ax.bar([i - 0.2 for i in x], [start.get(s, 0) for s in services], 0.4, label="start", color=START_COLOUR)
    ax.bar([i + 0.2 for i in x], [solution.get(s, 0) for s in services], 0.4, label="solution", color=SOLUTION_COLOUR)
    ax.set_xticks(list(x), services, fontsize=9)
    ax.set_ylabel("USD a month")
    ax.set_title(f"Module {number}: a month at the traffic of {_data.get('profile', {}).get('name', 'the profile')}",
                 fontsize=11)
    ax.legend()
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def uri(number: str) -> str:
    return f"assets/charts/cost-{number}.png"


def section(number: str, page) -> str:
    sides = _data.get("modules", {}).get(number)
    if not sides or "total_usd_month" not in sides.get("start", {}) or "total_usd_month" not in sides.get("solution", {}):
        return ("## What it costs\n\nNot measured yet: `make bench` prices this module's start and solution "
                "(`workshop cost NN --path ...`).")
    start, solution = sides["start"], sides["solution"]
    image = posixpath.relpath(uri(number), posixpath.dirname(page.file.src_uri) or ".")  # links are relative to the source
    before, after = by_service(start), by_service(solution)
    rows = "\n".join(f"| {s} | ${before.get(s, 0):,.2f} | ${after.get(s, 0):,.2f} |" for s in sorted(set(before) | set(after)))
    difference = solution["total_usd_month"] - start["total_usd_month"]
    verdict = (f"The refactor **saves ${-difference:,.2f} a month** at this traffic." if difference < 0 else
               f"The refactor **costs ${difference:,.2f} a month more** at this traffic: say so when you weigh it."
               if difference > 0 else "The refactor changes nothing on the bill at this traffic.")
    notes = [] if start.get("answered", True) else [
        "The start's routes did not all answer 2xx: its figures are those of a broken shop."]
    routes = ", ".join(f"{calls:,} × `{route}`" for route, calls in _data.get("profile", {}).get("routes", {}).items())
    return "\n\n".join([
        "## What it costs",
        f"Measured with `workshop cost {number} --path modules/.../start` and `.../solution` on the local target "
        f"({_data.get('measured_on', '')}), priced with AWS's {_data.get('region', 'us-east-1')} list prices "
        f"(workshop/cost/prices.toml) at a month of: {routes}.",
        f"![Module {number}: monthly cost, start against solution]({image})",
        "| service | start | solution |\n|---|---:|---:|\n" + rows
        + f"\n| **total** | **${start['total_usd_month']:,.2f}** | **${solution['total_usd_month']:,.2f}** |",
        verdict, *notes,
        "Durations (and so GB-seconds) are this machine's, not AWS's; request counts, request units and state "
        "transitions are what the shop really did.",
    ])


def on_config(config):
    global _data
    _data = load()
    return config


def on_files(files: Files, config) -> Files:
    for number, sides in sorted(_data.get("modules", {}).items()):
        if "lines" in sides.get("start", {}) and "lines" in sides.get("solution", {}):
            files.append(File.generated(config, uri(number), content=draw(number, sides)))
    return files


def on_page_markdown(markdown: str, page, config, files) -> str:
    source = page.file.src_uri
    if not source.startswith("modules/") or not source.endswith(".md"):
        return markdown
    number = posixpath.basename(source)[:2]
    if not number.isdigit():
        return markdown
    return markdown.rstrip() + "\n\n" + section(number, page) + "\n"
