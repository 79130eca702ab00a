"""Fixtures shared by the tooling's tests: one local cloud process for the whole session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from workshop.localcloud import control

FIXTURES = Path(__file__).parent / "fixtures"


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
