"""The local deploy keeps each code zip under a digest of what goes in it."""

from __future__ import annotations

from workshop.deploy import package


def test_a_zip_is_made_once_for_the_same_files_and_again_when_one_changes(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKSHOP_STATE", str(tmp_path / "state"))
    monkeypatch.delenv("WORKSHOP_KEPT", raising=False)  # a store of its own, not the suite's
    code = tmp_path / "src"
    code.mkdir()
    (code / "app.py").write_text("def handler(event, context):\n    return 1\n")
    made = []
    original = package._zip
    monkeypatch.setattr(package, "_zip", lambda entries: made.append(entries) or original(entries))

    first = package._build("Fn", code, with_requirements=False)
    again = package._build("Fn", code, with_requirements=False)
    assert len(made) == 1 and again.data == first.data and again.key == first.key
    assert again.data == original(package._files(code))  # what the store gives is what a zip would be

    (code / "app.py").write_text("def handler(event, context):\n    return 2\n")
    changed = package._build("Fn", code, with_requirements=False)
    assert len(made) == 2 and changed.key != first.key
    (code / "extra.py").write_text("X = 1\n")
    assert package._build("Fn", code, with_requirements=False).files == 2 and len(made) == 3
