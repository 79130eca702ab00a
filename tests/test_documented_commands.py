"""Every `workshop ...` command that README.md (the learner's path) and docs/troubleshooting.md
show is run here, in a workspace of its own with the reference solution, and every line of
output those pages quote is asserted: a page cannot promise output the tool does not print."""

from __future__ import annotations

import re
import shlex
import shutil

import pytest
from typer.testing import CliRunner

from workshop import course
from workshop.cli import app
from workshop.localcloud import control

runner = CliRunner()
README = course.ROOT / "README.md"
TROUBLESHOOTING = course.ROOT / "docs" / "troubleshooting.md"
MODULE = course.module("01")

# Commands a page shows that cannot run as written in a test: why, each.
NOT_RUN = {
    "workshop check": "the command in general, with no module: every `workshop check NN` is run",
    "workshop deploy": "the command in general: deploying a template has tests of its own",
}
FOLLOW = " --follow"  # runs until Ctrl-C: run here without it (the lines it prints first are the same)
# (page, command, a line of output the page quotes)
QUOTED = [
    (README, "workshop check 01", "All checkpoints of module 01 pass."),
    (TROUBLESHOOTING, "workshop check 01", "Start with 01.1: Each service has its own template and stack."),
    (TROUBLESHOOTING, "workshop check 01", "Did not deploy: services/cart/template.yaml: "),
    (TROUBLESHOOTING, "workshop check 01",
     "services/cart/template.yaml:14: Ref CartTabel: no parameter or resource of that name in this template"),
]


def fenced_commands(text: str) -> list[str]:
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.S):
        for line in block.splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith("workshop "):
                commands.append(line)
    return commands


def inline_commands(text: str) -> list[str]:
    return [c for c in re.findall(r"`(workshop [^`]+)`", text) if "NN" not in c and "PATH" not in c and "REPO" not in c]


def learners_path() -> str:
    text = README.read_text()
    return text.split("## The learner's path", 1)[1].split("\n## ", 1)[0]



@pytest.fixture
def learner(tmp_path, monkeypatch):
    """A learner's checkout: workspace and state of its own (its own local cloud, stopped after)."""
    monkeypatch.setenv("WORKSHOP_WORKSPACE", str(tmp_path / "workspace"))
    monkeypatch.setenv("WORKSHOP_STATE", str(tmp_path / "state"))
    yield tmp_path
    control.down(tmp_path / "state" / "cloud")


def run(command: str, stdin: str = "") -> tuple[int, str]:
    args = shlex.split(command)[1:]
    if args[0] == "watch":
        args.append("--manual-run")  # checks once, then stops at the end of input instead of watching files
    result = runner.invoke(app, args, input=stdin, env={"COLUMNS": "200"})
    return result.exit_code, result.output


def use_solution(number: str) -> None:
    m = course.module(number)
    shutil.rmtree(m.workspace(), ignore_errors=True)
    shutil.copytree(m.solution, m.workspace(), ignore=shutil.ignore_patterns("__pycache__", ".aws-sam"))


def test_every_line_the_tests_quote_stands_on_its_page():
    for page, _command, line in QUOTED:
        assert line.rstrip(": ") in " ".join(page.read_text().split()), (page.name, line)


class Session:
    """The commands run so far and what each printed."""

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}

    def expect(self, command: str, codes: tuple[int, ...], stdin: str = "", key: str | None = None) -> str:
        code, output = run(command, stdin)
        assert code in codes, (command, code, output[-2000:])
        self.seen[key or command] = self.seen.get(key or command, "") + output
        return output


@pytest.mark.slow
def test_the_readme_learners_path_runs_and_prints_what_the_pages_quote(learner):
    shown = fenced_commands(learners_path())
    assert "workshop check 01" in shown and "workshop logs 01" in shown and "workshop urls 01" in shown
    session = Session()
    seen, expect = session.seen, session.expect

    # README, the learner's path, in its order: the first check meets the start's failures
    for command in shown:
        if command == "workshop start 01":
            expect(command, (0,))
        elif command == "workshop check 01":
            expect(command, (1,), key="start check")
            use_solution("01")  # ...and the learner does the module
            expect(command, (0,))
        elif command == "workshop pipeline 06":
            use_solution("06")
            expect(command, (0,))
        elif command in ("workshop solution 01", "workshop reset 01"):
            expect(command, (0,), stdin="y\n")  # each asks first
        else:
            expect(command, (0,))
    assert "Start with 01.1:" in seen["start check"]
    assert "REPORT RequestId" in seen["workshop logs 01"] and "START RequestId" in seen["workshop logs 01"]
    assert "ApiUrl" in seen["workshop urls 01"] and "/_aws/execute-api/" in seen["workshop urls 01"]
    assert "Hint 1/" in seen["workshop hint 01"]
    assert "Monthly cost" in seen["workshop cost 01"] and "API Gateway" in seen["workshop cost 01"]  # a line per service
    assert "Cleared the recorded progress of module 01" in seen["workshop reset 01"]
    for _page, command, line in QUOTED:
        if "All checkpoints" in line:
            assert line in seen[command]
        elif "Start with" in line:
            assert line in seen["start check"]


@pytest.mark.slow
def test_the_troubleshooting_page_commands_run_and_print_what_it_quotes(learner):
    """docs/troubleshooting.md: its commands, on the reference solution, in a checkout of their own."""
    session = Session()
    seen, expect = session.seen, session.expect
    troubleshooting = TROUBLESHOOTING.read_text()
    use_solution("01")
    for command in fenced_commands(troubleshooting):
        expect(command, (0,), key=f"troubleshooting: {command}")
    for command in dict.fromkeys(inline_commands(troubleshooting)):
        if command in NOT_RUN:
            continue
        codes = (0, 1) if "--target aws" in command or command.startswith("workshop cloud") else (0,)
        output = expect(command.replace(FOLLOW, ""), codes, key=f"troubleshooting: {command}")
        if command.startswith("workshop logs 01 ") and "--since" in command:
            assert "REPORT RequestId" in output and "ProductsFunction" not in output, output  # the cart's only
    assert "local cloud stopped" in seen["troubleshooting: workshop cloud down"]
    cart = MODULE.workspace() / "services" / "cart" / "template.yaml"
    lines = cart.read_text().splitlines()
    assert lines[13].strip() == "CART_TABLE: !Ref CartTable", "the page quotes line 14 of the cart template"
    cart.write_text(cart.read_text().replace("CART_TABLE: !Ref CartTable", "CART_TABLE: !Ref CartTabel", 1))
    broken = expect("workshop check 01 --only 01.1", (1,))
    unwrapped = " ".join(broken.split())  # the terminal wraps long lines at its width
    for _, _, line in QUOTED:
        if "services/cart/template.yaml" in line:
            assert " ".join(line.split()) in unwrapped, broken
    assert unwrapped.count("Ref CartTabel") == 1  # shown once, not under each checkpoint
    assert not set(NOT_RUN) - set(inline_commands(troubleshooting)), "NOT_RUN names a command the page no longer shows"
