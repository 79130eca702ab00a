"""mkdocs hook: the measured figures of `make bench` drawn beside the talk's, at build time.

Reads docs/data/bench.json (its format: docs/data/README.md), draws each chart with
matplotlib's Agg backend into PNG bytes, and adds them to the build as
`assets/charts/<name>.png` (nothing is written to docs/). A figure that is null, or missing, is
drawn as "not measured yet" instead of failing the build; a malformed file is a warning (so
`--strict` names it).

Markers, each alone on a line, replaced before Markdown runs:
    <!-- charts:module NN -->   a "Measured figures" section with the charts of module NN
                                (nothing for a module without measured figures)
    <!-- charts:all -->         every chart, and the table of every figure
"""

from __future__ import annotations

import io
import json
import logging
import math
import posixpath
import re
from dataclasses import dataclass
from pathlib import Path

from mkdocs.structure.files import File, Files

log = logging.getLogger("mkdocs.hooks.charts")

DATA = Path(__file__).resolve().parents[1] / "data" / "bench.json"
MARKER = re.compile(r"^[ \t]*<!--\s*charts:([a-z-]+)(?:\s+(\S+))?\s*-->[ \t]*$", re.MULTILINE)

# The talk's figures (CNS372), used when bench.json does not carry its own "talk" block.
TALK_DEFAULTS = {"cold_small_s": 1.3, "cold_fastapi_s": 2.8, "warm_s": 0.2, "direct_first_s": 0.2,
                 "lambda_first_s": 1.3}

MEASURED_COLOUR = "#3f51b5"  # the site's indigo
TALK_COLOUR = "#ff7043"      # the site's deep orange
MISSING_COLOUR = "#9e9e9e"


@dataclass(frozen=True)
class Bar:
    label: str                  # on the chart
    measured: tuple[str, ...]   # keys in "figures", milliseconds: the first one present is drawn
    talk: str                   # key in "talk", seconds
    row: str                    # in tables


@dataclass(frozen=True)
class Chart:
    name: str
    title: str
    bars: tuple[Bar, Bar]
    modules: tuple[str, ...]
    lesson: str

    @property
    def uri(self) -> str:
        return f"assets/charts/{self.name}.png"


COLD_SMALL = Bar("small function\ncold start", ("cold_small_ms",), "cold_small_s",
                 "cold start (Init Duration), a small single-purpose function")
COLD_FASTAPI = Bar("merged FastAPI\ncold start", ("cold_fastapi_ms", "cold_web_ms"), "cold_fastapi_s",
                   "cold start (Init Duration), the merged FastAPI + Mangum function")
FIRST_FASTAPI = Bar("merged FastAPI\nfirst call", ("first_fastapi_ms", "cold_fastapi_ms", "cold_web_ms"),
                    "cold_fastapi_s", "first call through the API, the merged FastAPI function (cold)")
WARM = Bar("merged FastAPI\nwarm call", ("warm_fastapi_ms", "warm_invoke_ms"), "warm_s",
           "warm call through the API, the same function and execution environment")
DIRECT = Bar("direct integration\nfirst call", ("direct_integration_first_ms",), "direct_first_s",
             "first GET /cart, API Gateway → DynamoDB (no function)")
LAMBDA = Bar("Lambda\nfirst call", ("lambda_first_ms", "first_small_ms"), "lambda_first_s",
             "first GET /cart, API Gateway → Lambda → DynamoDB (cold)")

CHARTS = (
    Chart("cold-vs-warm", "Cold versus warm: the merged function's first call and a warm call",
          (FIRST_FASTAPI, WARM), ("02",),
          "A cold start pays for importing the framework once; every warm call after it reuses the "
          "execution environment."),
    Chart("merged-vs-small", "Cold start: merged FastAPI function versus a small function",
          (COLD_SMALL, COLD_FASTAPI), ("02",),
          "Merging functions means fewer cold starts, but each one imports more."),
    Chart("direct-vs-lambda", "First call: direct integration versus a Lambda function", (DIRECT, LAMBDA), ("03",),
          "With no function behind the route there is no cold start to pay."),
)
ROWS = (COLD_SMALL, COLD_FASTAPI, FIRST_FASTAPI, WARM, DIRECT, LAMBDA)

# Module 03's burst: counts, not times, and no figure from the talk (it states the point only).
BURST_KEYS = ("burst_requests", "burst_reserved_concurrency", "burst_lambda_ok", "burst_lambda_throttled",
              "burst_direct_ok", "burst_direct_throttled")
BURST_URI = "assets/charts/burst.png"
BURST_MODULES = ("03",)
BURST_TITLE = "A burst above a small reserved concurrency: Lambda path versus direct integration"
BURST_LESSON = ("The talk: a direct integration \"removed the concurrency limit from that request path\". "
                "Calls beyond the function's reserved concurrency are throttled (API Gateway answers 500); "
                "the route with no function has no such limit.")


# ------------------------------------------------------------------ the data

def load() -> dict:
    """bench.json with "figures" (ms or None, per Bar), "talk" (s) and "rows" always present."""
    data: dict = {}
    try:
        data = json.loads(DATA.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("the top level is not an object")
    except FileNotFoundError:
        log.info(f"{DATA} is missing: every figure shows as not measured yet")
        data = {}
    except ValueError as exc:
        log.warning(f"docs/data/bench.json is not valid: {exc}; every figure shows as not measured yet")
        data = {}
    figures = data.get("figures") if isinstance(data.get("figures"), dict) else {}
    talk = {**TALK_DEFAULTS, **(data.get("talk") if isinstance(data.get("talk"), dict) else {})}
    charted = {key for bar in ROWS for key in bar.measured}
    for key, value in figures.items():
        if key in charted and value is not None and not _number(value):
            log.warning(f"docs/data/bench.json: figures.{key} should be a number or null, not {value!r}")
    clean, used = {}, {}
    for bar in ROWS:
        for key in bar.measured:
            value = figures.get(key)
            if value is not None and _number(value):
                clean[bar], used[bar] = float(value), key
                break
        else:
            clean[bar], used[bar] = None, bar.measured[0]
    for key, value in list(talk.items()):
        talk[key] = float(value) if _number(value) else None
    measured_on = data.get("measured_on")
    rows = data.get("rows") if isinstance(data.get("rows"), list) else []
    burst = {key: int(figures[key]) if _number(figures.get(key)) else None for key in BURST_KEYS}
    return {"measured_on": measured_on if isinstance(measured_on, str) and measured_on else None,
            "figures": clean, "keys": used, "talk": talk, "burst": burst,
            "rows": [r for r in rows if isinstance(r, dict) and r.get("label")]}


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0


def fmt_ms(value: float | None) -> str:
    if value is None:
        return "not measured yet"
    if value >= 1000:
        return f"{value / 1000:.2f} s"
    return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def fmt_s(value: float | None) -> str:
    return "—" if value is None else f"{value:g} s"


def ratio(a: float | None, b: float | None) -> str | None:
    if a is None or b is None or a == 0 or b == 0:
        return None
    big, small = max(a, b), min(a, b)
    shown = f"{big / small:.0f}" if big / small >= 20 else f"{big / small:.1f}"
    return f"{shown}×"


# ------------------------------------------------------------------ drawing

def draw(chart: Chart, data: dict) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    measured = [data["figures"][b] for b in chart.bars]
    talk = [data["talk"].get(b.talk) for b in chart.bars]
    labels = [b.label for b in chart.bars]

    fig, (left, right) = plt.subplots(1, 2, figsize=(8.4, 3.6), dpi=110)
    fig.suptitle(chart.title, fontsize=11.5, fontweight="bold")
    _panel(left, labels, measured, "ms", MEASURED_COLOUR, "Measured here (local target)", fmt_ms)
    _panel(right, labels, talk, "s", TALK_COLOUR, "The talk (AWS, CNS372)", fmt_s)
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def _panel(ax, labels, values, unit, colour, title, fmt) -> None:
    known = [v for v in values if v is not None]
    x = range(len(labels))
    top = max(known) if known else 1.0
    heights = [v if v is not None else 0 for v in values]
    bars = ax.bar(x, heights, color=[colour if v is not None else MISSING_COLOUR for v in values], width=0.55)
    ax.set_xticks(list(x), labels, fontsize=9)
    ax.set_ylim(0, top * 1.25)
    ax.set_ylabel(unit)
    share = ratio(*values) if len(values) == 2 else None
    second = f"ratio {share}" if share else ("not measured yet" if not known else "ratio: —")
    ax.set_title(f"{title}\n{second}", fontsize=9.5)
    ax.spines[["top", "right"]].set_visible(False)
    for bar, value in zip(bars, values):
        if value is None and not known:
            continue
        if value is None:
            ax.text(bar.get_x() + bar.get_width() / 2, top * 0.06, "not measured\nyet", ha="center",
                    va="bottom", fontsize=9, color="#616161", style="italic")
        else:
            ax.text(bar.get_x() + bar.get_width() / 2, value + top * 0.02, fmt(value), ha="center",
                    va="bottom", fontsize=9)
    if not known:
        ax.set_yticks([])
        ax.text(0.5, 0.62, "not measured yet", transform=ax.transAxes, ha="center", va="center",
                fontsize=12, color="#616161", fontweight="bold")


def draw_burst(data: dict) -> bytes:
    """Stacked bars per path: answered 200, and throttled, out of the burst."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    burst = data["burst"]
    paths = [("Lambda\n(reserved concurrency {})".format(burst["burst_reserved_concurrency"] or "?"), "lambda"),
             ("direct integration\n(no function)", "direct")]
    ok = [burst[f"burst_{key}_ok"] for _, key in paths]
    throttled = [burst[f"burst_{key}_throttled"] for _, key in paths]
    fig, ax = plt.subplots(figsize=(7.4, 3.6), dpi=110)
    requests = burst["burst_requests"]
    fig.suptitle(BURST_TITLE if requests is None else f"A burst of {requests} requests: Lambda path versus direct "
                 "integration", fontsize=11.5, fontweight="bold")
    x = range(len(paths))
    if any(v is None for v in ok + throttled):
        ax.bar(x, [0, 0])
        ax.set_yticks([])
        ax.text(0.5, 0.55, "not measured yet", transform=ax.transAxes, ha="center", va="center",
                fontsize=12, color="#616161", fontweight="bold")
    else:
        ax.bar(x, ok, width=0.55, color=MEASURED_COLOUR, label="answered 200")
        ax.bar(x, throttled, width=0.55, bottom=ok, color=TALK_COLOUR, label="throttled (500)")
        for i, (good, bad) in enumerate(zip(ok, throttled, strict=True)):
            ax.text(i, good + bad + max(ok + throttled) * 0.02, f"{good} ok · {bad} throttled", ha="center",
                    va="bottom", fontsize=9)
        ax.set_ylim(0, max(a + b for a, b in zip(ok, throttled, strict=True)) * 1.4)
        ax.set_ylabel("requests")
        ax.legend(frameon=False, fontsize=9, loc="upper center", ncol=2)
    ax.set_xticks(list(x), [label for label, _ in paths], fontsize=9)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout(rect=(0, 0, 1, 0.92))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


# ------------------------------------------------------------------ Markdown

def chart_figure(chart: Chart, data: dict, page) -> str:
    here = posixpath.dirname(page.file.src_uri) or "."
    src = posixpath.relpath(chart.uri, here)
    a, b = chart.bars
    alt = (f"{chart.title}. Measured here: {a.row} {fmt_ms(data['figures'][a])}, "
           f"{b.row} {fmt_ms(data['figures'][b])}. The talk: {fmt_s(data['talk'].get(a.talk))} and "
           f"{fmt_s(data['talk'].get(b.talk))}.").replace('"', "'").replace("[", "(").replace("]", ")")
    return "\n".join([
        '<figure class="chart" markdown>',
        f'![{alt}]({src}){{ width="760" }}',
        f"<figcaption>{chart.lesson}</figcaption>",
        "</figure>",
    ])


def burst_figure(data: dict, page) -> str:
    here = posixpath.dirname(page.file.src_uri) or "."
    burst = data["burst"]
    if burst["burst_lambda_ok"] is None:
        measured = "not measured yet"
    else:
        measured = (f"of {burst['burst_requests']} requests, the Lambda path answered {burst['burst_lambda_ok']} and "
                    f"throttled {burst['burst_lambda_throttled']}; the direct integration answered "
                    f"{burst['burst_direct_ok']} and throttled {burst['burst_direct_throttled']}")
    return "\n".join([
        '<figure class="chart" markdown>',
        f'![{BURST_TITLE}. Measured here: {measured}.]({posixpath.relpath(BURST_URI, here)}){{ width="680" }}',
        f"<figcaption>{BURST_LESSON} Informational: how many calls overlap depends on the machine.</figcaption>",
        "</figure>",
    ])


def figures_table(data: dict, bars=ROWS) -> str:
    rows = ["| figure | measured here (local target) | the talk (AWS) | key in bench.json |", "|---|--:|--:|---|"]
    for bar in bars:
        value = data["figures"][bar]
        shown = fmt_ms(value) if value is not None else '<span class="not-measured">not measured yet</span>'
        rows.append(f"| {bar.row} | {shown} | {fmt_s(data['talk'].get(bar.talk))} | `{data['keys'][bar]}` |")
    return "\n".join(rows)


def all_rows_table(data: dict) -> str:
    """Every row `make bench` reported, as it reported it."""
    if not data["measured_on"] or not data["rows"]:
        return ""
    def text(value) -> str:
        return " ".join(str(value if value is not None else "").split()).replace("|", "\\|")
    goals = any(r.get("goal") for r in data["rows"])
    head = "| what | measured here | the talk |" + (" goal |" if goals else "")
    rule = "|---|--:|--:|" + ("---|" if goals else "")
    lines = ["## Every figure of the last run", "",
             "As `make bench` reported them; a goal is the local target's own budget.", "", head, rule]
    for r in data["rows"]:
        line = f"| {text(r.get('label'))} | {text(r.get('measured')) or '—'} | {text(r.get('talk')) or '—'} |"
        if goals:
            line += f" {text(r.get('goal')) or '—'} |"
        lines.append(line)
    return "\n".join(lines)


def about(data: dict, page) -> str:
    here = posixpath.dirname(page.file.src_uri) or "."
    figures_page = posixpath.relpath("figures.md", here)
    if data["measured_on"]:
        return (f"Measured with `make bench` on the local target ({data['measured_on']}). The talk measured on "
                f"AWS: compare the ratios, not the absolute times ([how these are measured]({figures_page})).")
    return ('!!! note "Not measured yet"\n    Nobody has run `make bench` for this build: the charts show the '
            f"talk's figures only. Run it, then `make docs` ([how]({figures_page})).")


_data: dict | None = None


def on_config(config):
    global _data
    _data = load()
    return config


def on_files(files: Files, config) -> Files:
    for chart in CHARTS:
        if files.get_file_from_path(chart.uri) is None:
            files.append(File.generated(config, chart.uri, content=draw(chart, _data)))
    if files.get_file_from_path(BURST_URI) is None:
        files.append(File.generated(config, BURST_URI, content=draw_burst(_data)))
    return files


def on_page_markdown(markdown: str, page, config, files) -> str:
    def replace(match: re.Match) -> str:
        kind, arg = match.group(1), match.group(2)
        if kind == "module":
            charts = [c for c in CHARTS if (arg or "").zfill(2) in c.modules]
            burst = [burst_figure(_data, page)] if (arg or "").zfill(2) in BURST_MODULES else []
            if not charts and not burst:
                return ""
            bars = [b for c in charts for b in c.bars]
            bars = [b for b in ROWS if b in bars]
            return "\n\n".join(["## Measured figures", about(_data, page),
                                *[chart_figure(c, _data, page) for c in charts], figures_table(_data, bars), *burst])
        if kind == "all":
            parts = [about(_data, page), figures_table(_data),
                     *[f"## {c.title}\n\n{chart_figure(c, _data, page)}" for c in CHARTS],
                     f"## {BURST_TITLE}\n\n{burst_figure(_data, page)}", all_rows_table(_data)]
            return "\n\n".join(p for p in parts if p)
        log.warning(f"{page.file.src_uri}: unknown marker <!-- charts:{kind} -->")
        return ""

    return MARKER.sub(replace, markdown)
