"""Module 01: a service per bounded context, each its own template, stack, tables and code."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import uuid
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

from checks.advice import fault_behind, template_label
from checks.support import (
    NotOnThisTarget,
    api_for_route,
    api_routes,
    api_urls,
    expect,
    folder_digest,
    function_arn_of,
    imported_modules,
    passed_before,
    python_files,
    remember_pass,
    unit_tests,
)
from workshop.deploy.layout import find_templates
from workshop.tree import NOT_SOURCE, copy_ignoring
from workshop.unit_tests import UnitTestRun

DOMAIN_ROUTES = {
    "products": ("GET", "/products"),
    "cart": ("POST", "/cart/{cartId}/items"),
    "inventory": ("GET", "/inventory/{sku}"),
}


def _route_owners(aws, stacks) -> dict[str, str]:
    """domain -> the stack whose API serves its route."""
    apigateway = aws("apigateway")
    owners = {}
    for domain, (method, path) in DOMAIN_ROUTES.items():
        found = api_for_route(apigateway, stacks, method, path)
        if found:
            owners[domain] = found[0].stack
    return owners


def _functions_by_domain(aws, stacks, label=lambda stack: stack) -> dict[str, set[str]]:
    """domain -> function names; a function behind no route is its own domain (payments)."""
    apigateway = aws("apigateway")
    domains: dict[str, set[str]] = defaultdict(set)
    routed = set()
    for api in api_urls(stacks):
        for (_, path), method in api_routes(apigateway, api.rest_api_id).items():
            arn = function_arn_of(method.get("methodIntegration", {}))
            if arn:
                name = arn.split(":")[6]
                domains[path.strip("/").split("/")[0]].add(name)
                routed.add(name)
    for name, info in sorted(stacks.items()):
        functions = {r["physicalId"] for r in info.resources if r["type"] == "AWS::Lambda::Function"}
        served = sorted(d for d, fns in domains.items() if fns & functions)
        for fn in sorted(functions - routed):  # behind no route: it belongs to what its own stack serves
            domains[served[0] if len(served) == 1 else f"{label(name)} (behind no route)"].add(fn)
    return domains


def _path_parts_in_strings(path: Path) -> set[str]:
    """Every path component of every string literal in a file: '../products/src' -> '..', 'products', 'src'."""
    try:
        tree = ast.parse(path.read_text(errors="replace"))
    except SyntaxError:
        return set()
    return {part for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str)
            for part in re.split(r"[/\\]", node.value)}


def _service_roots(deployment) -> list[Path]:
    return sorted({t.parent for t in deployment.templates.values()})


def _enclosing_templates(deployment, workspace: Path) -> list[tuple[Path, list[str]]]:
    """Templates whose folder holds other services' templates (the start's root template.yaml left
    beside the new services), each with the folders that only it deploys (such as functions/)."""
    roots = _service_roots(deployment)
    found = []
    for template in sorted(deployment.templates.values()):
        inner = [r for r in roots if r != template.parent and r.is_relative_to(template.parent)]
        if inner:
            own = sorted(f"{child.name}/" for child in template.parent.iterdir()
                         if child.is_dir() and child.name not in NOT_SOURCE and not child.name.startswith(".")
                         and not any(r.is_relative_to(child) for r in inner))
            found.append((template, own))
    return found


def _expect_no_enclosing_template(deployment, workspace: Path) -> None:
    leftovers = _enclosing_templates(deployment, workspace)
    if not leftovers:
        return
    template, own = leftovers[0]
    where = template.relative_to(workspace).as_posix()
    also = f" and {', '.join(own)}" if own else ""
    expect(False, f"{where} still deploys the old shop{' (' + ', '.join(own) + ')' if own else ''} as a stack of "
           "its own, beside the services' stacks", f"delete {where}{also}: each service's own template replaces it")


def _owner(real: Path, roots: list[Path]) -> Path | None:
    """The service whose folder holds a real (links resolved) path: the deepest root above it."""
    holders = [r for r in roots if real.is_relative_to(r.resolve())]
    return max(holders, key=lambda r: len(r.resolve().parts)) if holders else None


def _python_files_with_links(root: Path) -> list[tuple[Path, Path]]:
    """(path in the tree, real path) of every .py file under root, following links to files and folders."""
    found, seen = [], set()
    for folder, dirs, files in os.walk(root, followlinks=True):
        real = Path(folder).resolve()
        if real in seen:  # a link loop, or a folder reached twice
            dirs[:] = []
            continue
        seen.add(real)
        dirs[:] = sorted(d for d in dirs if d not in NOT_SOURCE)
        found += [(Path(folder) / f, (Path(folder) / f).resolve()) for f in sorted(files) if f.endswith(".py")]
    return found


@pytest.mark.checkpoint("01.1", points=2)
def test_each_service_has_its_own_template_and_stack(aws, stacks, deployment, workspace):
    """Products, cart and inventory are served by different stacks, each from its own template."""
    undeployed = sorted(template_label(s, deployment.templates, workspace) for s in deployment.errors)
    expect(not undeployed, f"{', '.join(undeployed)} did not deploy, so its service has no stack "
           "(the error is at the top of the report)",
           f"fix {undeployed[0] if undeployed else 'that template'} or the code it packages: "
           "every template of the tree must deploy as its stack")
    _expect_no_enclosing_template(deployment, workspace)
    owners = _route_owners(aws, stacks)
    missing = sorted(set(DOMAIN_ROUTES) - set(owners))
    expect(not missing, f"no deployed API serves {', '.join(missing)}",
           "each service's template needs its API routes (see the contract in the module's README)")
    by_stack = defaultdict(list)
    for domain, stack in owners.items():
        by_stack[stack].append(domain)
    shared = {stack: domains for stack, domains in sorted(by_stack.items()) if len(domains) > 1}
    expect(not shared, "one stack serves several domains: "
           + "; ".join(f"the stack of {template_label(s, deployment.templates, workspace)} serves {', '.join(sorted(d))}"
                       for s, d in shared.items()),
           "give cart, products, inventory and payments each its own template.yaml (one stack each)")
    expect(len(deployment.templates) >= 4, f"found {len(deployment.templates)} templates; payments needs its own too",
           "add a template for the payments service")


@pytest.mark.checkpoint("01.2", points=2)
def test_no_python_import_crosses_service_folders(workspace, deployment):
    """No service imports code that lives in another service's folder, in any import style."""
    roots = _service_roots(deployment) or [workspace]
    expect(len(roots) >= 2, f"every domain's code lives in one folder ({roots[0].relative_to(workspace.parent)}), "
           "sharing modules such as common.py", "move each domain into its own service folder with its own template")
    _expect_no_enclosing_template(deployment, workspace)
    # Ownership is judged by real paths: a file reached through a link belongs where it really lives.
    files = {root: _python_files_with_links(root) for root in roots}
    defined: dict[str, set[Path]] = defaultdict(set)  # module name -> the service roots that define it
    crossings = []
    for root in roots:
        for path, real in files[root]:
            owner = _owner(real, roots) or root
            if owner != root:
                crossings.append(f"{path.relative_to(workspace)} is a link to "
                                 f"{(owner / real.relative_to(owner.resolve())).relative_to(workspace)} in another service")
            defined[path.stem].add(owner)
            for parent in path.relative_to(root).parents:
                if parent.name:
                    defined[parent.name].add(owner)
    for root in roots:
        for path, real in files[root]:
            if (_owner(real, roots) or root) != root:
                continue
            text = path.read_text(errors="replace")
            for name, level in imported_modules(path):
                top = name.split(".")[0]
                if level > len(path.relative_to(root).parts) - 1:
                    crossings.append(f"{path.relative_to(workspace)} climbs out of its service with a relative import")
                elif top and root not in defined.get(top, {root}) and defined.get(top):
                    other = sorted(defined[top])[0]
                    crossings.append(f"{path.relative_to(workspace)} imports '{top}' from {other.relative_to(workspace)}")
            named = _path_parts_in_strings(path) if "sys.path" in text else set()
            if any(r.name in named for r in roots if r != root):
                crossings.append(f"{path.relative_to(workspace)} reaches into another service through sys.path")
    expect(not crossings, "; ".join(sorted(set(crossings))[:3]),
           "give each service its own copy of what it needs: a service imports only its own code")


def _table_references(aws, stacks) -> tuple[dict[str, str], dict[str, set[str]]]:
    """(table name -> owning stack, function name -> the table names its config and role name)."""
    lam, iam = aws("lambda"), aws("iam")
    owners = {r["physicalId"]: name for name, info in stacks.items() for r in info.resources
              if r["type"] == "AWS::DynamoDB::Table"}
    used: dict[str, set[str]] = {}
    for info in stacks.values():
        for r in info.resources:
            if r["type"] != "AWS::Lambda::Function":
                continue
            config = lam.get_function_configuration(FunctionName=r["physicalId"])
            text = " ".join(config.get("Environment", {}).get("Variables", {}).values())
            role = config["Role"].rsplit("/", 1)[-1]
            try:
                for policy in iam.list_role_policies(RoleName=role)["PolicyNames"]:
                    text += " " + str(iam.get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"])
            except iam.exceptions.NoSuchEntityException:
                pass
            used[r["physicalId"]] = {t for t in owners if t in text}
    return owners, used


@pytest.mark.checkpoint("01.3", points=2)
def test_each_stack_owns_its_tables(aws, stacks, deployment, workspace):
    """Every table is used by the functions of one domain only, and lives in that domain's stack."""
    owners, used = _table_references(aws, stacks)
    expect(owners, "no DynamoDB table is deployed", "each service keeps its data in its own table")
    def label(stack):
        return template_label(stack, deployment.templates, workspace)
    logical = {r["physicalId"]: r["logicalId"] for info in stacks.values() for r in info.resources}
    domains = _functions_by_domain(aws, stacks, label)
    domain_of = {fn: d for d, fns in domains.items() for fn in fns}
    stack_of = {r["physicalId"]: name for name, info in stacks.items() for r in info.resources}
    users: dict[str, set[str]] = defaultdict(set)
    # sorted everywhere: the same tree gets the same message on every run
    for fn, tables in sorted(used.items(), key=lambda item: (label(stack_of.get(item[0], "")), logical.get(item[0], ""))):
        for table in sorted(tables, key=lambda t: (label(owners[t]), logical.get(t, t))):
            users[table].add(domain_of.get(fn, logical.get(fn, fn)))
            expect(stack_of.get(fn) == owners[table],
                   f"function {logical.get(fn)} ({label(stack_of.get(fn, ''))}) uses table {logical.get(table)} "
                   f"of {label(owners[table])}",
                   "a service reads and writes only its own tables; ask the other service through its API")
    shared = sorted((label(owners[t]), logical.get(t, t), sorted(d)) for t, d in users.items() if len(d) > 1)
    expect(not shared, "; ".join(f"table {t} ({where}) is used by {', '.join(d)}" for where, t, d in shared[:2]),
           "give each function only its own service's table names and permissions")


PAYMENT_TOKENS = ("tok_ok", "tok_declined", "tok_flaky")


def _payment_files(root: Path) -> list[Path]:
    return [p for p in python_files(root) if any(t in p.read_text(errors="replace") for t in PAYMENT_TOKENS)
            and "/tests/" not in p.as_posix() and not p.name.startswith("test_")]


@pytest.mark.checkpoint("01.4", points=3)
def test_broken_payments_leaves_cart_and_products_serving(target, workspace, stack_prefix, stacks, deployment, http,
                                                          aws, tmp_path):
    """Redeploy every stack that holds payments code, broken on purpose: cart and products still answer."""
    copy = tmp_path / "shop"
    shutil.copytree(workspace, copy, ignore=copy_ignoring())
    payments = _payment_files(copy)
    expect(payments, "no code handles the payment tokens tok_ok / tok_declined / tok_flaky",
           "the payments service must implement tok_ok / tok_declined / tok_flaky")
    for path in payments:
        path.write_text('raise RuntimeError("payments deliberately broken by checkpoint 01.4")\n' + path.read_text())
    # A stack whose folder holds payments code is redeployed broken; the others are as deployed.
    touched = {name: copy / template.relative_to(workspace) for name, template in deployment.templates.items()
               if any(p.is_relative_to(copy / template.parent.relative_to(workspace)) for p in payments)}
    if not target.grading_deploys:  # on a real account the check never deploys: judge what a redeploy would touch
        apigateway = aws("apigateway")
        hit = [domain for domain in ("cart", "products")
               if (found := api_for_route(apigateway, stacks, *DOMAIN_ROUTES[domain])) and found[0].stack in touched]
        expect(not hit, f"the stack serving {' and '.join(hit)} also deploys payments code: a payments bug takes it down",
               "cart and products must not import payments code: a bug there should stay there")
        return
    # Cart and products must serve before payments is broken, or a failure would be blamed on payments.
    for domain in ("cart", "products"):
        response = _call(http, aws("apigateway"), stacks, domain)
        if response is not None and response.status_code >= 500:
            fault = fault_behind(aws, stacks, deployment.templates, workspace, *DOMAIN_ROUTES[domain])
            otherwise = f"make {domain} serve first (01.6 shows how it fails)"
            expect(False, f"{domain} answers {response.status_code} with payments intact"
                   + (fault.said() if fault else ""),
                   fault.fix(otherwise, response.status_code) if fault else otherwise)
    # The same broken copy (every file, byte for byte) was judged before and passed: the redeploy would
    # give the same answer, and it costs a stack created and deleted on every re-check.
    judged = "01.4-" + folder_digest(copy)
    if passed_before(judged):
        return
    broken_stacks = {name: info for name, info in stacks.items() if name not in touched}
    broken_templates = {**deployment.templates, **{f"{name}-broken": t for name, t in touched.items()}}
    try:
        for name, template in touched.items():
            broken_stacks[f"{name}-broken"] = target.deploy_template(template, f"{name}-broken")
        apigateway = target.session().client("apigateway")
        down, evidence = [], ""
        for domain in ("cart", "products"):
            response = _call(http, apigateway, broken_stacks, domain)
            if response is None:
                down.append(f"{domain} (no API)")
            elif response.status_code >= 500:
                down.append(f"{domain} answered {response.status_code}")
                fault = fault_behind(aws, broken_stacks, broken_templates, copy, *DOMAIN_ROUTES[domain])
                evidence = evidence or (fault.said() if fault else "")
        expect(not down, f"with payments broken: {'; '.join(down)}{evidence}",
               "cart and products must not import payments code: a bug there should stay there")
        remember_pass(judged)
    finally:
        for name in touched:
            target.destroy_stack(f"{name}-broken")


def _call(http, apigateway, stacks, domain):
    """One request to a domain's route among the stacks (None when no API serves it)."""
    found = api_for_route(apigateway, stacks, *DOMAIN_ROUTES[domain])
    if not found:
        return None
    url = found[0].url
    if domain == "cart":
        return http.post(f"{url}cart/c01-{uuid.uuid4().hex[:8]}/items", json={"sku": "any", "quantity": 1})
    return http.get(f"{url}products")


@dataclass
class Alone:
    """A service folder copied alone into an empty folder, with its unit tests started."""

    copy: Path
    links_out: list[str]  # links that lead outside the folder: what they reach is not there alone
    tests: UnitTestRun | None  # None: the folder has no unit tests


def _copy_alone(root: Path, where: Path) -> Alone:
    alone = where / root.name
    # links are copied as links: what a link reaches outside the folder is not there when it stands alone
    shutil.copytree(root, alone, symlinks=True, ignore=copy_ignoring())
    links_out = [f"{link.relative_to(alone).as_posix()} is a link to {os.readlink(link)}, outside the folder"
                 for link in sorted(alone.rglob("*")) if link.is_symlink()
                 and not (link.parent / os.readlink(link)).resolve().is_relative_to(alone.resolve())]
    has_tests = list(alone.rglob("test_*.py")) or list(alone.rglob("*_test.py"))
    return Alone(alone, links_out, unit_tests(alone) if has_tests else None)


@pytest.fixture(scope="session", autouse=True)
def services_alone(request, workspace, tmp_path_factory):
    """Each template's folder copied alone, its unit tests started before anything deploys: they take
    seconds in processes of their own, while the tree deploys and the other checkpoints run."""
    if not any((m := item.get_closest_marker("checkpoint")) and m.args[0] == "01.5" for item in request.session.items):
        yield {}
        return
    where = tmp_path_factory.mktemp("alone")
    started: dict[Path, Alone] = {}
    for root in sorted({t.parent for t in find_templates(workspace)}):
        try:
            started[root] = _copy_alone(root, where / f"alone{len(started)}")
        except OSError:
            continue  # 01.5 copies it again and says why it cannot; no other checkpoint is touched
    yield started
    for alone in started.values():
        if alone.tests is not None:
            alone.tests.close()  # a run 01.5 never waited for (it stopped early) is not left behind


@pytest.mark.checkpoint("01.6", points=3)
def test_the_shop_contract_holds_through_each_api(aws, stacks, http, deployment, workspace):
    """The contract end to end through each stack's ApiUrl, including 400 and 404."""
    apigateway = aws("apigateway")

    def expect_answer(ok: bool, method: str, path: str, response, saw: str, fix: str) -> None:
        """A 5xx is judged by what its function logged; any other wrong answer by the contract."""
        if not ok and response.status_code >= 500:
            fault = fault_behind(aws, stacks, deployment.templates, workspace, method, path)
            if fault is not None:
                expect(False, saw + fault.said(), fault.fix(fix, response.status_code))
        expect(ok, saw, fix)

    urls = {}
    undeployed = sorted(template_label(s, deployment.templates, workspace) for s in deployment.errors)
    for domain, (method, path) in DOMAIN_ROUTES.items():
        found = api_for_route(apigateway, stacks, method, path)
        if not found and undeployed:  # the route may well be in the template that did not deploy
            expect(False, f"no deployed API serves {method} {path}; {', '.join(undeployed)} did not deploy",
                   f"fix {undeployed[0]} (its error is at the top of the report), then check again")
        expect(found, f"no deployed API serves {method} {path}", "add the route to that service's template")
        urls[domain] = found[0].url

    products = http.get(urls["products"] + "products")
    expect_answer(products.status_code == 200, "GET", "/products", products,
                  f"GET /products answered {products.status_code}: {products.text[:120]}",
                  'answer 200 {"products": [...]} from the function behind GET /products')
    catalogue = products.json().get("products", [])
    expect(len(catalogue) >= 5 and all(isinstance(p.get("price"), int) for p in catalogue),
           f"GET /products gave {len(catalogue)} products", "seed at least 5 products, prices in integer cents")
    sku = catalogue[0]["sku"]
    one = http.get(f"{urls['products']}products/{sku}")
    expect_answer(one.status_code == 200 and one.json().get("sku") == sku, "GET", "/products/{sku}", one,
                  f"GET /products/{sku} answered {one.status_code}", "return the product by its sku")
    missing = http.get(f"{urls['products']}products/no-such-sku")
    expect(missing.status_code == 404 and "message" in missing.json(), f"unknown product answered {missing.status_code}",
           'answer 404 {"message": ...} for an unknown sku')

    cart = f"{urls['cart']}cart/c01-{uuid.uuid4().hex[:8]}"
    absent = http.get(cart)
    expect_answer(absent.status_code == 404, "GET", "/cart/{cartId}", absent,
                  f"GET of a cart never written answered {absent.status_code}", "answer 404 when the cart is absent")
    added = http.post(cart + "/items", json={"sku": sku, "quantity": 2})
    expect_answer(added.status_code == 201, "POST", "/cart/{cartId}/items", added,
                  f"POST /cart/{{id}}/items answered {added.status_code}: {added.text[:120]}", "answer 201 with the cart")
    got = http.get(cart).json()
    expect({"sku": sku, "quantity": 2} in got.get("items", []), f"the cart holds {got}", "GET /cart/{id} returns its items")
    for bad in ({"sku": sku, "quantity": 0}, {"sku": sku, "quantity": 100}, {"sku": sku, "quantity": "2"},
                {"sku": sku, "quantity": True}, {"sku": "", "quantity": 1}, {"quantity": 1}):
        response = http.post(cart + "/items", json=bad)
        expect(response.status_code == 400 and "message" in response.json(),
               f"POST {bad} answered {response.status_code}", "reject it with 400 and a message (quantity 1..99, sku non-empty)")
    not_json = http.post(cart + "/items", content=b"{not json", headers={"Content-Type": "application/json"})
    expect(not_json.status_code == 400, f"a body that is not JSON answered {not_json.status_code}", "answer 400")
    removed = http.delete(f"{cart}/items/{sku}")
    expect_answer(removed.status_code == 200 and removed.json().get("items") == [], "DELETE", "/cart/{cartId}/items/{sku}",
                  removed, f"DELETE answered {removed.status_code}: {removed.text[:120]}", "answer 200 with the cart, item gone")

    stock = http.get(f"{urls['inventory']}inventory/{sku}")
    expect_answer(stock.status_code == 200 and {"sku", "stock", "reserved"} <= set(stock.json()), "GET", "/inventory/{sku}",
                  stock, f"GET /inventory/{sku} answered {stock.status_code}: {stock.text[:120]}",
                  'answer {"sku","stock","reserved"}')


# 01.5 runs last: its lone unit tests started before the deploy, and waiting for them here lets
# every other checkpoint run meanwhile (the report lists checkpoints in module.toml's order).
@pytest.mark.checkpoint("01.5", points=2)
def test_each_service_deploys_and_tests_alone(target, deployment, workspace, services_alone, tmp_path):
    """Each service folder, copied alone into an empty folder, deploys and passes its own unit tests."""
    roots = _service_roots(deployment)
    expect(len(roots) >= 2, "the shop is one folder, not services that stand alone",
           "split it into service folders, each with template.yaml, code and tests/")
    _expect_no_enclosing_template(deployment, workspace)
    problems = []
    copies = []
    for index, root in enumerate(roots):
        alone = services_alone.get(root) or _copy_alone(root, tmp_path / f"alone{index}")  # started already, mostly
        label = root.relative_to(workspace).as_posix() if root != workspace else "the tree's root"
        problems += [f"{label}/{link}" for link in alone.links_out]
        if alone.tests is None:
            problems.append(f"{label} has no unit tests")
            continue
        copies.append((label, alone))
    for label, alone in copies:  # packaged and transformed from the lone folder, as a deploy would
        try:
            errors = target.validate_tree(alone.copy)
        except NotOnThisTarget:  # on aws, `sam build` judged each template when the learner deployed
            errors = {}
        for _template, error in errors.items():
            problems.append(f"{label} does not deploy alone: {error}")
    for label, alone in copies:
        assert alone.tests is not None
        try:
            returncode, output = alone.tests.result(timeout=180)
        except subprocess.TimeoutExpired:
            problems.append(f"{label}: unit tests still running after 180 s")
            continue
        if returncode != 0:  # quote the test that failed (pytest's summary line), else the last line
            lines = [line for line in output.strip().splitlines() if line.strip()]
            failed = [line for line in lines if line.startswith(("FAILED ", "ERROR "))] or lines[-1:] or ["no output"]
            problems.append(f"{label}: unit tests fail when the folder stands alone ({failed[0][:240]})")
    expect(not problems, "; ".join(problems[:3]),
           "keep everything a service needs inside its folder: code, template, tests and their fixtures")
