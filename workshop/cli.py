"""The `workshop` command: start a module, check it, get hints, grade a class, run the local cloud."""

from __future__ import annotations

import shutil
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from . import course
from .course import CourseError, Progress
from .tree import copy_ignoring, is_ignored

app = typer.Typer(help="Serverless at Scale: six modules on one shop, checked on a local AWS or your own account.",
                  no_args_is_help=True, add_completion=False)
cloud_app = typer.Typer(help="The embedded local AWS (no account, no Docker).", no_args_is_help=True)
app.add_typer(cloud_app, name="cloud")
console = Console()
err = Console(stderr=True)

Target = typer.Option("local", "--target", "-t", help="local (embedded AWS) or aws (your account)")
Region = typer.Option(None, "--region", help="the AWS Region (default: AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1)")


def _module(number: str) -> course.Module:
    try:
        return course.module(number)
    except CourseError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None


def _cloud_state() -> Path:
    """The local cloud's state folder in the course's .workshop/, wherever in the course a command runs."""
    return course.state_root() / "cloud"


def _cloud_url() -> str:
    from .localcloud import control
    with console.status("Starting the local cloud…"):
        info, started = control.up(_cloud_state())
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
    shutil.copytree(m.start, target, ignore=copy_ignoring())
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
    path: Path | None = typer.Option(None, "--path", "-p", help="the tree to check (default: its workspace)"),
    target: str = Target,
    stack_prefix: str | None = typer.Option(None, help="aws: the prefix of the stacks you deployed"),
    region: str | None = Region,
    prod_profile: str | None = typer.Option(None, help="aws: the profile of your second (prod) account (module 06)"),
    json_file: Path | None = typer.Option(None, "--json", help="write exercism v3 results.json here"),
    junit_file: Path | None = typer.Option(None, "--junit", help="write JUnit XML here"),
    only: list[str] = typer.Option(None, "--only", help="run only this checkpoint id (repeatable)"),
) -> None:
    """Deploy your workspace (local) and run the module's checkpoints. Exit 0: all pass, 1: some fail, 2: could not run."""
    from .grading.report import print_run, write_junit, write_results
    from .grading.runner import run_checks

    m = _module(number)
    tree = path or m.workspace()
    url = _cloud_url() if target == "local" else None
    with console.status(f"Checking module {m.number} on {target}: deploying and running checkpoints…"):
        run = run_checks(m, tree, target=target, cloud_url=url, stack_prefix=stack_prefix, region=region,
                         prod_profile=prod_profile, only=only)
    print_run(run, console)
    if url is not None and run.passed and not only:  # local: the cost of what was just deployed
        _print_cost_line(m, tree, url)
    if json_file:
        write_results([run], json_file)
    if junit_file:
        write_junit([run], junit_file)
    if path is None and run.verdicts and not only:
        progress = Progress()
        progress.of(m.number)["score"] = list(run.score)
        progress.save()
    raise typer.Exit(run.exit_code)


def _print_cost_line(m: course.Module, tree: Path, cloud_url: str) -> None:
    """Informational, 0 points: what the shop that just passed would cost at the default traffic."""
    from .cost.estimate import Profile
    from .cost.report import summary_line
    from .cost.run import cost_of_tree
    from .deploy.targets import LocalTarget

    try:
        with console.status("Pricing the shop at the default traffic…"):
            # the stacks the check just deployed: priced as they are, not deployed again
            result = cost_of_tree(LocalTarget(cloud_url), None, "ws-" + tree.resolve().name.lower()[:40],
                                  Profile.load(), calls=1)
    except Exception as exc:  # noqa: BLE001 - a figure worth 0 points never fails a check
        console.print(f"[dim]Cost: not measured ({exc})[/]")
        return
    console.print(f"[dim]Cost (informational, 0 points): {summary_line(result)}; "
                  f"`workshop cost {m.number}` shows the lines.[/]")


@app.command()
def watch(number: str, target: str = Target, region: str | None = Region,
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
            run = run_checks(m, tree, target=target, cloud_url=url, region=region)
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
        for _ in watch_files(tree, watch_filter=lambda _, p: not is_ignored(Path(p))):
            once()
    except (KeyboardInterrupt, EOFError):
        console.print("stopped watching")
    except OSError as exc:
        err.print(f"[yellow]Watching files failed ({exc}); use --manual-run.[/]")
        raise typer.Exit(2) from None


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
def solution(number: str, yes: bool = typer.Option(False, "--yes", "-y", help="skip the confirmation"),
             file: str | None = typer.Option(None, "--file", "-f", help="only this file (a path in the shop)"),
             full: bool = typer.Option(False, "--full", help="print the whole diff, however long")) -> None:
    """Show how your workspace differs from the reference solution, file by file."""
    from .course_diff import show, tree_changes

    m = _module(number)
    if not yes and not typer.confirm(f"Show the solution of module {m.number}? Trying first teaches more", default=False):
        raise typer.Exit(0)
    mine = m.workspace()
    base = mine if mine.exists() else m.start
    changes = tree_changes(base, m.solution, only=file)
    if not changes:
        console.print(f"No file {file} in either tree, or it is the same in both." if file
                      else "Your workspace matches the solution.")
    else:
        if not mine.exists():
            console.print(f"[dim]No workspace yet: the start of module {m.number} against its solution.[/]")
        show(changes, console, full=full or bool(file))
    progress = Progress()
    progress.of(m.number)["solution_seen"] = True
    progress.save()


@app.command()
def reset(number: str, yes: bool = typer.Option(False, "--yes", "-y")) -> None:
    """Put a module's workspace back to its start (your changes are lost) and clear its progress."""
    from .course_diff import tree_changes

    m = _module(number)
    workspace = m.workspace()
    if not yes and not typer.confirm(f"Discard your changes in {workspace}?", default=False):
        console.print("Nothing reset.")
        raise typer.Exit(0)
    changes = tree_changes(workspace, m.start) if workspace.exists() else None
    if workspace.exists():
        shutil.rmtree(workspace)
    shutil.copytree(m.start, workspace, ignore=copy_ignoring())
    progress = Progress()
    had = {k: v for k, v in progress.of(m.number).items() if k != "started"}
    progress.data[m.number] = {"started": True}
    progress.save()
    if changes is None:
        console.print(f"Copied the start of module {m.number} to {workspace} (there was no workspace).")
    elif changes:
        counts = {kind: sum(1 for c in changes if c.kind == kind) for kind in ("modified", "only-left", "only-right")}
        console.print(f"Reset {workspace} to the start of module {m.number}: {counts['modified']} files put back, "
                      f"{counts['only-left']} of yours removed, {counts['only-right']} restored.")
    else:
        console.print(f"{workspace} already matched the start of module {m.number}: no file changed.")
    if had:
        console.print(f"Cleared the recorded progress of module {m.number} ({', '.join(sorted(had))}).")


def _workspace_stacks(m: course.Module, target: str, stack_prefix: str | None, region: str | None):
    """(stacks, prefix, boto3 session) of the module's workspace on the target."""
    from .deploy.targets import open_target
    from .urls import default_prefix

    cloud_url = None
    if target == "local":
        from .localcloud import control
        info = control.running(_cloud_state())
        if not info:
            err.print(f"[yellow]No local cloud is running:[/] `workshop check {m.number}` starts one and deploys your shop.")
            raise typer.Exit(2)
        cloud_url = info.url
    chosen = open_target(target, cloud_url=cloud_url, region=region)
    prefix = stack_prefix or default_prefix(m.workspace().name, chosen.real_account)
    stacks = chosen.find_stacks(prefix)
    if not stacks:
        how = (f"deploy each service as {prefix}-SERVICE (or pass --stack-prefix)" if chosen.real_account
               else f"`workshop check {m.number}` deploys them")
        err.print(f"[yellow]No stack named {prefix} or {prefix}-* on {target}:[/] {how}.")
        raise typer.Exit(1)
    return stacks, prefix, chosen.session()


StackPrefix = typer.Option(None, "--stack-prefix", help="the stacks' name prefix (local: ws-NN-name; aws: me)")


@app.command()
def urls(number: str, target: str = Target, stack_prefix: str | None = StackPrefix,
         region: str | None = Region) -> None:
    """Each stack of your workspace with its ApiUrl and other outputs."""
    from .urls import print_urls

    m = _module(number)
    stacks, prefix, _ = _workspace_stacks(m, target, stack_prefix, region)
    print_urls(stacks, console, f"Module {m.number} · stacks {prefix}-* · {target}")


@app.command()
def logs(number: str,
         function: str | None = typer.Argument(None, help="a logical id (CartFunction) or part of a function name"),
         since: str = typer.Option("10m", "--since", help="how far back: 30s, 10m, 2h, 1d"),
         follow: bool = typer.Option(False, "--follow", "-f", help="keep printing new lines (Ctrl-C to stop)"),
         target: str = Target, stack_prefix: str | None = StackPrefix, region: str | None = Region) -> None:
    """The log lines of your workspace's functions (START, END, REPORT and errors highlighted)."""
    import time

    from .logs import functions_of, since_seconds, stream

    m = _module(number)
    try:
        back = since_seconds(since)
    except ValueError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    stacks, prefix, session = _workspace_stacks(m, target, stack_prefix, region)
    chosen = functions_of(stacks, function)
    if not chosen:
        names = ", ".join(f.logical_id for f in functions_of(stacks)) or "none"
        err.print(f"[yellow]No function matches {function!r} in {prefix}-*.[/] The functions: {names}.")
        raise typer.Exit(1)
    start_ms = int((time.time() - back) * 1000)
    printed = 0
    try:
        for line in stream(session.client("logs"), chosen, start_ms, follow=follow):
            console.print(line, soft_wrap=True, highlight=False)
            printed += 1
    except KeyboardInterrupt:
        return
    if not printed:
        console.print(f"No log lines in the last {since} for {', '.join(f.logical_id for f in chosen)}: "
                      "call a route (see `workshop urls " + m.number + "`), then look again.")


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

    from .grading.classroom import grade_class
    from .grading.report import write_junit, write_results
    from .grading.tamper import verify_checks

    tampered = verify_checks()
    if tampered:
        err.print(f"[red]checks/ differ from the course's manifest:[/] {', '.join(tampered)}")
        raise typer.Exit(2)
    repos = repos or [Path.cwd()]
    url = _cloud_url() if target == "local" else None
    with Bar(console=console) as bar:
        task = bar.add_task("grading", total=len(repos) * len(course.modules()))
        grade = grade_class(repos, target, url, graded=lambda label: bar.update(task, description=label, advance=1))
    console.print(grade.table())
    write_results(grade.runs, json_file)
    write_junit(grade.runs, junit_file)
    console.print(f"wrote {json_file} and {junit_file}")
    raise typer.Exit(0 if grade.passed else 1)


@app.command()
def clean(target: str = typer.Option("aws", "--target", "-t", help="aws: your account (local: `workshop cloud down`)"),
          stack_prefix: str | None = typer.Option(None, help="delete the stacks named PREFIX-* (default: the tagged ones)"),
          region: str | None = typer.Option(None, help="the region of your stacks"),
          yes: bool = typer.Option(False, "--yes", "-y", help="skip the confirmation")) -> None:
    """Delete your workshop stacks (tagged workshop:managed=true, or --stack-prefix), importers first."""
    from .deploy.clean import clean as clean_account
    from .deploy.targets import AwsTarget

    if target != "aws":
        err.print("the local cloud is cleaned by stopping it: `workshop cloud down`")
        raise typer.Exit(2)

    def confirm(names: list[str]) -> bool:
        console.print("These stacks are yours:\n  " + "\n  ".join(names))
        return yes or typer.confirm("Delete them?", default=False)

    report = clean_account(AwsTarget(region=region).session(), confirm, prefix=stack_prefix)
    for bucket, count in report.emptied_buckets.items():
        console.print(f"emptied bucket {bucket} ({count} objects)")
    if report.removed_artifacts:
        console.print(f"removed {len(report.removed_artifacts)} artifact(s) sam deploy had uploaded")
    console.print(f"deleted: {', '.join(report.deleted) or 'nothing'}")
    for name, why in report.failed.items():
        err.print(f"[red]not deleted: {name}[/]: {why}")
    if report.kept:
        console.print(f"[dim]left alone (not yours): {', '.join(report.kept)}[/]")
    raise typer.Exit(1 if report.failed else 0)


@app.command()
def doctor(target: str = Target) -> None:
    """Check this machine: Python, packages, a free port, the local cloud; for aws, credentials and sam."""
    from .doctor import run_doctor
    raise typer.Exit(run_doctor(target, console))


# -- the local cloud and deploys -------------------------------------------------------------

@cloud_app.command("up")
def cloud_up(
    account_concurrency: int | None = typer.Option(
        None, "--account-concurrency", min=1,
        help="Lambda's concurrent executions per account and Region (default 1000, as on AWS)"),
    iam: str = typer.Option(None, "--iam", help="on: evaluate IAM policies as AWS does (the default, or "
                            "$WORKSHOP_IAM); off: allow every call", show_default=False),
) -> None:
    """Start the local cloud (or reuse the running one). It serves every Region."""
    from .localcloud import control
    if iam is not None and iam not in ("on", "off"):
        err.print(f"[red]--iam takes on or off, not {iam!r}[/]")
        raise typer.Exit(2)
    try:
        info, started = control.up(_cloud_state(), account_concurrency=account_concurrency,
                                   iam=None if iam is None else iam == "on")
    except control.CloudError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    console.print(f"local cloud {'started, empty,' if started else 'already running'} on {info.url} "
                  f"(pid {info.pid}, IAM {'on' if info.iam else 'off'})")
    if not started and account_concurrency:
        err.print("[yellow]--account-concurrency applies to a cloud started now: stop this one first[/]")
    if not started and iam is not None and (iam == "on") != info.iam:
        err.print(f"[yellow]the running cloud has IAM {'on' if info.iam else 'off'}: "
                  f"`workshop cloud down` first to start it with --iam {iam}[/]")


@cloud_app.command("down")
def cloud_down() -> None:
    """Stop the local cloud."""
    from .localcloud import control
    if control.down(_cloud_state()):
        # the truth about state: moto keeps everything in the process's memory
        console.print("local cloud stopped: its stacks, tables and logs are gone (they lived in its memory); "
                      "the next `workshop cloud up` starts empty and `workshop check` deploys your workspace again")
    else:
        console.print("no local cloud was running")


@cloud_app.command("status")
def cloud_status(region: str | None = Region) -> None:
    """What runs, and which stacks are deployed in each account (of one Region)."""
    from .deploy.local import LocalDeployer
    from .localcloud import control
    from .localcloud.safety import ACCOUNTS, region_of

    info = control.running(_cloud_state())
    if not info:
        console.print("no local cloud is running (start one with `workshop cloud up`)")
        raise typer.Exit(1)
    chosen = region_of(region)
    console.print(f"local cloud on {info.url} (pid {info.pid}), state in {_cloud_state()}; "
                  f"it serves every Region, stacks listed for {chosen}")
    for name, account in ACCOUNTS.items():
        stacks = LocalDeployer(info.url, account, chosen).stacks()
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
    region: str | None = Region,
) -> None:
    """Deploy a SAM template (or every template under a folder) as stacks."""
    from .deploy.targets import DeployError, NotOnThisTarget, open_target

    params = _parameters(param)
    try:
        chosen = open_target(target, cloud_url=_cloud_url() if target == "local" else None, region=region)
        with console.status("Deploying…") as status:
            if path.is_dir():
                result = chosen.deploy_tree(path, stack, account, progress=status.update, parameters=params)
                infos, errors = result.stacks, result.errors
            else:
                infos, errors = {stack: chosen.deploy_template(path, stack, account, params, progress=status.update)}, {}
    except (DeployError, NotOnThisTarget, ValueError) as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
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
    path: Path | None = typer.Option(None, "--path", "-p", help="the tree whose workflow to run (default: its workspace)"),
) -> None:
    """Dry-run the module's GitHub Actions workflow locally: tests, one build, each stage into its role's account
    with a smoke test, stopping at the production gate."""
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
        raise typer.Exit(2) from None
    result.close()
    print_run(result, console)
    raise typer.Exit(0 if result.ok else 1)


@app.command()
def cost(
    number: str,
    path: Path | None = typer.Option(None, "--path", "-p", help="the tree to price (default: its workspace)"),
    profile: Path | None = typer.Option(None, "--profile", help="calls per route per month (TOML or JSON)"),
    json_file: Path | None = typer.Option(None, "--json", help="write the line items as JSON here"),
    calls: int = typer.Option(5, min=1, max=50, help="calls of each route to measure"),
    free_tier: bool = typer.Option(False, "--free-tier", help="subtract AWS's free tier"),
    target: str = Target,
    stack_prefix: str | None = typer.Option(None, help="aws: the prefix of the stacks you deployed"),
) -> None:
    """The monthly cost of the deployed shop at a traffic profile, from measured calls."""
    import json

    from .cost.estimate import Profile
    from .cost.report import print_estimate
    from .cost.run import cost_of_tree, prefix_for
    from .deploy.targets import open_target

    m = _module(number)
    tree = (path or m.workspace()).resolve()
    chosen = open_target(target, cloud_url=_cloud_url() if target == "local" else None)
    if chosen.grading_deploys and not tree.is_dir():
        err.print(f"[yellow]{tree} does not exist.[/] Start the module first: workshop start {m.number}")
        raise typer.Exit(2)
    try:
        chosen_profile = Profile.load(profile)
    except (OSError, ValueError) as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    prefix = stack_prefix or (prefix_for(tree) if path else "ws-" + tree.name.lower()[:40])
    try:
        with console.status("Measuring the shop…") as status:
            result = cost_of_tree(chosen, tree, prefix, chosen_profile,
                                  calls=calls, free_tier=free_tier, progress=status.update)
    except ValueError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    print_estimate(result, console)
    if json_file:
        json_file.write_text(json.dumps(result.to_json(), indent=2) + "\n")
        console.print(f"[dim]wrote {json_file}[/]")


@app.command()
def destroy(stack: str = typer.Option(..., "--stack", "-s"),
            account: str = typer.Option("default", help="local account"),
            region: str | None = Region) -> None:
    """Delete a stack from the local cloud."""
    from .deploy.targets import LocalTarget
    gone = LocalTarget(_cloud_url(), region).destroy_stack(stack, account)
    console.print(f"deleted {stack}" if gone else f"no stack {stack}")


def main() -> None:  # pragma: no cover - the console script
    app(prog_name="workshop")


if __name__ == "__main__":  # pragma: no cover
    main()
