"""The SAM CLI beside the course, and `workshop doctor --target aws` checking that route (issue 14, item 2)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from workshop import course
from workshop.cli import app
from workshop.localcloud import interpreters

runner = CliRunner()


def test_the_course_environment_has_no_sam_cli_and_check_jsonschema_imports():
    """aws-sam-cli pins click 8.1.8, and check-jsonschema then fails: `type 'ParamType' is not subscriptable`."""
    project = tomllib.loads((course.ROOT / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + [d for extra in project.get("optional-dependencies", {}).values() for d in extra]
    assert not [d for d in wanted if d.startswith("aws-sam-cli")]
    done = subprocess.run([sys.executable, "-c", "import check_jsonschema.cli"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.fixture
def aws_shell(cloud, tmp_path, monkeypatch):
    """A learner's shell for a real account, with the local cloud posing as it."""
    for name, value in (("AWS_ENDPOINT_URL", cloud.url), ("AWS_ACCESS_KEY_ID", "LOCALKEY123456789012"),
                        ("AWS_SECRET_ACCESS_KEY", "local-secret"), ("AWS_DEFAULT_REGION", "eu-west-1")):
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    interpreters.find.cache_clear()
    yield tmp_path / "bin"
    interpreters.find.cache_clear()


def a_sam_on_the_path(bin_dir: Path, monkeypatch, *more: str) -> None:
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "sam").write_text("#!/bin/sh\necho 'SAM CLI, version 1.170.0'\n")
    (bin_dir / "sam").chmod(0o755)
    monkeypatch.setenv("PATH", ":".join([str(bin_dir), *more, "/usr/bin", "/bin"]))


def test_doctor_aws_passes_with_sam_beside_the_course_python312_credentials_and_region(aws_shell, monkeypatch):
    python312 = interpreters.find("3.12")
    if python312 is None:
        pytest.skip("no python3.12 on this machine")
    a_sam_on_the_path(aws_shell, monkeypatch, str(Path(python312).parent))
    result = runner.invoke(app, ["doctor", "--target", "aws"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for seen in ("SAM CLI, version 1.170.0", "outside the course's environment", "check-jsonschema imports",
                 "python3.12 for `sam build`", "region eu-west-1", "account 123456789012"):
        assert seen in result.output


def test_doctor_aws_names_what_is_missing_and_how_to_fix_it(aws_shell, monkeypatch):
    aws_shell.mkdir()
    monkeypatch.setenv("PATH", f"{aws_shell}:/usr/bin:/bin")
    monkeypatch.setenv("PYENV_ROOT", str(aws_shell / "no-pyenv"))
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    result = runner.invoke(app, ["doctor", "--target", "aws"], env={"COLUMNS": "200"})
    assert result.exit_code == 1
    assert "the SAM CLI (sam) is not on your PATH" in result.output and "pipx install aws-sam-cli" in result.output
    assert ("no python3.12 on your PATH" in result.output) == (not any(Path(p, "python3.12").exists()
                                                                      for p in ("/usr/bin", "/bin")))
    assert "set AWS_REGION" in result.output
