"""From what one call of each route consumed to a month's bill at a traffic profile.

Pure arithmetic over the price file: no AWS call here, so a test can recompute any line by hand.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .measure import Measurement, RouteUsage

PRICES = Path(__file__).with_name("prices.toml")
DEFAULT_PROFILE = Path(__file__).with_name("default_profile.toml")

# (price key, service, what, the RouteUsage field giving the quantity per call; None: one per call)
METERED: tuple[tuple[str, str, str, str | None], ...] = (
    ("lambda.requests", "Lambda", "requests", "lambda_requests"),
    ("lambda.compute", "Lambda", "compute (GB-seconds)", "gb_seconds"),
    ("apigateway.rest_requests", "API Gateway", "REST API requests", None),
    ("dynamodb.read_request_units", "DynamoDB", "read request units", "read_units"),
    ("dynamodb.write_request_units", "DynamoDB", "write request units", "write_units"),
    ("stepfunctions.state_transitions", "Step Functions", "state transitions (Standard)", "state_transitions"),
    ("cloudwatch.logs_ingested", "CloudWatch Logs", "log bytes ingested", "log_bytes"),
)


@dataclass(frozen=True)
class Price:
    key: str
    usd: float
    per: int
    unit: str
    source: str

    @property
    def unit_usd(self) -> float:
        return self.usd / self.per


@dataclass(frozen=True)
class PriceList:
    region: str
    read_on: str
    prices: dict[str, Price]
    free_tier: dict[str, float]

    @classmethod
    def load(cls, path: Path = PRICES) -> PriceList:
        data = tomllib.loads(path.read_text())
        prices = {}
        for service in ("lambda", "apigateway", "dynamodb", "stepfunctions", "cloudwatch"):
            for name, entry in data[service].items():
                key = f"{service}.{name}"
                prices[key] = Price(key, float(entry["usd"]), int(entry["per"]), entry["unit"], entry["source"])
        return cls(data["region"], data["read_on"], prices, {k: float(v) for k, v in data["free_tier"].items()})


@dataclass(frozen=True)
class Profile:
    name: str
    routes: dict[str, int]  # "METHOD /path" -> calls per month

    @classmethod
    def load(cls, path: Path | None = None) -> Profile:
        path = path or DEFAULT_PROFILE
        text = path.read_text()
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
        routes = data.get("routes", {})
        bad = [r for r, n in routes.items() if len(r.split(" ", 1)) != 2 or not isinstance(n, int) or n < 0]
        if not routes or bad:
            raise ValueError(f"{path}: a profile maps 'METHOD /path' to a whole number of calls per month"
                             + (f" (not: {', '.join(bad)})" if bad else " under [routes]"))
        return cls(str(data.get("name", path.stem)), dict(routes))


@dataclass
class Line:
    service: str
    what: str
    quantity: float
    unit_usd: float
    usd_month: float
    price: str              # the price key, to find its source
    free_quantity: float = 0.0


@dataclass
class Estimate:
    profile: Profile
    prices: PriceList
    measurement: Measurement
    lines: list[Line] = field(default_factory=list)
    free_tier: bool = False

    @property
    def total_usd_month(self) -> float:
        return sum(line.usd_month for line in self.lines)

    @property
    def total_with_free_tier(self) -> float:
        return sum(max(0.0, line.quantity - line.free_quantity) * line.unit_usd for line in self.lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "total_usd_month": round(self.total_usd_month, 4),
            "currency": "USD",
            "region": self.prices.region,
            "prices_read_on": self.prices.read_on,
            "estimate": self.measurement.estimate,
            "target": self.measurement.target,
            "profile": {"name": self.profile.name, "routes": self.profile.routes},
            "lines": [{"service": line.service, "what": line.what, "quantity": round(line.quantity, 3),
                       "unit_usd": line.unit_usd, "usd_month": round(line.usd_month, 4),
                       "source": self.prices.prices[line.price].source} for line in self.lines],
            "free_tier": {"applied": self.free_tier,
                          "total_usd_month_with_free_tier": round(self.total_with_free_tier, 4)},
            "routes": [asdict(usage) | {"calls_per_month": self.profile.routes.get(usage.route, 0)}
                       for usage in self.measurement.routes],
            "not_served": self.measurement.missing,
        }


def monthly_quantity(usages: list[RouteUsage], profile: Profile, per_call: str | None) -> float:
    """The month's quantity: per-call usage of each route times its calls per month."""
    total = 0.0
    for usage in usages:
        monthly_calls = profile.routes.get(usage.route, 0)
        total += monthly_calls * (1.0 if per_call is None else getattr(usage, per_call))
    return total


def estimate(measurement: Measurement, profile: Profile, prices: PriceList | None = None,
             free_tier: bool = False) -> Estimate:
    prices = prices or PriceList.load()
    result = Estimate(profile, prices, measurement, free_tier=free_tier)
    for key, service, what, per_call in METERED:
        quantity = monthly_quantity(measurement.routes, profile, per_call)
        if not quantity:
            continue
        price = prices.prices[key]
        free = prices.free_tier.get(key, 0.0)
        billed = max(0.0, quantity - free) if free_tier else quantity
        result.lines.append(Line(service, what, quantity, price.unit_usd, billed * price.unit_usd, key, free))
    return result
