"""`workshop urls NN`: each stack of a workspace with its ApiUrl and other outputs, on either target."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from .deploy.local import StackInfo


def default_prefix(workspace_name: str, real_account: bool) -> str:
    """The prefix a check deploys a workspace under (local), or the README's `me` (a real account)."""
    return "me" if real_account else "ws-" + workspace_name.lower()[:40]


def api_url(info: StackInfo) -> str | None:
    """The stack's ApiUrl output, else the first output that is an execute-api URL."""
    if "ApiUrl" in info.outputs:
        return info.outputs["ApiUrl"]
    return next((v for v in info.outputs.values() if "execute-api" in v), None)


def urls_table(stacks: dict[str, StackInfo], title: str) -> Table:
    grid = Table(title=title, show_lines=True)
    grid.add_column("stack", no_wrap=True)
    grid.add_column("ApiUrl", no_wrap=True, style="bold cyan")
    grid.add_column("other outputs")
    for name in sorted(stacks):
        info = stacks[name]
        url = api_url(info)
        others = "\n".join(f"{k} = {v}" for k, v in sorted(info.outputs.items()) if v != url)
        grid.add_row(name, url or "—", others or "—")
    return grid


def print_urls(stacks: dict[str, StackInfo], console: Console, title: str) -> None:
    console.print(urls_table(stacks, title), soft_wrap=True)
