"""Fairness of module 03's checkpoints: wrong refactors fail, other correct refactors pass.

Each case copies the module's solution, changes it with one small named function (its
docstring says what a learner would have done), deploys it into the session's local cloud and
runs the checkpoints. A wrong refactor must fail the checkpoint it violates; a correct
alternative (other names, another way to declare the API, other template wording, extra
resources) must pass every checkpoint.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from workshop import course

from . import variants
from .variants import Case

MODULE = course.module("03")
CART = Path("services/cart")
TREES = Path(__file__).parent / "trees_03"


# -- helpers ------------------------------------------------------------------------------------

def _template(tree: Path) -> Path:
    return tree / CART / "template.yaml"


GET_CART_FUNCTION = """
  GetCartFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: get_cart/
      Handler: get_cart.handler
      Environment:
        Variables:
          CART_TABLE: !Ref CartTable
      Policies:
        - DynamoDBReadPolicy:
            TableName: !Ref CartTable
"""


def _bring_back_get_cart_code(tree: Path) -> None:
    shutil.copytree(MODULE.start / CART / "get_cart", tree / CART / "get_cart")


# -- wrong refactors ------------------------------------------------------------------------------

def role_allows_every_dynamodb_action(tree: Path) -> None:
    """The learner gives the integration role dynamodb:* "to be safe": still only the cart table,
    but every action on it (PutItem, DeleteItem, DeleteTable...)."""
    variants.replace_in(_template(tree), "Action: dynamodb:GetItem", 'Action: "dynamodb:*"')


def role_allows_every_table(tree: Path) -> None:
    """The learner keeps GetItem but on Resource "*", any table of the account."""
    variants.replace_in(_template(tree), "Resource: !GetAtt CartTable.Arn", 'Resource: "*"')


def role_with_a_managed_read_only_policy(tree: Path) -> None:
    """The learner attaches AWS's AmazonDynamoDBReadOnlyAccess beside the right inline statement:
    Scan, Query and every table of the account come with it."""
    variants.replace_in(_template(tree), "      Policies:\n        - PolicyName: get-cart-item",
                "      ManagedPolicyArns:\n        - arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess\n"
                "      Policies:\n        - PolicyName: get-cart-item")


def forgets_the_404_override(tree: Path) -> None:
    """The learner writes the not-found message but not $context.responseOverride.status = 404:
    a cart never written answers 200 {"message": ...}."""
    variants.replace_in(_template(tree), "                        #set($context.responseOverride.status = 404)\n", "")


def returns_the_raw_dynamodb_item(tree: Path) -> None:
    """The learner passes GetItem's Item through with $input.json('$.Item'): the client gets
    DynamoDB's typed JSON ({"cartId": {"S": ...}, "items": {"L": ...}}), not the cart."""
    text = _template(tree).read_text()
    start = text.index("                        #else\n")
    end = text.index("                        #end\n\n  # The identity")
    _template(tree).write_text(text[:start] + "                        #else\n"
                               "                        $input.json('$.Item')\n" + text[end:])


def quantity_as_a_string(tree: Path) -> None:
    """The learner quotes DynamoDB's N value: "quantity": "2" where the Lambda answered 2."""
    variants.replace_in(_template(tree), '"quantity": $line.M.quantity.N}', '"quantity": "$line.M.quantity.N"}')


def sku_not_escaped(tree: Path) -> None:
    """The learner writes "$line.M.sku.S" without $util.escapeJavaScript: a SKU holding a double
    quote breaks the JSON."""
    variants.replace_in(_template(tree), '"sku": "$util.escapeJavaScript($line.M.sku.S)"', '"sku": "$line.M.sku.S"')


def get_still_routed_to_a_lambda(tree: Path) -> None:
    """The learner gives the cart its own API and the integration role, but GET /cart/{cartId}
    stays on a (least-privilege) get-cart function: the route still runs a Lambda."""
    path = _template(tree)
    text = path.read_text()
    start = text.index("      MergeDefinitions: true\n")
    end = text.index("\n  # The identity API Gateway uses")
    text = text[:start] + text[end + 1:]
    events = ("      Events:\n        GetCart:\n          Type: Api\n          Properties:\n"
              "            RestApiId: !Ref CartApi\n            Path: /cart/{cartId}\n            Method: get\n")
    assert "\nOutputs:\n" in text
    path.write_text(text.replace("\nOutputs:\n", GET_CART_FUNCTION + events + "\nOutputs:\n"))
    _bring_back_get_cart_code(tree)


def get_cart_function_left_behind(tree: Path) -> None:
    """The learner builds the integration but only removes get-cart's Events: the function, its
    code and its role stay deployed, serving nothing."""
    variants.replace_in(_template(tree), "\nOutputs:\n", GET_CART_FUNCTION + "\nOutputs:\n")
    _bring_back_get_cart_code(tree)


# -- correct alternatives -----------------------------------------------------------------------

ALTERNATIVE_RESPONSE = """                      application/json: |
                        #set($cart = $input.path('$.Item'))
                        #if(!$cart.cartId)
                        #set($context.responseOverride.status = 404)
                        {"message": "there is no cart $util.escapeJavaScript($input.params('cartId'))"}
                        #else
                        {"items": [#foreach($l in $cart.items.L)#if($foreach.count > 1), #end{"quantity": $l.M.quantity.N, "sku": "$util.escapeJavaScript($l.M.sku.S)"}#end], "cartId": "$util.escapeJavaScript($cart.cartId.S)"}
                        #end
"""


def other_names_and_template_wording(tree: Path) -> None:
    """Every name of ours changed: the code folder (manage_cart/ -> cart_writes/), the logical ids
    of the API, role, table and function, the output's name, the role's policy name; and the
    response template worded differently (#if(!$cart.cartId), $foreach.count, keys in another
    order, another 404 message), rendering the same JSON."""
    service = tree / CART
    (service / "manage_cart").rename(service / "cart_writes")
    path = _template(tree)
    text = path.read_text()
    start = text.index("                      application/json: |\n                        #set($item")
    end = text.index("\n  # The identity API Gateway uses")
    text = text[:start] + ALTERNATIVE_RESPONSE + text[end:]
    for old, new in [("CartApiRole", "ReadOneCartRole"), ("CartApi", "StorefrontCarts"), ("CartTable", "ShopCarts"),
                     ("ManageCartFunction", "CartWritesFunction"), ("CodeUri: manage_cart/", "CodeUri: cart_writes/"),
                     ("PolicyName: get-cart-item", "PolicyName: dynamodb-getitem-carts"),
                     ("  ApiUrl:\n", "  StorefrontCartsEndpoint:\n")]:
        assert old in text, old
        text = text.replace(old, new)
    path.write_text(text)


def plain_cloudformation_api(tree: Path) -> None:
    """The cart API declared without SAM's Api: AWS::ApiGateway::RestApi, Resource, Method (the GET
    integration as a Method's Integration, not an OpenAPI DefinitionBody), Deployment and Stage
    "v1"; path parameter {id}; the role's permission in an AWS::IAM::Policy resource; an SNS topic
    extra; the function in cart_writer/ (see trees_03/plain_cloudformation_api)."""
    service = tree / CART
    (service / "manage_cart").rename(service / "cart_writer")
    (service / "tests" / "test_get_cart_templates.py").unlink()  # it reads the DefinitionBody this tree has not
    variants.overlay(tree, TREES / "plain_cloudformation_api")


def openapi_3_definition_body(tree: Path) -> None:
    """The same SAM Api, its DefinitionBody written in OpenAPI 3.0.1 (OpenApiVersion set, parameters
    with a schema, no swagger-only keys) instead of Swagger 2.0."""
    path = _template(tree)
    variants.replace_in(path, '      MergeDefinitions: true\n', '      MergeDefinitions: true\n      OpenApiVersion: "3.0.1"\n')
    variants.replace_in(path, 'swagger: "2.0"', 'openapi: "3.0.1"')
    variants.replace_in(path, "              produces:\n                - application/json\n", "")
    variants.replace_in(path, "                  required: true\n                  type: string\n",
                "                  required: true\n                  schema:\n                    type: string\n")


def nightly_stats_function(tree: Path) -> None:
    """The solution plus a function that serves no route on purpose: a nightly schedule counts
    carts (trees_03/nightly_stats_function). It has nothing to do with GET /cart/{cartId}."""
    variants.overlay(tree, TREES / "nightly_stats_function")
    variants.replace_in(_template(tree), "\nOutputs:\n", """
  CartStatsFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: cart_stats/
      Handler: stats.handler
      Environment:
        Variables:
          CART_TABLE: !Ref CartTable
      Policies:
        - DynamoDBReadPolicy:
            TableName: !Ref CartTable
      Events:
        Nightly:
          Type: Schedule
          Properties:
            Schedule: cron(0 3 * * ? *)

Outputs:
""")


def permission_in_a_customer_managed_policy(tree: Path) -> None:
    """The integration role's one statement in an AWS::IAM::ManagedPolicy of the stack, attached with
    the role's ManagedPolicyArns, instead of an inline policy: the same permission."""
    path = _template(tree)
    text = path.read_text()
    start = text.index("      Policies:\n        - PolicyName: get-cart-item")
    end = text.index("\n  ManageCartFunction:")
    path.write_text(text[:start] + """      ManagedPolicyArns:
        - !Ref ReadOneCartPolicy

  ReadOneCartPolicy:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: dynamodb:GetItem
            Resource: !GetAtt CartTable.Arn
""" + text[end:])


def request_template_names_no_table(tree: Path) -> None:
    """The learner hard-codes a table name in the request template instead of ${CartTable}: GetItem
    fails (ResourceNotFoundException) and GET answers 500. A latency of a 500 is no figure: 03.5,
    informational, fails too instead of timing the error (issue 16)."""
    variants.replace_in(_template(tree), '"TableName": "${CartTable}"', '"TableName": "cart"')


# -- the cases ------------------------------------------------------------------------------------


WRONG = {
    "role allows dynamodb:*": Case(role_allows_every_dynamodb_action, fails=["03.3"],
                                    because={"03.3": "also allows action dynamodb:*"}),
    "role allows Resource *": Case(role_allows_every_table, fails=["03.3"], because={"03.3": "also allows resource *"}),
    "role also has a managed read-only policy": Case(role_with_a_managed_read_only_policy, fails=["03.3"],
                                                      because={"03.3": "also allows action"}),
    "response template forgets the 404 override": Case(forgets_the_404_override, fails=["03.2"],
                                                       because={"03.2": "never written answered 200"}),
    "response template returns the raw DynamoDB item": Case(returns_the_raw_dynamodb_item, fails=["03.2"],
                                                           because={"03.2": '"items": {"L"'}),
    "quantity rendered as a string": Case(quantity_as_a_string, fails=["03.2"], because={"03.2": '"quantity": "2"'}),
    "SKU not escaped": Case(sku_not_escaped, fails=["03.2"], because={"03.2": "a body that is not JSON"}),
    "GET still routed to a Lambda": Case(
        get_still_routed_to_a_lambda, fails=["03.1", "03.3", "03.4"],
        because={"03.1": "(AWS_PROXY integration)", "03.3": "runs function", "03.4": "START lines"}),
    "get-cart function left behind without a route": Case(
        get_cart_function_left_behind, fails=["03.1"], because={"03.1": "services/cart/template.yaml still deploys"}),
    "request template names no table (GET answers 500)": Case(
        request_template_names_no_table, fails=["03.2", "03.5"], passes=["03.1", "03.4"],
        because={"03.2": "the GetItem call itself failed", "03.5": "no latency to show: first GET answered 500"}),
}

CORRECT = {
    "other names, ids and template wording": Case(other_names_and_template_wording),
    "plain CloudFormation API (Method resources), stage v1": Case(plain_cloudformation_api),
    "OpenAPI 3.0 DefinitionBody": Case(openapi_3_definition_body),
    "extra function on a schedule": Case(nightly_stats_function),
    "role permission in a customer managed policy": Case(permission_in_a_customer_managed_policy),
}



test_a_wrong_refactor_fails_the_checkpoint_it_violates, test_a_correct_alternative_passes_every_checkpoint = (
    variants.tests_for(MODULE, WRONG, CORRECT))
