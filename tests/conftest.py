"""Fixtures shared by the tooling's tests: one local cloud process for the whole session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from workshop.course import ROOT
from workshop.localcloud import control

FIXTURES = Path(__file__).parent / "fixtures"

# One store of kept results (transforms, code zips, unit-test passes, checker runs) for every
# test, including those that give a learner's checkout a state folder of its own: what one test
# packaged or ran on the same bytes another need not do again. Tests of the store itself unset it.
os.environ.setdefault("WORKSHOP_KEPT", str(ROOT / ".workshop"))


@pytest.fixture(scope="session")
def cloud(tmp_path_factory):
    """A local cloud of the tests' own, on its own port and state folder."""
    state = tmp_path_factory.mktemp("cloud-state")
    info, _ = control.up(state)
    os.environ["WORKSHOP_TEST_CLOUD_STATE"] = str(state)
    yield info
    control.down(state)


@pytest.fixture(scope="session")
def local(cloud):
    from workshop.deploy.targets import LocalTarget
    return LocalTarget(cloud.url)


@pytest.fixture
def unique(request) -> str:
    """A stack-name-safe name unique to this test."""
    import uuid
    return f"t{uuid.uuid4().hex[:8]}"


@pytest.fixture
def posing_as_an_account(cloud, monkeypatch):
    """The environment a learner's shell has for a real account, pointed at the local cloud."""
    for name, value in (("AWS_ENDPOINT_URL", cloud.url), ("AWS_ACCESS_KEY_ID", "LOCALKEY123456789012"),
                        ("AWS_SECRET_ACCESS_KEY", "local-secret"), ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
