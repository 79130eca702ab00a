"""Nothing local reaches a real account: fake credentials, loopback endpoints, refused connections.

No test here sends a packet anywhere: the refusals fire before a socket connects.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from workshop.localcloud import safety


def test_sessions_refuse_an_endpoint_that_is_not_loopback():
    with pytest.raises(safety.RealAwsRefused):
        safety.local_session("https://dynamodb.us-east-1.amazonaws.com")


def test_a_request_that_would_leave_is_refused_before_it_is_sent():
    class Request:
        url = "https://sts.amazonaws.com/"
    with pytest.raises(safety.RealAwsRefused, match="sts.amazonaws.com"):
        safety.refuse_non_loopback(Request())


def test_the_audit_hook_refuses_connections_past_loopback_in_a_process_of_its_own():
    code = ("import sys\nfrom workshop.localcloud import safety\nsafety.refuse_non_loopback_connections()\n"
            "sys.audit('socket.connect', None, ('127.0.0.1', 80))\n"
            "try:\n    sys.audit('socket.connect', None, ('192.0.2.10', 443))\n"
            "except safety.RealAwsRefused as e:\n    print('refused', e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.startswith("refused refused a connection to 192.0.2.10")


def test_fake_credentials_replace_whatever_the_environment_had():
    code = ("import os, json\nfrom workshop.localcloud import safety\nsafety.use_fake_credentials('dev')\n"
            "print(json.dumps({k: v for k, v in os.environ.items() if k.startswith('AWS_')}))")
    env = {"PATH": "/usr/bin:/bin", "AWS_ACCESS_KEY_ID": "a-real-looking-key", "AWS_PROFILE": "work",
           "AWS_SECRET_ACCESS_KEY": "secret", "AWS_ENDPOINT_URL": "https://example.com"}
    seen = json.loads(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                     check=True).stdout)
    assert seen["AWS_ACCESS_KEY_ID"] == "LOCALKEY111111111111"
    assert "AWS_PROFILE" not in seen and "AWS_ENDPOINT_URL" not in seen


def test_a_function_cannot_connect_past_loopback(local, tmp_path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(
        "import sys\ndef handler(e, c):\n    try:\n        sys.audit('socket.connect', None, ('192.0.2.10', 443))\n"
        "    except ConnectionRefusedError as exc:\n        return str(exc)\n    return 'connected'\n")
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n"
        "    Properties:\n      Runtime: python3.12\n      Handler: app.handler\n      CodeUri: src/\n"
        "Outputs:\n  Name:\n    Value: !Ref Fn\n")
    info = local.deployer().deploy(tmp_path / "template.yaml", "no-exit")
    try:
        response = local.session().client("lambda").invoke(FunctionName=info.outputs["Name"])
        assert "refused a connection to 192.0.2.10" in json.loads(response["Payload"].read())
    finally:
        local.deployer().destroy("no-exit")
