"""The course site: it builds with `mkdocs build --strict`, stays offline (no script, style, image
or font from another host), every internal link and anchor resolves, the generated pages hold
what the course's files say, and a real browser (headless Chromium) renders its mermaid
diagrams and chart images. Screenshots are saved under the build folder, in `_screenshots/`.

Set WORKSHOP_SITE_DIR to build into a folder of your choice (to keep the screenshots), and
WORKSHOP_CHROMIUM to use another browser binary than /usr/bin/chromium.
"""

from __future__ import annotations

import functools
import html
import http.server
import importlib.util
import io
import json
import os
import re
import subprocess
import sys
import threading
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from workshop import course

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("WORKSHOP_CHROMIUM", "/usr/bin/chromium"))
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------- the build

@pytest.fixture(scope="module")
def build(tmp_path_factory) -> tuple[Path, str]:
    """The site, built once for this module: (folder, mkdocs' output)."""
    chosen = os.environ.get("WORKSHOP_SITE_DIR")
    out = Path(chosen).resolve() if chosen else tmp_path_factory.mktemp("site") / "site"
    mkdocs = Path(sys.executable).with_name("mkdocs")
    command = [str(mkdocs)] if mkdocs.exists() else [sys.executable, "-m", "mkdocs"]
    done = subprocess.run(
        command + ["build", "--strict", "--clean", "--site-dir", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{output[-4000:]}"
    return out, output


@pytest.fixture(scope="module")
def site(build) -> Path:
    return build[0]


def html_files(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if "_screenshots" not in p.parts)


class Elements(HTMLParser):
    """Every start tag with its attributes, the ids, and the text of <style> elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.ids: set[str] = set()
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        values = {k: (v or "") for k, v in attrs}
        self.tags.append((tag, values))
        for key in ("id", "name"):
            if values.get(key):
                self.ids.add(values[key])
        self._in_style = tag == "style"

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        self._in_style = False

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)


@functools.cache
def parse(path: Path) -> Elements:
    parser = Elements()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def is_external(url: str) -> bool:
    parts = urlsplit(url.strip())
    if url.strip().startswith("//"):
        return True
    return parts.scheme in ("http", "https", "ftp", "ws", "wss") and parts.hostname not in LOCAL_HOSTS


def srcset_urls(value: str) -> list[str]:
    return [item.strip().split()[0] for item in value.split(",") if item.strip()]


# Attributes that make a browser fetch something: scripts, styles, fonts, images, frames, media.
RESOURCE_ATTRIBUTES = {
    "script": ("src",), "link": ("href",), "img": ("src", "srcset"), "source": ("src", "srcset"),
    "iframe": ("src",), "embed": ("src",), "object": ("data",), "video": ("src", "poster"),
    "audio": ("src",), "track": ("src",), "input": ("src",), "image": ("href", "xlink:href"),
    "use": ("href", "xlink:href"), "frame": ("src",),
}
CSS_URL = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])([^'")\s]+)""", re.IGNORECASE)


def resource_urls(path: Path) -> list[tuple[str, str]]:
    """(what, url) for everything a page makes the browser fetch by itself."""
    page = parse(path)
    found = []
    for tag, attrs in page.tags:
        for name in RESOURCE_ATTRIBUTES.get(tag, ()):
            value = attrs.get(name)
            if not value:
                continue
            urls = srcset_urls(value) if name == "srcset" else [value]
            found += [(f"<{tag} {name}>", url) for url in urls]
        if attrs.get("style"):
            found += [(f"<{tag} style>", url) for url in CSS_URL.findall(attrs["style"])]
    for css in page.styles:
        found += [("<style>", url) for url in CSS_URL.findall(css)]
    return found


def test_the_site_builds_strictly_with_a_page_for_every_module(build):
    site, output = build
    assert "WARNING" not in output, output
    for page in ("index.html", "setup.html", "figures.html", "instructor.html", "troubleshooting.html",
                 "reference/cli.html", "reference/checkpoints.html", "reference/local-target.html"):
        assert (site / page).is_file(), f"{page} was not built"
    modules = course.modules()
    assert modules, "no module in modules/"
    for m in modules:
        assert (site / "modules" / f"{m.name}.html").is_file(), f"no page for {m.name}"
    assert (site / "assets/javascripts/mermaid.min.js").stat().st_size > 1_000_000, "the vendored mermaid is missing"
    for chart in ("cold-vs-warm", "merged-vs-small", "direct-vs-lambda"):
        png = site / "assets/charts" / f"{chart}.png"
        assert png.read_bytes().startswith(PNG_SIGNATURE), f"{png} is not a PNG"


def test_no_page_loads_anything_from_another_host(site):
    offenders = []
    for path in html_files(site):
        for what, url in resource_urls(path):
            if is_external(url):
                offenders.append(f"{path.relative_to(site)}: {what} {url}")
    for css in site.rglob("*.css"):
        for url in CSS_URL.findall(css.read_text(encoding="utf-8", errors="replace")):
            if is_external(url):
                offenders.append(f"{css.relative_to(site)}: url({url})")
    assert not offenders, "external resources:\n" + "\n".join(offenders[:50])


def test_the_theme_and_plugins_stay_offline(site):
    from mkdocs.config import load_config

    config = load_config(str(ROOT / "mkdocs.yml"))
    assert config.theme["font"] is False, "theme.font must be false: no Google Fonts"
    for plugin in config.plugins:
        assert not re.search(r"privacy|social", plugin), f"the {plugin} plugin must stay off"
    assert "snippets" in " ".join(config.markdown_extensions)
    index = (site / "index.html").read_text()
    assert "fonts.googleapis.com" not in index and "fonts.gstatic.com" not in index


def test_every_internal_link_and_anchor_resolves(site):
    broken = []
    for path in html_files(site):
        page = parse(path)
        for tag, attrs in page.tags:
            for name in ("href", "src"):
                url = attrs.get(name)
                if not url or tag not in ("a", "link", "script", "img", "source", "iframe"):
                    continue
                parts = urlsplit(url)
                if parts.scheme or url.startswith("//"):
                    continue  # external (only <a> may be: see the test above), mailto:, data:...
                if parts.path:
                    base = site if parts.path.startswith("/") else path.parent
                    target = (base / unquote(parts.path).lstrip("/")).resolve()
                    if target.is_dir():
                        target = target / "index.html"
                    if not target.is_file() or site.resolve() not in target.parents:
                        broken.append(f"{path.relative_to(site)}: <{tag} {name}={url!r}> points to nothing")
                        continue
                else:
                    target = path
                if parts.fragment and tag == "a" and target.suffix == ".html":
                    if unquote(parts.fragment) not in parse(target).ids:
                        broken.append(f"{path.relative_to(site)}: <a href={url!r}>: no id {parts.fragment!r} there")
    assert not broken, "broken internal links:\n" + "\n".join(broken[:50])


# ---------------------------------------------------------------- generated content

def visible_text(path: Path) -> str:
    """A page's text without its tags (code is highlighted token by token), spaces collapsed."""

    text = re.sub(r"<[^>]+>", "", path.read_text(encoding="utf-8"))
    return " ".join(html.unescape(text).split())


def test_module_pages_show_checkpoints_hints_and_both_targets(site):
    for m in course.modules():
        text = visible_text(site / "modules" / f"{m.name}.html")
        for checkpoint in m.checkpoints:
            assert checkpoint.id in text and " ".join(checkpoint.title.split()) in text, \
                f"{m.name}: checkpoint {checkpoint.id} is not on its page"
        raw = (site / "modules" / f"{m.name}.html").read_text(encoding="utf-8")
        assert raw.count('<details class="tip"') == len(m.hints), f"{m.name}: a hint is not a `??? tip`"
        assert "Local target" in text and "Your AWS account" in text, f"{m.name}: no content tabs"
        assert f"workshop check {m.number}" in text
        assert f"workshop check {m.number} --target aws --stack-prefix" in text
        readme = m.path / "README.md"
        if readme.exists():  # embedded: its first heading is on the page
            heading = next(line for line in readme.read_text().splitlines() if line.startswith("#"))
            words = re.sub(r"[`*_]", "", heading.lstrip("# ")).split()[:3]
            assert all(w in text for w in words), f"{m.name}: README not embedded"


def test_every_checkpoint_is_on_the_reference_page(site):
    text = visible_text(site / "reference/checkpoints.html")
    for m in course.modules():
        for checkpoint in m.checkpoints:
            assert checkpoint.id in text, f"{checkpoint.id} is missing from the checkpoint reference"


def test_the_cli_reference_is_generated_from_the_typer_app(site):
    import typer.main

    from workshop.cli import app

    text = visible_text(site / "reference/cli.html")
    root = typer.main.get_command(app)
    context = root.context_class(root, info_name="workshop")
    for name in root.list_commands(context):
        assert f"workshop {name}" in text, f"`workshop {name}` is missing from the CLI reference"
    assert "--stack-prefix" in text and "--json" in text


def _load_hook(name: str):
    spec = importlib.util.spec_from_file_location(f"site_hook_{name}", ROOT / "docs" / "hooks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_a_figure_that_is_not_measured_yet_is_drawn_as_such(tmp_path, monkeypatch):
    charts = _load_hook("charts")
    nulls = {"measured_on": None, "figures": {"cold_small_ms": None, "cold_fastapi_ms": None}, "talk": {}}
    monkeypatch.setattr(charts, "DATA", tmp_path / "bench.json")
    (tmp_path / "bench.json").write_text(json.dumps(nulls))
    data = charts.load()
    assert all(value is None for value in data["figures"].values())
    assert data["talk"]["cold_fastapi_s"] == 2.8  # the talk's figures stay
    for chart in charts.CHARTS:
        assert charts.draw(chart, data).startswith(PNG_SIGNATURE)
    assert "not measured yet" in charts.figures_table(data)
    # a file that is missing altogether is not measured either
    monkeypatch.setattr(charts, "DATA", tmp_path / "absent.json")
    assert all(value is None for value in charts.load()["figures"].values())


def test_readme_links_are_rewritten_for_the_site(caplog):
    hook = _load_hook("course")
    hook._modules = course.modules()
    m = hook._modules[0]
    fix = functools.partial(hook.rewrite_readme_line, m.name)
    assert fix("see [why](README.md#why)") == f"see [why]({m.name}.md#why)"
    assert fix("[Setup](../../docs/setup.md#the-aws-target)") == "[Setup](../setup.md#the-aws-target)"
    # a repository file that the site does not serve: its path, as code
    assert fix("[the manifest](module.toml)") == f"the manifest (`modules/{m.name}/module.toml`)"
    assert fix("[`module.toml`](module.toml)") == "`module.toml`"
    assert fix("[the talk](https://example.com/x)") == "[the talk](https://example.com/x)"
    assert fix("`[not a link](nowhere)`") == "`[not a link](nowhere)`"
    # a link to nothing is reported (a warning fails `mkdocs build --strict`) and left as its text
    with caplog.at_level("WARNING", logger="mkdocs.hooks.course"):
        assert fix("[gone](no-such-file.md)") == "gone"
    assert "no-such-file.md" in caplog.text and f"modules/{m.name}/README.md" in caplog.text


def test_a_module_page_embeds_every_line_of_its_readme_once():
    hook = _load_hook("course")
    hook._modules = course.modules()
    for m in hook._modules:
        readme = m.path / "README.md"
        if not readme.exists():
            continue
        total = len(readme.read_text(encoding="utf-8").splitlines())
        page = hook.module_page(m)
        embeds = re.findall(rf'--8<-- "{re.escape(readme.relative_to(ROOT).as_posix())}(?::(\d+):(\d+))?"', page)
        assert embeds, f"{m.name}: README.md is not embedded with snippets"
        covered: list[int] = []
        for first, last in embeds:
            covered += range(int(first), int(last) + 1) if first else range(1, total + 1)
        assert len(covered) == len(set(covered)), f"{m.name}: a README line is embedded twice"
        left_out = set(range(1, total + 1)) - set(covered)
        headings = [i for i in left_out if re.match(r"##\s+check your work", readme.read_text().splitlines()[i - 1], re.I)]
        assert left_out == set(headings), f"{m.name}: README lines {sorted(left_out)[:10]} are not on the page"
        assert f"<!-- course:check {m.number} -->" in page and f"<!-- course:checkpoints {m.number} -->" in page


def test_a_module_without_a_readme_yet_still_gets_a_page():
    hook = _load_hook("course")
    m = course.Module(number="99", slug="not-written", title="Not written: yet", summary="One sentence.",
                      broken="Broken.", path=ROOT / "modules" / "99-not-written",
                      checkpoints=(course.Checkpoint("99.1", "Something", 2, True),), hints=("a hint",))
    page = hook.module_page(m)
    assert "--8<--" not in page and "being written" in page
    assert hook.checkpoints_table(m).count("| `99.1` | Something | 2 | yes |") == 1
    assert '??? tip "Hint 1 of 1"' in hook.hints_block(m)


# ---------------------------------------------------------------- in a browser

PROBE = b"""<script>
window.addEventListener("load", function () {
  setTimeout(function () {
    var images = Array.prototype.map.call(document.images, function (i) {
      return {src: i.currentSrc || i.src, complete: i.complete, width: i.naturalWidth};
    });
    var resources = performance.getEntriesByType("resource").map(function (r) { return r.name; });
    document.documentElement.setAttribute("data-site-test",
      JSON.stringify({images: images, resources: resources, page: location.href,
                      height: document.documentElement.scrollHeight}));
  }, 3000);
});
</script>"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the build; adds a probe script to HTML pages (the test reads what it reports
    from the dumped DOM: images decoded, resources fetched) and records every request."""

    requests: list[tuple[str, int]]

    def log_message(self, format, *args):  # noqa: A002 - the signature of the base class
        pass

    def log_request(self, code="-", size="-"):
        self.requests.append((self.path, int(code) if isinstance(code, int) or str(code).isdigit() else 0))

    def send_head(self):
        path = self.translate_path(self.path)
        if not path.endswith(".html") or not os.path.isfile(path):
            return super().send_head()
        body = Path(path).read_bytes().replace(b"</body>", PROBE + b"</body>", 1)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)


@pytest.fixture(scope="module")
def server(site):
    requests: list[tuple[str, int]] = []
    handler = type("Handler", (QuietHandler,), {"requests": requests})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", requests
    httpd.shutdown()
    httpd.server_close()


def chromium(args: list[str], profile: Path, timeout: int = 120) -> subprocess.CompletedProcess:
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM}: the test setup installs it "
                    f"(apt-get install -y chromium); the browser checks were not run")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
             f"--user-data-dir={profile}", "--hide-scrollbars",
             # nothing but this machine's loopback resolves: an external request could not succeed
             "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
    return subprocess.run([str(CHROMIUM), *flags, *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def browser_pages(site: Path) -> list[str]:
    """The home page and a module page: the one with both a diagram and charts if there is one."""
    pages = ["index.html"]
    modules = sorted((site / "modules").glob("*.html"))
    def score(path: Path) -> tuple[bool, bool]:
        text = path.read_text(encoding="utf-8")
        return ('class="mermaid"' in text and "assets/charts/" in text, "assets/charts/" in text)
    if modules:
        best = max(modules, key=score)
        pages.append(best.relative_to(site).as_posix())
        if not score(best)[0]:  # no single module page has both: add the one with a diagram too
            with_diagram = [p for p in modules if 'class="mermaid"' in p.read_text(encoding="utf-8")]
            if with_diagram:
                pages.append(with_diagram[0].relative_to(site).as_posix())
    return pages


@pytest.fixture(scope="module")
def rendered(site, server, tmp_path_factory):
    """page -> (the DOM after rendering, what the probe saw, the server's requests, screenshot)."""
    base, requests = server
    shots = site / "_screenshots"
    shots.mkdir(exist_ok=True)
    results = {}
    for page in browser_pages(site):
        profile = tmp_path_factory.mktemp("chromium")
        requests.clear()
        done = chromium(["--virtual-time-budget=10000", "--dump-dom", f"{base}/{page}"], profile)
        assert done.returncode == 0, f"chromium failed on {page}: {done.stderr[-2000:]}"
        seen = list(requests)
        probe = re.search(r'data-site-test="([^"]*)"', done.stdout)
        assert probe, f"{page}: the page's load event never came (no probe result in the DOM)"
        probed = json.loads(html.unescape(probe.group(1)))
        # the whole page in one picture: a window as tall as the page (Chromium caps it at 16384)
        height = max(900, min(int(probed.get("height") or 2200), 16000))
        shot = shots / (page.replace("/", "_").removesuffix(".html") + ".png")
        done_shot = chromium(["--virtual-time-budget=10000", f"--window-size=1280,{height}",
                              f"--screenshot={shot}", f"{base}/{page}"], tmp_path_factory.mktemp("chromium"))
        assert done_shot.returncode == 0 and shot.exists(), f"no screenshot of {page}: {done_shot.stderr[-2000:]}"
        results[page] = (done.stdout, probed, seen, shot)
    return results


def mermaid_blocks(dom: str) -> list[str]:
    """The inner HTML of each <div class="mermaid">, as far as the next block-level sibling."""
    blocks = []
    for match in re.finditer(r'<div class="mermaid"[^>]*>', dom):
        blocks.append(dom[match.end():match.end() + 400])
    return blocks


def test_the_home_page_renders_its_module_map_in_chromium(rendered):
    dom, probe, requests, shot = rendered["index.html"]
    blocks = mermaid_blocks(dom)
    assert blocks, "no .mermaid element on the home page"
    for block in blocks:
        assert block.lstrip().startswith("<svg"), f"a diagram was not rendered to SVG: {block[:200]!r}"
    assert "<svg" in dom and 'class="flowchart' in dom
    assert shot.stat().st_size > 10_000, f"{shot} looks empty"


def test_module_pages_render_diagrams_and_chart_images_in_chromium(rendered, site):
    module_pages = [p for p in rendered if p.startswith("modules/")]
    assert module_pages, "no module page was rendered"
    charts_seen = diagrams_seen = 0
    for page in module_pages:
        dom, probe, requests, shot = rendered[page]
        for block in mermaid_blocks(dom):
            assert block.lstrip().startswith("<svg"), f"{page}: a diagram was not rendered: {block[:200]!r}"
            diagrams_seen += 1
        charts = [i for i in probe["images"] if "/assets/charts/" in i["src"]]
        for image in charts:
            assert image["complete"] and image["width"] > 0, f"{page}: chart {image['src']} did not load"
            charts_seen += 1
        served = {path.split("?")[0]: code for path, code in requests}
        for image in charts:
            path = urlsplit(image["src"]).path
            assert served.get(path) == 200, f"{page}: {path} was not served (requests: {served})"
        assert shot.stat().st_size > 10_000, f"{shot} looks empty"
    built_with_charts = any("assets/charts/" in (site / p).read_text() for p in module_pages)
    if built_with_charts:
        assert charts_seen, "the module pages have charts, but none loaded in the browser"
    built_with_diagrams = any('class="mermaid"' in (site / p).read_text() for p in module_pages)
    if built_with_diagrams:
        assert diagrams_seen, "the module pages have diagrams, but none rendered"


def test_the_pages_fetch_nothing_from_another_host_in_chromium(rendered):
    for page, (_dom, probe, _requests, _shot) in rendered.items():
        foreign = [url for url in probe["resources"] if is_external(url)]
        assert not foreign, f"{page} fetched from other hosts: {foreign}"
        assert probe["resources"], f"{page}: the probe saw no resource at all"
