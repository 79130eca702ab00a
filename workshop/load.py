"""A load on the shop's cart: many concurrent add-to-cart calls, then a count of what was kept.

Used by the load test (no errors, no lost writes) and by `make bench` (how long it took).
Requests go only to the URL given, which on the local target is 127.0.0.1.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx


@dataclass
class LoadResult:
    requests: int
    statuses: Counter
    lost: int  # writes answered 201 but missing from the cart afterwards
    seconds: float


def cart_load(api_url: str, requests: int = 200, carts: int = 40, workers: int = 20) -> LoadResult:
    """`requests` POSTs spread over `carts` carts (neighbours hit different carts), then read back."""
    run = uuid.uuid4().hex[:6]
    cart_ids = [f"load-{run}-{i}" for i in range(carts)]

    def add(i: int) -> tuple[int, str, str]:
        cart, sku = cart_ids[i % carts], f"sku-{i // carts}"
        with httpx.Client(timeout=120) as http:
            response = http.post(f"{api_url}cart/{cart}/items", json={"sku": sku, "quantity": 1})
        return response.status_code, cart, sku

    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(add, range(requests)))
    seconds = time.perf_counter() - started
    written: dict[str, set[str]] = {}
    for status, cart, sku in results:
        if status == 201:
            written.setdefault(cart, set()).add(sku)
    lost = 0
    with httpx.Client(timeout=60) as http:
        for cart, skus in written.items():
            items = {item["sku"] for item in http.get(f"{api_url}cart/{cart}").json().get("items", [])}
            lost += len(skus - items)
    return LoadResult(requests, Counter(status for status, _, _ in results), lost, round(seconds, 2))
