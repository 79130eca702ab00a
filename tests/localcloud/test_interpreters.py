"""Code built by `sam build` for another CPython runs on that CPython, when this machine has it."""

from __future__ import annotations

import sys

from workshop.localcloud import interpreters


def test_pure_python_code_and_code_built_for_us_run_on_our_interpreter(tmp_path):
    (tmp_path / "pure").mkdir()
    (tmp_path / "pure" / "app.py").write_text("x = 1\n")
    ours = tmp_path / "ours" / "pkg"
    ours.mkdir(parents=True)
    (ours / f"_speed.cpython-3{sys.version_info.minor}-x86_64-linux-gnu.so").write_bytes(b"")
    assert interpreters.interpreter_for((str(tmp_path / "pure"),)) == (sys.executable, interpreters.CURRENT)
    assert interpreters.compiled_for(str(tmp_path / "ours")) == interpreters.CURRENT
    assert interpreters.interpreter_for((str(tmp_path / "ours"),))[0] == sys.executable


def test_code_built_for_a_cpython_this_machine_lacks_stays_on_ours(tmp_path, monkeypatch):
    """It then fails to import, as on a Lambda runtime it was not built for (Runtime.ImportModuleError)."""
    built = tmp_path / "built" / "pydantic_core"
    built.mkdir(parents=True)
    (built / "_pydantic_core.cpython-399-x86_64-linux-gnu.so").write_bytes(b"")
    assert interpreters.compiled_for(str(tmp_path / "built")) == "3.99"
    assert interpreters.interpreter_for((str(tmp_path / "built"),)) == (sys.executable, interpreters.CURRENT)


def test_a_pyenv_shim_that_is_not_switched_on_is_not_an_interpreter(tmp_path, monkeypatch):
    shim = tmp_path / "python3.98"
    shim.write_text("#!/bin/sh\necho 'pyenv: python3.98: command not found' >&2\nexit 127\n")
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))
    assert interpreters.find("3.98") is None
