"""mkdocs hook: the pages that the course's own files describe, generated at build time.

- One page per `modules/NN-slug/` (any folder with a module.toml, so new modules appear by
  themselves), as `modules/NN-slug.md`: the module's README.md embedded with pymdownx.snippets,
  its "Check your work" section as content tabs (local | aws), then the checkpoints and hints of
  its module.toml and the measured figures (docs/hooks/charts.py). A hand-written
  `docs/modules/NN-slug.md` wins over the generated page and can use the markers below.
- The nav's `Modules` section is filled with those pages, in order.
- Markers that any page may hold, each alone on a line, replaced before Markdown runs:
    <!-- course:modules -->            a table of the modules, linked to their pages
    <!-- course:checkpoints NN -->     module NN's checkpoints (id, title, points, fails at start)
    <!-- course:hints NN -->           module NN's hints, each in a collapsed `??? tip`
    <!-- course:changes NN -->         what module NN's start changes in the solution it builds on
                                       (module.toml's [start] table, each path and why)
    <!-- course:check NN -->           "check your work" tabs for the local and aws targets
    <!-- course:all-checkpoints -->    every module's checkpoints
    <!-- course:cli -->                the `workshop` CLI, from the Typer app's click commands
- Relative links inside an embedded README are written for the README's own folder; they are
  rewritten for the site (another module's README -> its page, an image -> served beside the
  page, a docs/ page -> that page, any other repository file -> its path as code), and a link
  to nothing is reported (a warning, so `--strict` fails with the README's name).

- A figure is never typed: `{{ bench:KEY }}` anywhere in a page or an embedded README is
  replaced by figures.KEY of docs/data/bench.json (what `make bench` measured), formatted with
  its unit (`_ms` -> ms or s, `_over_` -> a ratio); a key that bench.json lacks is a warning, so
  `--strict` names it. tests/course/test_figures.py fails on a typed figure.

Nothing generated is written to docs/: the pages exist only in the build.
"""

from __future__ import annotations

import logging
import posixpath
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

from markdown import Extension
from markdown.preprocessors import Preprocessor
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

log = logging.getLogger("mkdocs.hooks.course")

MARKER = re.compile(r"^[ \t]*<!--\s*course:([a-z-]+)(?:\s+(\S+))?\s*-->[ \t]*$", re.MULTILINE)
README_OPEN = re.compile(r"^<!-- readme:(\S+) -->$")
BENCH = re.compile(r"\{\{\s*bench:([A-Za-z][A-Za-z0-9_.]*)\s*\}\}")
BENCH_DATA = ROOT / "docs" / "data" / "bench.json"
README_CLOSE = "<!-- /readme -->"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"}
CHECK_HEADING = re.compile(r"^##[ \t]+check your work[ \t#]*$", re.IGNORECASE)

_modules: list = []  # workshop.course.Module, loaded in on_config


# ------------------------------------------------------------------ the course's own files

def load_modules() -> list:
    """The modules as workshop.course reads them; a broken manifest stops the build, named."""
    from workshop import course

    found = []
    for path in sorted(course.MODULES_DIR.glob("[0-9][0-9]-*")):
        if not (path / "module.toml").exists():
            continue
        try:
            found.append(course.load_module(path))
        except Exception as exc:  # noqa: BLE001 - CourseError, a missing key...: say which file
            raise PluginError(f"{path.relative_to(ROOT)}/module.toml cannot be read: {exc!r}") from None
    return found


def module_by_number(number: str):
    for m in _modules:
        if m.number == number.zfill(2) or m.name == number:
            return m
    return None


def short_title(m) -> str:
    """For the nav: the title before its colon, else the title if short, else the slug."""
    if ":" in m.title:
        return m.title.split(":", 1)[0].strip()
    if len(m.title) <= 30:
        return m.title
    return m.slug.replace("-", " ").capitalize()


def page_path(m) -> str:
    return f"modules/{m.name}.md"


def rel(page, target: str) -> str:
    """A docs-relative target as a link from the page being rendered."""
    here = posixpath.dirname(page.file.src_uri) if page is not None else ""
    return posixpath.relpath(target, here or ".")


def cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


# ------------------------------------------------------------------ generated Markdown

def fences_outside(lines: list[str]):
    """Yield (index, line) for the lines that are not inside a fenced code block."""
    fence = None
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        opener = re.match(r"(`{3,}|~{3,})", stripped)
        if fence is None:
            if opener:
                fence = opener.group(1)
                continue
            yield i, line
        elif opener and opener.group(1)[0] == fence[0] and len(opener.group(1)) >= len(fence) \
                and not stripped[len(opener.group(1)):].strip():
            fence = None


def module_page(m) -> str:
    """The Markdown of a module's page: its README embedded, plus what module.toml says."""
    readme = m.path / "README.md"
    rel_readme = readme.relative_to(ROOT).as_posix()
    out = [f"<!-- generated by docs/hooks/course.py from {m.path.relative_to(ROOT).as_posix()}/ -->", ""]
    check_done = False
    if not readme.exists():
        out += [f"# Module {m.number} · {m.title}", "",
                '!!! note "This module\'s walkthrough is being written"',
                f"    {m.summary}" if m.summary else "    Its README.md is not there yet.", ""]
        if m.broken:
            out += ["## What is broken at the start", "", m.broken, ""]
    else:
        lines = readme.read_text(encoding="utf-8").splitlines()
        total = len(lines)
        start = end = None
        for i, line in fences_outside(lines):
            if start is None and CHECK_HEADING.match(line):
                start = i
            elif start is not None and re.match(r"^#{1,2}[ \t]", line):
                end = i
                break
        open_ = f"<!-- readme:{m.name} -->"  # README text between these gets its links fixed
        if start is None:
            out += [open_, f'--8<-- "{rel_readme}"', README_CLOSE, ""]
        else:
            end = total if end is None else end  # 0-based index of the next section's heading
            if start > 0:
                out += [open_, f'--8<-- "{rel_readme}:1:{start}"', README_CLOSE, ""]
            out += ["## Check your work", "", f"<!-- course:check {m.number} -->", ""]
            if end > start + 1 and any(line.strip() for line in lines[start + 1:end]):
                out += ['??? note "The module\'s own notes on checking"', "",
                        open_, f'    --8<-- "{rel_readme}:{start + 2}:{end}"', README_CLOSE, ""]
            if end < total:
                out += [open_, f'--8<-- "{rel_readme}:{end + 1}:{total}"', README_CLOSE, ""]
            check_done = True
    if not check_done:
        out += ["## Check your work", "", f"<!-- course:check {m.number} -->", ""]
    if m.builds_on:
        out += [f"## What changed since module {m.builds_on}", "", f"<!-- course:changes {m.number} -->", ""]
    out += ["## Checkpoints", "", f"<!-- course:checkpoints {m.number} -->", ""]
    if m.hints:
        out += ["## Hints", "", f"<!-- course:hints {m.number} -->", ""]
    out += [f"<!-- charts:module {m.number} -->", ""]
    return "\n".join(out)


def checkpoints_table(m) -> str:
    rows = ["<div class=\"checkpoints\" markdown>", "",
            "| id | checkpoint | points | fails at the start |", "|---|---|--:|:-:|"]
    for c in m.checkpoints:
        rows.append(f"| `{c.id}` | {cell(c.title)} | {c.points} | {'yes' if c.fails_at_start else 'no'} |")
    rows += ["", "</div>", "",
             f"{len(m.checkpoints)} checkpoints, {m.points} points. \"Fails at the start\": the course's "
             f"meta-test proves that the module's `start/` fails it and its `solution/` passes it."]
    if not m.checkpoints:
        return "*This module declares no checkpoints yet.*"
    return "\n".join(rows)


def changes_block(m, page) -> str:
    """Module N's start as module N-1's solution plus the paths module.toml declares, each with why."""
    if not m.builds_on:
        return f"*Module {m.number} starts the course: its start is the flat shop, built on no earlier module.*"
    previous = module_by_number(m.builds_on)
    since = (f"[module {previous.number}'s solution]({rel(page, page_path(previous))})" if previous
             else f"module {m.builds_on}'s solution")
    start = m.start.relative_to(ROOT).as_posix()
    out = [f"This module starts from {since}: the refactors of the earlier modules are in place. Only these "
           f"paths differ; the course's test `tests/course/test_progression.py` proves that nothing else does.", "",
           "| path in the shop | what changed |", "|---|---|"]
    for change in m.start_changes:
        gone = "" if (m.start / change.path).exists() else " (removed)"
        out.append(f"| `{change.path}`{gone} | {cell(change.why)} |")
    out += ["", f"Each path is relative to the shop tree (`{start}/`, or your `workspace/{m.name}/`)."]
    if not m.start_changes:
        out = [f"*Module {m.number}'s start is {since}, unchanged.*"]
    return "\n".join(out)


def hints_block(m) -> str:
    if not m.hints:
        return "*This module has no hints.*"
    out = [f"Try on your own first: each hint gives away a little more. In the terminal, "
           f"`workshop hint {m.number}` reveals them one at a time and records how many you saw.", ""]
    for i, text in enumerate(m.hints, 1):
        out.append(f'??? tip "Hint {i} of {len(m.hints)}"')
        out.append("")
        out += [f"    {line}" if line.strip() else "" for line in text.strip().splitlines()]
        out.append("")
    return "\n".join(out)


def check_tabs(m, page) -> str:
    setup = rel(page, "setup.md")
    trouble = rel(page, "troubleshooting.md")
    n = m.number
    return f"""=== "Local target"

    No account and no Docker: the check deploys your workspace (`workspace/{m.name}/`) into the
    local cloud, then runs the module's checkpoints against it.

    ```bash
    workshop check {n}
    ```

    `workshop watch {n}` re-checks each time you save a file; `workshop hint {n}` reveals the
    next hint. Exit status: 0 all pass, 1 some fail, 2 the check could not run.

=== "Your AWS account"

    Deploy with the SAM CLI from each folder of your workspace that holds a `template.yaml`,
    naming each stack `<prefix>-<folder>` (`<prefix>` alone for a template at the root), as
    the local target does. Then grade the stacks that carry your prefix:

    ```bash
    sam build && sam deploy --guided      # once per template; later: sam build && sam deploy
    workshop check {n} --target aws --stack-prefix P
    ```

    `P` is your prefix; add `--region` when it is not your profile's region. Deployed resources
    cost money while they exist: see [Setup]({setup}#costs-and-cleanup) for the cleanup, and
    [Troubleshooting]({trouble}) when a stack does not deploy.
"""


def modules_table(page) -> str:
    if not _modules:
        return "*No module is in the repository yet.*"
    rows = ["| module | what you do | checkpoints |", "|---|---|--:|"]
    for m in _modules:
        rows.append(f"| [{m.number} · {cell(short_title(m))}]({rel(page, page_path(m))}) | {cell(m.summary)} "
                    f"| {len(m.checkpoints)} ({m.points} pts) |")
    return "\n".join(rows)


def all_checkpoints(page) -> str:
    if not _modules:
        return "*No module is in the repository yet.*"
    out = []
    total = sum(m.points for m in _modules)
    count = sum(len(m.checkpoints) for m in _modules)
    out += [f"{len(_modules)} modules, {count} checkpoints, {total} points. Each checkpoint is a pytest "
            f"test in `checks/test_NN_slug.py`; its id and points come from the module's `module.toml`.", ""]
    for m in _modules:
        out += [f"## {m.number} · {m.title}", "",
                f"[The module's page]({rel(page, page_path(m))}) · `{m.checks_file.relative_to(ROOT).as_posix()}`", "",
                checkpoints_table(m), ""]
    return "\n".join(out)


# ------------------------------------------------------------------ the CLI reference

def _is_argument(param) -> bool:
    return getattr(param, "param_type_name", "") == "argument"


def _is_group(cmd) -> bool:
    return hasattr(cmd, "list_commands") and hasattr(cmd, "get_command")


def _metavar(param) -> str:
    kind = getattr(param, "type", None)
    if kind is not None:  # click's own parameter types
        if getattr(kind, "choices", None):
            return "|".join(map(str, kind.choices))
        return {"path": "PATH", "integer": "INTEGER", "float": "NUMBER"}.get(getattr(kind, "name", ""), "TEXT")
    # newer Typer keeps the annotation instead
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    inner = getattr(annotation, "__args__", None)
    if inner:
        annotation = inner[0]
    if isinstance(annotation, type):
        import enum
        from pathlib import PurePath

        if issubclass(annotation, enum.Enum):
            return "|".join(str(m.value) for m in annotation)
        if issubclass(annotation, PurePath):
            return "PATH"
        if issubclass(annotation, bool):
            return ""
        if issubclass(annotation, int):
            return "INTEGER"
        if issubclass(annotation, float):
            return "NUMBER"
    return "TEXT"


def _default(param) -> str | None:
    default = param.default
    if default is None or default == () or default == []:
        return None
    if getattr(param, "is_flag", False):
        if getattr(param, "secondary_opts", None):
            return param.opts[0] if default else param.secondary_opts[0]
        return None
    return str(default)


def cli_reference() -> str:
    """Markdown for every command of the Typer app, read from its click commands (duck-typed:
    Typer may bring its own copy of click)."""
    import typer.main

    from workshop.cli import app

    root = typer.main.get_command(app)
    root_ctx = root.context_class(root, info_name="workshop")
    out = [(root.help or "").strip(), "",
           "Every command answers `--help`. This page is generated from the Typer app in "
           "`workshop/cli.py` each time the site is built, so it matches the code.", ""]

    def params_of(cmd, ctx) -> list:
        return [p for p in cmd.get_params(ctx) if p.name != "help"]

    def usage(cmd, path: str, ctx) -> str:
        pieces = [path]
        params = params_of(cmd, ctx)
        if any(not _is_argument(p) for p in params):
            pieces.append("[OPTIONS]")
        for p in params:
            if _is_argument(p):
                word = p.name.upper() + ("..." if p.nargs == -1 else "")
                pieces.append(word if p.required else f"[{word}]")
        if _is_group(cmd):
            pieces.append("COMMAND [ARGS]...")
        return " ".join(pieces)

    def describe(cmd, path: str, ctx, level: int) -> None:
        out.append(f"{'#' * level} `{path}`")
        out.append("")
        if cmd.help:
            out.extend([cmd.help.strip(), ""])
        out.extend(["```text", usage(cmd, path, ctx), "```", ""])
        params = params_of(cmd, ctx)
        if params:
            out.extend(["| argument or option | meaning | default |", "|---|---|---|"])
            for p in params:
                if _is_argument(p):
                    name = f"`{p.name.upper()}{'...' if p.nargs == -1 else ''}`"
                else:
                    flags = ", ".join(p.opts)
                    if p.secondary_opts:
                        flags += " / " + ", ".join(p.secondary_opts)
                    if not getattr(p, "is_flag", False) and _metavar(p):
                        flags += f" {_metavar(p)}"
                        if getattr(p, "multiple", False):
                            flags += " (repeatable)"
                    name = f"`{flags}`"
                meaning = getattr(p, "help", None) or ""
                default = "*required*" if p.required else (_default(p) or "")
                if default and default != "*required*":
                    default = f"`{default}`"
                out.append(f"| {name} | {cell(meaning)} | {cell(default)} |")
            out.append("")
        if _is_group(cmd):
            for name in cmd.list_commands(ctx):
                sub = cmd.get_command(ctx, name)
                if sub is None or getattr(sub, "hidden", False):
                    continue
                describe(sub, f"{path} {name}", sub.context_class(sub, info_name=name, parent=ctx), level + 1)

    for name in root.list_commands(root_ctx):
        sub = root.get_command(root_ctx, name)
        if sub is not None and not getattr(sub, "hidden", False):
            describe(sub, f"workshop {name}", sub.context_class(sub, info_name=name, parent=root_ctx), 2)
    return "\n".join(out)


# ------------------------------------------------------------------ README links

LINK = re.compile(r"(?P<bang>!?)\[(?P<text>[^\]\n]*)\]\((?P<target><[^>\n]*>|[^)\s]+)(?P<title>\s+\"[^\"\n]*\")?\)")
REF_DEF = re.compile(r"^(?P<lead>[ ]{0,3}\[[^\]\n]+\]:[ \t]*)(?P<target>\S+)(?P<rest>.*)$")
HTML_ATTR = re.compile(r"(?P<lead>\b(?:src|href)=)(?P<q>[\"'])(?P<target>[^\"'\n]*)(?P=q)")
CODE_SPAN = re.compile(r"(`+)(?:.+?)\1")


def _is_relative(target: str) -> bool:
    parts = urlsplit(target)
    return not (parts.scheme or parts.netloc or target.startswith(("#", "/")) or not parts.path)


def readme_target(module_name: str, target: str) -> tuple[str, str | None]:
    """(kind, new target) for a link written in modules/<module_name>/README.md.

    kind: "keep" (not relative, leave it), "link" (rewritten), "code" (a repository file the
    site does not serve: show its path), "missing" (points to nothing)."""
    if not _is_relative(target):
        return "keep", target
    parts = urlsplit(target)
    fragment = f"#{parts.fragment}" if parts.fragment else ""
    resolved = posixpath.normpath(posixpath.join("modules", module_name, parts.path))
    path = ROOT / resolved
    if resolved.startswith("../") or not path.exists():
        return "missing", resolved
    segments = resolved.split("/")
    if segments[0] == "modules" and len(segments) >= 2 and module_by_number(segments[1]) is not None:
        other = module_by_number(segments[1])
        if len(segments) == 2 or (len(segments) == 3 and segments[2] == "README.md"):
            return "link", posixpath.relpath(page_path(other), "modules") + fragment
        if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
            return "link", posixpath.relpath(resolved, "modules")  # served by on_files
    if segments[0] == "docs" and path.is_file():
        return "link", posixpath.relpath(posixpath.join(*segments[1:]), "modules") + fragment
    return "code", resolved


def rewrite_readme_line(module_name: str, line: str) -> str:
    def fix(target: str) -> tuple[str, str]:
        bare = target[1:-1] if target.startswith("<") and target.endswith(">") else target
        kind, new = readme_target(module_name, bare)
        if kind == "missing":
            log.warning(f"modules/{module_name}/README.md links to '{bare}', which is not in the repository "
                        f"(resolved to {new})")
        return kind, new

    def inline(match: re.Match) -> str:
        kind, new = fix(match["target"])
        if kind in ("keep",):
            return match.group(0)
        if kind == "link":
            return f"{match['bang']}[{match['text']}]({new}{match['title'] or ''})"
        if match["bang"]:  # an image we cannot serve: keep its alt text
            return match["text"]
        text = match["text"].strip()
        if text.strip("`") in (new, match["target"]) or kind == "missing":
            return text if text.startswith("`") else f"{text}"
        return f"{text} (`{new}`)"

    def attr(match: re.Match) -> str:
        kind, new = fix(match["target"])
        if kind == "link":
            return f"{match['lead']}{match['q']}{new}{match['q']}"
        return match.group(0)

    ref = REF_DEF.match(line)
    if ref:
        kind, new = fix(ref["target"])
        if kind == "link":
            return f"{ref['lead']}{new}{ref['rest']}"
        return line
    # leave links that sit inside inline code spans alone (a code span may sit inside a link's text)
    for pattern, fix_one in ((LINK, inline), (HTML_ATTR, attr)):
        spans = [span.span() for span in CODE_SPAN.finditer(line)]

        def guarded(match: re.Match, fix_one=fix_one, spans=spans) -> str:
            if any(start <= match.start() < end for start, end in spans):
                return match.group(0)
            return fix_one(match)

        line = pattern.sub(guarded, line)
    return line


class ReadmeLinks(Preprocessor):
    """After pymdownx.snippets (priority 32) has inlined a README, make its links work on the site."""

    def run(self, lines: list[str]) -> list[str]:
        out: list[str] = []
        current: str | None = None
        fence = None
        for line in lines:
            opened = README_OPEN.match(line.strip())
            if opened:
                current = opened.group(1)
                continue
            if line.strip() == README_CLOSE:
                current, fence = None, None
                continue
            if current is None:
                out.append(line)
                continue
            stripped = line.lstrip()
            opener = re.match(r"(`{3,}|~{3,})", stripped)
            if fence is None and opener:
                fence = opener.group(1)
                out.append(line)
            elif fence is not None:
                if opener and opener.group(1)[0] == fence[0] and len(opener.group(1)) >= len(fence) \
                        and not stripped[len(opener.group(1)):].strip():
                    fence = None
                out.append(line)
            else:
                out.append(rewrite_readme_line(current, line))
        return out


def bench_value(key: str, figures: dict) -> str | None:
    """A measured figure as a reader wants it: 36.4 -> '36 ms', 1285.98 -> '1.3 s', 0.896 -> '0.90x'."""
    value = figures
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if key.endswith("_ms"):
        if value >= 1000:
            return f"{value / 1000:.1f} s"
        return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"
    if key.endswith("_s"):
        return f"{value:.1f} s"
    if "_over_" in key:
        return f"{value:.2f}x"
    return f"{value:g}"


def fill_bench(text: str, figures: dict, where: str = "") -> str:
    def replace(match: re.Match) -> str:
        value = bench_value(match.group(1), figures)
        if value is None:
            log.warning(f"{where}: {{{{ bench:{match.group(1)} }}}} is not a figure of docs/data/bench.json")
            return "(not measured yet)"
        return value
    return BENCH.sub(replace, text)


def bench_figures() -> dict:
    import json

    try:
        return json.loads(BENCH_DATA.read_text(encoding="utf-8")).get("figures", {})
    except (OSError, ValueError) as exc:
        log.warning(f"docs/data/bench.json cannot be read: {exc}")
        return {}


class BenchFigures(Preprocessor):
    """After snippets have inlined the READMEs: every {{ bench:KEY }} becomes the measured figure."""

    def run(self, lines: list[str]) -> list[str]:
        text = "\n".join(lines)
        if not BENCH.search(text):
            return lines
        return fill_bench(text, bench_figures(), "a page").split("\n")


class ReadmeLinksExtension(Extension):
    def extendMarkdown(self, md) -> None:  # noqa: N802 - Markdown's API
        md.preprocessors.register(ReadmeLinks(md), "course_readme_links", 31.5)
        md.preprocessors.register(BenchFigures(md), "course_bench_figures", 31.4)


def readme_images(m) -> list[str]:
    """Repository paths of the images a module's README shows from its own module folder."""
    readme = m.path / "README.md"
    if not readme.exists():
        return []
    found = []
    for match in re.finditer(r"!\[[^\]\n]*\]\(<?([^)\s>]+)>?|<img[^>]*\bsrc=[\"']([^\"']+)", readme.read_text("utf-8")):
        target = match.group(1) or match.group(2)
        if not _is_relative(target):
            continue
        resolved = posixpath.normpath(posixpath.join("modules", m.name, urlsplit(target).path))
        path = ROOT / resolved
        if resolved.startswith("modules/") and path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
            found.append(resolved)
    return found


# ------------------------------------------------------------------ mkdocs events

def on_config(config):
    global _modules
    _modules = load_modules()

    # base_path "." means the repository root, wherever mkdocs is started from.
    snippets = config.mdx_configs.setdefault("pymdownx.snippets", {})
    config_dir = Path(config.config_file_path).resolve().parent
    snippets["base_path"] = [str((config_dir / p).resolve()) for p in snippets.get("base_path", ["."])]

    config.markdown_extensions.append(ReadmeLinksExtension())

    def fill(items: list) -> list:
        result = []
        for item in items:
            if isinstance(item, dict) and "Modules" in item and not item["Modules"]:
                if _modules:
                    result.append({"Modules": [{f"{m.number} · {short_title(m)}": page_path(m)} for m in _modules]})
            elif isinstance(item, dict):
                result.append({k: fill(v) if isinstance(v, list) else v for k, v in item.items()})
            else:
                result.append(item)
        return result

    if config.nav:
        config.nav = fill(config.nav)
    return config


def on_files(files: Files, config) -> Files:
    for m in _modules:
        uri = page_path(m)
        if files.get_file_from_path(uri) is None:  # a hand-written page wins
            files.append(File.generated(config, uri, content=module_page(m)))
        for image in readme_images(m):  # served at the same path below the site's modules/
            if files.get_file_from_path(image) is None:
                files.append(File.generated(config, image, abs_src_path=str(ROOT / image)))
    return files


def on_page_markdown(markdown: str, page, config, files) -> str:
    def replace(match: re.Match) -> str:
        kind, arg = match.group(1), match.group(2)
        if kind == "modules":
            return modules_table(page)
        if kind == "all-checkpoints":
            return all_checkpoints(page)
        if kind == "cli":
            return cli_reference()
        if kind == "changes":
            m = module_by_number(arg or "")
            if m is None:
                log.warning(f"{page.file.src_uri}: <!-- course:changes {arg} --> names no module")
                return ""
            return changes_block(m, page)
        if kind in ("checkpoints", "hints", "check"):
            m = module_by_number(arg or "")
            if m is None:
                log.warning(f"{page.file.src_uri}: <!-- course:{kind} {arg} --> names no module")
                return ""
            return {"checkpoints": checkpoints_table, "hints": hints_block}.get(kind, lambda m: check_tabs(m, page))(m)
        log.warning(f"{page.file.src_uri}: unknown marker <!-- course:{kind} -->")
        return ""

    return MARKER.sub(replace, markdown)
