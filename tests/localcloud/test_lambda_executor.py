"""The Docker-free executor, driven directly: environments, reuse, errors, timeouts, log lines."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from workshop.localcloud.functions import FunctionResolver
from workshop.localcloud.lambda_executor import FunctionConfig, LambdaExecutor


@pytest.fixture(scope="module")
def runtime_dir(tmp_path_factory) -> str:
    return FunctionResolver(tmp_path_factory.mktemp("state"), "http://127.0.0.1:9").runtime_dir


@pytest.fixture
def logs():
    return []


@pytest.fixture
def executor(logs):
    ex = LambdaExecutor(lambda config, stream, lines: logs.append((stream, lines)))
    yield ex
    ex.close()


def make_function(tmp_path: Path, runtime_dir: str, code: str, timeout: int = 3, handler: str = "app.handler",
                  layers: tuple[str, ...] = (), **env: str) -> FunctionConfig:
    code_dir = tmp_path / "code"
    code_dir.mkdir(exist_ok=True)
    (code_dir / "app.py").write_text(code)
    return FunctionConfig(
        name="fn", arn="arn:aws:lambda:us-east-1:123456789012:function:fn", handler=handler,
        code_dir=str(code_dir), layer_dirs=layers, runtime_dir=runtime_dir, timeout=timeout, memory_size=256,
        environment=tuple(env.items()), account_id="123456789012", region="us-east-1",
        endpoint_url="http://127.0.0.1:9")


def invoke(executor, config, event=None):
    return executor.invoke(config, json.dumps(event or {}).encode())


def test_a_second_call_is_warm_and_has_no_init_duration(executor, tmp_path, runtime_dir, logs):
    config = make_function(tmp_path, runtime_dir, "import os\nPID = os.getpid()\ndef handler(e, c):\n    return PID\n")
    first, second = invoke(executor, config), invoke(executor, config)
    assert first.payload == second.payload  # the same process served both
    assert first.init_duration_ms is not None and second.init_duration_ms is None
    reports = [line for _, lines in logs for line in lines if line.startswith("REPORT")]
    assert "Init Duration" in reports[0] and "Init Duration" not in reports[1]
    assert logs[0][0] == logs[1][0]  # one log stream per execution environment


def test_report_lines_carry_lambdas_fields(executor, tmp_path, runtime_dir, logs):
    config = make_function(tmp_path, runtime_dir, "def handler(e, c):\n    print('hi from the handler')\n    return 1\n")
    result = invoke(executor, config)
    lines = logs[0][1]
    assert lines[0] == f"START RequestId: {result.request_id} Version: $LATEST"
    assert "hi from the handler" in lines
    assert lines[-2] == f"END RequestId: {result.request_id}"
    report = lines[-1]
    for field in ("Duration: ", "Billed Duration: ", "Memory Size: 256 MB", "Max Memory Used: ", "Init Duration: "):
        assert field in report
    assert int(report.split("Max Memory Used: ")[1].split()[0]) < 200  # the environment's own, not the parent's


def test_concurrent_calls_get_more_environments(executor, tmp_path, runtime_dir):
    config = make_function(tmp_path, runtime_dir, "import os, time\ndef handler(e, c):\n    time.sleep(0.5)\n    return os.getpid()\n")
    results = []
    threads = [threading.Thread(target=lambda: results.append(invoke(executor, config))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({r.payload for r in results}) == 3


def test_handler_exception_is_a_lambda_error_payload(executor, tmp_path, runtime_dir):
    config = make_function(tmp_path, runtime_dir, "def handler(e, c):\n    raise KeyError('sku')\n")
    result = invoke(executor, config)
    error = json.loads(result.payload)
    assert result.function_error == "Unhandled"
    assert error["errorType"] == "KeyError" and error["errorMessage"] == "'sku'"
    assert any("app.py" in frame for frame in error["stackTrace"])


@pytest.mark.parametrize("code, error_type, message", [
    ("import not_a_module\ndef handler(e, c): pass\n", "Runtime.ImportModuleError",
     "Unable to import module 'app': No module named 'not_a_module'"),
    ("def handler(e, c)\n    pass\n", "Runtime.UserCodeSyntaxError", "Syntax error in module 'app'"),
    ("def other(e, c): pass\n", "Runtime.HandlerNotFound", "Handler 'handler' missing on module 'app'"),
    ("raise RuntimeError('at import')\n", "RuntimeError", "at import"),
])
def test_init_failures_come_back_as_runtime_errors(executor, tmp_path, runtime_dir, code, error_type, message):
    result = invoke(executor, make_function(tmp_path, runtime_dir, code))
    error = json.loads(result.payload)
    assert result.function_error == "Unhandled"
    assert error["errorType"] == error_type and message in error["errorMessage"]


def test_a_sleeping_handler_is_killed_at_its_timeout(executor, tmp_path, runtime_dir, logs):
    config = make_function(tmp_path, runtime_dir, "import time\ndef handler(e, c):\n    time.sleep(60)\n", timeout=1)
    result = invoke(executor, config)
    assert result.function_error == "Unhandled"
    assert json.loads(result.payload)["errorMessage"].endswith("Task timed out after 1.00 seconds")
    assert "Status: timeout" in logs[-1][1][-1]
    assert json.loads(invoke(executor, make_function(tmp_path, runtime_dir, "def handler(e, c):\n    return 7\n", timeout=1)).payload) == 7


def test_an_endless_import_is_bounded_by_the_timeout(executor, tmp_path, runtime_dir):
    result = invoke(executor, make_function(tmp_path, runtime_dir, "while True:\n    pass\n", timeout=1))
    assert "Task timed out after 1.00 seconds" in json.loads(result.payload)["errorMessage"]


def test_a_result_json_cannot_take_is_a_marshal_error(executor, tmp_path, runtime_dir):
    result = invoke(executor, make_function(tmp_path, runtime_dir, "def handler(e, c):\n    return object()\n"))
    assert json.loads(result.payload)["errorType"] == "Runtime.MarshalError"


def test_an_exiting_handler_is_a_runtime_exit_error(executor, tmp_path, runtime_dir):
    result = invoke(executor, make_function(tmp_path, runtime_dir, "import os\ndef handler(e, c):\n    os._exit(3)\n"))
    error = json.loads(result.payload)
    assert error["errorType"] == "Runtime.ExitError" and "exit status 3" in error["errorMessage"]


def test_the_environment_is_lambdas_not_the_course_venv(executor, tmp_path, runtime_dir):
    code = ("import os, sys\ndef handler(e, c):\n    out = {'path': sys.path, 'env': dict(os.environ)}\n"
            "    for name in ('fastapi', 'moto', 'boto3'):\n"
            "        try:\n            __import__(name); out[name] = True\n"
            "        except ImportError:\n            out[name] = False\n    return out\n")
    seen = json.loads(invoke(executor, make_function(tmp_path, runtime_dir, code, TABLE="t")).payload)
    assert seen["boto3"] is True  # the runtime provides boto3
    assert seen["fastapi"] is False and seen["moto"] is False  # the course's packages are not there
    assert not any("site-packages" in p and ".venv" in p for p in seen["path"])
    env = seen["env"]
    assert env["AWS_ACCESS_KEY_ID"] == "LOCALKEY123456789012" and env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:9"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "fn" and env["TABLE"] == "t" and env["LAMBDA_TASK_ROOT"].endswith("code")


def test_layers_come_before_the_runtime_on_the_path(executor, tmp_path, runtime_dir):
    layer = tmp_path / "layer"
    (layer / "python" / "shop_shared").mkdir(parents=True)
    (layer / "python" / "shop_shared" / "__init__.py").write_text("VERSION = 'from the layer'\n")
    code = "import shop_shared\ndef handler(e, c):\n    return shop_shared.VERSION\n"
    result = invoke(executor, make_function(tmp_path, runtime_dir, code, layers=(str(layer),)))
    assert json.loads(result.payload) == "from the layer"
