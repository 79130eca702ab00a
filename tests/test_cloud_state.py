"""State: the local cloud keeps its stacks in memory, and `workshop cloud down` says they are gone.

Re-deploying recorded stacks on start would bring them back with empty tables, so the local
target does not pretend to persist them; the docs (reference/local-target.md#state,
troubleshooting.md) and the command say so. A restart really does start empty.
"""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from workshop import cli
from workshop.deploy.targets import LocalTarget
from workshop.localcloud import control

ECHO = Path(__file__).parent / "fixtures" / "echo" / "template.yaml"


def test_cloud_down_says_the_stacks_are_gone(monkeypatch):
    monkeypatch.setattr(control, "down", lambda *_: True)
    said = CliRunner().invoke(cli.app, ["cloud", "down"], env={"COLUMNS": "200"}).output
    assert "stacks, tables and logs are gone" in said and "starts empty" in said


def test_a_restarted_cloud_holds_no_stack(tmp_path):
    state = tmp_path / "cloud"
    info, _ = control.up(state)
    try:
        LocalTarget(info.url).deployer().deploy(ECHO, "kept-or-not")
        assert "kept-or-not" in LocalTarget(info.url).deployer().stacks()
    finally:
        control.down(state)
    info, _ = control.up(state)
    try:
        assert LocalTarget(info.url).deployer().stacks() == []
    finally:
        control.down(state)
