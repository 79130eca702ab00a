"""Execution environments' lifecycle: stopped when their function changes, capped across the cloud.

Lambda: "Lambda ... might reuse the execution environment from a previous invocation" while the
function is unchanged; an update means new environments
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html), and idle ones
are reclaimed. Here a cap on warm environments, in number and memory, stands in for that.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from workshop.localcloud.functions import FunctionResolver
from workshop.localcloud.lambda_executor import FunctionConfig, LambdaExecutor

PID_CODE = "import os\nPID = os.getpid()\ndef handler(e, c):\n    return PID\n"


@pytest.fixture(scope="module")
def runtime_dir(tmp_path_factory) -> str:
    return FunctionResolver(tmp_path_factory.mktemp("state"), "http://127.0.0.1:9").runtime_dir


def invoke(executor, config):
    return executor.invoke(config, b"{}")


def make_function(folder, runtime_dir, code, name="fn") -> FunctionConfig:
    (folder / "app.py").write_text(code)
    return FunctionConfig(
        name=name, arn=f"arn:aws:lambda:us-east-1:123456789012:function:{name}", handler="app.handler",
        code_dir=str(folder), layer_dirs=(), runtime_dir=runtime_dir, timeout=10, memory_size=128,
        environment=(), account_id="123456789012", region="us-east-1", endpoint_url="http://127.0.0.1:9")


def pid_of(result) -> int:
    return int(result.payload)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a stopped child may linger as a zombie until reaped
        return stat.read().split()[2] != "Z"


def functions(tmp_path, runtime_dir, count):
    made = []
    for index in range(count):
        folder = tmp_path / f"f{index}"
        folder.mkdir()
        made.append(make_function(folder, runtime_dir, PID_CODE, name=f"fn{index}"))
    return made


def test_a_retired_function_stops_its_warm_environment_and_the_next_call_starts_anew(tmp_path, runtime_dir):
    executor = LambdaExecutor(lambda *_: None)
    try:
        config = make_function(tmp_path, runtime_dir, PID_CODE)
        first = pid_of(invoke(executor, config))
        assert pid_of(invoke(executor, config)) == first  # warm while unchanged
        executor.retire(config.account_id, config.region, config.name)
        assert not alive(first)  # at once, not at the idle timeout
        assert pid_of(invoke(executor, config)) != first
    finally:
        executor.close()


def test_past_the_count_cap_the_least_recently_used_environment_stops(tmp_path, runtime_dir):
    executor = LambdaExecutor(lambda *_: None, max_warm=2)
    try:
        a, b, c = functions(tmp_path, runtime_dir, 3)
        pid_a, pid_b = pid_of(invoke(executor, a)), pid_of(invoke(executor, b))
        assert pid_of(invoke(executor, a)) == pid_a  # a is now the most recently used
        pid_c = pid_of(invoke(executor, c))
        assert not alive(pid_b) and alive(pid_a) and alive(pid_c)
        assert len(executor.warm_environments()) == 2
    finally:
        executor.close()


def test_past_the_memory_cap_idle_environments_stop(tmp_path, runtime_dir):
    executor = LambdaExecutor(lambda *_: None, max_warm=10, max_warm_mb=1)
    try:
        a, b = functions(tmp_path, runtime_dir, 2)
        pid_a = pid_of(invoke(executor, a))
        pid_b = pid_of(invoke(executor, b))
        assert not alive(pid_a) and not alive(pid_b)  # a Python process alone is more than 1 MB
        assert executor.warm_environments() == []
    finally:
        executor.close()


def test_the_caps_come_from_environment_variables():
    code = "from workshop.localcloud import lambda_executor as e; print(e.MAX_WARM_ENVIRONMENTS, e.MAX_WARM_MEMORY_MB)"
    env = {**os.environ, "WORKSHOP_LAMBDA_MAX_WARM": "7", "WORKSHOP_LAMBDA_MAX_WARM_MB": "123"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["7", "123"]


def test_moto_updates_and_deletes_functions_through_the_methods_patches_environments_wraps():
    # patches/environments.py hears of updates and deletes only through these (moto 5.2.5)
    import inspect

    from moto.awslambda import models

    update = inspect.getsource(models.LambdaFunction.update_from_cloudformation_json)
    assert "update_configuration(" in update and "update_function_code(" in update
    assert "delete_function(" in inspect.getsource(models.LambdaFunction.delete)
    assert list(inspect.signature(models.LambdaBackend.delete_function).parameters) == ["self", "function_name", "qualifier"]
