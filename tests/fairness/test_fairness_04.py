"""Fairness of module 04's checkpoints: wrong refactors fail, other correct refactors pass.

Each case copies the module's solution, changes it with one small named function (its
docstring says what a learner would have done), deploys it into the session's local cloud and
runs the checkpoints. A wrong refactor must fail the checkpoint it violates; a correct
alternative (another package and folder names, a layer built or declared differently, another
Powertools version or architecture) must pass every checkpoint.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from workshop import course

from . import variants
from .variants import Case

MODULE = course.module("04")
SERVICES = ("cart", "inventory", "payments", "products")
LAYER = Path("layers/shop-shared")
PACKAGE = LAYER / "content" / "python" / "shop_shared"
TREES = Path(__file__).parent / "trees_04"
POWERTOOLS_SUB = """      - !Sub
        - "arn:aws:lambda:${AWS::Region}:017000801446:layer:${Name}:${Version}"
        - Name: !FindInMap [Powertools, Layer, Name]
          Version: !FindInMap [Powertools, Layer, Version]
"""


# -- helpers ------------------------------------------------------------------------------------

def _template(tree: Path, service: str) -> Path:
    return tree / "services" / service / "template.yaml"


def _replace_everywhere(tree: Path, pairs: list[tuple[str, str]], suffixes=(".py", ".yaml")) -> None:
    for path in tree.rglob("*"):
        if path.is_file() and path.suffix in suffixes:
            text = original = path.read_text()
            for old, new in pairs:
                text = text.replace(old, new)
            if text != original:
                path.write_text(text)


def _cut(path: Path, start: str, end: str, new: str = "") -> None:
    """Replace the text from `start` (included) to `end` (excluded) with `new`."""
    text = path.read_text()
    i = text.index(start)
    j = text.index(end, i)
    path.write_text(text[:i] + new + text[j:])


SHARED_LAYER_RESOURCE_START = "  SharedLayer:\n    Type: AWS::Serverless::LayerVersion\n"
SHARED_LAYER_OUTPUT_START = "  SharedLayerArn:\n"


def _drop_shared_layer(template: Path, listed_as: str = "") -> None:
    """Remove the stack's own SharedLayer (resource, output) and its line in Globals' Layers."""
    variants.replace_in(template, "      - !Ref SharedLayer\n", listed_as)
    text = template.read_text()
    start = text.index(SHARED_LAYER_RESOURCE_START)
    end = text.index("\n  ", text.index("RetentionPolicy: Delete", start)) + 1
    text = text[:start] + text[end:].lstrip("\n")
    start = text.index(SHARED_LAYER_OUTPUT_START)
    end = text.index("Value: !Ref SharedLayer\n", start) + len("Value: !Ref SharedLayer\n")
    template.write_text(text[:start] + text[end:])


# -- wrong refactors ------------------------------------------------------------------------------

def payments_keeps_its_own_db_copy(tree: Path) -> None:
    """The learner migrates three services but not payments: it keeps a src/db.py copy
    (`import db`) and its template lists only the Powertools layer."""
    _drop_shared_layer(_template(tree, "payments"))
    src = tree / "services" / "payments" / "src"
    shutil.copy(tree / PACKAGE / "db.py", src / "db.py")
    variants.replace_in(src / "payments.py", "from shop_shared import db\n", "import db\n")


def stale_helper_copy_renamed(tree: Path) -> None:
    """The learner keeps inventory's old token check "just in case", as token_check.py with other
    names (check_bearer, TokenRejected): a near copy of the layer's verify_token, without the
    expiry check, that nothing imports (trees_04/stale_helper_copy)."""
    variants.overlay(tree, TREES / "stale_helper_copy")


def stale_auth_copy_kept_as_legacy(tree: Path) -> None:
    """The learner renames inventory's stale src/auth.py to legacy_auth.py instead of deleting it."""
    shutil.copy(MODULE.start / "services" / "inventory" / "src" / "auth.py",
                tree / "services" / "inventory" / "src" / "legacy_auth.py")


def powertools_attached_but_print_kept(tree: Path) -> None:
    """The learner attaches the Powertools layer (it is in Globals) but leaves inventory's handler as
    it was: no Logger/Metrics decorators, print() lines, no metric."""
    source = tree / "services" / "inventory" / "src" / "inventory.py"
    variants.replace_in(source, "@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)\n"
                        "@tracer.capture_lambda_handler\n@metrics.log_metrics(capture_cold_start_metric=True)\n", "")
    variants.replace_in(source, '    logger.info("stock read", extra={"sku": sku, "stock": item["stock"], "reserved": item["reserved"],\n'
                        '                                     "user": app.context["claims"]["sub"]})\n'
                        '    metrics.add_metric(name="StockLookups", unit=MetricUnit.Count, value=1)\n',
                        '    print("get_stock", sku, item["stock"], item["reserved"])\n')
    variants.replace_in(source, '        logger.info("stock seeded", extra={"sku": sku, "stock": INITIAL_STOCK})\n',
                        '        print("seeded stock for", sku)\n')


def six_layers(tree: Path) -> None:
    """The learner splits the helpers into one layer each (auth, db, errors, plus a "utils" and a
    "models" layer) and adds Powertools: the cart's functions list 6 layers, Lambda allows 5."""
    template = _template(tree, "cart")
    extra = ""
    for name in ("Auth", "Db", "Errors", "Utils", "Models"):
        extra += (f"  {name}Layer:\n    Type: AWS::Serverless::LayerVersion\n    Properties:\n"
                  f"      LayerName: !Sub \"${{AWS::StackName}}-{name.lower()}\"\n"
                  "      ContentUri: ../../layers/shop-shared/content/\n      RetentionPolicy: Delete\n\n")
    variants.replace_in(template, "      - !Ref SharedLayer\n",
                "".join(f"      - !Ref {name}Layer\n" for name in ("Auth", "Db", "Errors", "Utils", "Models")))
    variants.replace_in(template, SHARED_LAYER_RESOURCE_START, extra + SHARED_LAYER_RESOURCE_START)


def expiry_check_removed_in_layer(tree: Path) -> None:
    """The learner builds the layer from inventory's stale auth.py: verify_token no longer checks
    `exp`, so an expired token passes in every service now."""
    variants.replace_in(tree / PACKAGE / "auth.py",
                '    expires = claims.get("exp") if isinstance(claims, dict) else None\n'
                "    if isinstance(expires, bool) or not isinstance(expires, (int, float)):\n"
                '        raise UnauthorizedError("token has no expiry")\n'
                "    if (time.time() if now is None else now) >= expires + LEEWAY_SECONDS:\n"
                '        raise UnauthorizedError("token expired")\n', "")


def powertools_arn_of_another_region(tree: Path) -> None:
    """The learner pastes the Powertools ARN from a blog post, region eu-west-1 written in it, into
    the products template (the stack deploys in us-east-1)."""
    variants.replace_in(_template(tree, "products"), POWERTOOLS_SUB,
                '      - "arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-x86_64:27"\n')


def layer_without_the_python_folder(tree: Path) -> None:
    """The learner points ContentUri at content/python/, so the zip holds shop_shared/ at its root:
    Lambda unpacks it to /opt/shop_shared, which is not on sys.path, and every import fails."""
    for service in SERVICES:
        variants.replace_in(_template(tree, service), "ContentUri: ../../layers/shop-shared/content/",
                    "ContentUri: ../../layers/shop-shared/content/python/")


def powertools_bundled_not_by_arn(tree: Path) -> None:
    """The learner pip-installs Powertools into inventory's function (requirements.txt) instead of
    attaching AWS's public layer: the code works, but nothing lists the layer by ARN."""
    variants.replace_in(_template(tree, "inventory"), POWERTOOLS_SUB, "")
    (tree / "services" / "inventory" / "src" / "requirements.txt").write_text("aws-lambda-powertools[tracer]\n")


def authorizer_on_the_cart_writes_only(tree: Path) -> None:
    """The learner puts the Lambda authorizer on manage-cart's two events (Auth: Authorizer on each)
    instead of the API's DefaultAuthorizer: POST and DELETE are guarded, but GET /cart/{cartId},
    the direct integration written in the DefinitionBody, answers anyone."""
    template = _template(tree, "cart")
    variants.replace_in(template, "        DefaultAuthorizer: ShopToken\n", "")
    authorized = "            Auth:\n              Authorizer: ShopToken\n"
    variants.replace_in(template, "            Method: post\n", "            Method: post\n" + authorized)
    variants.replace_in(template, "            Method: delete\n", "            Method: delete\n" + authorized)


# -- correct alternatives -----------------------------------------------------------------------

def other_package_folders_and_names(tree: Path) -> None:
    """Every name of ours changed: the package (shop_shared -> shoplib) in shared-code/pkg/python/,
    function folders handlers/ instead of src/, manage-cart's module api.py, the layer's logical id and
    name, the secret's variable (SHOP_JWT_SECRET: the checks find the one *SECRET* variable), and
    Powertools version 13, written as a literal ARN in the cart template."""
    (tree / "layers" / "shop-shared").rename(tree / "shared-code")
    (tree / "shared-code" / "content").rename(tree / "shared-code" / "pkg")
    package = tree / "shared-code" / "pkg" / "python"
    (package / "shop_shared").rename(package / "shoplib")
    for service in ("inventory", "payments", "products"):
        (tree / "services" / service / "src").rename(tree / "services" / service / "handlers")
    cart = tree / "services" / "cart" / "manage_cart"
    (cart / "cart_api.py").rename(cart / "api.py")
    variants.replace_in(_template(tree, "cart"), "Handler: cart_api.handler", "Handler: api.handler")
    variants.replace_in(_template(tree, "cart"), POWERTOOLS_SUB,
                '      - !Sub "arn:aws:lambda:${AWS::Region}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-x86_64:13"\n')
    _replace_everywhere(tree, [
        ("shop_shared", "shoplib"), ("AUTH_TOKEN_SECRET", "SHOP_JWT_SECRET"),
        ("ContentUri: ../../layers/shop-shared/content/", "ContentUri: ../../shared-code/pkg/"),
        ("CodeUri: src/", "CodeUri: handlers/"), ("SharedLayer", "CommonCode"), ("-shop-shared", "-commons"),
        ('Version: "27"', 'Version: "13"'),
    ])


LAYER_METADATA = "    Metadata:\n      BuildMethod: python3.12\n"


def layer_built_by_sam_and_listed_per_function(tree: Path) -> None:
    """The layer built by `sam build` (Metadata BuildMethod python3.12) from layers/shop-shared/src/
    holding shop_shared/ directly (no python/ level: the build adds it) and a requirements.txt;
    products lists its layers on each function instead of Globals; inventory runs on arm64 with
    the arm64 Powertools layer."""
    layer = tree / LAYER
    (layer / "src").mkdir()
    (layer / "content" / "python" / "shop_shared").rename(layer / "src" / "shop_shared")
    shutil.rmtree(layer / "content")
    (layer / "src" / "requirements.txt").write_text("# shop_shared needs only the runtime and the Powertools layer\n")
    for service in SERVICES:
        template = _template(tree, service)
        variants.replace_in(template, "ContentUri: ../../layers/shop-shared/content/", "ContentUri: ../../layers/shop-shared/src/")
        variants.replace_in(template, SHARED_LAYER_RESOURCE_START, SHARED_LAYER_RESOURCE_START + LAYER_METADATA)
    products = _template(tree, "products")
    text = products.read_text()
    block = text[text.index("    Layers:\n"):text.index("    Environment:\n")]
    text = text.replace(block, "", 1)
    per_function = "".join("  " + line + "\n" for line in block.splitlines())
    for handler in ("products.handler",):
        text = text.replace(f"      Handler: {handler}\n", f"      Handler: {handler}\n{per_function}", 1)
    products.write_text(text)
    inventory = _template(tree, "inventory")
    variants.replace_in(inventory, "    Tracing: Active\n", "    Tracing: Active\n    Architectures:\n      - arm64\n")
    variants.replace_in(inventory, "AWSLambdaPowertoolsPythonV3-python312-x86_64", "AWSLambdaPowertoolsPythonV3-python312-arm64")


def layer_in_its_own_stack(tree: Path) -> None:
    """The layer published once, by a stack of its own (layers/shop-shared/template.yaml, a plain
    AWS::Lambda::LayerVersion), its ARN exported; every service imports it with Fn::ImportValue
    (trees_04/layer_in_its_own_stack)."""
    variants.overlay(tree, TREES / "layer_in_its_own_stack")
    for service in SERVICES:
        _drop_shared_layer(_template(tree, service), "      - !ImportValue fairness-shop-shared-layer-arn\n")


def request_authorizer_for_the_cart(tree: Path) -> None:
    """The cart's authorizer is a REQUEST authorizer (the whole request in its event, the
    Authorization header as its identity source) instead of a TOKEN one: the layer's authorizer
    reads the header from the event's headers."""
    authorizer = tree / PACKAGE / "authorizer.py"
    variants.replace_all_in(authorizer, "APIGatewayAuthorizerTokenEvent", "APIGatewayAuthorizerRequestEvent")
    variants.replace_in(authorizer, 'auth.claims_of({"Authorization": event.authorization_token})', "auth.claims_of(event.headers)")
    cart = _template(tree, "cart")
    variants.replace_in(cart, "FunctionPayloadType: TOKEN", "FunctionPayloadType: REQUEST")
    variants.replace_in(cart, "            Identity:\n              Header: Authorization\n",
                        "            Identity:\n              Headers:\n                - Authorization\n")


# -- the cases ------------------------------------------------------------------------------------

WRONG = {
    "payments lists no shared layer, keeps a db.py copy": Case(payments_keeps_its_own_db_copy, fails=["04.1", "04.3"]),
    "stale token check left under other names": Case(stale_helper_copy_renamed, fails=["04.3"]),
    "stale auth.py kept as legacy_auth.py": Case(stale_auth_copy_kept_as_legacy, fails=["04.3"]),
    "Powertools attached, print() logging kept": Case(powertools_attached_but_print_kept, fails=["04.2"]),
    "six layers on a function": Case(six_layers, fails=["04.5"]),
    "expiry check removed in the layer": Case(expiry_check_removed_in_layer, fails=["04.4"]),
    "Powertools ARN of another region": Case(powertools_arn_of_another_region, fails=["04.2"]),
    "layer without the python/ folder": Case(layer_without_the_python_folder, fails=["04.4"]),
    "Powertools bundled, not the layer by ARN": Case(powertools_bundled_not_by_arn, fails=["04.2"]),
    "authorizer on the cart's writes only, GET /cart open": Case(
        authorizer_on_the_cart_writes_only, fails=["04.4"], words="has no function to check a token"),
}

CORRECT = {
    "other package, folders, names, Powertools version": Case(other_package_folders_and_names),
    "layer built by SAM, per-function layers, arm64": Case(layer_built_by_sam_and_listed_per_function),
    "layer in its own stack, imported by ARN": Case(layer_in_its_own_stack),
    "a REQUEST authorizer instead of TOKEN": Case(request_authorizer_for_the_cart),
}



test_a_wrong_refactor_fails_the_checkpoint_it_violates, test_a_correct_alternative_passes_every_checkpoint = (
    variants.tests_for(MODULE, WRONG, CORRECT))
