"""Module 04: shared code in one versioned layer, Powertools attached by ARN, the stale copy's bug gone.

How the checks get tokens: workshop/deploy/tokens.py, with the secret of the function behind each route.
"""

from __future__ import annotations

import ast
import copy
import json
import re
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from checks.support import (
    api_for_route,
    expect,
    fail,
    function_arn_of,
    log_lines,
    reports,
)
from workshop.deploy import template as templates
from workshop.deploy import tokens
from workshop.deploy.layout import find_templates
from workshop.tree import is_ignored

POWERTOOLS_ACCOUNT = "017000801446"
POWERTOOLS_LAYER = re.compile(
    r"^arn:aws[a-z-]*:lambda:(?P<region>[a-z0-9-]+):017000801446:layer:"
    r"AWSLambdaPowertoolsPython(?P<name>[A-Za-z0-9_-]*):(?P<version>\d+)$")
MAX_LAYERS = 5
MAX_ZIPPED = 50 * 1024 * 1024
MAX_UNZIPPED = 250 * 1024 * 1024
SKU = "lambda-tee"

# The shop's HTTP contract (DESIGN section 3); cart and inventory need a token from module 04 on.
ROUTES = [
    ("products", "GET", "/products", "/products"),
    ("products", "GET", "/products/{sku}", f"/products/{SKU}"),
    ("cart", "POST", "/cart/{cartId}/items", "/cart/{cart}/items"),
    ("cart", "GET", "/cart/{cartId}", "/cart/{cart}"),
    ("cart", "DELETE", "/cart/{cartId}/items/{sku}", f"/cart/{{cart}}/items/{SKU}"),
    ("inventory", "GET", "/inventory/{sku}", f"/inventory/{SKU}"),
]
PROTECTED = {"cart", "inventory"}


# -- the deployed shop ------------------------------------------------------------------------

@dataclass
class Route:
    service: str
    method: str
    template: str
    url: str  # with {cart} left to fill
    function: str | None  # the function name behind it, None for a service integration
    secret: str | None = None

    @property
    def label(self) -> str:
        return f"{self.method} {self.template}"


@dataclass
class Shop:
    routes: list[Route]
    functions: dict[str, str] = field(default_factory=dict)  # function name -> "stack/LogicalId"


def _functions(stacks) -> dict[str, str]:
    return {r["physicalId"]: f"{name}/{r['logicalId']}" for name, info in stacks.items()
            for r in info.resources if r["type"] == "AWS::Lambda::Function"}


_configs: dict[str, dict] = {}


def _config(aws, name: str) -> dict:
    if name not in _configs:
        _configs[name] = aws("lambda").get_function_configuration(FunctionName=name)
    return _configs[name]


def _deploy_note(deployment) -> str:
    if not deployment.errors:
        return ""
    name, error = next(iter(deployment.errors.items()))
    return f" (stack {name} did not deploy: {error[:200]})"


@pytest.fixture(scope="module")
def shop(aws, stacks, deployment) -> Shop:
    apigateway = aws("apigateway")
    routes, missing = [], []
    for service, method, template, path in ROUTES:
        found = api_for_route(apigateway, stacks, method, template)
        if not found:
            missing.append(f"{method} {template}")
            continue
        api, spec = found
        arn = function_arn_of(spec.get("methodIntegration", {}))
        function = arn.split(":")[6] if arn else None
        route = Route(service, method, template, api.url.rstrip("/") + path, function)
        if function:
            route.secret = tokens.secret_of(_config(aws, function))
        routes.append(route)
    expect(not missing, f"no deployed API serves {', '.join(missing)}{_deploy_note(deployment)}",
           "deploy every service of the shop (products, cart, inventory, payments) with its routes")
    known = next((r.secret for r in routes if r.secret), None)
    for route in routes:
        if route.function is None:  # a service integration: the shop's one secret still applies
            route.secret = known
    return Shop(routes, _functions(stacks))


# -- tokens, as any client of the shop would make them -----------------------------------------

def _token(secret: str, expires_in: int = 600, sign_with: str | None = None, payload: dict | None = None) -> str:
    return tokens.mint(secret, expires_in, sign_with, payload, subject="checkpoint-04")


def _bad_tokens(secret: str) -> dict[str, str]:
    now = int(time.time())
    expired = _token(secret, expires_in=-60)
    header, _, signature = expired.split(".")
    stretched = tokens.b64(json.dumps({"sub": "checkpoint-04", "iat": now - 660, "exp": now + 3600}).encode())
    return {
        "an expired token": expired,
        "a forged token (signed with another key)": _token(secret, sign_with="not-" + secret),
        "a tampered token (expiry pushed back, signature kept)": f"{header}.{stretched}.{signature}",
    }


def _call(http, route: Route, cart: str, token: str | None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    url = route.url.replace("{cart}", cart)
    if route.method == "POST":
        return http.post(url, json={"sku": SKU, "quantity": 1}, headers=headers)
    return http.request(route.method, url, headers=headers)


def _expected_status(route: Route) -> int:
    return 201 if route.method == "POST" else 200


def _drive(http, shop: Shop) -> dict[str, list]:
    """Every route once with a valid token, in an order where each should succeed: function -> responses."""
    cart = f"c04-{uuid.uuid4().hex[:8]}"
    answers = defaultdict(list)
    for route in sorted(shop.routes, key=lambda r: {"POST": 0, "GET": 1, "DELETE": 2}.get(r.method, 3)):
        if route.secret is None:
            continue
        answers[route.function or route.label].append((route, _call(http, route, cart, _token(route.secret))))
    return answers


def _need_secrets(shop: Shop) -> None:
    unknown = [r.label for r in shop.routes if r.secret is None]
    expect(not unknown, f"cannot find the token signing secret of the functions behind {', '.join(unknown)}",
           f"pass the shared secret to every function in the {tokens.SECRET_VARIABLE} environment variable "
           "(the checks mint their tokens with it)")


# -- 04.1 ---------------------------------------------------------------------------------------

def _layer_version(lam, arn: str) -> dict:
    """GetLayerVersion by the layer's ARN and number (the same answer as GetLayerVersionByArn,
    which the local target does not implement)."""
    layer, _, number = arn.rpartition(":")
    return lam.get_layer_version(LayerName=layer, VersionNumber=int(number))


def _own_layers(config: dict) -> list[str]:
    account = config["FunctionArn"].split(":")[4]
    return [layer["Arn"] for layer in config.get("Layers") or [] if layer["Arn"].split(":")[4] == account]


@pytest.mark.checkpoint("04.1", points=2)
def test_a_shared_code_layer_is_listed_by_every_function(aws, stacks, deployment):
    """Every function of the shop lists a layer version of your own (the shared helpers)."""
    functions = _functions(stacks)
    expect(functions, f"no function is deployed{_deploy_note(deployment)}", "deploy the shop's services")
    without, layers = [], set()
    for name, label in sorted(functions.items(), key=lambda f: f[1]):
        own = _own_layers(_config(aws, name))
        if not own:
            without.append(label)
        layers.update(own)
    expect(not without, f"{len(without)} of {len(functions)} functions list no layer of your own: "
           f"{', '.join(without[:4])}{' ...' if len(without) > 4 else ''}",
           "publish the shared helpers as an AWS::Serverless::LayerVersion (python/ layout) "
           "and add it to Layers in Globals, so every function lists it")
    lam = aws("lambda")
    for arn in sorted(layers):
        try:
            content = _layer_version(lam, arn).get("Content", {})
        except lam.exceptions.ResourceNotFoundException:
            fail(f"the functions list the layer {arn}, which does not exist", "deploy the stack that publishes it")
        expect(content.get("CodeSize", 0) > 0, f"the layer {arn} is empty", "give it a ContentUri folder holding python/")


# -- 04.2 ---------------------------------------------------------------------------------------

def _json_of(message: str) -> dict | None:
    start = message.find("{")
    if start < 0:
        return None
    try:
        value = json.loads(message[start:].strip())
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _is_emf(entry: dict) -> bool:
    aws_meta = entry.get("_aws")
    return isinstance(aws_meta, dict) and isinstance(aws_meta.get("CloudWatchMetrics"), list)


def _log_problem(entries: list[dict], routed: bool) -> str | None:
    structured = [e for e in entries if "cold_start" in e and e.get("function_name")]
    if not structured:
        return "no structured JSON log line with cold_start and function_name"
    if routed and not any(isinstance(e.get("correlation_id"), str) and e["correlation_id"] for e in structured):
        return "its JSON log lines carry no correlation_id"
    if not any(_is_emf(e) for e in entries):
        return "no metric in Embedded Metric Format (a JSON line with _aws.CloudWatchMetrics)"
    return None


@pytest.mark.checkpoint("04.2", points=3)
def test_powertools_is_attached_by_arn_and_used(aws, stacks, shop, http, target):
    """Every function lists the public Powertools layer by ARN; its logs are structured JSON with a
    correlation id, and it emits metrics in EMF."""
    missing, problems = [], []
    for name, label in sorted(shop.functions.items(), key=lambda f: f[1]):
        config = _config(aws, name)
        region = config["FunctionArn"].split(":")[3]
        arns = [layer["Arn"] for layer in config.get("Layers") or []]
        powertools = [m for m in map(POWERTOOLS_LAYER.match, arns) if m]
        runtime = (config.get("Runtime") or "").replace(".", "")
        if not powertools:
            missing.append(label)
        elif powertools[0]["region"] != region:
            problems.append(f"{label} lists the Powertools layer of {powertools[0]['region']}, not of its region {region}")
        elif runtime and "python3" in powertools[0]["name"] and runtime not in powertools[0]["name"]:
            problems.append(f"{label} runs {config['Runtime']} but lists Powertools built for {powertools[0]['name']}")
    if missing:
        problems.insert(0, f"{len(missing)} of {len(shop.functions)} functions do not list the Powertools layer "
                           f"({', '.join(missing[:3])}{' ...' if len(missing) > 3 else ''})")
    expect(not problems, "; ".join(problems[:3]),
           f"attach arn:aws:lambda:${{AWS::Region}}:{POWERTOOLS_ACCOUNT}:layer:AWSLambdaPowertoolsPythonV3-"
           "<python312>-<x86_64|arm64>:<version> to every function (Globals: Layers)")
    _need_secrets(shop)

    since = int(time.time() * 1000) - 1000
    answers = _drive(http, shop)
    routed = {route.function for route in shop.routes if route.function}
    authorizers = _authorizer_functions(aws, stacks)
    lam = aws("lambda")
    for name in shop.functions:
        if name not in routed and name not in authorizers:  # payments: invoked directly by the order workflow
            lam.invoke(FunctionName=name, Payload=json.dumps(
                {"orderId": f"c04-{uuid.uuid4().hex[:8]}", "amount": 100, "paymentToken": "tok_ok"}).encode())
    broken = [f"{route.label} answered {response.status_code}" for calls in answers.values() for route, response in calls
              if response.status_code >= 500]
    expect(not broken, "; ".join(broken[:3]), "read the function's log group: an import error means a missing layer")

    logs = aws("logs")
    deadline = time.monotonic() + target.log_delivery_s
    while True:
        problems = []
        for name, label in sorted(shop.functions.items(), key=lambda f: f[1]):
            entries = [e for _, message in log_lines(logs, name, since_ms=since) if (e := _json_of(message))]
            problem = _log_problem(entries, name in routed)
            if problem:
                problems.append(f"{label}: {problem}")
        if not problems or time.monotonic() > deadline:
            break
        time.sleep(3)
    expect(not problems, "; ".join(problems[:3]),
           "use Powertools in every handler: Logger with "
           "@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST), "
           "Metrics with @metrics.log_metrics and a namespace, Tracer; replace the print() calls")


def _authorizer_functions(aws, stacks) -> set[str]:
    """Names of the functions behind the APIs' Lambda authorizers: the routes' calls run them."""
    apigateway, found = aws("apigateway"), set()
    for info in stacks.values():
        for r in info.resources:
            if r["type"] != "AWS::ApiGateway::RestApi":
                continue
            for authorizer in apigateway.get_authorizers(restApiId=r["physicalId"]).get("items", []):
                arn = function_arn_of({"uri": authorizer.get("authorizerUri", "")})
                if arn:
                    found.add(arn.split(":")[6])
    return found


# -- 04.3 ---------------------------------------------------------------------------------------

MIN_NODES = 30  # smaller functions (a one-line wrapper) may look alike by chance
NEAR_COPY = 0.8  # share of the smaller definition's syntax runs found in the other
MIN_SHARE = 0.5


def _code_folders(workspace: Path) -> tuple[set[Path], set[Path]]:
    """(function code folders, layer content folders) named by the workspace's templates."""
    functions: set[Path] = set()
    layers: set[Path] = set()
    for path in find_templates(workspace):
        try:
            document = templates.load(path)
        except templates.TemplateError as exc:
            fail(f"{path.relative_to(workspace)} cannot be read: {exc}", "fix the template's YAML")
        default = ((document.get("Globals") or {}).get("Function") or {}).get("CodeUri")
        for resource in (document.get("Resources") or {}).values():
            if not isinstance(resource, dict):
                continue
            kind, props = str(resource.get("Type", "")), resource.get("Properties") or {}
            uri = {"AWS::Serverless::Function": props.get("CodeUri", default),
                   "AWS::Lambda::Function": props.get("Code"),
                   "AWS::Serverless::LayerVersion": props.get("ContentUri"),
                   "AWS::Lambda::LayerVersion": props.get("Content")}.get(kind)
            if isinstance(uri, str) and "://" not in uri:
                (layers if "Layer" in kind else functions).add((path.parent / uri).resolve())
    return functions, layers


def _sources(folder: Path, others: set[Path]) -> list[Path]:
    if folder.is_file():
        return [folder] if folder.suffix == ".py" else []
    found = []
    for path in sorted(folder.rglob("*.py")):
        if is_ignored(path.relative_to(folder), skip_tests=True) or path.name.startswith("test_") \
                or path.name == "conftest.py":
            continue
        if any(other != folder and other.is_relative_to(folder) and path.is_relative_to(other) for other in others):
            continue  # a layer (or another function) nested inside this folder is its own place
        found.append(path)
    return found


def _in_source_order(node: ast.AST):
    yield node
    for child in ast.iter_child_nodes(node):
        yield from _in_source_order(child)


def _normalised(node: ast.AST) -> tuple[str, int]:
    """The definition's shape: docstrings dropped, every name replaced by its order of appearance."""
    node = copy.deepcopy(node)
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        # Decorators are configuration (Powertools' documented handler stack), not copied logic.
        node.decorator_list = []
    names: dict[str, str] = {}

    def rename(name: str) -> str:
        return names.setdefault(name, f"n{len(names)}")

    count = 0
    for child in _in_source_order(node):
        count += 1
        body = getattr(child, "body", None)
        first = body[0] if isinstance(body, list) and body else None
        if isinstance(body, list) and isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                and isinstance(first.value.value, str):
            child.body = body[1:] or [ast.Pass()]
        if isinstance(child, ast.Name):
            child.id = rename(child.id)
        elif isinstance(child, ast.arg):
            child.arg = rename(child.arg)
        elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            child.name = rename(child.name)
    return ast.dump(node, annotate_fields=False, include_attributes=False), count


def _definitions(path: Path) -> list[tuple[str, str, int]]:
    """(name, normalised shape, size) of every function and class defined in a file."""
    try:
        tree = ast.parse(path.read_text(errors="replace"), str(path))
    except (SyntaxError, ValueError):
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            shape, size = _normalised(node)
            if size >= MIN_NODES:
                found.append((node.name, shape, size))
    return found


TOKEN = re.compile(r"[A-Za-z_]\w*|'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|-?\d+(?:\.\d+)?")


def _shingles(shape: str, size: int = 5) -> set[tuple[str, ...]]:
    tokens = ["n" if re.fullmatch(r"n\d+", t) else t for t in TOKEN.findall(shape)]
    return {tuple(tokens[i:i + size]) for i in range(max(1, len(tokens) - size + 1))}


def _near_copy(a: set, b: set) -> bool:
    """Most of the smaller definition's runs of syntax appear in the other, and it is at least half
    its size: an edited copy (a check removed, a line added) still counts."""
    small, large = sorted((a, b), key=len)
    return len(small) >= MIN_SHARE * len(large) and len(small & large) >= NEAR_COPY * len(small)


def _copies(workspace: Path) -> list[tuple[str, list[str]]]:
    """(helper, the files defining it) for each helper defined in a function folder and somewhere else."""
    functions, layers = _code_folders(workspace)
    places = functions | layers
    shapes: dict[str, dict[Path, list[str]]] = defaultdict(lambda: defaultdict(list))  # shape -> place -> where
    layer_shapes: list[tuple[set[tuple[str, ...]], str]] = []  # (shingles of a layer helper, its name)
    for place in sorted(places):
        for path in _sources(place, places):
            for name, shape, _ in _definitions(path):
                shapes[shape][place].append(f"{name} in {path.relative_to(workspace)}")
                if place in layers:
                    layer_shapes.append((_shingles(shape), name))
    found = []
    for _shape, where in shapes.items():
        if any(p in functions for p in where) and len(where) >= 2:
            sites = [w for p in sorted(where) for w in where[p]]
            found.append((sites[0].split(" in ")[0], [s.split(" in ")[1] for s in sites]))
    for shape, where in shapes.items():  # a near copy of a layer helper left in a function folder
        for place, sites in where.items():
            if place not in functions or any(p in layers for p in where):
                continue
            ours = _shingles(shape)
            for layer_shape, layer_name in layer_shapes:
                if _near_copy(ours, layer_shape):
                    found.append((f"{sites[0].split(' in ')[0]} (a near copy of the layer's {layer_name})",
                                  [s.split(" in ")[1] for s in sites]))
                    break
    return found


@pytest.mark.checkpoint("04.3", points=2)
def test_no_copies_of_the_shared_helpers_are_left(workspace):
    """No function code folder still holds a copy of shared helper code (compared by syntax tree,
    whatever the names or the formatting)."""
    functions, _ = _code_folders(workspace)
    expect(functions, "no template in the workspace names a function code folder (CodeUri)",
           "keep each service's template.yaml with its functions' CodeUri")
    copies = _copies(workspace)
    names = sorted({name for name, _ in copies if not name.startswith("__")}) or [name for name, _ in copies]
    files = sorted({f for _, sites in copies for f in sites})
    expect(not copies, f"{len(names)} helper(s) copied across folders ({', '.join(names[:5])}"
           f"{', ...' if len(names) > 5 else ''}) in {', '.join(files[:4])}{' ...' if len(files) > 4 else ''}",
           "keep one copy of the helpers, in the layer's python/ package, import it from there and delete the copies")


# -- 04.4 ---------------------------------------------------------------------------------------

@pytest.mark.checkpoint("04.4", points=3)
def test_auth_is_right_in_every_service(shop, http):
    """An expired, forged or tampered token gets 401 from every service; a valid one passes; the cart and
    inventory routes need a token."""
    _need_secrets(shop)
    services = {route.service for route in shop.routes}
    cart = f"c04-{uuid.uuid4().hex[:8]}"
    let_through: dict[str, list[str]] = defaultdict(list)  # route label -> the bad tokens it let through
    problems, open_routes, coded_routes = [], set(), set()
    order = sorted(shop.routes, key=lambda r: {"POST": 0, "GET": 1, "DELETE": 2}.get(r.method, 3))
    for route in order:
        for kind, token in [("no token", None), *_bad_tokens(route.secret).items()]:
            if token is None and route.service not in PROTECTED:
                continue  # the catalogue is public; a bad token sent to it is still refused
            response = _call(http, route, cart, token)
            try:
                body = response.json()
            except ValueError:
                body = {}
            if response.status_code != 401 or not isinstance(body, dict) or not body.get("message"):
                let_through[route.label].append(f"{kind.split(' (')[0]} ({response.status_code})")
                (coded_routes if route.function else open_routes).add(route.label)
        valid = _call(http, route, cart, _token(route.secret))
        if valid.status_code != _expected_status(route):
            problems.append(f"{route.label} with a valid token answered {valid.status_code}: {valid.text[:80]}")
    problems = [f"{label} let through {', '.join(kinds)}" for label, kinds in let_through.items()] + problems
    fixes = []
    if open_routes:
        fixes.append(f"{', '.join(sorted(open_routes))} has no function to check a token: give its API a Lambda "
                     "authorizer built from the shared layer (401 for a bad token)")
    if coded_routes or not fixes:
        fixes.append("verify the token in one place (the shared layer) for every function: signature, then expiry; "
                     'answer 401 {"message": ...}')
    expect(not problems, "; ".join(problems[:3]) + (f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""),
           "; ".join(fixes))
    expect(PROTECTED <= services, f"services with routes: {', '.join(sorted(services))}", "deploy cart and inventory")


# -- 04.5 ---------------------------------------------------------------------------------------

@pytest.mark.checkpoint("04.5", points=2)
def test_layers_stay_within_lambda_limits(stacks, deployment, target):
    """At most 5 layers per function; function plus layers within 50 MB zipped and 250 MB unzipped,
    measured from the deployed artifacts."""
    too_big = [e for e in deployment.errors.values() if "unzipped size" in e or "too large" in e.lower()]
    expect(not too_big, too_big[0][:240] if too_big else "", "package less: layers add to every function that lists them")
    functions = _functions(stacks)
    expect(functions, f"no function is deployed{_deploy_note(deployment)}", "deploy the shop's services")
    problems = []
    for name, label in sorted(functions.items(), key=lambda f: f[1]):
        package, *layers = target.artifact_sizes(name, stacks)
        if len(layers) > MAX_LAYERS:
            problems.append(f"{label} lists {len(layers)} layers (at most {MAX_LAYERS})")
        zipped = sum(artifact.zipped or 0 for artifact in (package, *layers))
        if zipped > MAX_ZIPPED:
            problems.append(f"{label} and its layers are {zipped / 2**20:.1f} MB zipped (at most 50 MB)")
        unzipped = sum(artifact.unzipped or 0 for artifact in (package, *layers))  # unreadable: counted as 0
        if unzipped > MAX_UNZIPPED:
            problems.append(f"{label} and its layers are {unzipped / 2**20:.1f} MB unzipped (at most 250 MB)")
    expect(not problems, "; ".join(problems[:3]),
           "be selective: attach only the layers a function needs and keep dependencies out of what it does not use")


# -- 04.6 ---------------------------------------------------------------------------------------

@pytest.mark.checkpoint("04.6", points=0)
def test_cold_start_is_measured(aws, shop, http, record_property):
    """Informational: each function's cold start (Init Duration) with its layers, read from REPORT lines."""
    _need_secrets(shop)
    answers = _drive(http, shop)
    broken = [f"{route.label} answered {response.status_code}" for calls in answers.values()
              for route, response in calls if response.status_code >= 500]
    expect(not broken, "; ".join(broken[:3]), "fix the function first (see its log group)")
    logs, seen = aws("logs"), {}
    for name, label in sorted(shop.functions.items(), key=lambda f: f[1]):
        inits = [r.init_ms for r in reports(log_lines(logs, name, since_ms=0)) if r.init_ms]
        if inits:
            layers = len(_config(aws, name).get("Layers") or [])
            seen[label] = (max(inits), layers)
            record_property(f"init_ms:{label}", f"{max(inits):.0f}")
            print(f"{label}: Init Duration {max(inits):.0f} ms with {layers} layer(s)")
    expect(seen, "no REPORT line with an Init Duration was found in the functions' log groups",
           "the functions must run once to be measured: check that they answer")
