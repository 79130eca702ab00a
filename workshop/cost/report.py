"""The month's bill as a table a person reads, and the one line a check prints."""

from __future__ import annotations

from rich.console import Console, JustifyMethod
from rich.table import Table

from .estimate import Estimate


def usd(value: float) -> str:
    return f"${value:,.2f}" if value >= 0.01 or value == 0 else f"${value:.4f}"


def quantity(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.2f}"


def summary_line(result: Estimate) -> str:
    label = "estimated " if result.measurement.estimate else ""
    return (f"{usd(result.total_usd_month)} a month, {label}at the traffic of {result.profile.name} "
            f"({result.prices.region} prices of {result.prices.read_on})")


def print_estimate(result: Estimate, console: Console) -> None:
    table = Table(title=f"Monthly cost at the traffic of {result.profile.name}", title_justify="left")
    columns: list[tuple[str, JustifyMethod]] = [("service", "left"), ("what", "left"), ("quantity", "right"),
                                                ("unit price", "right"), ("a month", "right")]
    for column, justify in columns:
        table.add_column(column, justify=justify)
    for line in result.lines:
        table.add_row(line.service, line.what, quantity(line.quantity), f"${line.unit_usd:.10f}".rstrip("0"),
                      usd(line.usd_month))
    table.add_row("", "[bold]total[/]", "", "", f"[bold]{usd(result.total_usd_month)}[/]")
    console.print(table)
    routes = Table(title="Per route, one call", title_justify="left")
    for column in ("route", "served by", "calls/month", "Lambda", "GB-s", "RRU", "WRU", "transitions", "answered"):
        routes.add_column(column)
    for usage in result.measurement.routes:
        answered = ", ".join(f"{count}×{status}" for status, count in sorted(usage.statuses.items()))
        routes.add_row(usage.route, usage.served_by, f"{result.profile.routes.get(usage.route, 0):,}",
                       f"{usage.lambda_requests:g}", f"{usage.gb_seconds:.5f}", f"{usage.read_units:g}",
                       f"{usage.write_units:g}", f"{usage.state_transitions:g}", answered)
    console.print(routes)
    for route in result.measurement.missing:
        console.print(f"[yellow]not served by this shop, left out:[/] {route}")
    for usage in result.measurement.routes:
        if not usage.answered:
            console.print(f"[yellow]{usage.route} answered no 2xx ({usage.statuses}): its figures are of errors[/]")
    if result.measurement.estimate:
        console.print("[yellow]An estimate:[/] on a real account, metrics arrive by the minute and late; "
                      "the DynamoDB units of a window may be partly missing.")
    free = "applied" if result.free_tier else "not applied"
    console.print(f"Free tier {free}: with it, {usd(result.total_with_free_tier)} a month. "
                  f"Prices: {result.prices.region}, read on {result.prices.read_on} (workshop/cost/prices.toml).")
