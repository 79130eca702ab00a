"""`workshop cost`: a month's bill from measured calls, priced from one price file.

Prices: the AWS pricing pages named in workshop/cost/prices.toml (Lambda, API Gateway, DynamoDB
on-demand, Step Functions Standard, CloudWatch Logs), us-east-1.
"""

from __future__ import annotations

import json
import tomllib

import pytest
from typer.testing import CliRunner

from workshop import course
from workshop.cli import app
from workshop.cost.estimate import PRICES, PriceList, Profile, estimate
from workshop.cost.measure import Measurement, RouteUsage

GET_CART = "GET /cart/{cartId}"


def _measured(**usage) -> Measurement:
    return Measurement("local", [RouteUsage(GET_CART, "lambda:get-cart", 5, {200: 5}, **usage)], [], estimate=False)


def test_a_line_recomputed_by_hand_from_the_price_file():
    raw = tomllib.loads(PRICES.read_text())           # read apart from the code under test
    profile = Profile("test", {GET_CART: 5_000_000})
    result = estimate(_measured(lambda_requests=1, gb_seconds=0.0125, read_units=0.5), profile)
    lines = {(line.service, line.what): line for line in result.lines}

    compute = lines[("Lambda", "compute (GB-seconds)")]
    by_hand = 5_000_000 * 0.0125 * raw["lambda"]["compute"]["usd"] / raw["lambda"]["compute"]["per"]
    assert compute.quantity == pytest.approx(62_500)
    assert compute.usd_month == pytest.approx(by_hand)

    reads = lines[("DynamoDB", "read request units")]
    assert reads.usd_month == pytest.approx(2_500_000 * 0.125 / 1_000_000)
    gateway = lines[("API Gateway", "REST API requests")]
    assert gateway.usd_month == pytest.approx(5 * 3.50)   # one REST request per call
    assert result.total_usd_month == pytest.approx(sum(line.usd_month for line in result.lines))


def test_the_free_tier_is_shown_apart_and_off_by_default():
    profile = Profile("test", {GET_CART: 500_000})
    plain = estimate(_measured(lambda_requests=1), profile)
    assert not plain.free_tier
    assert plain.total_with_free_tier < plain.total_usd_month      # 500k Lambda requests are free
    applied = estimate(_measured(lambda_requests=1), profile, free_tier=True)
    assert applied.total_usd_month == pytest.approx(plain.total_with_free_tier)
    assert applied.to_json()["free_tier"]["applied"] is True


def test_a_route_the_shop_does_not_serve_costs_nothing_and_is_named():
    measured = Measurement("local", [], ["POST /orders"], estimate=False)
    result = estimate(measured, Profile("test", {"POST /orders": 200_000}))
    assert result.lines == [] and result.to_json()["not_served"] == ["POST /orders"]


def test_a_bad_profile_is_refused_with_its_path(tmp_path):
    bad = tmp_path / "profile.toml"
    bad.write_text('[routes]\n"/cart" = 5\n')
    with pytest.raises(ValueError, match="profile.toml"):
        Profile.load(bad)
    good = tmp_path / "profile.json"
    good.write_text(json.dumps({"routes": {GET_CART: 10}}))
    assert Profile.load(good).routes == {GET_CART: 10}


def test_every_price_names_its_source():
    prices = PriceList.load()
    assert prices.region and prices.read_on
    assert all(p.source.startswith("https://aws.amazon.com/") and p.usd > 0 for p in prices.prices.values())


@pytest.mark.slow
def test_module_03s_direct_integration_removes_lambda_charges_from_get_cart(cloud, tmp_path, monkeypatch):
    """The talk: the direct integration "reduced cost by removing Lambda invocation charges"."""
    monkeypatch.setattr("workshop.cli._cloud_url", lambda: cloud.url)
    module = course.module("03")
    totals = {}
    for side in ("start", "solution"):
        out = tmp_path / f"{side}.json"
        result = CliRunner().invoke(app, ["cost", "03", "--path", str(module.path / side), "--json", str(out),
                                          "--calls", "2"])
        assert result.exit_code == 0, result.output
        totals[side] = json.loads(out.read_text())
    def lambda_requests(data):
        return sum(line["quantity"] for line in data["lines"] if (line["service"], line["what"]) == ("Lambda", "requests"))
    reads = 5_000_000  # the default profile's GET /cart calls
    assert lambda_requests(totals["start"]) - lambda_requests(totals["solution"]) == pytest.approx(reads)
    assert totals["solution"]["total_usd_month"] < totals["start"]["total_usd_month"]
    served = {r["route"]: r["served_by"] for r in totals["solution"]["routes"]}
    assert served[GET_CART] == "dynamodb:GetItem"


@pytest.mark.slow
def test_on_a_real_account_the_same_figures_come_from_the_learners_stacks_labelled_an_estimate(
        local, cloud, monkeypatch):
    """The aws target's code path, the local cloud posing as the account: stacks found by prefix, never deployed."""
    from workshop.cost.estimate import Profile
    from workshop.cost.run import cost_of_tree
    from workshop.deploy.targets import AwsTarget

    for name, value in (("AWS_ENDPOINT_URL", cloud.url), ("AWS_ACCESS_KEY_ID", "LOCALKEY123456789012"),
                        ("AWS_SECRET_ACCESS_KEY", "local-secret"), ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    module = course.module("03")
    assert not local.deploy_tree(module.solution, "mycost").errors
    try:
        profile = Profile("reads only", {GET_CART: 1_000_000})
        result = cost_of_tree(AwsTarget(), module.solution, "mycost", profile, calls=2)
        data = result.to_json()
        assert data["estimate"] is True and data["target"] == "aws"
        assert data["routes"][0]["served_by"] == "dynamodb:GetItem"
        assert not any(line["service"] == "Lambda" for line in data["lines"])   # no function behind GET
        with pytest.raises(ValueError, match="no stack named nobody"):
            cost_of_tree(AwsTarget(), None, "nobody", profile, calls=1)
    finally:
        local.destroy_prefix("mycost")
