"""The Target interface (workshop/deploy/target.py) as the checkpoints use it, on the local target."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from workshop.deploy.targets import UrlRefused, open_target

pytest_plugins = ["pytester"]  # runs the checks plugin on a probe checkpoint

ECHO = Path(__file__).parent.parent / "fixtures" / "echo"


def test_a_deployed_functions_artifact_sizes_come_from_what_the_deploy_packaged(local, unique):
    deployment = local.deploy_tree(ECHO, unique)
    assert not deployment.errors, deployment.errors
    try:
        function = next(r["physicalId"] for info in deployment.stacks.values() for r in info.resources
                        if r["type"] == "AWS::Lambda::Function")
        package, *layers = local.artifact_sizes(function, deployment.stacks)
        assert package.name == function and package.zipped and package.unzipped
        assert package.unzipped >= package.zipped > 0  # source code compresses
        assert layers == []
        assert local.find_stacks(unique).keys() == deployment.stacks.keys()
    finally:
        assert local.destroy_prefix(unique) == [unique]


def test_a_functions_log_events_are_read_through_cloudwatch_logs(local, unique):
    deployment = local.deploy_tree(ECHO, unique)
    try:
        function = next(r["physicalId"] for info in deployment.stacks.values() for r in info.resources
                        if r["type"] == "AWS::Lambda::Function")
        local.session().client("lambda").invoke(FunctionName=function, Payload=json.dumps({}))
        messages = [message for _, message in local.log_events(function, wait=local.log_delivery_s)]
        assert any(m.startswith("START") for m in messages) and any(m.startswith("REPORT") for m in messages)
    finally:
        local.destroy_prefix(unique)


def test_the_local_http_client_refuses_any_host_but_loopback(local):
    with local.http_client() as client, pytest.raises(UrlRefused, match="example.com"):
        client.get("https://example.com/")
    assert local.allows_url("http://127.0.0.1:1/") and not local.allows_url("https://abc.execute-api.us-east-1.amazonaws.com/")


def test_an_unknown_target_name_is_refused():
    with pytest.raises(ValueError, match="local or aws"):
        open_target("azure")


def test_what_a_target_cannot_judge_is_a_skip_not_an_error(pytester, cloud):
    """A checkpoint hitting NotOnThisTarget is reported "not gradable on this target", left out of the total."""
    checks = Path(__file__).parents[2] / "checks"
    pytester.makeconftest((checks / "conftest.py").read_text())
    pytester.makepyfile(test_probe=textwrap.dedent("""
        import pytest
        from workshop.deploy.target import NotOnThisTarget

        @pytest.mark.checkpoint("99.1", points=2)
        def test_refused():
            raise NotOnThisTarget("this target keeps no such thing")
    """))
    results = pytester.path / "verdicts.json"
    run = pytester.runpytest("--workspace", str(pytester.path), "--cloud-url", cloud.url, "--results", str(results))
    run.assert_outcomes(skipped=1)
    [verdict] = json.loads(results.read_text())["verdicts"]
    assert verdict["status"] == "skip" and "not gradable on this target" in verdict["message"]
