"""Lambda without Docker: execution environments are subprocesses of our own bootstrap.

An environment runs the function's unzipped code with its layers on PYTHONPATH (as /opt/python
would be), the runtime's own packages (boto3 and botocore) and the standard library, never the
course's virtual environment. Environments are reused while warm, spawned on demand under
concurrency, killed at the function's timeout, and every invocation writes START, END and
REPORT lines to the function's log group as Lambda does.
"""

from __future__ import annotations

import base64
import json
import marshal
import math
import os
import select
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .bootstrap import EVENT_LINE_BREAK, EVENT_MARKER, LOG_MARKER
from .concurrency import ConcurrencyLimits
from .safety import access_key_for

BOOTSTRAP = Path(__file__).with_name("bootstrap.py")
IDLE_SECONDS = 600  # an environment idle this long is frozen for good, as Lambda would reclaim it
MAX_ENVIRONMENTS_PER_FUNCTION = int(os.environ.get("WORKSHOP_LAMBDA_MAX_ENVIRONMENTS", "16"))
# Warm environments are capped across the whole cloud, in number and in resident memory: past
# either cap the least recently used idle environment stops (Lambda reclaims idle ones too).
MAX_WARM_ENVIRONMENTS = int(os.environ.get("WORKSHOP_LAMBDA_MAX_WARM", "24"))
MAX_WARM_MEMORY_MB = int(os.environ.get("WORKSHOP_LAMBDA_MAX_WARM_MB", "400"))
# Lambda runs each cold start on its own machine; here they share a few cores, so at most this
# many initialise at once and the rest wait for a slot (or for an environment to come free).
MAX_CONCURRENT_INITS = max(2, os.cpu_count() or 2)


@dataclass(frozen=True)
class FunctionConfig:
    """What an execution environment needs to know of a function; its identity is its config."""

    name: str
    arn: str
    handler: str
    code_dir: str
    layer_dirs: tuple[str, ...]
    runtime_dir: str
    timeout: int
    memory_size: int
    environment: tuple[tuple[str, str], ...]
    account_id: str
    region: str
    endpoint_url: str
    version: str = "$LATEST"
    # Not part of the identity: changing a reservation keeps the warm environments, as on Lambda.
    reserved_concurrency: int | None = field(default=None, compare=False)
    # The execution role's temporary credentials (access key, secret, session token), as Lambda
    # hands them to the function; None signs as the account itself.
    credentials: tuple[str, str, str] | None = None
    python: str = sys.executable  # interpreters.py: the CPython the code's compiled modules need
    python_version: str = f"{sys.version_info.major}.{sys.version_info.minor}"

    @property
    def function_key(self) -> tuple[str, str, str]:
        """The function whatever its code and settings: an update makes a new config, same key."""
        return self.account_id, self.region, self.name


@dataclass
class InvokeResult:
    payload: bytes
    function_error: str | None  # "Unhandled" like Lambda, or None
    log_tail: str
    request_id: str
    init_duration_ms: float | None = None
    duration_ms: float = 0.0


LogSink = Callable[[FunctionConfig, str, list[str]], None]  # (function, stream, lines)


class EnvironmentDied(Exception):
    pass


def environment_of(c: FunctionConfig, log_stream: str) -> dict[str, str]:
    """The process environment Lambda documents for a function, pointed at the local cloud."""
    python_path = [c.code_dir]
    for layer in c.layer_dirs:  # the order Lambda documents for /opt/python
        python_path += [f"{layer}/python", f"{layer}/python/lib/python{c.python_version}/site-packages"]
    python_path.append(c.runtime_dir)
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "PYTHONPATH": os.pathsep.join(python_path),
        "PYTHONDONTWRITEBYTECODE": "1",
        "LAMBDA_TASK_ROOT": c.code_dir,
        "LAMBDA_RUNTIME_DIR": c.runtime_dir,
        "_HANDLER": c.handler,
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
        "AWS_LAMBDA_FUNCTION_NAME": c.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(c.memory_size),
        "AWS_LAMBDA_FUNCTION_VERSION": c.version,
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{c.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_REGION": c.region,
        "AWS_DEFAULT_REGION": c.region,
    }
    env.update(dict(c.environment))
    # Never the learner's own credentials or endpoints: the local cloud, as the function's role.
    access_key, secret, token = c.credentials or (access_key_for(c.account_id), "local-secret", "local-session")
    env.update({
        "AWS_ACCESS_KEY_ID": access_key,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_SESSION_TOKEN": token,
        "AWS_ENDPOINT_URL": c.endpoint_url,
        "_WORKSHOP_LOOPBACK_ONLY": "1",
    })
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        env.pop(name, None)
    env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    return env


class ExecutionEnvironment:
    """One subprocess running bootstrap.py for one function configuration."""

    def __init__(self, config: FunctionConfig) -> None:
        self.config = config
        self.id = uuid.uuid4().hex
        now = time.gmtime()
        self.log_stream = f"{now.tm_year}/{now.tm_mon:02d}/{now.tm_mday:02d}/[{config.version}]{self.id}"
        self.last_used = time.monotonic()
        self.generation = 0  # of its function when it started: an older one is stopped, not reused
        self.peak_rss_kb = 0  # as the runtime last reported it (Max Memory Used)
        self.init_duration_ms: float | None = None
        self._log_lines: list[str] = []
        self._log_cond = threading.Condition()
        self._finished_requests: set[str] = set()
        self._reply_buffer = b""
        started = time.perf_counter()
        self.process = subprocess.Popen(
            [config.python, "-S", "-P", "-u", str(BOOTSTRAP)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=config.code_dir,
            env=environment_of(config, self.log_stream),
            start_new_session=True,  # so a timeout kills the handler's own children too
        )
        threading.Thread(target=self._pump_logs, daemon=True).start()
        self._started = started

    # -- the log pipe: everything the handler prints, closed per invocation by a marker line

    def _pump_logs(self) -> None:
        assert self.process.stderr is not None  # opened with PIPE
        for raw in iter(self.process.stderr.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._log_cond:
                if line.startswith(LOG_MARKER):
                    self._finished_requests.add(line[len(LOG_MARKER):])
                elif line.startswith(EVENT_MARKER):  # one event of several lines (an error and its traceback)
                    self._log_lines.append(line[len(EVENT_MARKER):].replace(EVENT_LINE_BREAK, "\n"))
                else:
                    self._log_lines.append(line)
                self._log_cond.notify_all()
        with self._log_cond:
            self._finished_requests.add("*")  # the process is gone: nothing more will come
            self._log_cond.notify_all()

    def take_logs(self, request_id: str | None, wait: float = 1.0) -> list[str]:
        with self._log_cond:
            if request_id:
                self._log_cond.wait_for(
                    lambda: request_id in self._finished_requests or "*" in self._finished_requests, wait)
            lines, self._log_lines = self._log_lines, []
            return lines

    # -- the reply pipe

    def _read_exactly(self, size: int, deadline: float) -> bytes:
        assert self.process.stdout is not None  # opened with PIPE
        fd = self.process.stdout.fileno()
        while len(self._reply_buffer) < size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            ready, _, _ = select.select([fd], [], [], remaining)
            if ready:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    raise EnvironmentDied(self.process.wait())
                self._reply_buffer += chunk
        data, self._reply_buffer = self._reply_buffer[:size], self._reply_buffer[size:]
        return data

    def _read_reply(self, deadline: float) -> dict:
        """One frame of bootstrap.py's protocol: a 4-byte length, then a marshalled dict."""
        size = int.from_bytes(self._read_exactly(4, deadline), "big")
        return marshal.loads(self._read_exactly(size, deadline))

    def wait_ready(self) -> dict | None:
        """The init phase: importing the handler module, bounded by the function's timeout.
        Returns the init error (awslambdaric's shape), or None."""
        ready = self._read_reply(time.monotonic() + self.config.timeout)
        self.init_duration_ms = (time.perf_counter() - self._started) * 1000
        return ready.get("initError")

    def send(self, request: dict, deadline: float) -> dict:
        data = marshal.dumps(request)
        assert self.process.stdin is not None  # opened with PIPE
        try:
            self.process.stdin.write(len(data).to_bytes(4, "big") + data)
            self.process.stdin.flush()
        except BrokenPipeError:
            raise EnvironmentDied(self.process.wait()) from None
        return self._read_reply(deadline)

    def kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.wait()

    @property
    def alive(self) -> bool:
        return self.process.poll() is None


class LambdaExecutor:
    """Pools of execution environments, one pool per function configuration."""

    def __init__(self, log_sink: LogSink, limits: ConcurrencyLimits | None = None,
                 max_warm: int = MAX_WARM_ENVIRONMENTS, max_warm_mb: int = MAX_WARM_MEMORY_MB) -> None:
        self._log_sink = log_sink
        self.limits = limits or ConcurrencyLimits()
        self._idle: dict[FunctionConfig, list[ExecutionEnvironment]] = {}
        self._busy: dict[FunctionConfig, int] = {}
        self._generations: dict[tuple[str, str, str], int] = {}
        self._initialising = 0
        self._lock = threading.Condition()
        self._closed = False
        self.max_warm = max_warm
        self.max_warm_kb = max_warm_mb * 1024
        threading.Thread(target=self._reap_idle, daemon=True).start()

    def invoke(self, config: FunctionConfig, payload: bytes) -> InvokeResult:
        """A synchronous invocation; raises concurrency.Throttled beyond the function's or account's limit."""
        with self.limits.admit(config):
            request_id = str(uuid.uuid4())
            env, cold = self._acquire(config)
            try:
                return self._run(env, cold, config, payload, request_id)
            finally:
                self._release(env)

    def _acquire(self, config: FunctionConfig) -> tuple[ExecutionEnvironment, bool]:
        with self._lock:
            while True:
                idle = self._idle.setdefault(config, [])
                while idle:
                    env = idle.pop()
                    if env.alive:
                        self._busy[config] = self._busy.get(config, 0) + 1
                        return env, False
                if (self._busy.get(config, 0) < MAX_ENVIRONMENTS_PER_FUNCTION
                        and self._initialising < MAX_CONCURRENT_INITS):
                    self._busy[config] = self._busy.get(config, 0) + 1
                    self._initialising += 1
                    generation = self._generations.get(config.function_key, 0)
                    break
                self._lock.wait()  # within Lambda's limits but at this machine's cap: wait for a slot
        try:
            env = ExecutionEnvironment(config)
            env.generation = generation
            return env, True
        except BaseException:
            self._initialised()
            self._release(None, config)
            raise

    def _initialised(self) -> None:
        with self._lock:
            self._initialising -= 1
            self._lock.notify_all()

    def _release(self, env: ExecutionEnvironment | None, config: FunctionConfig | None = None) -> None:
        if config is None:
            assert env is not None  # one or the other is always given
            config = env.config
        with self._lock:
            self._busy[config] -= 1
            current = env is not None and env.generation == self._generations.get(config.function_key, 0)
            if env is not None and env.alive and current and not self._closed:
                env.last_used = time.monotonic()
                self._idle.setdefault(config, []).append(env)
                env = None
            surplus = self._over_caps()
            self._lock.notify_all()
        for stopped in ([env] if env is not None else []) + surplus:
            stopped.kill()

    def _over_caps(self) -> list[ExecutionEnvironment]:
        """Idle environments to stop, least recently used first, until the cloud is within both caps."""
        idle = sorted((e for envs in self._idle.values() for e in envs), key=lambda e: e.last_used)
        count = len(idle) + sum(self._busy.values())
        memory = sum(e.peak_rss_kb for e in idle)
        doomed = []
        for env in idle:
            if count <= self.max_warm and memory <= self.max_warm_kb:
                break
            doomed.append(env)
            count, memory = count - 1, memory - env.peak_rss_kb
            self._idle[env.config].remove(env)
        return doomed

    def warm_environments(self) -> list[ExecutionEnvironment]:
        with self._lock:
            return [e for envs in self._idle.values() for e in envs]

    def _run(self, env: ExecutionEnvironment, cold: bool, config: FunctionConfig, payload: bytes,
             request_id: str) -> InvokeResult:
        lines: list[str] = []
        function_error = init_error = None
        started = time.perf_counter()
        try:
            if cold:
                try:
                    init_error = env.wait_ready()
                finally:
                    self._initialised()
                lines += env.take_logs("init")  # init output comes before START, as on Lambda
                if init_error:
                    lines.append(init_report(env, init_error))
            started = time.perf_counter()
            deadline = time.monotonic() + config.timeout
            lines.append(f"START RequestId: {request_id} Version: {config.version}")
            reply = env.send({
                "requestId": request_id,
                "payload": json.loads(payload or b"{}"),
                "deadlineMs": int((time.time() + config.timeout) * 1000),
                "invokedFunctionArn": config.arn,
            }, deadline)
            lines += env.take_logs(request_id)
            env.peak_rss_kb = reply.get("maxRssKb", 0)
            max_rss_mb = math.ceil(env.peak_rss_kb / 1024)
            if reply["ok"]:
                body = reply["payload"].encode()
            else:
                function_error = "Unhandled"
                body = json.dumps(reply["error"]).encode()
            status = failed_init_status(init_error)
        except TimeoutError:
            env.kill()
            lines += env.take_logs(None, wait=0.2)
            if cold and env.init_duration_ms is None:  # it never finished initialising
                lines.append(f"INIT_REPORT Init Duration: {config.timeout * 1000:.2f} ms\tPhase: init\tStatus: timeout")
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
            message = f"{stamp}Z {request_id} Task timed out after {config.timeout:.2f} seconds"
            lines.append(message)
            function_error, max_rss_mb, status = "Unhandled", 0, "\tStatus: timeout"
            body = json.dumps({"errorMessage": message}).encode()
        except EnvironmentDied as died:
            lines += env.take_logs(None, wait=0.5)
            message = f"RequestId: {request_id} Error: Runtime exited with error: exit status {died.args[0]}"
            lines.append(message)
            function_error, max_rss_mb, status = "Unhandled", 0, "\tStatus: error\tError Type: Runtime.ExitError"
            body = json.dumps({"errorType": "Runtime.ExitError", "errorMessage": message}).encode()
        duration = (time.perf_counter() - started) * 1000
        init = f"\tInit Duration: {env.init_duration_ms:.2f} ms" if cold and env.init_duration_ms and not init_error else ""
        lines.append(f"END RequestId: {request_id}")
        lines.append(
            f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms\tBilled Duration: {math.ceil(duration)} ms"
            f"\tMemory Size: {config.memory_size} MB\tMax Memory Used: {max_rss_mb} MB{init}{status}")
        self._log_sink(config, env.log_stream, lines)
        if init_error:
            env.kill()  # the runtime exits after a failed init: the next call initialises again, as on Lambda
        return InvokeResult(
            payload=body,
            function_error=function_error,
            log_tail="\n".join(lines)[-4096:],
            request_id=request_id,
            init_duration_ms=env.init_duration_ms if cold else None,
            duration_ms=duration,
        )

    def _reap_idle(self) -> None:
        while not self._closed:
            time.sleep(5)
            cutoff = time.monotonic() - IDLE_SECONDS
            with self._lock:
                stale = [e for envs in self._idle.values() for e in envs if e.last_used < cutoff]
                for envs in self._idle.values():
                    envs[:] = [e for e in envs if e.last_used >= cutoff]
            for env in stale:
                env.kill()

    def forget(self, predicate: Callable[[FunctionConfig], bool]) -> None:
        """Drop the idle environments of the configurations the predicate names."""
        with self._lock:
            doomed = [e for config, envs in self._idle.items() if predicate(config) for e in envs]
            for config in [c for c in self._idle if predicate(c)]:
                del self._idle[config]
        for env in doomed:
            env.kill()

    def retire(self, account_id: str, region: str, name: str) -> None:
        """The function was updated or deleted: its idle environments stop now, busy ones when
        their invocation ends, and the next invocation starts a new one (as on Lambda)."""
        key = (account_id, region, name)
        with self._lock:
            self._generations[key] = self._generations.get(key, 0) + 1
        self.forget(lambda config: config.function_key == key)

    def close(self) -> None:
        self._closed = True
        self.forget(lambda config: True)


def init_report(env: ExecutionEnvironment, init_error: dict) -> str:
    """The platform's line for a failed init (lambda/latest/dg/lambda-runtime-environment.html)."""
    return (f"INIT_REPORT Init Duration: {env.init_duration_ms:.2f} ms\tPhase: init\tStatus: error"
            f"\tError Type: {init_error['errorType']}")


def failed_init_status(init_error: dict | None) -> str:
    """What REPORT adds for an invocation whose environment failed to initialise."""
    return f"\tStatus: error\tError Type: {init_error['errorType']}" if init_error else ""


def log_tail_header(result: InvokeResult) -> str:
    return base64.b64encode(result.log_tail.encode()).decode()
