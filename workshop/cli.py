"""The `workshop` command: start a module, check it, get hints, grade a class, run the local cloud."""

from __future__ import annotations

import difflib
import filecmp
import shutil
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from . import course
from .course import CourseError, Progress

app = typer.Typer(help="Serverless at Scale: six modules on one shop, checked on a local AWS or your own account.",
                  no_args_is_help=True, add_completion=False)
cloud_app = typer.Typer(help="The embedded local AWS (no account, no Docker).", no_args_is_help=True)
app.add_typer(cloud_app, name="cloud")
console = Console()
err = Console(stderr=True)

Target = typer.Option("local", "--target", "-t", help="local (embedded AWS) or aws (your account)")


def _module(number: str) -> course.Module:
    try:
        return course.module(number)
    except CourseError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2)


def _cloud_url() -> str:
    from .localcloud import control
    with console.status("Starting the local cloud…"):
        info, started = control.up()
    if started:
        console.print(f"[dim]local cloud started on {info.url} (stop it with `workshop cloud down`)[/]")
    return info.url


# -- the learner's path ----------------------------------------------------------------------

@app.command("list")
def list_modules() -> None:
    """The modules, with your progress."""
    progress = Progress()
    grid = Table(title="Serverless at Scale")
    for column in ("module", "title", "started", "hints", "last check"):
        grid.add_column(column)
    for m in course.modules():
        p = progress.of(m.number)
        score = p.get("score")
        last = f"{score[0]}/{score[1]}" if score else "—"
        grid.add_row(m.number, m.title, "yes" if m.workspace().exists() else "—", str(p.get("hints", 0)), last)
    console.print(grid)


@app.command()
def start(number: str, force: bool = typer.Option(False, help="overwrite an existing workspace")) -> None:
    """Copy a module's starting shop to workspace/NN-name/."""
    m = _module(number)
    target = m.workspace()
    if target.exists() and not force:
        err.print(f"[yellow]{target} already exists.[/] Keep working there, or use --force to start over "
                  f"(or `workshop reset {m.number}`).")
        raise typer.Exit(1)
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(m.start, target, ignore=shutil.ignore_patterns("__pycache__", ".aws-sam"))
    progress = Progress()
    progress.of(m.number)["started"] = True
    progress.save()
    console.print(f"[bold]Module {m.number}: {m.title}[/]\n{m.summary}\n")
    if m.broken:
        console.print(f"[bold]What is broken:[/] {m.broken}\n")
    console.print(f"Your shop is in [cyan]{target}[/]. Read [cyan]{m.path / 'README.md'}[/], then run "
                  f"[bold]workshop check {m.number}[/].")


@app.command()
def check(
    number: str,
    path: Optional[Path] = typer.Option(None, "--path", "-p", help="the tree to check (default: its workspace)"),
    target: str = Target,
    stack_prefix: Optional[str] = typer.Option(None, help="aws: the prefix of the stacks you deployed"),
    region: Optional[str] = typer.Option(None, help="aws: the region of your stacks"),
    json_file: Optional[Path] = typer.Option(None, "--json", help="write exercism v3 results.json here"),
    junit_file: Optional[Path] = typer.Option(None, "--junit", help="write JUnit XML here"),
    only: list[str] = typer.Option(None, "--only", help="run only this checkpoint id (repeatable)"),
) -> None:
    """Deploy your workspace (local) and run the module's checkpoints. Exit 0: all pass, 1: some fail, 2: could not run."""
    from .grading.report import print_run, write_junit, write_results
    from .grading.runner import run_checks

    m = _module(number)
    tree = path or m.workspace()
    url = _cloud_url() if target == "local" else None
    with console.status(f"Checking module {m.number} on {target}: deploying and running checkpoints…"):
        run = run_checks(m, tree, target=target, cloud_url=url, stack_prefix=stack_prefix, region=region, only=only)
    print_run(run, console)
    if json_file:
        write_results([run], json_file)
    if junit_file:
        write_junit([run], junit_file)
    if path is None and run.verdicts and not only:
        progress = Progress()
        progress.of(m.number)["score"] = list(run.score)
        progress.save()
    raise typer.Exit(run.exit_code)


@app.command()
def watch(number: str, target: str = Target,
          manual_run: bool = typer.Option(False, "--manual-run", help="press Enter to re-check (when watching files fails)")) -> None:
    """Re-check the module each time you save a file."""
    from .grading.report import print_run
    from .grading.runner import run_checks

    m = _module(number)
    tree = m.workspace()
    if not tree.exists():
        err.print(f"[yellow]Start the module first:[/] workshop start {m.number}")
        raise typer.Exit(2)
    url = _cloud_url() if target == "local" else None

    def once() -> None:
        with console.status(f"Checking module {m.number}…"):
            run = run_checks(m, tree, target=target, cloud_url=url)
        console.clear()
        print_run(run, console)
        console.print("[dim]Watching for changes; Ctrl-C to stop.[/]")

    once()
    try:
        if manual_run:
            while True:
                input("Press Enter to check again (Ctrl-D to stop)… ")
                once()
        from watchfiles import watch as watch_files
        for _ in watch_files(tree, watch_filter=lambda _, p: "__pycache__" not in p and ".aws-sam" not in p):
            once()
    except (KeyboardInterrupt, EOFError):
        console.print("stopped watching")
    except OSError as exc:
        err.print(f"[yellow]Watching files failed ({exc}); use --manual-run.[/]")
        raise typer.Exit(2)


@app.command()
def hint(number: str) -> None:
    """Reveal the next hint of a module (one at a time; hints seen are recorded)."""
    m = _module(number)
    progress = Progress()
    seen = progress.of(m.number).get("hints", 0)
    if not m.hints:
        console.print("This module has no hints.")
        return
    shown = min(seen + 1, len(m.hints))
    for i, text in enumerate(m.hints[:shown], 1):
        console.print(f"[bold]Hint {i}/{len(m.hints)}:[/] {text}")
    if seen >= len(m.hints):
        console.print(f"[dim]That was the last hint; `workshop solution {m.number}` shows the reference.[/]")
    progress.of(m.number)["hints"] = shown
    progress.save()


@app.command()
def solution(number: str, yes: bool = typer.Option(False, "--yes", "-y", help="skip the confirmation")) -> None:
    """Show how your workspace differs from the reference solution."""
    m = _module(number)
    if not yes and not typer.confirm(f"Show the solution of module {m.number}? Trying first teaches more", default=False):
        raise typer.Exit(0)
    mine = m.workspace()
    base = mine if mine.exists() else m.start
    for line in tree_diff(base, m.solution):
        console.print(line, markup=False, highlight=False)
    progress = Progress()
    progress.of(m.number)["solution_seen"] = True
    progress.save()


def tree_diff(left: Path, right: Path) -> list[str]:
    """A unified diff of two folders, file by file."""
    skip = {"__pycache__", ".aws-sam", ".pytest_cache"}
    files = {p.relative_to(left) for p in left.rglob("*") if p.is_file() and not skip.intersection(p.parts)}
    files |= {p.relative_to(right) for p in right.rglob("*") if p.is_file() and not skip.intersection(p.parts)}
    lines: list[str] = []
    for rel in sorted(files):
        a, b = left / rel, right / rel
        if a.exists() and b.exists() and filecmp.cmp(a, b, shallow=False):
            continue
        old = a.read_text(errors="replace").splitlines() if a.exists() else []
        new = b.read_text(errors="replace").splitlines() if b.exists() else []
        lines += difflib.unified_diff(old, new, f"yours/{rel}", f"solution/{rel}", lineterm="")
    return lines or ["Your workspace matches the solution."]


@app.command()
def reset(number: str, yes: bool = typer.Option(False, "--yes", "-y")) -> None:
    """Put a module's workspace back to its start (your changes are lost)."""
    m = _module(number)
    if not yes and not typer.confirm(f"Discard your changes in {m.workspace()}?", default=False):
        raise typer.Exit(0)
    start(m.number, force=True)


# -- instructors -----------------------------------------------------------------------------

@app.command()
def grade(
    repos: list[Path] = typer.Argument(None, help="learner repositories (default: this one)"),
    json_file: Path = typer.Option(Path("results.json"), "--json", help="exercism v3 results"),
    junit_file: Path = typer.Option(Path("junit.xml"), "--junit", help="JUnit XML"),
    target: str = Target,
) -> None:
    """Grade every module of one or many learner repositories; writes results.json and JUnit XML."""
    from rich.progress import Progress as Bar

    from .grading.report import write_junit, write_results
    from .grading.runner import run_checks
    from .grading.tamper import verify_checks

    tampered = verify_checks()
    if tampered:
        err.print(f"[red]checks/ differ from the course's manifest:[/] {', '.join(tampered)}")
        raise typer.Exit(2)
    repos = repos or [Path.cwd()]
    url = _cloud_url() if target == "local" else None
    summary = Table(title="Class summary")
    summary.add_column("learner")
    mods = course.modules()
    for m in mods:
        summary.add_column(m.number, justify="right")
    summary.add_column("total", justify="right")
    all_runs = []
    with Bar(console=console) as bar:
        task = bar.add_task("grading", total=len(repos) * len(mods))
        for repo in repos:
            cells, earned, total = [], 0, 0
            for m in mods:
                tree = repo / "workspace" / m.name
                bar.update(task, description=f"{repo.name} · module {m.number}")
                if tree.exists():
                    run = run_checks(m, tree, target=target, cloud_url=url, stack_prefix=f"g-{repo.name[:20]}-{m.number}")
                    all_runs.append(run)
                    got, of = run.score
                    cells.append(f"{got}/{of}" if not run.error else "error")
                    earned += got
                else:
                    cells.append("—")
                total += m.points
                bar.advance(task)
            summary.add_row(repo.name, *cells, f"{earned}/{total}")
    console.print(summary)
    write_results(all_runs, json_file)
    write_junit(all_runs, junit_file)
    console.print(f"wrote {json_file} and {junit_file}")
    raise typer.Exit(0 if all_runs and all(r.passed for r in all_runs) else 1)


@app.command()
def clean(target: str = typer.Option("aws", "--target", "-t", help="aws: your account (local: `workshop cloud down`)"),
          yes: bool = typer.Option(False, "--yes", "-y", help="skip the confirmation")) -> None:
    """Delete the stacks the workshop deployed in your account (tagged ones only), buckets emptied first."""
    from .deploy.clean import clean as clean_account
    from .deploy.targets import AwsTarget

    if target != "aws":
        err.print("the local cloud is cleaned by stopping it: `workshop cloud down`")
        raise typer.Exit(2)

    def confirm(names: list[str]) -> bool:
        console.print("These stacks were deployed by the workshop:\n  " + "\n  ".join(names))
        return yes or typer.confirm("Delete them?", default=False)

    report = clean_account(AwsTarget().session(), confirm)
    for bucket, count in report.emptied_buckets.items():
        console.print(f"emptied bucket {bucket} ({count} objects)")
    console.print(f"deleted: {', '.join(report.deleted) or 'nothing'}")
    if report.kept:
        console.print(f"[dim]left alone (not the workshop's): {', '.join(report.kept)}[/]")


@app.command()
def doctor(target: str = Target) -> None:
    """Check this machine: Python, packages, a free port, the local cloud; for aws, credentials and sam."""
    from .doctor import run_doctor
    raise typer.Exit(run_doctor(target, console))


# -- the local cloud and deploys -------------------------------------------------------------

@cloud_app.command("up")
def cloud_up() -> None:
    """Start the local cloud (or reuse the running one)."""
    from .localcloud import control
    try:
        info, started = control.up()
    except control.CloudError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2)
    console.print(f"local cloud {'started' if started else 'already running'} on {info.url} (pid {info.pid})")


@cloud_app.command("down")
def cloud_down() -> None:
    """Stop the local cloud."""
    from .localcloud import control
    console.print("local cloud stopped" if control.down() else "no local cloud was running")


@cloud_app.command("status")
def cloud_status() -> None:
    """What runs, and which stacks are deployed in each account."""
    from .deploy.local import LocalDeployer
    from .localcloud import control
    from .localcloud.safety import ACCOUNTS

    info = control.running()
    if not info:
        console.print("no local cloud is running (start one with `workshop cloud up`)")
        raise typer.Exit(1)
    console.print(f"local cloud on {info.url} (pid {info.pid}), state in {control.default_state_dir()}")
    for name, account in ACCOUNTS.items():
        stacks = LocalDeployer(info.url, account).stacks()
        if stacks:
            console.print(f"  account {name} ({account}): {', '.join(stacks)}")


def _parameters(pairs: list[str]) -> dict[str, str]:
    params = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep:
            err.print(f"[red]--param takes KEY=VALUE, not {pair!r}[/]")
            raise typer.Exit(2)
        params[key] = value
    return params


@app.command()
def deploy(
    path: Path = typer.Argument(..., help="a template, or a folder of templates (one stack each)"),
    stack: str = typer.Option(..., "--stack", "-s", help="stack name (the prefix, for a folder)"),
    param: list[str] = typer.Option(None, "--param", help="KEY=VALUE template parameter"),
    account: str = typer.Option("default", help="local account: default, dev, prod, staging or an id"),
    target: str = Target,
) -> None:
    """Deploy a SAM template (or every template under a folder) as stacks."""
    from .deploy.local import DeployError
    from .deploy.targets import AwsTarget, LocalTarget

    params = _parameters(param)
    chosen = LocalTarget(_cloud_url()) if target == "local" else AwsTarget()
    try:
        with console.status("Deploying…") as status:
            if path.is_dir():
                result = chosen.deploy_tree(path, stack, account, progress=status.update, parameters=params)
                infos, errors = result.stacks, result.errors
            else:
                infos, errors = {stack: chosen.deployer(account).deploy(path, stack, params, progress=status.update)}, {}
    except (DeployError, ValueError) as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(1)
    for name, info in infos.items():
        console.print(f"[green]{name}[/]: {info.status}")
        for key, value in info.outputs.items():
            console.print(f"  {key} = {value}")
    for name, message in errors.items():
        err.print(f"[red]{name}: {message}[/]")
    raise typer.Exit(1 if errors else 0)


@app.command()
def pipeline(
    number: str,
    approve: bool = typer.Option(False, "--approve", help="play the reviewer: run the jobs of protected environments"),
    path: Optional[Path] = typer.Option(None, "--path", "-p", help="the tree whose workflow to run (default: its workspace)"),
) -> None:
    """Dry-run the module's GitHub Actions deploy workflow locally: each stage into its role's account, stopping at the production gate."""
    from .deploy.targets import LocalTarget
    from .pipeline import PipelineError, print_run, run

    m = _module(number)
    tree = path or m.workspace()
    if not tree.is_dir():
        err.print(f"[yellow]{tree} does not exist.[/] Start the module first: workshop start {m.number}")
        raise typer.Exit(2)
    target = LocalTarget(_cloud_url())
    try:
        with console.status("Running the pipeline…") as status:
            result = run(tree, target, approve=approve, progress=status.update)
    except PipelineError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2)
    print_run(result, console)
    raise typer.Exit(0 if result.ok else 1)


@app.command()
def destroy(stack: str = typer.Option(..., "--stack", "-s"),
            account: str = typer.Option("default", help="local account")) -> None:
    """Delete a stack from the local cloud."""
    from .deploy.local import LocalDeployer
    gone = LocalDeployer(_cloud_url(), account).destroy(stack)
    console.print(f"deleted {stack}" if gone else f"no stack {stack}")


def main() -> None:  # pragma: no cover - the console script
    app(prog_name="workshop")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
