"""Fairness of module 02's checkpoints: wrong refactors fail, other correct refactors pass.

Each case copies module 02's solution, changes it with one small named function (its
docstring says what the learner did; longer code lives in trees_02/), runs the checkpoints
against the session's local cloud and asserts on the verdicts:

- a WRONG refactor must fail the checkpoints its mistake violates and pass the ones it does
  not touch (where that is well-defined); only those checkpoints run;
- a CORRECT alternative (another ASGI framework behind Mangum, other names and layout, extra
  resources, a greedy proxy route, other wording) must pass every checkpoint.

A checkpoint that accepts a wrong refactor (or rejects a correct one) is a defect of that
checkpoint: the case is an xfail(strict) that raises UnfairVerdict only when exactly the named
checkpoints give the wrong verdict, and turns XPASS (strict: red) once the checkpoint is fixed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from workshop import course

from . import variants
from .variants import Case

MODULE = course.module("02")
TREES = Path(__file__).parent / "trees_02"
CART = Path("services/cart")

MANAGE_CART = """  ManageCartFunction:
    Type: AWS::Serverless::Function
    Properties:
      Description: manage-cart, FastAPI behind Mangum
      CodeUri: manage_cart/
      Handler: cart_api.handler
      Policies:
        - DynamoDBCrudPolicy:
            TableName: !Ref CartTable
      Events:
        AddItem:
          Type: Api
          Properties:
            Path: /cart/{cartId}/items
            Method: post
        RemoveItem:
          Type: Api
          Properties:
            Path: /cart/{cartId}/items/{sku}
            Method: delete
"""


# -- wrong refactors ---------------------------------------------------------------------------

def one_app_deployed_as_two_functions(tree: Path) -> None:
    """The FastAPI app is written, but the template still gives each route its own function.

    Both functions run the same app, so routing and validation are right; a DELETE still
    lands in another function than the POST that warmed one (02.1, 02.2).
    """
    variants.replace_all_in(tree / CART / "template.yaml", MANAGE_CART, """  AddItemFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: manage_cart/
      Handler: cart_api.handler
      Policies:
        - DynamoDBCrudPolicy:
            TableName: !Ref CartTable
      Events:
        AddItem:
          Type: Api
          Properties:
            Path: /cart/{cartId}/items
            Method: post

  RemoveItemFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: manage_cart/
      Handler: cart_api.handler
      Policies:
        - DynamoDBCrudPolicy:
            TableName: !Ref CartTable
      Events:
        RemoveItem:
          Type: Api
          Properties:
            Path: /cart/{cartId}/items/{sku}
            Method: delete
""")


def hand_written_router(tree: Path) -> None:
    """One function for both routes, but an if/else on httpMethod instead of a web app behind an adapter (02.3)."""
    shutil.copy(TREES / "hand_written_router" / "cart_api.py", tree / CART / "manage_cart" / "cart_api.py")


def lenient_quantity(tree: Path) -> None:
    """The quantity type lost Strict(): FastAPI's lax mode turns "2" into 2 and true into 1 (02.4)."""
    variants.replace_all_in(tree / CART / "manage_cart" / "cart_api.py",
                "Quantity = Annotated[int, Strict(), Field(", "Quantity = Annotated[int, Field(")


def merged_function_serves_the_catalogue(tree: Path) -> None:
    """'One function for the shop': the cart's write app also answers GET /products from a copy of the catalogue.

    The merge crosses bounded contexts: products data and routes inside the cart (02.1).
    """
    source = tree / CART / "manage_cart" / "cart_api.py"
    variants.replace_all_in(source, "\n# -- errors:", (
        '\nCATALOGUE = [{"sku": "lambda-tee", "name": "Lambda T-shirt", "price": 2500},\n'
        '             {"sku": "dynamodb-mug", "name": "DynamoDB mug", "price": 1400}]\n\n\n'
        '@app.get("/products")\n'
        "def list_products():\n"
        '    return {"products": CATALOGUE}\n\n'
        "\n# -- errors:"))
    variants.replace_all_in(tree / CART / "template.yaml", "            Method: delete\n", (
        "            Method: delete\n"
        "        ListProducts:\n"
        "          Type: Api\n"
        "          Properties:\n"
        "            Path: /products\n"
        "            Method: get\n"))


def whole_shop_app_behind_a_root_proxy(tree: Path) -> None:
    """The write function takes ANY /{proxy+}, the FastAPI tutorial's route, and its app grows GET /products.

    The same cross-context merge as above, hidden from API Gateway's route table: the
    gateway only knows /{proxy+}, the app answers the catalogue (02.1).
    """
    merged_function_serves_the_catalogue(tree)
    variants.replace_all_in(tree / CART / "template.yaml", """      Events:
        AddItem:
          Type: Api
          Properties:
            Path: /cart/{cartId}/items
            Method: post
        RemoveItem:
          Type: Api
          Properties:
            Path: /cart/{cartId}/items/{sku}
            Method: delete
        ListProducts:
          Type: Api
          Properties:
            Path: /products
            Method: get
""", """      Events:
        Everything:
          Type: Api
          Properties:
            Path: /{proxy+}
            Method: any
""")


# -- correct alternatives ----------------------------------------------------------------------

def starlette_behind_mangum(tree: Path) -> None:
    """A plain Starlette app (no FastAPI, no pydantic) behind Mangum, with its own names and wording.

    Code folder writes_api/, module app.py, handler lambda_handler, logical id CartWriterFn,
    other event names, requirements starlette + mangum, hand-written shared validation.
    """
    cart = tree / CART
    (cart / "manage_cart").rename(cart / "writes_api")
    (cart / "writes_api" / "cart_api.py").unlink()
    shutil.copy(TREES / "starlette_app" / "app.py", cart / "writes_api" / "app.py")
    (cart / "writes_api" / "requirements.txt").write_text("starlette\nmangum\n")
    template = cart / "template.yaml"
    for old, new in (("  ManageCartFunction:\n", "  CartWriterFn:\n"), ("CodeUri: manage_cart/", "CodeUri: writes_api/"),
                     ("Handler: cart_api.handler", "Handler: app.lambda_handler"),
                     ("Description: manage-cart, FastAPI behind Mangum", "Description: cart writes, Starlette behind Mangum"),
                     ("        AddItem:\n", "        PutLine:\n"), ("        RemoveItem:\n", "        DropLine:\n")):
        variants.replace_all_in(template, old, new)
    # the service's own tests follow the new names
    variants.replace_all_in(cart / "tests" / "conftest.py", '("manage_cart", "get_cart")', '("writes_api", "get_cart")')
    variants.replace_all_in(cart / "tests" / "conftest.py",
                            "    import cart_api\n\n    return cart_api", "    import app\n\n    return app")
    variants.replace_all_in(cart / "tests" / "test_cart.py", "manage_cart.handler(", "manage_cart.lambda_handler(")


def fastapi_in_a_package_with_extra_resources(tree: Path) -> None:
    """Services under apps/svc-*, the FastAPI app in a package, an extra table and outputs, more memory.

    The cart's write function is CartWritesFunction with CodeUri writes/ and handler
    cart_writes.api.handler (a package with a relative import), Mangum with its default
    lifespan, 512 MB; it appends every write to an audit table the cart owns; the outputs
    have other names and one more.
    """
    apps = tree / "apps"
    apps.mkdir()
    for name in ("cart", "products", "inventory", "payments"):
        shutil.move(tree / "services" / name, apps / f"svc-{name}")
    shutil.rmtree(tree / "services")
    cart = apps / "svc-cart"
    package = cart / "writes" / "cart_writes"
    package.mkdir(parents=True)
    shutil.move(cart / "manage_cart" / "cart_store.py", package / "storage.py")
    shutil.move(cart / "manage_cart" / "requirements.txt", cart / "writes" / "requirements.txt")
    shutil.rmtree(cart / "manage_cart")
    for name in ("__init__.py", "api.py"):
        shutil.copy(TREES / "package_layout" / "cart_writes" / name, package / name)
    template = cart / "template.yaml"
    variants.replace_all_in(template, MANAGE_CART, """  CartAuditTable:
    Type: AWS::DynamoDB::Table
    DeletionPolicy: Delete
    UpdateReplacePolicy: Delete
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions:
        - AttributeName: cartId
          AttributeType: S
        - AttributeName: at
          AttributeType: N
      KeySchema:
        - AttributeName: cartId
          KeyType: HASH
        - AttributeName: at
          KeyType: RANGE

  CartWritesFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: writes/
      Handler: cart_writes.api.handler
      MemorySize: 512
      Environment:
        Variables:
          CART_AUDIT_TABLE: !Ref CartAuditTable
      Policies:
        - DynamoDBCrudPolicy:
            TableName: !Ref CartTable
        - DynamoDBWritePolicy:
            TableName: !Ref CartAuditTable
      Events:
        PostLine:
          Type: Api
          Properties:
            Path: /cart/{cartId}/items
            Method: post
        DeleteLine:
          Type: Api
          Properties:
            Path: /cart/{cartId}/items/{sku}
            Method: delete
""")
    variants.replace_all_in(template, "  GetCartFunction:\n", "  ReadCartFn:\n")
    variants.replace_all_in(template, "  ApiUrl:\n    Description: Base URL of the cart API\n", "  CartBaseUrl:\n")
    template.write_text(template.read_text() + "  CartAuditTableName:\n    Value: !Ref CartAuditTable\n")
    conftest = cart / "tests" / "conftest.py"
    variants.replace_all_in(conftest, 'for folder in ("manage_cart", "get_cart"):', 'for folder in ("writes", "get_cart"):')
    variants.replace_all_in(conftest, "    import cart_api\n\n    return cart_api", "    from cart_writes import api\n\n    return api")
    variants.replace_all_in(conftest, "    import cart_store\n\n    return cart_store",
                "    from cart_writes import storage\n\n    return storage")


def greedy_proxy_route(tree: Path) -> None:
    """The write function takes one greedy route, ANY /cart/{proxy+}, and lets FastAPI route; get-cart keeps GET /cart/{cartId}."""
    variants.replace_all_in(tree / CART / "template.yaml", """      Events:
        AddItem:
          Type: Api
          Properties:
            Path: /cart/{cartId}/items
            Method: post
        RemoveItem:
          Type: Api
          Properties:
            Path: /cart/{cartId}/items/{sku}
            Method: delete
""", """      Events:
        CartWrites:
          Type: Api
          Properties:
            Path: /cart/{proxy+}
            Method: any
""")


def root_proxy_route(tree: Path) -> None:
    """The write function takes ANY /{proxy+} (the FastAPI tutorial's route) and its app serves only the cart's writes."""
    greedy_proxy_route(tree)
    variants.replace_all_in(tree / CART / "template.yaml", "            Path: /cart/{proxy+}\n", "            Path: /{proxy+}\n")


# -- the cases ---------------------------------------------------------------------------------


WRONG = {
    "POST and DELETE still served by two functions": Case(
        one_app_deployed_as_two_functions, fails=["02.1", "02.2"], passes=["02.3", "02.4"],
        because={"02.1": "merge add and remove into one function", "02.2": "two functions, two environments"}),
    "hand-written if/else router": Case(hand_written_router, fails=["02.3"], passes=["02.1", "02.2", "02.4"],
                                         because={"02.3": "it does not route by method and path"}),
    'validation accepts quantity "2"': Case(lenient_quantity, fails=["02.4"], passes=["02.1", "02.3"],
                                      because={"02.4": 'POST accepted quantity "2"'}),
    "merged function also serves GET /products": Case(
        merged_function_serves_the_catalogue, fails=["02.1"], passes=["02.2", "02.3", "02.4"],
        because={"02.1": "also serves GET /products"}),
    "the same merge hidden behind ANY /{proxy+}": Case(
        whole_shop_app_behind_a_root_proxy, fails=["02.1"], passes=["02.2", "02.3", "02.4"],
        because={"02.1": "also serves GET /products (through /{proxy+})"}),
}

CORRECT = {
    "Starlette behind Mangum, other names and wording": Case(starlette_behind_mangum),
    "FastAPI in a package under apps/, extra table and outputs": Case(fastapi_in_a_package_with_extra_resources),
    "one greedy ANY /cart/{proxy+} route": Case(greedy_proxy_route),
    "one greedy ANY /{proxy+} route at the root": Case(root_proxy_route),
}



test_a_wrong_refactor_fails_the_checkpoint_it_violates, test_a_correct_alternative_passes_every_checkpoint = (
    variants.tests_for(MODULE, WRONG, CORRECT))
