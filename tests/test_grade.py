"""`workshop grade`: a class of learner repositories into one results.json, JUnit XML and a summary."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from workshop import course
from workshop.cli import app

SCHEMA = json.loads((Path(__file__).parent / "grading" / "exercism_v3.schema.json").read_text())
MODULE = course.module("01")


@pytest.mark.slow
def test_grading_a_class(cloud, tmp_path, monkeypatch):
    monkeypatch.setattr("workshop.cli._cloud_url", lambda: cloud.url)
    for learner, tree in (("ada", MODULE.solution), ("bob", MODULE.start)):
        shutil.copytree(tree, tmp_path / learner / "workspace" / MODULE.name, ignore=shutil.ignore_patterns("__pycache__"))
    results, junit = tmp_path / "results.json", tmp_path / "junit.xml"
    outcome = CliRunner().invoke(app, ["grade", str(tmp_path / "ada"), str(tmp_path / "bob"),
                                       "--json", str(results), "--junit", str(junit)], env={"COLUMNS": "200"})
    assert outcome.exit_code == 1, outcome.output  # bob has work to do
    summary = outcome.output
    assert f"{MODULE.points}/" in summary.split("ada")[1].splitlines()[0]
    assert "bob" in summary and "—" in summary  # modules a learner has not started
    document = json.loads(results.read_text())
    jsonschema.validate(document, SCHEMA)
    assert document["status"] == "fail"
    assert len(document["tests"]) == 2 * len(MODULE.checkpoints)
    suites = ET.parse(junit).getroot().findall("testsuite")
    assert len(suites) == 2 and all(s.get("name") == "module-01" for s in suites)


def test_grading_refuses_tampered_checkpoints(monkeypatch):
    monkeypatch.setattr("workshop.grading.tamper.verify_checks", lambda: ["conftest.py changed"])
    outcome = CliRunner().invoke(app, ["grade"])
    assert outcome.exit_code == 2 and "conftest.py changed" in outcome.output
