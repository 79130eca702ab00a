"""The shell commands of a workflow step, and their options, as the programs would read them."""

from __future__ import annotations

import shlex

SEPARATORS = ("&&", "||", ";", "|")


def split_script(script: str) -> list[list[str]]:
    """The commands of a `run:` script, as argument lists (line continuations joined)."""
    commands = []
    for line in script.replace("\\\n", " ").splitlines():
        try:
            tokens = shlex.split(line, comments=True)
        except ValueError:
            continue
        current: list[str] = []
        for token in tokens:
            if token in SEPARATORS:
                if current:
                    commands.append(current)
                current = []
            else:
                current.append(token)
        if current:
            commands.append(current)
    return commands


def option(command: list[str], *names: str) -> str | None:
    """The value of the first of `names` (`--name value` or `--name=value`)."""
    for index, token in enumerate(command):
        for name in names:
            if token == name and index + 1 < len(command):
                return command[index + 1]
            if token.startswith(name + "="):
                return token.split("=", 1)[1]
    return None


def option_values(command: list[str], name: str) -> list[str] | None:
    """All the values after `name` up to the next option (sam's --parameter-overrides A=1 B=2)."""
    for index, token in enumerate(command):
        if token == name:
            values = []
            for value in command[index + 1:]:
                if value.startswith("--"):
                    break
                values.append(value)
            return values
        if token.startswith(name + "="):
            return [token.split("=", 1)[1]]
    return None


def python_command(command: list[str]) -> list[str] | None:
    """The arguments after the interpreter when the command runs Python code the dry run can run:
    `pytest ...`, `python -m pytest ...`, `python script.py ...`; None for anything else."""
    if not command:
        return None
    program = command[0].rsplit("/", 1)[-1]
    if program in ("pytest", "py.test"):
        return ["-m", "pytest", *command[1:]]
    if program.startswith("python") and len(command) > 1 and (command[1:3] == ["-m", "pytest"] or command[1].endswith(".py")):
        return command[1:]
    return None


def is_pytest(arguments: list[str]) -> bool:
    return arguments[:2] == ["-m", "pytest"]
