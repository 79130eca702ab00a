"""Which Python runs a function: the CPython its compiled modules were built for, when it differs.

`workshop deploy` packages dependencies from the course's own environment, so they suit the
course's interpreter. `sam build` packages wheels for the template's runtime (cp312 for
python3.12), whatever Python runs the local cloud: a compiled module such as pydantic_core's
then loads only in that CPython. So code whose extension modules name another CPython runs on
that CPython when this machine has it (`pythonX.Y` on PATH, or a pyenv version), and otherwise
on ours, where it fails to import as it would on a runtime it was not built for.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

CURRENT = f"{sys.version_info.major}.{sys.version_info.minor}"
_EXTENSION = re.compile(r"\.cpython-3(\d+)[a-z]*-[^/]*\.so$")


@functools.lru_cache(maxsize=256)  # folders are unpacked once per code hash and never change
def compiled_for(folder: str) -> str | None:
    """The CPython version ("3.12") the extension modules under folder were built for, if any."""
    for _, _, files in os.walk(folder):
        for name in files:
            match = _EXTENSION.search(name)
            if match:
                return f"3.{match.group(1)}"
    return None


def _candidates(version: str):
    found = shutil.which(f"python{version}")
    if found:
        yield found
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    yield from (str(p) for p in sorted(pyenv.glob(f"{version}*/bin/python{version}"), reverse=True))


@functools.lru_cache(maxsize=8)
def find(version: str) -> str | None:
    """A working `python{version}` on this machine (a pyenv shim that is not switched on does not count)."""
    for candidate in _candidates(version):
        try:
            said = subprocess.run([candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                                  capture_output=True, text=True, timeout=20).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            continue
        if said == version:
            return candidate
    return None


def interpreter_for(folders: tuple[str, ...]) -> tuple[str, str]:
    """(executable, "X.Y") to run code made of these folders."""
    for folder in folders:
        version = compiled_for(folder)
        if version and version != CURRENT:
            executable = find(version)
            if executable:
                return executable, version
            break
    return sys.executable, CURRENT
