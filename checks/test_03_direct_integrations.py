"""Module 03: GET /cart/{cartId} served by API Gateway straight from DynamoDB, no function.

The checkpoints read the deployed API through `apigateway` and the integration's role through
`iam`, drive the cart over HTTP and read the functions' log groups: no names of ours are assumed.
"""

from __future__ import annotations

import ast
import json
import re
import time
import uuid
from urllib.parse import unquote

import pytest

from checks.advice import fault_behind, template_label
from checks.support import (
    CheckpointFailed,
    api_for_route,
    api_routes,
    api_urls,
    expect,
    fail,
    function_arn_of,
    log_lines,
    reports,
)

GET_CART = ("GET", "/cart/{cartId}")
ADD_ITEM = ("POST", "/cart/{cartId}/items")
GET_ITEM_URI = re.compile(r"^arn:aws[\w-]*:apigateway:[^:]+:dynamodb:action/GetItem$")
TALK = "the talk measured 0.2 s for the direct integration's first call against 1.3 s for the get-cart Lambda's cold start"


# -- helpers ---------------------------------------------------------------------------------

def _route(aws, stacks, method: str, path: str):
    """(Api, method spec) of the route, or a failing checkpoint that says it is missing."""
    found = api_for_route(aws("apigateway"), stacks, method, path)
    expect(found, f"no deployed API serves {method} {path}",
           "keep the cart's routes in the cart service's API (see the contract in the module's README)")
    return found


def _function_name(arn: str) -> str:
    return arn.split(":")[6]


def _served_by(integration: dict) -> str:
    arn = function_arn_of(integration)
    if arn:
        return f"function {_function_name(arn)}"
    uri = integration.get("uri") or ""
    if GET_ITEM_URI.match(uri):
        return "the DynamoDB GetItem integration (no function)"
    return f"a {integration.get('type', '?')} integration ({uri or 'no URI'})"


def _json(response, what: str):
    try:
        return response.json()
    except ValueError:
        fail(f"{what} answered a body that is not JSON: {response.text[:160]!r}",
             "check that the response template renders valid JSON (quotes, commas between items)")


def _content_type_is_json(response, what: str) -> None:
    content_type = response.headers.get("content-type", "")
    expect(content_type.split(";")[0].strip().lower() == "application/json",
           f"{what} answered Content-Type {content_type or '(none)'}",
           "map the response with an application/json response template")


def _normal(cart):
    """A cart body with its lines in a stable order (the contract does not fix their order)."""
    if not isinstance(cart, dict) or not isinstance(cart.get("items"), list):
        return cart
    lines = sorted(cart["items"], key=lambda line: json.dumps(line, sort_keys=True))
    return {**cart, "items": lines}


def _triggered_otherwise(aws, name: str) -> bool:
    """Does something other than API Gateway invoke the function (a schedule, a queue, a stream,
    a bucket...)? Then it is a function of its own, not a get-cart left behind."""
    lam = aws("lambda")
    if lam.list_event_source_mappings(FunctionName=name).get("EventSourceMappings"):
        return True
    try:
        policy = json.loads(lam.get_policy(FunctionName=name)["Policy"])
    except lam.exceptions.ResourceNotFoundException:
        return False
    for statement in _as_list(policy.get("Statement", [])):
        principal = statement.get("Principal")
        services = _as_list(principal.get("Service", [])) if isinstance(principal, dict) else []
        if any(service != "apigateway.amazonaws.com" for service in services):
            return True
    return False


def _all_functions(stacks) -> list[str]:
    return sorted({r["physicalId"] for info in stacks.values() for r in info.resources
                   if r["type"] == "AWS::Lambda::Function"})


def _document(document) -> dict:
    """A policy document as a dict (IAM gives URL-encoded JSON text; boto3 usually decodes it)."""
    if isinstance(document, str):
        text = unquote(document)
        try:
            document = json.loads(text)
        except ValueError:
            try:  # moto 5.2.5 keeps a CloudFormation-made role's inline policies as a Python repr
                document = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                document = {}
    return document or {}


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _role_statements(iam, role_name: str) -> list[dict]:
    """Every statement of the role's inline and attached policies."""
    documents = []
    for name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]:
        documents.append(iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"])
    for attached in iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]:
        try:
            version = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]["DefaultVersionId"]
            documents.append(iam.get_policy_version(PolicyArn=attached["PolicyArn"], VersionId=version)
                             ["PolicyVersion"]["Document"])
        except iam.exceptions.NoSuchEntityException:
            documents.append({"Statement": [{"Effect": "Allow", "Action": f"(unreadable policy {attached['PolicyArn']})",
                                             "Resource": "*"}]})
    statements = []
    for document in documents:
        statements += _as_list(_document(document).get("Statement", []))
    return statements


def _allowed(statements: list[dict]) -> list[tuple[list, list, dict]]:
    return [(_as_list(s.get("Action", s.get("NotAction", []))), _as_list(s.get("Resource", s.get("NotResource", []))), s)
            for s in statements if s.get("Effect") == "Allow"]


def _cart_table_arn(aws, stacks, api_stack: str, integration: dict) -> str:
    """The table GET reads: the one the request template names, else the API stack's only table."""
    dynamodb = aws("dynamodb")
    names = re.findall(r'"TableName"\s*:\s*"([^"$]+)"', " ".join((integration.get("requestTemplates") or {}).values()))
    if not names:
        names = [r["physicalId"] for r in stacks[api_stack].resources if r["type"] == "AWS::DynamoDB::Table"]
    expect(len(set(names)) == 1, f"cannot tell which table GET /cart/{{id}} reads (found {sorted(set(names)) or 'none'})",
           'name the cart table in the request template ("TableName": "${CartTable}")')
    try:
        return dynamodb.describe_table(TableName=names[0])["Table"]["TableArn"]
    except dynamodb.exceptions.ResourceNotFoundException:
        fail(f"the request template reads table {names[0]}, which does not exist",
             "use the cart table's name in the request template (!Sub with ${CartTable})")


# -- checkpoints -----------------------------------------------------------------------------
# 03.5 comes first in this file on purpose: it makes the very first calls on the fresh stack.

@pytest.mark.checkpoint("03.5", points=0)
def test_first_call_latency_is_shown(aws, stacks, http, target, record_property):
    """Informational, 0 points: the first GET's latency beside a Lambda's cold first call (never graded on time).

    A latency is a figure only when the call answered as the contract says: a 5xx has none to show.
    """
    api, spec = _route(aws, stacks, *GET_CART)
    post_api, _ = _route(aws, stacks, *ADD_ITEM)
    since = int(time.time() * 1000) - 1000
    cart = f"c03-{uuid.uuid4().hex[:8]}"
    timings = {}
    statuses = []
    for label in ("first GET", "second GET"):
        started = time.perf_counter()
        response = http.get(f"{api.url}cart/{cart}")
        timings[label] = time.perf_counter() - started
        statuses.append(response.status_code)
    started = time.perf_counter()
    response = http.post(f"{post_api.url}cart/{cart}/items", json={"sku": "latency-probe", "quantity": 1})
    timings["first POST"] = time.perf_counter() - started
    statuses.append(response.status_code)

    failed = [f"{label} answered {code}" for label, code in zip(("first GET", "second GET", "first POST"), statuses, strict=False)
              if code >= 500]
    expect(not failed, f"no latency to show: {', '.join(failed)}",
           "make GET /cart/{id} and POST /cart/{id}/items answer first (03.2 says what is wrong)")
    served_by = _served_by(spec.get("methodIntegration") or {})
    inits = []
    logs = aws("logs")
    for name in _all_functions(stacks):
        for report in reports(log_lines(logs, name, since_ms=since)):
            if report.init_ms:
                inits.append(f"{name} Init Duration {report.init_ms:.0f} ms")
    note = (f"first GET /cart/{{id}} {timings['first GET'] * 1000:.0f} ms, served by {served_by}; "
            f"second GET {timings['second GET'] * 1000:.0f} ms; "
            f"a Lambda's cold first call (the first POST /cart/{{id}}/items) {timings['first POST'] * 1000:.0f} ms"
            + (f" ({'; '.join(inits)})" if inits else "")
            + f". On {target.name}" + ("" if target.grading_deploys else " (the stack may already be warm)")
            + f"; {TALK}.")
    print(note)
    record_property("note", note)


@pytest.mark.checkpoint("03.1", points=3)
def test_get_cart_is_a_dynamodb_getitem_integration(aws, stacks, deployment, workspace):
    """GET /cart/{cartId} is an AWS integration to dynamodb:action/GetItem, and no function is left over."""
    apigateway = aws("apigateway")
    api, spec = _route(aws, stacks, *GET_CART)
    integration = spec.get("methodIntegration") or {}
    arn = function_arn_of(integration)
    expect(not arn, f"GET /cart/{{id}} invokes function {arn and _function_name(arn)} ({integration.get('type')} integration)",
           "make it an AWS integration to arn:aws:apigateway:${AWS::Region}:dynamodb:action/GetItem")
    uri = integration.get("uri") or ""
    expect((integration.get("type") or "").upper() == "AWS" and GET_ITEM_URI.match(uri),
           f"GET /cart/{{id}} is {_served_by(integration)}",
           "use type AWS (not AWS_PROXY, MOCK or HTTP) with the URI arn:aws:apigateway:${AWS::Region}:dynamodb:action/GetItem")

    routed = set()
    for other in api_urls(stacks):
        for route in api_routes(apigateway, other.rest_api_id).values():
            if fn := function_arn_of(route.get("methodIntegration") or {}):
                routed.add(_function_name(fn))
        for authorizer in apigateway.get_authorizers(restApiId=other.rest_api_id).get("items", []):
            if fn := function_arn_of({"uri": authorizer.get("authorizerUri", "")}):
                routed.add(_function_name(fn))
    leftovers = sorted(r["physicalId"] for r in stacks[api.stack].resources
                       if r["type"] == "AWS::Lambda::Function" and r["physicalId"] not in routed
                       and not _triggered_otherwise(aws, r["physicalId"]))
    where = template_label(api.stack, deployment.templates, workspace)
    expect(not leftovers, f"{where} still deploys {', '.join(leftovers)}, which serves no route",
           "delete the get-cart function (its code, its template resource and its policy): the API reads the table itself")


@pytest.mark.checkpoint("03.2", points=3)
def test_same_cart_contract_as_the_lambda(aws, stacks, http, deployment, workspace):
    """Empty, one-item and many-item carts read back exactly as written; a missing cart is 404 with a message."""
    get_api, get_spec = _route(aws, stacks, *GET_CART)
    post_api, _ = _route(aws, stacks, *ADD_ITEM)

    def server_error(response, otherwise: str) -> tuple[str, str]:
        """(what the log said, what to change) for a GET that answered 5xx, from what serves it."""
        if response.status_code < 500:
            return "", otherwise
        if function_arn_of(get_spec.get("methodIntegration") or {}):
            fault = fault_behind(aws, stacks, deployment.templates, workspace, *GET_CART)
            return (fault.said(), fault.fix(otherwise, response.status_code)) if fault else ("", otherwise)
        return "", ("the GetItem call itself failed: check the integration's request template (TableName, Key) "
                    "and that its credentials role may call dynamodb:GetItem on that table")

    def read(cart: str, expected: dict, after: str) -> None:
        response = http.get(f"{get_api.url}cart/{cart}")
        logged, fix = server_error(response, "answer 200 with the cart (the API's execution log names the template error)")
        expect(response.status_code == 200,
               f"GET after {after} answered {response.status_code}: {response.text[:160]}{logged}", fix)
        _content_type_is_json(response, "GET /cart/{id}")
        body = _json(response, f"GET after {after}")
        expect(_normal(body) == _normal(expected),
               f"GET after {after} gave {json.dumps(body)[:200]}, expected {json.dumps(expected)[:200]}",
               'render exactly {"cartId", "items": [{"sku", "quantity"}]}, quantity as a number, as get-cart did')

    missing = http.get(f"{get_api.url}cart/c03-missing-{uuid.uuid4().hex[:8]}")
    logged, fix = server_error(missing, "set $context.responseOverride.status = 404 when GetItem returns no Item")
    expect(missing.status_code == 404,
           f"GET of a cart never written answered {missing.status_code}: {missing.text[:160]}{logged}", fix)
    _content_type_is_json(missing, "GET of a missing cart")
    body = _json(missing, "GET of a missing cart")
    expect(isinstance(body, dict) and isinstance(body.get("message"), str),
           f"GET of a missing cart gave {json.dumps(body)[:160]}", 'answer {"message": "..."} with the 404')

    models: dict[str, dict[str, int]] = {}

    def write(cart: str, method: str, sku: str, quantity: int = 0) -> None:
        model = models.setdefault(cart, {})
        items_url = f"{post_api.url}cart/{cart}/items"
        if method == "POST":
            response = http.post(items_url, json={"sku": sku, "quantity": quantity})
            model[sku] = model.get(sku, 0) + quantity
            wanted = 201
        else:
            response = http.delete(f"{items_url}/{sku}")
            model.pop(sku, None)
            wanted = 200
        expect(response.status_code == wanted, f"{method} {sku} answered {response.status_code}: {response.text[:160]}",
               "keep manage-cart serving POST and DELETE as before")
        written = _json(response, f"{method} /cart/{{id}}/items")
        expected = {"cartId": cart, "items": [{"sku": s, "quantity": q} for s, q in model.items()]}
        expect(_normal(written) == _normal(expected), f"{method} {sku} answered {json.dumps(written)[:200]}",
               "keep manage-cart's answers to the contract")
        read(cart, written, f"{method} {sku}")

    cart = f"c03-{uuid.uuid4().hex[:8]}"
    write(cart, "POST", "lambda-tee", 2)          # one item
    write(cart, "POST", "dynamodb-mug", 1)
    write(cart, "POST", "sqs-socks", 3)
    write(cart, "POST", "lambda-tee", 1)          # many items
    write(cart, "DELETE", "lambda-tee")
    write(cart, "DELETE", "dynamodb-mug")
    write(cart, "DELETE", "sqs-socks")            # empty after delete
    quoted = 'the "serverless" hoodie'
    try:
        write(f"c03-{uuid.uuid4().hex[:8]}", "POST", quoted, 1)
    except CheckpointFailed as failed:
        if failed.saw.startswith("GET"):
            fail(f"{failed.saw} (a SKU with quotes)",
                 "escape strings in the response template: \"$util.escapeJavaScript($line.M.sku.S)\"")
        raise


@pytest.mark.checkpoint("03.3", points=3)
def test_integration_role_allows_only_getitem_on_the_cart_table(aws, stacks):
    """The integration's credentials role is assumed by API Gateway and allows only dynamodb:GetItem on the cart table."""
    iam = aws("iam")
    api, spec = _route(aws, stacks, *GET_CART)
    integration = spec.get("methodIntegration") or {}
    if arn := function_arn_of(integration):
        broad = []
        role = aws("lambda").get_function_configuration(FunctionName=arn)["Role"].rsplit("/", 1)[-1]
        for actions, resources, _ in _allowed(_role_statements(iam, role)):
            if any(str(a).lower().startswith("dynamodb:") for a in actions):
                broad.append(f"{', '.join(map(str, actions))} on {', '.join(map(str, resources))}")
        fail(f"GET /cart/{{id}} runs function {_function_name(arn)}, whose role allows {'; '.join(broad) or 'no DynamoDB action'}",
             "give the DynamoDB integration its own role (credentials) allowing only dynamodb:GetItem on the cart table")
    credentials = integration.get("credentials") or ""
    expect(":role/" in credentials, f"the GET integration's credentials are {credentials or 'not set'}",
           "set credentials to the ARN of a role that API Gateway assumes (!GetAtt YourRole.Arn)")
    role_name = credentials.rsplit("/", 1)[-1]
    try:
        role = iam.get_role(RoleName=role_name)["Role"]
    except iam.exceptions.NoSuchEntityException:
        fail(f"the integration's role {role_name} does not exist", "create the role in the cart template and reference it")
    trusted = [s for s in _as_list(_document(role.get("AssumeRolePolicyDocument")).get("Statement", []))
               if s.get("Effect") == "Allow"
               and "apigateway.amazonaws.com" in _as_list((s.get("Principal") or {}).get("Service", []))]
    expect(trusted, f"role {role_name} cannot be assumed by API Gateway",
           "its trust policy must allow sts:AssumeRole to the service principal apigateway.amazonaws.com")

    table_arn = _cart_table_arn(aws, stacks, api.stack, integration)
    excess, grants = [], False
    for actions, resources, statement in _allowed(_role_statements(iam, role_name)):
        if "NotAction" in statement or "NotResource" in statement:
            excess.append("a statement with NotAction or NotResource")
            continue
        for action in actions:
            if str(action).lower() != "dynamodb:getitem":
                excess.append(f"action {action}")
        for resource in resources:
            if resource != table_arn:
                excess.append(f"resource {resource}")
        if any(str(a).lower() == "dynamodb:getitem" for a in actions) and table_arn in resources:
            grants = True
    expect(not excess, f"role {role_name} also allows {', '.join(sorted(set(map(str, excess)))[:4])}",
           f"allow only Action dynamodb:GetItem on Resource {table_arn} (no wildcard)")
    expect(grants, f"role {role_name} does not allow dynamodb:GetItem on the cart table {table_arn}",
           "add that one statement, with the table's ARN (!GetAtt CartTable.Arn)")


@pytest.mark.checkpoint("03.4", points=2)
def test_no_function_runs_for_a_get(aws, stacks, http, target):
    """Reading present and absent carts writes no START line in any function's log group."""
    get_api, _ = _route(aws, stacks, *GET_CART)
    post_api, _ = _route(aws, stacks, *ADD_ITEM)
    cart = f"c03-{uuid.uuid4().hex[:8]}"
    added = http.post(f"{post_api.url}cart/{cart}/items", json={"sku": "lambda-tee", "quantity": 1})
    expect(added.status_code == 201, f"POST /cart/{{id}}/items answered {added.status_code}: {added.text[:120]}",
           "keep manage-cart serving POST")
    logs, functions = aws("logs"), _all_functions(stacks)
    time.sleep(0.05)
    since = int(time.time() * 1000)
    before = {name: {m for _, m in log_lines(logs, name, since_ms=since)} for name in functions}
    for path in (cart, cart, f"c03-missing-{uuid.uuid4().hex[:8]}", cart):
        http.get(f"{get_api.url}cart/{path}")  # whatever it answers (03.2 judges that), no function may run
    time.sleep(target.log_delivery_s / 4)  # an absence cannot be polled for: give CloudWatch Logs time to deliver
    invoked = {}
    for name in functions:
        starts = [m for _, m in log_lines(logs, name, since_ms=since) if m.startswith("START") and m not in before[name]]
        if starts:
            invoked[name] = len(starts)
    expect(not invoked, "reading carts invoked " + ", ".join(f"{n} ({c} START lines)" for n, c in invoked.items()),
           "serve GET /cart/{cartId} with the DynamoDB integration: no function runs for a read")
