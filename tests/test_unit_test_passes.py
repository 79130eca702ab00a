"""workshop.unit_tests: a project's unit tests, not run again on the very bytes that passed."""

from __future__ import annotations

import pytest

from checks.support import unit_tests
from workshop.unit_tests import UnitTestRun, folder_digest


@pytest.fixture(autouse=True)
def state(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKSHOP_STATE", str(tmp_path / "state"))
    monkeypatch.delenv("WORKSHOP_KEPT", raising=False)  # a store of its own, not the suite's


def service(where, body: str, runs_to=None):
    """A service folder whose one test appends to a file (under where, unless runs_to says) each time it runs."""
    folder = where / "svc"
    (folder / "tests").mkdir(parents=True, exist_ok=True)
    (folder / "tests" / "test_it.py").write_text(
        f"import pathlib\ndef test_it():\n    pathlib.Path({str(runs_to or where / 'runs')!r}).open('a').write('x')\n"
        f"    {body}\n")
    return folder


def runs(tmp_path) -> int:
    marker = tmp_path / "runs"
    return len(marker.read_text()) if marker.exists() else 0


def test_a_folder_that_passed_is_not_run_again_until_what_it_read_changes(tmp_path):
    folder = service(tmp_path, "assert True")
    assert unit_tests(folder).result(120)[0] == 0
    again = unit_tests(folder)
    assert again.remembered and again.result(120)[0] == 0 and runs(tmp_path) == 1
    (folder / "tests" / "__pycache__").mkdir()
    (folder / "tests" / "__pycache__" / "x.pyc").write_bytes(b"noise")  # derived, not the service's
    assert unit_tests(folder).remembered
    (folder / "tests" / "test_more.py").write_text("def test_more():\n    pass\n")  # collection sees it
    assert unit_tests(folder).result(120)[0] == 0 and runs(tmp_path) == 2


def test_a_failing_folder_runs_every_time(tmp_path):
    folder = service(tmp_path, "assert False, 'boom'")
    code, output = unit_tests(folder).result(120)
    assert code == 1 and "boom" in output
    assert unit_tests(folder).result(120)[0] == 1 and runs(tmp_path) == 2


def repository(tmp_path, name: str):
    """A service whose tests import the repository's shared layer from outside the service folder."""
    root = tmp_path / name
    layer = root / "layers" / "shared"
    layer.mkdir(parents=True)
    (layer / "shared.py").write_text("ANSWER = 42\n")
    folder = service(root, "import shared; assert shared.ANSWER == 42", runs_to=tmp_path / "runs")
    (folder / "tests" / "conftest.py").write_text(
        "import pathlib, sys\nsys.path.insert(0, str(pathlib.Path(__file__).parents[2] / 'layers' / 'shared'))\n")
    (root / ".github").mkdir()
    (root / ".github" / "deploy.yml").write_text("jobs: {}\n")
    return root, folder


def run_tests(root, folder, env=None) -> UnitTestRun:
    return UnitTestRun(["-m", "pytest", "-q", "-p", "no:cacheprovider"], folder, root, key_env=env)


def test_what_a_run_reads_outside_its_folder_counts_and_nothing_else_does(tmp_path):
    root, folder = repository(tmp_path, "repo")
    assert run_tests(root, folder).result(120)[0] == 0 and runs(tmp_path) == 1
    (root / ".github" / "deploy.yml").write_text("jobs: {changed: {}}\n")  # never read by the tests
    assert run_tests(root, folder).remembered
    (root / "layers" / "shared" / "shared.py").write_text("ANSWER = 41\n")  # imported by the tests
    again = run_tests(root, folder)
    assert not again.remembered and again.result(120)[0] == 1


def test_a_copy_of_the_same_tree_elsewhere_is_recognised_but_not_with_another_environment(tmp_path):
    root, folder = repository(tmp_path, "one")
    assert run_tests(root, folder).result(120)[0] == 0
    other_root, other_folder = repository(tmp_path, "two")
    assert run_tests(other_root, other_folder).remembered
    assert not run_tests(other_root, other_folder, env={"STAGE": "prod"}).remembered


def test_the_digest_is_of_contents_not_of_where_the_folder_is(tmp_path):
    a, b = tmp_path / "a" / "svc", tmp_path / "b" / "svc"
    for folder in (a, b):
        folder.mkdir(parents=True)
        (folder / "app.py").write_text("X = 1\n")
    assert folder_digest(a) == folder_digest(b)
    (b / "app.py").write_text("X = 2\n")
    assert folder_digest(a) != folder_digest(b)


def test_a_link_counts_as_where_it_points_not_as_what_it_reaches(tmp_path):
    folder = tmp_path / "svc"
    folder.mkdir()
    (tmp_path / "outside.py").write_text("X = 1\n")
    (folder / "shared.py").symlink_to(tmp_path / "outside.py")
    before = folder_digest(folder)
    (tmp_path / "outside.py").unlink()  # the link now leads nowhere: the same folder, byte for byte
    assert folder_digest(folder) == before
    (folder / "shared.py").unlink()
    (folder / "shared.py").symlink_to(tmp_path / "elsewhere.py")
    assert folder_digest(folder) != before
