"""`workshop logs` and `workshop urls` on the local target and on the aws target's code path.

The log group of a function is /aws/lambda/<function name>, and each invocation writes START,
END and REPORT lines (https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html);
`sam logs` likewise finds a function by its logical id in a stack.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from workshop.cli import app
from workshop.localcloud import control
from workshop.logs import Function, functions_of, since_seconds, stream, styled

runner = CliRunner()
PID_APP = Path(__file__).parent / "fixtures" / "pid"


@pytest.fixture(scope="module")
def shop(local, tmp_path_factory):
    """Two stacks of the pid app under one prefix, each function invoked once (one says hello, one fails)."""
    tree = tmp_path_factory.mktemp("shop")
    for service in ("alpha", "beta"):
        shutil.copytree(PID_APP, tree / "services" / service)
    deployment = local.deploy_tree(tree, "lu")
    assert not deployment.errors
    lam = local.session().client("lambda")
    lam.invoke(FunctionName=deployment.stacks["lu-alpha"].outputs["FunctionName"], Payload=json.dumps({"say": "hello alpha"}))
    lam.invoke(FunctionName=deployment.stacks["lu-beta"].outputs["FunctionName"], Payload=json.dumps({"fail": True}))
    yield deployment
    local.destroy_prefix("lu")


@pytest.fixture
def local_cloud_found(cloud, monkeypatch):
    monkeypatch.setattr(control, "running", lambda *a, **k: cloud)


def lines_of(output: str) -> list[str]:
    return [line.rstrip() for line in output.splitlines()]


def test_urls_lists_each_stack_with_its_outputs_on_local(shop, local_cloud_found):
    result = runner.invoke(app, ["urls", "01", "--stack-prefix", "lu"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "lu-alpha" in result.output and "lu-beta" in result.output
    assert f"FunctionName = {shop.stacks['lu-alpha'].outputs['FunctionName']}" in result.output


def test_urls_and_logs_on_the_aws_code_path(shop, posing_as_an_account):
    urls = runner.invoke(app, ["urls", "01", "--target", "aws", "--stack-prefix", "lu"], env={"COLUMNS": "250"})
    assert urls.exit_code == 0, urls.output
    assert "lu-alpha" in urls.output and "lu-beta" in urls.output
    logs = runner.invoke(app, ["logs", "01", "--target", "aws", "--stack-prefix", "lu"], env={"COLUMNS": "250"})
    assert logs.exit_code == 0, logs.output
    assert "hello alpha" in logs.output and "asked to fail" in logs.output


def test_logs_of_one_function_by_logical_id_or_name_part(shop, local_cloud_found):
    every = runner.invoke(app, ["logs", "01", "--stack-prefix", "lu"], env={"COLUMNS": "250"})
    assert every.exit_code == 0, every.output
    assert sum(line.count("START RequestId") for line in lines_of(every.output)) == 2
    beta_name = shop.stacks["lu-beta"].outputs["FunctionName"]
    one = runner.invoke(app, ["logs", "01", beta_name[3:12], "--stack-prefix", "lu"], env={"COLUMNS": "250"})
    assert "asked to fail" in one.output and "hello alpha" not in one.output
    by_id = runner.invoke(app, ["logs", "01", "PidFunction", "--stack-prefix", "lu", "--since", "1h"], env={"COLUMNS": "250"})
    assert "hello alpha" in by_id.output and "asked to fail" in by_id.output  # both stacks call it PidFunction
    missing = runner.invoke(app, ["logs", "01", "NoSuchFunction", "--stack-prefix", "lu"])
    assert missing.exit_code == 1 and "PidFunction" in missing.output


def test_nothing_deployed_and_bad_since_are_clear(local_cloud_found):
    nothing = runner.invoke(app, ["urls", "01", "--stack-prefix", "nobody-here"])
    assert nothing.exit_code == 1 and "No stack named nobody-here" in nothing.output
    bad = runner.invoke(app, ["logs", "01", "--since", "yesterday"])
    assert bad.exit_code == 2 and "--since takes" in bad.output


def test_since_reads_seconds_minutes_hours_and_days():
    assert [since_seconds(t) for t in ("30s", "10m", "2h", "1d")] == [30, 600, 7200, 86400]


def test_start_end_report_and_errors_are_styled():
    fn = Function("s", "Fn", "s-Fn-1")

    def style_of(message):
        return str(styled(fn, {"timestamp": 0, "message": message}, 2).spans[-1].style)

    assert style_of("START RequestId: 1 Version: $LATEST") == "dim"
    assert style_of("END RequestId: 1") == "dim"
    assert style_of("REPORT RequestId: 1\tDuration: 1 ms") == "bold"
    assert style_of("REPORT RequestId: 1\tDuration: 1 ms\tStatus: timeout") == "bold red"
    assert style_of("[ERROR] ValueError: boom") == "bold red"
    assert styled(fn, {"timestamp": 0, "message": "hello"}, 2).plain.endswith("Fn hello")


def test_follow_prints_new_lines_as_they_come(shop, local):
    name = shop.stacks["lu-alpha"].outputs["FunctionName"]
    fn = functions_of(shop.stacks, name)
    lam, polls = local.session().client("lambda"), []

    def sleep(_):
        polls.append(1)
        if len(polls) == 1:
            lam.invoke(FunctionName=name, Payload=json.dumps({"say": "said while following"}))
        else:
            raise KeyboardInterrupt

    seen = []
    with pytest.raises(KeyboardInterrupt):
        for line in stream(local.session().client("logs"), fn, 0, follow=True, sleep=sleep):
            seen.append(line.plain)
    assert sum("hello alpha" in s for s in seen) == 1 and sum("said while following" in s for s in seen) == 1
