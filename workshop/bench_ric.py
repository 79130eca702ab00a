"""The other candidate for an execution environment's loop: the official `awslambdaric` against a
small local Lambda Runtime API, measured by `make bench` against our own bootstrap.

Only the bench uses this: it answers "which loop is faster, and is it as faithful", and the
executor keeps the winner. The Runtime API here implements the calls awslambdaric makes
(next, response, error, init error) as the Lambda docs describe them.
"""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import util
from pathlib import Path

PREFIX = "/2018-06-01/runtime"


class RuntimeApi:
    """One environment's Runtime API: events go in a queue, results come back by request id."""

    def __init__(self) -> None:
        self.events: queue.Queue = queue.Queue()
        self.results: dict[str, queue.Queue] = {}
        self.first_next = threading.Event()
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()  # no Nagle: a keep-alive client would wait for delayed ACKs
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                if self.path != f"{PREFIX}/invocation/next":
                    return self._answer(404, b"{}")
                api.first_next.set()  # init is over when the runtime first asks for work
                request_id, payload = api.events.get()
                self._answer(200, payload, {
                    "Lambda-Runtime-Aws-Request-Id": request_id,
                    "Lambda-Runtime-Deadline-Ms": str(int((time.time() + 30) * 1000)),
                    "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:123456789012:function:bench",
                    "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000",
                    "Lambda-Runtime-Invocation-Id": request_id,  # the native client reads it unchecked
                    "Content-Type": "application/json",
                })

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = self.path[len(PREFIX):].strip("/").split("/")
                if parts[0] == "invocation" and parts[-1] in ("response", "error"):
                    api.results.setdefault(parts[1], queue.Queue()).put((parts[-1], body))
                elif parts[0] == "init":
                    api.results.setdefault("init", queue.Queue()).put(("error", body))
                self._answer(202, b"{}")

            def _answer(self, status: int, body: bytes, headers: dict | None = None) -> None:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address) -> None:
                pass  # a runtime killed mid-call is how every measurement ends

        self.server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def invoke(self, event: dict, timeout: float = 30) -> tuple[str, bytes]:
        request_id = str(uuid.uuid4())
        self.results.setdefault(request_id, queue.Queue())
        self.events.put((request_id, json.dumps(event).encode()))
        return self.results[request_id].get(timeout=timeout)

    def close(self) -> None:
        self.server.shutdown()


def available() -> bool:
    return util.find_spec("awslambdaric") is not None


def measure(code_dir: Path, runtime_dir: str, rounds: int) -> dict[str, float]:
    """Init (spawn to the first `next`) and warm invoke round trip, median of rounds, in ms."""
    import statistics

    from .distributions import RUNTIME_PROVIDED, closure, vendor

    ric_dir = code_dir.parent / "ric-runtime"
    if not ric_dir.exists():
        vendor(closure(["awslambdaric"], provided=RUNTIME_PROVIDED), ric_dir, link=True)
    inits, warms = [], []
    for _ in range(rounds):
        api = RuntimeApi()
        env = {"PATH": "/usr/bin:/bin", "AWS_LAMBDA_RUNTIME_API": api.address, "LAMBDA_TASK_ROOT": str(code_dir),
               "PYTHONPATH": os.pathsep.join([str(code_dir), str(ric_dir), runtime_dir]),
               "AWS_LAMBDA_FUNCTION_NAME": "bench", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
               "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_REGION": "us-east-1"}
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-S", "-P", "-m", "awslambdaric", "app.handler"],
                                   cwd=code_dir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            if not api.first_next.wait(60):
                raise RuntimeError("awslambdaric never asked for an invocation")
            inits.append(time.perf_counter() - started)
            api.invoke({})  # the first call warms the loop
            for _ in range(20):
                began = time.perf_counter()
                kind, _ = api.invoke({})
                warms.append(time.perf_counter() - began)
                assert kind == "response"
        finally:
            process.kill()
            process.wait()
            api.close()
    return {"init_ms": round(statistics.median(inits) * 1000, 2), "warm_ms": round(statistics.median(warms) * 1000, 3)}
