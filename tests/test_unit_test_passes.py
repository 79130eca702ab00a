"""checks/support.UnitTests: a service folder's unit tests, not re-run for a folder that passed as it is."""

from __future__ import annotations

from checks.support import UnitTests, folder_digest


def service(tmp_path, body: str):
    folder = tmp_path / "svc"
    (folder / "tests").mkdir(parents=True, exist_ok=True)
    (folder / "tests" / "test_it.py").write_text(
        f"import pathlib\ndef test_it():\n    pathlib.Path({str(tmp_path / 'runs')!r}).open('a').write('x')\n    {body}\n")
    return folder


def runs(tmp_path) -> int:
    marker = tmp_path / "runs"
    return len(marker.read_text()) if marker.exists() else 0


def test_a_folder_that_passed_is_not_run_again_until_a_byte_changes(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKSHOP_STATE", str(tmp_path / "state"))
    folder = service(tmp_path, "assert True")
    assert UnitTests(folder).result(120)[0] == 0
    again = UnitTests(folder)
    assert again.remembered and again.result(120)[0] == 0 and runs(tmp_path) == 1
    (folder / "tests" / "__pycache__").mkdir()
    (folder / "tests" / "__pycache__" / "x.pyc").write_bytes(b"noise")  # not part of the service
    assert UnitTests(folder).remembered
    (folder / "src.py").write_text("# one more file\n")
    assert UnitTests(folder).result(120)[0] == 0 and runs(tmp_path) == 2


def test_a_failing_folder_runs_every_time(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKSHOP_STATE", str(tmp_path / "state"))
    folder = service(tmp_path, "assert False, 'boom'")
    code, output = UnitTests(folder).result(120)
    assert code == 1 and "boom" in output
    assert UnitTests(folder).result(120)[0] == 1 and runs(tmp_path) == 2


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
