"""Module 03's burst figure, drawn by the site's charts hook from `make bench`'s counts.

The figure shows what Lambda documents (https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html):
calls beyond a function's reserved concurrency are throttled, and API Gateway answers them 500
(https://docs.aws.amazon.com/lambda/latest/dg/services-apigateway-errors.html); a direct
integration has no function, so no such limit.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def charts_hook():
    spec = importlib.util.spec_from_file_location("site_hook_charts_burst", ROOT / "docs" / "hooks" / "charts.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def page(src: str):
    return SimpleNamespace(file=SimpleNamespace(src_uri=src))


def test_the_burst_is_drawn_on_module_03s_page_measured_or_not(tmp_path, monkeypatch):
    charts = charts_hook()
    monkeypatch.setattr(charts, "DATA", tmp_path / "bench.json")
    (tmp_path / "bench.json").write_text(json.dumps({"measured_on": "today", "figures": {
        "burst_requests": 40, "burst_reserved_concurrency": 2, "burst_lambda_ok": 3, "burst_lambda_throttled": 37,
        "burst_direct_ok": 40, "burst_direct_throttled": 0}}))
    charts._data = charts.load()
    assert charts.draw_burst(charts._data).startswith(PNG_SIGNATURE)
    section = charts.on_page_markdown("<!-- charts:module 03 -->", page("modules/03/index.md"), None, None)
    assert "burst.png" in section and "the Lambda path answered 3 and throttled 37" in section
    assert "burst.png" not in charts.on_page_markdown("<!-- charts:module 02 -->", page("m.md"), None, None)
    monkeypatch.setattr(charts, "DATA", tmp_path / "absent.json")
    charts._data = charts.load()
    assert charts.draw_burst(charts._data).startswith(PNG_SIGNATURE)
    assert "not measured yet" in charts.burst_figure(charts._data, page("figures.md"))
