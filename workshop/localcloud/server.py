"""The local cloud process: moto as the AWS API, our Lambda executor and API Gateway data plane.

Run as `python -m workshop.localcloud.server --state DIR`; `control.py` starts and stops it.
It binds 127.0.0.1 on a free port and writes {"url", "port", "pid"} to DIR/cloud.json.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import signal
import socket
import threading
from pathlib import Path

from werkzeug.serving import BaseWSGIServer, make_server

from . import safety

GATEWAY_PREFIX = "/_aws/execute-api/"
HEALTH_PATH = "/_workshop/health"


class LocalCloud:
    """Everything one local cloud holds; created once per process."""

    def __init__(self, state_dir: Path, account_concurrency: int | None = None, iam: bool = True) -> None:
        safety.use_fake_credentials()  # before boto3 or moto read the environment
        self.state_dir = state_dir
        self.account_concurrency = account_concurrency
        self.iam = iam  # identity policies evaluated (workshop/localcloud/iam/); False relaxes it
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._server: BaseWSGIServer | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, port: int = 0) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app

        from . import patches
        from .apigateway import RestApiGateway
        from .concurrency import ConcurrencyLimits
        from .functions import FunctionResolver, reserved_in_account
        from .iam import Enforcement
        from .lambda_executor import LambdaExecutor
        from .services import call_aws_service, write_lambda_logs

        class NoDelayHandler(MotoRequestHandler):
            # Keep-alive clients otherwise wait for delayed ACKs: 40-90 ms per call, measured here.
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        server = self._server = make_server("127.0.0.1", port, self._dispatch, threaded=True,
                                            request_handler=NoDelayHandler)
        self.port = server.server_address[1]
        os.environ["MOTO_PORT"] = str(self.port)  # moto's Step Functions tasks call localhost:$MOTO_PORT

        limits = ConcurrencyLimits(self.account_concurrency, reserved_in_account)
        # moto's PutFunctionConcurrency then keeps 100 unreserved, as Lambda does
        os.environ["MOTO_LAMBDA_CONCURRENCY_QUOTA"] = str(limits.account_limit)
        self.executor = LambdaExecutor(write_lambda_logs, limits)
        self.functions = FunctionResolver(self.state_dir, self.url)
        patches.apply_all(self)
        self.gateway = RestApiGateway(
            invoke_lambda=self.invoke_lambda_by_arn,
            call_aws_service=functools.partial(call_aws_service, self.url, iam_enforced=self.iam),
        )
        self._moto = Enforcement(DomainDispatcherApplication(create_backend_app), enabled=self.iam)
        threading.Thread(target=server.serve_forever, daemon=True).start()

    def invoke_lambda_by_arn(self, function_arn: str, payload: bytes) -> tuple[bytes, str | None]:
        config = self.functions.config_for_arn(function_arn)
        result = self.executor.invoke(config, payload)
        return result.payload, result.function_error

    def _dispatch(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith(GATEWAY_PREFIX):
            return self.gateway(environ, start_response)
        if path == HEALTH_PATH:
            start_response("200 OK", [("Content-Type", "application/json")])
            return [json.dumps({"status": "running", "pid": os.getpid(), "iam": self.iam}).encode()]
        return self._moto(environ, start_response)

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
        if getattr(self, "executor", None):
            self.executor.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the workshop's local cloud")
    parser.add_argument("--state", type=Path, required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--account-concurrency", type=int, default=None,
                        help="Lambda's concurrent executions per account and Region (default 1000, as on AWS)")
    parser.add_argument("--iam", choices=("on", "off"), default=None,
                        help="evaluate identity policies (default: on, or $WORKSHOP_IAM)")
    args = parser.parse_args()
    safety.refuse_non_loopback_connections()
    from .iam import enabled_by_default

    cloud = LocalCloud(args.state, args.account_concurrency,
                       iam=enabled_by_default() if args.iam is None else args.iam == "on")
    cloud.start(args.port)
    info = {"url": cloud.url, "port": cloud.port, "pid": os.getpid(), "iam": cloud.iam}
    tmp = args.state / "cloud.json.tmp"
    tmp.write_text(json.dumps(info))
    tmp.replace(args.state / "cloud.json")  # readers never see half a file
    print(f"local cloud on {cloud.url} (pid {os.getpid()}, IAM {'on' if cloud.iam else 'off'})", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    cloud.stop()
    (args.state / "cloud.json").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
