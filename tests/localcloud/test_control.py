"""`workshop cloud up | down | status`: one process, reused, and a stale record handled."""

from __future__ import annotations

import json
import os

from workshop.localcloud import control


def test_up_reuses_the_running_cloud_and_down_stops_it(tmp_path):
    state = tmp_path / "cloud"
    info, started = control.up(state)
    try:
        assert started and info.url.startswith("http://127.0.0.1:") and info.port != 5000
        again, started_again = control.up(state)
        assert not started_again and again.pid == info.pid
        assert control.running(state).pid == info.pid
    finally:
        assert control.down(state)
    assert control.running(state) is None
    assert not control.down(state)


def test_a_stale_record_is_replaced(tmp_path):
    state = tmp_path / "cloud"
    state.mkdir()
    (state / "cloud.json").write_text(json.dumps({"url": "http://127.0.0.1:1", "port": 1, "pid": 999_999_999}))
    assert control.running(state) is None
    assert not (state / "cloud.json").exists()
    info, started = control.up(state)
    try:
        assert started and info.pid != 999_999_999 and info.pid != os.getpid()
    finally:
        control.down(state)
