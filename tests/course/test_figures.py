"""No typed figures: every latency or size a page states comes from measured data.

A module README or a docs/ page writes `{{ bench:KEY }}` (docs/hooks/course.py fills it from
docs/data/bench.json, which `make bench` writes) or leaves the figure to the checkpoint that
measures it. What may still be typed: the talk's own figures (DESIGN.md section 4), on a line
that says they are the talk's, and Lambda's documented limits and the settings a template
chooses (a line that says limit, MemorySize, Timeout...), which are not measurements.
"""

from __future__ import annotations

import re
import sys

import pytest

from workshop.course import ROOT

sys.path.insert(0, str(ROOT / "docs" / "hooks"))
import course as hook

# "2 s" is a figure, "404s" a plural: seconds need a space, the other units may go without one
FIGURE = re.compile(r"(?<![\w.{])(\d+(?:[.,]\d+)?)(?:\s(s|seconds?)|\s?(ms|milliseconds?|KB|kB|MB|GB))\b")
TALK_FIGURES = {"2.8 s", "1.3 s", "0.2 s"}  # DESIGN.md section 4, the talk's (CNS372) measurements
QUOTES_THE_TALK = re.compile(r"\btalk\b|CNS372", re.IGNORECASE)
NOT_A_MEASUREMENT = re.compile(
    r"limit|at most|capped|MemorySize|memory size|Timeout|timeout|timed out|IntervalSeconds|Interval|BackoffRate|"
    r"retr(y|ies)|wait|Mappings|mapped|zipped|unzipped|dev\b|prod\b|staging|production|development|"
    r"per (read|write) unit", re.IGNORECASE)
PAGES = sorted(ROOT.glob("modules/*/README.md")) + sorted(
    p for p in (ROOT / "docs").rglob("*.md") if "data" not in p.relative_to(ROOT / "docs").parts)


def typed_figures(text: str) -> list[str]:
    """Each figure typed outside a placeholder and not allowed by its context, as 'line N: figure'.

    The talk's figures may stand in a paragraph or table that says they are the talk's; a limit
    or a setting is recognised on its line or the line before (a sentence wraps).
    """
    found = []
    lines = [hook.BENCH.sub("", line) for line in text.splitlines()]  # type: ignore[attr-defined]  # mypy cannot see docs/hooks on the path
    talk_said = False
    for number, line in enumerate(lines, 1):
        talk_said = bool(line.strip()) and (talk_said or bool(QUOTES_THE_TALK.search(line)))
        context = (lines[number - 2] if number > 1 else "") + " " + line
        for match in FIGURE.finditer(line):
            figure = f"{match.group(1)} {match.group(2) or match.group(3)}"
            if figure in TALK_FIGURES and talk_said:
                continue
            if NOT_A_MEASUREMENT.search(context):
                continue
            found.append(f"line {number}: {match.group(0)}")
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_page_types_a_measured_figure(page):
    found = typed_figures(page.read_text(encoding="utf-8"))
    assert not found, (f"{page.relative_to(ROOT)} types figures: {'; '.join(found[:5])}. Write "
                       "{{ bench:KEY }} (a key of docs/data/bench.json's figures) or leave the figure to the check")


def test_the_scan_sees_typed_figures_and_spares_placeholders_and_the_talk():
    assert typed_figures("Init Duration about 0.4 to 0.8 s") == ["line 1: 0.8 s"]
    assert typed_figures("a warm call 20 to 40 ms") == ["line 1: 40 ms"]
    assert typed_figures("manage-cart 2.8 MB zipped") == []  # a line about zipped size limits is allowed...
    assert typed_figures("manage-cart weighs 2.8 MB") == ["line 1: 2.8 MB"]  # ...a measured size is not
    assert typed_figures("Init Duration {{ bench:cold_small_ms }}") == []
    assert typed_figures("the talk measured 1.3 s") == []
    assert typed_figures("we measured 1.3 s") == ["line 1: 1.3 s"]
    assert typed_figures("| | the talk |\n|---|---|\n| cold | about 1.3 s |") == []  # a table quoting the talk
    assert typed_figures("the talk, then\n\nwe measured 1.3 s") == ["line 3: 1.3 s"]  # another paragraph
    assert typed_figures("answers 404s and 409s") == []


def test_placeholders_name_figures_that_bench_json_holds():
    figures = hook.bench_figures()
    for page in PAGES:
        for key in hook.BENCH.findall(page.read_text(encoding="utf-8")):
            assert hook.bench_value(key, figures) is not None, f"{page.relative_to(ROOT)}: bench:{key} is not in bench.json"


def test_placeholders_are_filled_with_their_unit():
    figures = {"cold_small_ms": 36.4, "cold_web_ms": 1285.98, "warm_ms": 0.23, "x_over_y": 0.896, "n": 50}
    text = "{{ bench:cold_small_ms }}, {{bench:cold_web_ms}}, {{ bench:warm_ms }}, {{ bench:x_over_y }}, {{ bench:n }}"
    assert hook.fill_bench(text, figures) == "36 ms, 1.3 s, 0.2 ms, 0.90x, 50"
    assert hook.fill_bench("{{ bench:missing_ms }}", figures) == "(not measured yet)"


def test_a_module_page_shows_what_its_start_changed():
    from workshop import course

    hook._modules = hook.load_modules()
    third = course.module("03")
    block = hook.changes_block(third, None)
    assert "module 02's solution" in block
    for change in third.start_changes:
        assert f"`{change.path}`" in block and change.why.split()[0] in block
    assert "## What changed since module 02" in hook.module_page(third)
    assert "What changed since" not in hook.module_page(course.module("01"))
