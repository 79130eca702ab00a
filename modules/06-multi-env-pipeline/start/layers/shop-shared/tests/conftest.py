import os
import sys
from pathlib import Path

import pytest
from moto import mock_aws

# The layer's content as Lambda mounts it: content/python is /opt/python.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "content" / "python"))


@pytest.fixture(scope="session")
def aws():
    # Never reach a real account or a local cloud from a unit test.
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    os.environ.update({
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    })
    # One mock for the session: starting moto per test would dominate the run time.
    with mock_aws():
        yield
