"""`workshop cost`: what a month of traffic costs on the deployed shop, from measured behaviour.

measure.py calls each route of a traffic profile and reads back what it consumed (REPORT lines,
DynamoDB units, state transitions, log bytes); estimate.py prices a month of it from
prices.toml; report.py prints it.
"""

from __future__ import annotations

from .estimate import Estimate, PriceList, Profile, estimate
from .measure import Measurement, RouteUsage, measure

__all__ = ["Estimate", "Measurement", "PriceList", "Profile", "RouteUsage", "estimate", "measure"]
