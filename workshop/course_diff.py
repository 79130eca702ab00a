"""How two shop trees differ, file by file: for `workshop solution` (yours against the reference)
and `workshop reset` (what a reset puts back)."""

from __future__ import annotations

import difflib
import filecmp
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console, Group
from rich.text import Text

from .tree import is_ignored

LONG = 120  # lines: past this a non-terminal gets a summary, a terminal a pager


@dataclass
class FileChange:
    path: str  # relative to both trees
    kind: str  # "modified" | "only-left" | "only-right"
    lines: list[str] = field(default_factory=list)  # the unified diff, for a modified text file

    @property
    def added(self) -> int:
        return sum(1 for line in self.lines if line.startswith("+") and not line.startswith("+++"))

    @property
    def removed(self) -> int:
        return sum(1 for line in self.lines if line.startswith("-") and not line.startswith("---"))


def _files(root: Path) -> set[Path]:
    if not root.is_dir():
        return set()
    return {p.relative_to(root) for p in root.rglob("*")
            if p.is_file() and not is_ignored(p.relative_to(root))}


def _text(path: Path) -> list[str] | None:
    try:
        return path.read_text().splitlines()
    except (UnicodeDecodeError, OSError):
        return None  # a binary file: named, never dumped


def tree_changes(left: Path, right: Path, left_label: str = "yours", right_label: str = "solution",
                 only: str | None = None) -> list[FileChange]:
    """Every file that differs between two folders (only: one relative path), sorted by path."""
    left_files, right_files = _files(left), _files(right)
    changes = []
    for rel in sorted(left_files | right_files):
        if only is not None and rel.as_posix() != Path(only).as_posix():
            continue
        if rel not in right_files:
            changes.append(FileChange(rel.as_posix(), "only-left"))
        elif rel not in left_files:
            changes.append(FileChange(rel.as_posix(), "only-right"))
        elif not filecmp.cmp(left / rel, right / rel, shallow=False):
            old, new = _text(left / rel), _text(right / rel)
            lines = (list(difflib.unified_diff(old, new, f"{left_label}/{rel.as_posix()}",
                                               f"{right_label}/{rel.as_posix()}", lineterm=""))
                     if old is not None and new is not None else [f"binary files {rel.as_posix()} differ"])
            changes.append(FileChange(rel.as_posix(), "modified", lines))
    return changes


_STYLES = (("+++", "bold"), ("---", "bold"), ("@@", "cyan"), ("+", "green"), ("-", "red"))


def styled(line: str) -> Text:
    for prefix, style in _STYLES:
        if line.startswith(prefix):
            return Text(line, style=style, no_wrap=True, overflow="ignore")
    return Text(line, no_wrap=True, overflow="ignore")


def render(changes: list[FileChange], left_label: str = "yours", right_label: str = "solution") -> list[Text]:
    """Each modified file's diff with +/- prefixes, coloured; files on one side only are listed."""
    out: list[Text] = []
    for change in changes:
        if change.kind == "modified":
            out += [styled(line) for line in change.lines]
    only_right = [c.path for c in changes if c.kind == "only-right"]
    only_left = [c.path for c in changes if c.kind == "only-left"]
    for label, paths, style in ((f"Only in {right_label}:", only_right, "green"), (f"Only in {left_label}:", only_left, "red")):
        if paths:
            out.append(Text(f"{label} ({len(paths)} files)", style=f"bold {style}"))
            out += [Text(f"  {path}", style=style) for path in paths]
    return out


def summary(changes: list[FileChange], left_label: str = "yours", right_label: str = "solution") -> list[Text]:
    """One line per file: what a long diff would have shown, to pick from with --file."""
    marks = {"modified": "~", "only-left": f"only in {left_label}", "only-right": f"only in {right_label}"}
    lines = []
    for change in changes:
        if change.kind == "modified":
            line = Text.assemble(f"  ~ {change.path}  ", (f"+{change.added}", "green"), " ", (f"-{change.removed}", "red"))
        else:
            line = Text(f"  {marks[change.kind]}: {change.path}", style="green" if change.kind == "only-right" else "red")
        lines.append(line)
    return lines


def show(changes: list[FileChange], console: Console, full: bool = False,
         left_label: str = "yours", right_label: str = "solution") -> None:
    """Short diffs printed; long ones paged on a terminal, summarised elsewhere (unless full)."""
    lines = render(changes, left_label, right_label)
    if len(lines) <= LONG or full:
        for line in lines:
            console.print(line, soft_wrap=True)
    elif console.is_terminal:
        with console.pager(styles=True):
            console.print(Group(*lines), soft_wrap=True)
    else:
        console.print(f"{len(changes)} files differ ({len(lines)} lines of diff); per file:")
        for line in summary(changes, left_label, right_label):
            console.print(line, soft_wrap=True)
        console.print("Show one file with --file PATH, or everything with --full.")
