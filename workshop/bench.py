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
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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
BURST_REQUESTS = int(os.environ.get("WORKSHOP_BENCH_BURST", "40"))
BURST_RESERVED = 2
ONLY = os.environ.get("WORKSHOP_BENCH_ONLY")
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
        self.figures: dict[str, Any] = {}  # numbers, None for "not measured", a dict of statuses
        self.work = Path(tempfile.mkdtemp(prefix="workshop-bench-"))

    def step(self, text: str) -> None:
        self.console.print(f"[dim]· {text}[/]")

    # -- the cloud process and deploys --------------------------------------------------

    def cloud_start(self) -> None:
        self.step(f"cloud start, {min(ROUNDS, 3)} rounds")
        samples = []
        for i in range(min(ROUNDS, 3)):
            state = self.work / f"start{i}"
            samples.append(timed(lambda: control.up(state)))  # noqa: B023 - timed() calls it at once, in this iteration
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
                    init_ms = executor.invoke(fresh, b"{}").init_duration_ms
                    assert init_ms is not None  # a configuration never seen before always starts cold
                    inits.append(init_ms / 1000)
                    floor.append(timed(lambda: subprocess.run([sys.executable, "-S", "-P", "-c", "import app"],
                                                              cwd=code, env=env, check=True)))  # noqa: B023 - timed() calls it at once, in this iteration
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
                        warm.append(timed(lambda: executor.invoke(fresh, b"{}")))  # noqa: B023 - timed() calls it at once, in this iteration
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
        firsts: dict[str, list[float]] = {"small": [], "web": [], "direct": []}
        with httpx.Client(timeout=60) as http:
            for i in range(ROUNDS):
                for _name, key in (("small", "SmallFunctionName"), ("web", "WebFunctionName")):
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

    def burst(self, target: LocalTarget) -> None:
        """Module 03's point: a burst above a small reserved concurrency throttles the route a function
        serves (API Gateway answers 500 for a throttled Lambda) and not the direct integration."""
        self.step(f"a burst of {BURST_REQUESTS} GETs, Lambda (reserved concurrency {BURST_RESERVED}) vs direct integration")
        info = target.deployer().deploy(APP / "burst" / "template.yaml", "bench-burst",
                                        {"ReservedConcurrency": str(BURST_RESERVED)})
        target.session().client("dynamodb").put_item(TableName=info.outputs["TableName"], Item={"id": {"S": "k"}})
        for path in ("lambda", "direct"):
            statuses = burst_statuses(info.outputs["ApiUrl"] + f"{path}/k", BURST_REQUESTS)
            self.figures[f"burst_{path}_ok"] = statuses.count(200)
            self.figures[f"burst_{path}_throttled"] = len(statuses) - statuses.count(200)
        self.figures["burst_requests"] = BURST_REQUESTS
        self.figures["burst_reserved_concurrency"] = BURST_RESERVED
        target.deployer().destroy("bench-burst")

    def shop_load(self, target: LocalTarget) -> None:
        self.step("200 concurrent add-to-cart requests to module 01's cart")
        cart = ROOT / "modules" / "01-bounded-context" / "solution" / "services" / "cart" / "template.yaml"
        result = cart_load(target.deployer().deploy(cart, "bench-cart").outputs["ApiUrl"], requests=200)
        self.figures["load_requests"] = result.requests
        self.figures["load_ok"] = result.statuses.get(201, 0)
        self.figures["load_lost_writes"] = result.lost
        self.figures["load_seconds"] = result.seconds

    def check_loop(self, cloud: control.CloudInfo) -> None:
        """Module 01's solution checked as a learner does, the cloud up: first check, after a one-line
        edit in one handler, with nothing changed, then the memory of the cloud after ten checks."""
        from .course import module
        from .grading.runner import run_checks

        self.step("the check loop on module 01's solution: first, edited, unchanged, memory after ten")
        m = module("01")
        tree = self.work / "loop" / m.name
        shutil.copytree(m.solution, tree, ignore=shutil.ignore_patterns("__pycache__", ".aws-sam", ".pytest_cache"))
        handler = next(p for p in sorted((tree / "services" / "cart").rglob("*.py")) if "tests" not in p.parts)

        def check() -> float:
            started = time.perf_counter()
            run = run_checks(m, tree, cloud_url=cloud.url, stack_prefix="bench-loop")
            elapsed = time.perf_counter() - started
            if not run.passed:
                self.console.print(f"[red]module 01's solution did not pass: {run.error or run.score}[/]")
            return elapsed

        # the checks' own state (remembered unit-test passes) starts empty, as on a learner's first check
        os.environ["WORKSHOP_STATE"] = str(self.work / "loop-state")
        first = check()
        handler.write_text(handler.read_text() + "\n# edited by make bench\n")
        edited = check()
        unchanged = check()
        for _ in range(7):
            check()
        memory_kb, processes = process_tree_rss_kb(cloud.pid)
        self.figures.update({
            "loop_first_s": round(first, 2),
            "loop_edited_s": round(edited, 2),
            "loop_unchanged_s": round(unchanged, 2),
            "loop_edited_over_first": round(edited / first, 2),
            "loop_unchanged_over_first": round(unchanged / first, 2),
            "loop_memory_mb": round(memory_kb / 1024),
            "loop_processes": processes,
        })

    def run(self) -> dict:
        state = self.work / "cloud"
        if ONLY == "loop":  # WORKSHOP_BENCH_ONLY=loop: the check loop alone, on a cloud of its own
            info, _ = control.up(state)
            try:
                self.check_loop(info)
            finally:
                control.down(state)
                shutil.rmtree(self.work, ignore_errors=True)
            return self.figures
        self.cloud_start()
        info, _ = control.up(state)
        try:
            target = LocalTarget(info.url)
            outputs = self.deploys(target)
            self.cold_versus_floor()
            self.round_trips(target, outputs)
            self.concurrency(outputs)
            self.burst(target)
            self.shop_load(target)
            self.check_loop(info)
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
    ("burst of {burst_requests}: Lambda path (reserved concurrency {burst_reserved_concurrency}) answered 200",
     "burst_lambda_ok", "", None, "informational"),
    ("burst: Lambda path throttled (500)", "burst_lambda_throttled", "", None, "informational"),
    ("burst of {burst_requests}: direct integration answered 200", "burst_direct_ok", "", None, "all"),
    ("200 concurrent cart writes answered 201", "load_ok", "", None, "200"),
    ("cart writes lost", "load_lost_writes", "", None, "0"),
    ("200 cart writes took", "load_seconds", "s", None, "about 10 s"),
    ("check loop, module 01: first check", "loop_first_s", "s", None, None),
    ("check loop: after a one-line edit in one handler", "loop_edited_s", "s", None, "< 3 s"),
    ("check loop: edited / first", "loop_edited_over_first", "x", None, "≤ 0.35"),
    ("check loop: with nothing changed", "loop_unchanged_s", "s", None, "< 2 s"),
    ("check loop: unchanged / first", "loop_unchanged_over_first", "x", None, "≤ 0.25"),
    ("memory of the cloud and its environments after ten checks", "loop_memory_mb", "MB", None, "< 600 MB"),
    ("processes of the cloud after ten checks", "loop_processes", "", None, None),
]


def burst_statuses(url: str, requests: int) -> list[int]:
    """`requests` GETs released together (a barrier, so they overlap), each on its own connection."""
    start = threading.Barrier(requests)
    with httpx.Client(timeout=60, limits=httpx.Limits(max_connections=requests)) as http:
        def one(_: int) -> int:
            start.wait()
            return http.get(url).status_code
        with ThreadPoolExecutor(requests) as pool:
            return list(pool.map(one, range(requests)))
LOOP_GOALS = {  # issue 17, on a quiet machine
    "loop_edited_s": 3.0, "loop_edited_over_first": 0.35,
    "loop_unchanged_s": 2.0, "loop_unchanged_over_first": 0.25,
    "loop_memory_mb": 600,
}


def process_tree_rss_kb(pid: int) -> tuple[int, int]:
    """Resident memory of a process and all its descendants (kB), and how many they are."""
    listing = subprocess.run(["ps", "-A", "-o", "pid=,ppid=,rss="], capture_output=True, text=True, check=True).stdout
    rows = [tuple(int(x) for x in line.split()) for line in listing.splitlines() if line.strip()]
    children: dict[int, list[tuple[int, int]]] = {}
    for child, parent, rss in rows:
        children.setdefault(parent, []).append((child, rss))
    total = next((rss for child, _, rss in rows if child == pid), 0)
    count, stack = 1, [pid]
    while stack:
        for child, rss in children.get(stack.pop(), []):
            total, count = total + rss, count + 1
            stack.append(child)
    return total, count


def rows(figures: dict, talk: dict) -> list[dict]:
    out = []
    for label, key, unit, talk_key, goal in ROWS:
        value = figures.get(key)
        out.append({
            "label": label.format(**{k: figures.get(k) for k in ("deploy_resources", "burst_requests",
                                                                  "burst_reserved_concurrency")}),
            "key": key,
            "measured": "—" if value is None else f"{value} {unit}".strip(),
            "talk": f"{talk[talk_key]} s" if talk_key else "",
            "goal": goal or "",
        })
    return out


def main() -> int:
    console = Console()
    figures = Bench(console).run()
    if ONLY:  # a partial run keeps the other figures of the last full one
        previous = ROOT / "docs" / "data" / "bench.json"
        kept = json.loads(previous.read_text()).get("figures", {}) if previous.exists() else {}
        figures = {**kept, **figures}
    data = {
        "measured_on": f"{datetime.now(UTC):%Y-%m-%d}, {platform.machine()}, {os.cpu_count()} cores, "
                       f"Python {platform.python_version()}, median of {ROUNDS} rounds",
        "figures": figures,
        "talk": TALK,
        "rows": rows(figures, TALK),
        "loop_goals": {key: {"goal": goal, "measured": figures.get(key),
                             "met": figures.get(key) is not None and figures[key] <= goal}
                       for key, goal in LOOP_GOALS.items()},
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
