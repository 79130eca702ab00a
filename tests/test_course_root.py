"""`workshop` finds the course and the module's workspace from any folder inside the course, as git does."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from workshop import course
from workshop.localcloud.safety import access_key_for
from workshop.tree import copy_ignoring


def a_course_copy(tmp_path):
    """A learner's clone, as far as the tooling reads it: modules/, checks/ and a workspace."""
    root = tmp_path / "my-course"
    root.mkdir()
    (root / "modules").symlink_to(course.MODULES_DIR)
    (root / "checks").symlink_to(course.CHECKS_DIR)
    return root


def test_the_course_root_is_found_from_a_subfolder_and_workspace_follows(tmp_path, monkeypatch):
    root = a_course_copy(tmp_path)
    deep = root / "workspace" / "01-bounded-context" / "services" / "cart"
    deep.mkdir(parents=True)
    monkeypatch.delenv("WORKSHOP_WORKSPACE", raising=False)
    monkeypatch.delenv("WORKSHOP_STATE", raising=False)
    monkeypatch.chdir(deep)
    assert course.find_course_root() == root.resolve()
    assert course.module("01").workspace() == (root / "workspace" / "01-bounded-context").resolve()
    assert course.state_root() == (root / ".workshop").resolve()
    monkeypatch.chdir(tmp_path)  # outside any course: the current folder, as before
    assert course.find_course_root() is None and course.workspace_root() == tmp_path / "workspace"


@pytest.mark.slow
def test_check_on_aws_runs_from_inside_a_service_folder_of_the_workspace(tmp_path, cloud, local):
    """Issue 14, item 3: `cd services/cart && sam deploy`, then `workshop check 01 --target aws` there."""
    root = a_course_copy(tmp_path)
    module = course.module("01")
    workspace = root / "workspace" / module.name
    shutil.copytree(module.solution, workspace, ignore=copy_ignoring())
    account = "600000000001"
    assert not local.deploy_tree(workspace, "me", account=account).errors
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "WORKSHOP_"))}
    env.update({"AWS_ENDPOINT_URL": cloud.url, "AWS_ACCESS_KEY_ID": access_key_for(account),
                "AWS_SECRET_ACCESS_KEY": "local-secret", "AWS_DEFAULT_REGION": "us-east-1",
                "PYTHONPATH": str(course.ROOT)})
    done = subprocess.run([sys.executable, "-m", "workshop.cli", "check", "01", "--target", "aws", "--stack-prefix", "me"],
                          cwd=workspace / "services" / "cart", env=env, capture_output=True, text=True, timeout=600)
    assert "does not exist" not in done.stdout + done.stderr
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert not (workspace / "services" / "cart" / ".workshop").exists()
