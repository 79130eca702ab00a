"""The runtime's logs: errors at init and in the handler are logged as the Lambda Python runtime logs them.

AWS documents (https://docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html) that the
runtime logs an error as `[ERROR] Type: message` followed by its traceback, and
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html, "Failures during
the Init phase") that a failed init is reported as `INIT_REPORT Init Duration: N ms  Phase: init
Status: error  Error Type: T` (or `Status: timeout`). The exact shape follows the runtime interface
client Lambda runs (awslambdaric's bootstrap: log_error, _get_handler, build_fault_result): one
log event, `Traceback (most recent call last):`, frames with no-break-space indentation, the
runtime's own frames left out; only an ImportError becomes Runtime.ImportModuleError (with no
frames); any other exception raised at import keeps its own type and traceback.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workshop.localcloud.functions import FunctionResolver
from workshop.localcloud.lambda_executor import FunctionConfig, LambdaExecutor

NBSP = "\u00a0"


@pytest.fixture(scope="module")
def runtime_dir(tmp_path_factory) -> str:
    return FunctionResolver(tmp_path_factory.mktemp("state"), "http://127.0.0.1:9").runtime_dir


@pytest.fixture
def logs():
    return []


@pytest.fixture
def executor(logs):
    ex = LambdaExecutor(lambda config, stream, lines: logs.extend(lines))
    yield ex
    ex.close()


def function(tmp_path: Path, runtime_dir: str, code: str, timeout: int = 3) -> FunctionConfig:
    (tmp_path / "app.py").write_text(code)
    return FunctionConfig(
        name="fn", arn="arn:aws:lambda:us-east-1:123456789012:function:fn", handler="app.handler",
        code_dir=str(tmp_path), layer_dirs=(), runtime_dir=runtime_dir, timeout=timeout, memory_size=128,
        environment=(), account_id="123456789012", region="us-east-1", endpoint_url="http://127.0.0.1:9")


def call(executor, config) -> dict:
    return json.loads(executor.invoke(config, b"{}").payload)


def only(lines: list[str], prefix: str) -> list[str]:
    return [line for line in lines if line.startswith(prefix)]


def test_a_key_error_at_import_is_logged_with_its_traceback_and_an_init_report(executor, logs, tmp_path, runtime_dir):
    config = function(tmp_path, runtime_dir, "import os\nTABLE = os.environ['TABLE']\ndef handler(e, c):\n    return 1\n")
    error = call(executor, config)
    assert error["errorType"] == "KeyError" and error["errorMessage"] == "'TABLE'"  # not Runtime.ImportModuleError
    [event] = only(logs, "[ERROR]")
    lines = event.split("\n")
    assert lines[0] == "[ERROR] KeyError: 'TABLE'" and lines[1] == "Traceback (most recent call last):"
    assert any(line.startswith(f'{NBSP * 2}File "{tmp_path / "app.py"}", line 2, in <module>') for line in lines)
    assert not any("bootstrap.py" in line for line in lines)
    assert only(logs, "[WARNING]")[0].endswith("https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html")
    [init_report] = only(logs, "INIT_REPORT")
    assert init_report.startswith("INIT_REPORT Init Duration: ")
    assert init_report.endswith(" ms\tPhase: init\tStatus: error\tError Type: KeyError")
    [report] = only(logs, "REPORT")
    assert report.endswith("\tStatus: error\tError Type: KeyError") and "Init Duration" not in report
    assert logs.index(init_report) < logs.index(only(logs, "START")[0])  # init comes before the invocation
    call(executor, config)
    assert len(only(logs, "INIT_REPORT")) == 2  # the runtime exited: the next call initialises again


def test_an_import_error_is_runtime_import_module_error_with_no_frames(executor, logs, tmp_path, runtime_dir):
    error = call(executor, function(tmp_path, runtime_dir, "import not_installed\ndef handler(e, c):\n    pass\n"))
    assert error["errorType"] == "Runtime.ImportModuleError" and error["stackTrace"] == []
    assert error["errorMessage"] == "Unable to import module 'app': No module named 'not_installed'"
    [event] = only(logs, "[ERROR]")
    assert event == ("[ERROR] Runtime.ImportModuleError: Unable to import module 'app': No module named "
                     "'not_installed'\nTraceback (most recent call last):")
    assert only(logs, "INIT_REPORT")[0].endswith("Error Type: Runtime.ImportModuleError")


def test_a_handler_error_is_one_event_with_the_handlers_frames(executor, logs, tmp_path, runtime_dir):
    error = call(executor, function(tmp_path, runtime_dir, "def handler(e, c):\n    raise ValueError('bad sku')\n"))
    assert error["errorType"] == "ValueError" and error["requestId"]
    assert not any("bootstrap.py" in frame for frame in error["stackTrace"])
    [event] = only(logs, "[ERROR]")
    lines = event.split("\n")
    assert lines[:2] == ["[ERROR] ValueError: bad sku", "Traceback (most recent call last):"]
    assert lines[2].startswith(f'{NBSP * 2}File "{tmp_path / "app.py"}", line 2, in handler')
    assert lines[3] == f"{NBSP * 4}raise ValueError('bad sku')"
    assert not only(logs, "INIT_REPORT") and "Status" not in only(logs, "REPORT")[0]


def test_an_init_that_outlives_the_timeout_is_reported_as_a_timeout(executor, logs, tmp_path, runtime_dir):
    call(executor, function(tmp_path, runtime_dir, "while True:\n    pass\n", timeout=1))
    assert only(logs, "INIT_REPORT") == ["INIT_REPORT Init Duration: 1000.00 ms\tPhase: init\tStatus: timeout"]


@pytest.mark.parametrize("handler, error_type, message", [
    ("handler", "Runtime.MalformedHandlerName", "Bad handler 'handler': not enough values to unpack (expected 2, got 1)"),
    ("sys.handler", "Runtime.BuiltInModuleConflict", "Cannot use built-in module sys as a handler module"),
])
def test_a_handler_setting_the_runtime_refuses_is_named_as_it_names_it(executor, tmp_path, runtime_dir,
                                                                       handler, error_type, message):
    import dataclasses

    config = dataclasses.replace(function(tmp_path, runtime_dir, "def handler(e, c):\n    return 1\n"), handler=handler)
    error = call(executor, config)
    assert (error["errorType"], error["errorMessage"], error["stackTrace"]) == (error_type, message, [])
