"""A checker tool whose answer depends only on its input files runs once per bytes (workshop/kept.py)."""

from __future__ import annotations

import shutil
import subprocess

from workshop import kept

TEMPLATE = """AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
"""


def lint(folder):
    template = folder / "template.yaml"
    return kept.run("cfn-lint", ["--format", "parseable", "--", "template.yaml"], folder, [template], timeout=120)


def test_cfn_lint_runs_again_only_when_the_bytes_it_reads_change(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKSHOP_STATE", str(tmp_path / "state"))
    monkeypatch.delenv("WORKSHOP_KEPT", raising=False)  # a store of its own, not the suite's
    shop = tmp_path / "shop"
    shop.mkdir()
    (shop / "template.yaml").write_text(TEMPLATE)
    first = lint(shop)
    assert first.returncode == 0, first.stdout + first.stderr

    started = []
    real_run = subprocess.run
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: started.append(a) or real_run(*a, **k))
    copy = tmp_path / "elsewhere" / "shop"
    shutil.copytree(shop, copy)
    assert lint(shop).returncode == 0 and lint(copy).returncode == 0 and not started  # same bytes: its answer

    (copy / "template.yaml").write_text(TEMPLATE.replace("KeyType: HASH", "KeyType: HASSH"))
    wrong = lint(copy)
    assert len(started) == 1 and wrong.returncode & 2, wrong.stdout  # changed bytes: run again, and it finds the error
    assert "template.yaml:" in wrong.stdout and str(tmp_path) not in wrong.stdout  # paths as given, relative
    assert lint(copy).stdout == wrong.stdout and len(started) == 1
