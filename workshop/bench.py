"""`make bench`: the local target measured, each figure a median of repeated runs in one process.

Prints a table and writes bench/results.json and docs/data/bench.json (drawn on the site beside
the talk's figures). Timings live here, never in unit tests: this machine is shared and noisy.
"""

from __future__ import annotations

import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from . import bench_ric
from .course import ROOT
from .deploy.package import _build
from .deploy.targets import LocalTarget
from .load import cart_load
from .localcloud import control
from .localcloud.functions import FunctionResolver
from .localcloud.lambda_executor import FunctionConfig, LambdaExecutor, environment_of

APP = Path(__file__).parent / "bench_app"
ROUNDS = int(os.environ.get("WORKSHOP_BENCH_ROUNDS", "5"))
TALK = {"cold_small_s": 1.3, "cold_fastapi_s": 2.8, "warm_s": 0.2, "direct_first_s": 0.2, "lambda_first_s": 1.3}


def median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 2)


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


class Bench:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.figures: dict[str, float | int | None] = {}
        self.work = Path(tempfile.mkdtemp(prefix="workshop-bench-"))

    def step(self, text: str) -> None:
        self.console.print(f"[dim]· {text}[/]")

    # -- the cloud process and deploys --------------------------------------------------

    def cloud_start(self) -> None:
        self.step(f"cloud start, {min(ROUNDS, 3)} rounds")
        samples = []
        for i in range(min(ROUNDS, 3)):
            state = self.work / f"start{i}"
            samples.append(timed(lambda: control.up(state)))
            control.down(state)
        self.figures["cloud_start_ms"] = median_ms(samples)

    def deploys(self, target: LocalTarget) -> dict[str, str]:
        self.step("deploy of the bench stack: first, then unchanged")
        deployer = target.deployer()
        first, infos = [], []
        for i in range(min(ROUNDS, 3)):
            started = time.perf_counter()
            infos.append(deployer.deploy(APP / "template.yaml", f"bench-first-{i}"))
            first.append(time.perf_counter() - started)
        info = infos[0]  # the stack the rest of the bench uses
        repeat = [timed(lambda: deployer.deploy(APP / "template.yaml", "bench-first-0")) for _ in range(ROUNDS)]
        self.figures["deploy_resources"] = len(info.resources)
        self.figures["deploy_first_ms"] = median_ms(first)
        self.figures["deploy_repeat_ms"] = median_ms(repeat)
        for i in range(1, min(ROUNDS, 3)):
            deployer.destroy(f"bench-first-{i}")
        return info.outputs

    # -- the executor against its floor ---------------------------------------------------

    def _unpacked(self, name: str, with_requirements: bool) -> Path:
        artifact = _build(name, APP / name, with_requirements)
        target = self.work / "code" / name
        zipfile.ZipFile(io.BytesIO(artifact.data)).extractall(target)
        return target

    def cold_versus_floor(self) -> None:
        self.step(f"cold start against `python -c 'import app'`, {ROUNDS} rounds each")
        resolver = FunctionResolver(self.work / "state", "http://127.0.0.1:9")
        powertools = resolver.powertools_layer()
        executor = LambdaExecutor(lambda *_: None)
        try:
            for name, layers in (("small", ()), ("web", (powertools,))):
                code = self._unpacked(name, with_requirements=True)
                config = FunctionConfig(name=name, arn=f"arn:aws:lambda:us-east-1:123456789012:function:{name}",
                                        handler="app.handler", code_dir=str(code), layer_dirs=layers,
                                        runtime_dir=resolver.runtime_dir, timeout=30, memory_size=256,
                                        environment=(), account_id="123456789012", region="us-east-1",
                                        endpoint_url="http://127.0.0.1:9")
                env = environment_of(config, "floor")  # the floor runs in the very environment a function gets
                inits, floor = [], []
                for i in range(ROUNDS):  # interleaved, so both see the same load on a shared machine
                    fresh = FunctionConfig(**{**config.__dict__, "environment": (("ROUND", str(i)),)})
                    inits.append(executor.invoke(fresh, b"{}").init_duration_ms / 1000)
                    floor.append(timed(lambda: subprocess.run([sys.executable, "-S", "-P", "-c", "import app"],
                                                              cwd=code, env=env, check=True)))
                self.figures[f"cold_{name}_ms"] = median_ms(inits)
                self.figures[f"floor_{name}_ms"] = median_ms(floor)
                self.figures[f"cold_{name}_over_floor"] = round(statistics.median(inits) / statistics.median(floor), 3)
                if name == "small" and bench_ric.available():
                    ric = bench_ric.measure(code, resolver.runtime_dir, ROUNDS)
                    self.figures["ric_init_small_ms"] = ric["init_ms"]
                    self.figures["ric_warm_ms"] = ric["warm_ms"]
                if name == "small":
                    warm = []
                    for _ in range(200):
                        warm.append(timed(lambda: executor.invoke(fresh, b"{}")))
                    sys.path.insert(0, str(code))
                    import app as in_process  # noqa: PLC0415 - the same handler, called directly
                    direct = [timed(lambda: in_process.handler({}, None)) for _ in range(200)]
                    sys.path.remove(str(code))
                    self.figures["warm_invoke_ms"] = median_ms(warm)
                    self.figures["warm_overhead_ms"] = round(median_ms(warm) - median_ms(direct), 3)
        finally:
            executor.close()

    # -- end to end through the local cloud -----------------------------------------------

    def round_trips(self, target: LocalTarget, outputs: dict[str, str]) -> None:
        self.step("first calls, warm calls and round trips through the gateway")
        session = target.session()
        lam, dynamodb = session.client("lambda"), session.client("dynamodb")
        url, table = outputs["ApiUrl"], outputs["TableName"]
        dynamodb.put_item(TableName=table, Item={"id": {"S": "k"}, "value": {"S": "v"}})
        firsts = {"small": [], "web": [], "direct": []}
        with httpx.Client(timeout=60) as http:
            for i in range(ROUNDS):
                for name, key in (("small", "SmallFunctionName"), ("web", "WebFunctionName")):
                    lam.update_function_configuration(FunctionName=outputs[key], Environment={"Variables": {"ROUND": str(i)}})
                firsts["small"].append(timed(lambda: http.get(url + "small").raise_for_status()))
                firsts["web"].append(timed(lambda: http.get(url + "web/items/1").raise_for_status()))
                firsts["direct"].append(timed(lambda: http.get(url + "direct/k").raise_for_status()))
            warm_web = [timed(lambda: http.get(url + "web/items/1").raise_for_status()) for _ in range(50)]
            proxy = [timed(lambda: http.get(url + "small").raise_for_status()) for _ in range(100)]
            direct = [timed(lambda: http.get(url + "direct/k").raise_for_status()) for _ in range(100)]
        boto = [timed(lambda: dynamodb.get_item(TableName=table, Key={"id": {"S": "k"}})) for _ in range(100)]
        self.figures.update({
            "first_small_ms": median_ms(firsts["small"]),
            "first_fastapi_ms": median_ms(firsts["web"]),
            "direct_integration_first_ms": median_ms(firsts["direct"]),
            "lambda_first_ms": median_ms(firsts["small"]),
            "warm_fastapi_ms": median_ms(warm_web),
            "proxy_p50_ms": median_ms(proxy),
            "direct_p50_ms": median_ms(direct),
            "boto3_getitem_p50_ms": median_ms(boto),
        })
        self.figures["proxy_over_getitem"] = round(self.figures["proxy_p50_ms"] / self.figures["boto3_getitem_p50_ms"], 2)
        self.figures["direct_over_getitem"] = round(self.figures["direct_p50_ms"] / self.figures["boto3_getitem_p50_ms"], 2)

    def concurrency(self, outputs: dict[str, str]) -> None:
        self.step("50 concurrent requests")
        url = outputs["ApiUrl"] + "web/items/concurrent"
        with httpx.Client(timeout=120, limits=httpx.Limits(max_connections=50)) as http:
            started = time.perf_counter()
            with ThreadPoolExecutor(50) as pool:
                statuses = list(pool.map(lambda i: http.post(url).status_code, range(50)))
        self.figures["concurrent_requests"] = 50
        self.figures["concurrent_ok"] = statuses.count(200)
        self.figures["concurrent_statuses"] = {str(code): statuses.count(code) for code in sorted(set(statuses))}
        self.figures["concurrent_seconds"] = round(time.perf_counter() - started, 2)

    def shop_load(self, target: LocalTarget) -> None:
        self.step("200 concurrent add-to-cart requests to module 01's cart")
        cart = ROOT / "modules" / "01-bounded-context" / "solution" / "services" / "cart" / "template.yaml"
        result = cart_load(target.deployer().deploy(cart, "bench-cart").outputs["ApiUrl"], requests=200)
        self.figures["load_requests"] = result.requests
        self.figures["load_ok"] = result.statuses.get(201, 0)
        self.figures["load_lost_writes"] = result.lost
        self.figures["load_seconds"] = result.seconds

    def run(self) -> dict:
        self.cloud_start()
        state = self.work / "cloud"
        info, _ = control.up(state)
        try:
            target = LocalTarget(info.url)
            outputs = self.deploys(target)
            self.cold_versus_floor()
            self.round_trips(target, outputs)
            self.concurrency(outputs)
            self.shop_load(target)
        finally:
            control.down(state)
            shutil.rmtree(self.work, ignore_errors=True)
        return self.figures


ROWS = [  # (label, measured key, unit, talk key, goal)
    ("cloud start", "cloud_start_ms", "ms", None, None),
    ("deploy, 1st (resources: {deploy_resources})", "deploy_first_ms", "ms", None, None),
    ("deploy, unchanged", "deploy_repeat_ms", "ms", None, None),
    ("cold start, small function (Init Duration)", "cold_small_ms", "ms", "cold_small_s", None),
    ("cold start, FastAPI + Mangum + Powertools", "cold_web_ms", "ms", "cold_fastapi_s", None),
    ("cold small / `import handler` floor", "cold_small_over_floor", "x", None, "≤ 1.15"),
    ("cold FastAPI / `import handler` floor", "cold_web_over_floor", "x", None, "≤ 1.15"),
    ("warm invoke overhead over an in-process call", "warm_overhead_ms", "ms", None, "p50 < 2 ms"),
    ("warm invoke, our bootstrap", "warm_invoke_ms", "ms", None, None),
    ("cold start, small function, awslambdaric + Runtime API", "ric_init_small_ms", "ms", None, None),
    ("warm invoke, awslambdaric + Runtime API", "ric_warm_ms", "ms", None, None),
    ("first call through the API, small function", "first_small_ms", "ms", "lambda_first_s", None),
    ("first call through the API, FastAPI function", "first_fastapi_ms", "ms", "cold_fastapi_s", None),
    ("warm call through the API, FastAPI function", "warm_fastapi_ms", "ms", "warm_s", None),
    ("first call, direct DynamoDB integration", "direct_integration_first_ms", "ms", "direct_first_s", None),
    ("proxy round trip p50 / boto3 GetItem p50", "proxy_over_getitem", "x", None, "≤ 3x, p50 < 10 ms"),
    ("direct integration p50 / boto3 GetItem p50", "direct_over_getitem", "x", None, "≤ 3x, p50 < 10 ms"),
    ("50 concurrent requests answered 200", "concurrent_ok", "", None, "50"),
    ("200 concurrent cart writes answered 201", "load_ok", "", None, "200"),
    ("cart writes lost", "load_lost_writes", "", None, "0"),
    ("200 cart writes took", "load_seconds", "s", None, "about 10 s"),
]


def rows(figures: dict, talk: dict) -> list[dict]:
    out = []
    for label, key, unit, talk_key, goal in ROWS:
        value = figures.get(key)
        out.append({
            "label": label.format(**{k: figures.get(k) for k in ("deploy_resources",)}),
            "key": key,
            "measured": "—" if value is None else f"{value} {unit}".strip(),
            "talk": f"{talk[talk_key]} s" if talk_key else "",
            "goal": goal or "",
        })
    return out


def main() -> int:
    console = Console()
    figures = Bench(console).run()
    data = {
        "measured_on": f"{datetime.now(timezone.utc):%Y-%m-%d}, {platform.machine()}, {os.cpu_count()} cores, "
                       f"Python {platform.python_version()}, median of {ROUNDS} rounds",
        "figures": figures,
        "talk": TALK,
        "rows": rows(figures, TALK),
    }
    table = Table(title=f"make bench · {data['measured_on']}")
    for column in ("what", "measured here", "the talk", "goal"):
        table.add_column(column)
    for row in data["rows"]:
        table.add_row(row["label"], row["measured"], row["talk"], row["goal"])
    console.print(table)
    for path in (ROOT / "bench" / "results.json", ROOT / "docs" / "data" / "bench.json"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2) + "\n")
    console.print("wrote bench/results.json and docs/data/bench.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
