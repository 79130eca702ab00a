"""A Lambda authorizer (TOKEN) for the shop's APIs: the token check of auth.py in front of every
route of an API, including the direct integrations (GET /cart/{cartId}), which have no function
of their own to check it. A service gives it a function: Handler authorizer.handler, with a
one-line authorizer.py that imports this handler.

API Gateway calls it with the Authorization header's value and the method's ARN. It answers as
API Gateway's documentation asks: an IAM policy that allows the call (with the caller's identity
as context), or the error "Unauthorized", which API Gateway turns into 401 Unauthorized.
"""
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler.exceptions import UnauthorizedError
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerResponse,
    APIGatewayAuthorizerTokenEvent,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from . import auth

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
@event_source(data_class=APIGatewayAuthorizerTokenEvent)
def handler(event: APIGatewayAuthorizerTokenEvent, context: LambdaContext) -> dict:
    try:
        claims = auth.claims_of({"Authorization": event.authorization_token})
    except UnauthorizedError as refused:
        logger.info("token refused", extra={"reason": refused.msg, "method_arn": event.method_arn})
        metrics.add_metric(name="TokensRefused", unit=MetricUnit.Count, value=1)
        raise Exception("Unauthorized") from None  # API Gateway's documented signal for 401
    arn = event.parsed_arn
    policy = APIGatewayAuthorizerResponse(
        principal_id=claims["sub"],
        region=arn.region,
        aws_account_id=arn.aws_account_id,
        api_id=arn.api_id,
        stage=arn.stage,
        context={"sub": claims["sub"]},  # the integration reads it as $context.authorizer.sub
    )
    # Every route of this API: a cached policy then serves any route the same token calls.
    policy.allow_all_routes()
    logger.info("token accepted", extra={"principal": claims["sub"], "method_arn": event.method_arn})
    metrics.add_metric(name="TokensAccepted", unit=MetricUnit.Count, value=1)
    return policy.asdict()
