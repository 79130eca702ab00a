"""Bad learner input gives failing checkpoints with a clear message, in bounded time; nothing crashes.

Each case breaks module 01's solution in one way, runs the checkpoints that meet the breakage,
and then proves the local cloud still serves the next check.
"""

from __future__ import annotations

import re
import shutil
import time
import urllib.request
from pathlib import Path

import pytest
from fairness.variants import replace_all_in

from workshop import course
from workshop.grading.runner import run_checks

MODULE = course.module("01")
CART = Path("services/cart")
NAMES_WHAT_TO_CHANGE = re.compile(r"[\w.-]+/[\w./-]+|\w+\.(py|ya?ml|txt)\b|\b(Handler|CodeUri|Timeout|MemorySize|Runtime)\b")
SLOW_LIMIT = 240  # seconds: generous, the machine is shared; the point is "bounded", not "fast"


ADD_TO_CART = CART / "add_to_cart" / "add_to_cart.py"  # the cart's single-purpose functions, each its own folder
GET_CART = CART / "get_cart" / "get_cart.py"


def syntax_error(tree: Path) -> None:
    (tree / ADD_TO_CART).write_text("def handler(event, context)\n    return 1\n")


def import_error(tree: Path) -> None:
    source = tree / ADD_TO_CART
    source.write_text("import a_module_nobody_wrote\n" + source.read_text())


def short_timeout(tree: Path) -> None:
    """A learner's own choice of Timeout: a loop burns a core until it, so the endless cases wait 3 s, not 10."""
    replace_all_in(tree / CART / "template.yaml", "Timeout: 10", "Timeout: 3")


def endless_handler(tree: Path) -> None:
    short_timeout(tree)
    replace_all_in(tree / GET_CART, "def handler(event, context):", "def handler(event, context):\n    while True:\n        pass")


def endless_import(tree: Path) -> None:
    short_timeout(tree)
    source = tree / GET_CART
    source.write_text("while True:\n    pass\n" + source.read_text())


def returns_none(tree: Path) -> None:
    source = tree / GET_CART
    source.write_text(source.read_text() + "\n\ndef handler(event, context):\n    return None\n")


def returns_garbage(tree: Path) -> None:
    source = tree / GET_CART
    source.write_text(source.read_text() + "\n\ndef handler(event, context):\n    return {1, 2}\n")


def wrong_status_shape(tree: Path) -> None:
    source = tree / GET_CART
    source.write_text(source.read_text() + "\n\ndef handler(event, context):\n    return {'status': 200, 'text': 'ok'}\n")


def invalid_yaml(tree: Path) -> None:
    (tree / CART / "template.yaml").write_text("Resources: [this is: not, {valid\n")


def missing_code_uri(tree: Path) -> None:
    shutil.rmtree(tree / GET_CART.parent)


def huge_package(tree: Path) -> None:
    with open(tree / GET_CART.parent / "weights.bin", "wb") as blob:
        blob.truncate(300 * 1024 * 1024)  # sparse: 300 MB to Lambda, nothing to this disk


CASES = {
    # case: (break it, checkpoints to run, words the message must hold)
    "syntax error in a handler": (syntax_error, ["01.6"], "Syntax error"),
    "import error at init": (import_error, ["01.6"], "a_module_nobody_wrote"),
    "endless loop in the handler": (endless_handler, ["01.6"], "timed out"),
    "endless loop at import": (endless_import, ["01.6"], "timed out"),
    "handler returns None": (returns_none, ["01.6"], "502"),
    "handler returns what JSON cannot take": (returns_garbage, ["01.6"], "502"),
    "handler returns the wrong shape": (wrong_status_shape, ["01.6"], "502"),
    "invalid YAML template": (invalid_yaml, ["01.1", "01.6"], "not valid YAML"),
    "CodeUri that does not exist": (missing_code_uri, ["01.1", "01.6"], "does not exist"),
    "a 300 MB package": (huge_package, ["01.1", "01.6"], "unzipped size must be smaller"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_fails_clearly_and_the_cloud_survives(case, cloud, tmp_path):
    breakage, checkpoints, words = CASES[case]
    tree = tmp_path / "shop"
    shutil.copytree(MODULE.solution, tree, ignore=shutil.ignore_patterns("__pycache__"))
    breakage(tree)
    started = time.monotonic()
    run = run_checks(MODULE, tree, cloud_url=cloud.url, stack_prefix=f"bad-{abs(hash(case)) % 10**6}", only=checkpoints)
    elapsed = time.monotonic() - started
    assert elapsed < SLOW_LIMIT
    assert run.error is None and run.exit_code == 1, (run.error, [(v.id, v.status, v.message) for v in run.verdicts])
    failed = [v for v in run.verdicts if v.status == "fail"]
    assert failed, [(v.id, v.status) for v in run.verdicts]
    said = [v.message for v in failed] + list(run.deploy_errors.values())
    assert any(words in message for message in said), said
    for error in run.deploy_errors.values():  # a deploy error is reported once, at the top, not per checkpoint
        assert not any(error in v.message for v in run.verdicts)
    assert all("Traceback" not in v.message for v in run.verdicts)
    advice = [line for v in failed for line in v.message.splitlines() if line.startswith("→")]
    assert advice and all(NAMES_WHAT_TO_CHANGE.search(line) for line in advice), advice  # a file or a setting
    with urllib.request.urlopen(cloud.url + "/_workshop/health", timeout=5) as health:
        assert health.status == 200


def test_a_missing_module_folder_is_a_check_that_could_not_run(cloud, tmp_path):
    run = run_checks(MODULE, tmp_path / "nowhere", cloud_url=cloud.url)
    assert run.exit_code == 2 and "does not exist" in run.error and "workshop start 01" in run.error
