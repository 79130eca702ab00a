"""What a denied call answers, in each service's own protocol and wording.

The message is IAM's (https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html):
"User: PRINCIPAL is not authorized to perform: ACTION on resource: RESOURCE because no
identity-based policy allows the ACTION action" for an implicit deny, "... with an explicit deny in
an identity-based policy" for an explicit one. S3 quotes the resource
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/troubleshoot-403-errors.html); SNS answers
AuthorizationError; the JSON protocols answer AccessDeniedException, the query protocols AccessDenied.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from xml.sax.saxutils import escape

from .policies import Decision

POLICY_TYPES = {"identity": "identity-based policy", "boundary": "permissions boundary", "session": "session policy"}


@dataclass(frozen=True)
class Denial:
    principal_arn: str
    action: str
    resource: str
    decision: Decision
    policy_type: str = "identity"

    def message(self, service: str) -> str:
        kind = POLICY_TYPES[self.policy_type]
        resource = f'"{self.resource}"' if service == "s3" else self.resource
        action = "SNS:" + self.action.split(":", 1)[1] if service == "sns" else self.action  # SNS spells it so
        head = f"User: {self.principal_arn} is not authorized to perform: {action} on resource: {resource}"
        if self.decision is Decision.EXPLICIT_DENY:
            article = "an" if kind[0] in "aeiou" else "a"
            return f"{head} with an explicit deny in {article} {kind}"
        return f"{head} because no {kind} allows the {action} action"


def response(denial: Denial, service: str, method: str = "POST") -> tuple[int, list[tuple[str, str]], bytes]:
    """(status, headers, body) of the denial as the service sends it."""
    request_id = str(uuid.uuid4())
    message = denial.message(service)
    if service in ("dynamodb", "dynamodbstreams", "states", "logs"):
        body = json.dumps({"__type": "com.amazon.coral.service#AccessDeniedException", "message": message})
        return 400, [("Content-Type", "application/x-amz-json-1.0"), ("x-amzn-ErrorType", "AccessDeniedException"),
                     ("x-amzn-RequestId", request_id)], body.encode()
    if service == "lambda":
        body = json.dumps({"Type": "User", "Message": message})
        return 403, [("Content-Type", "application/json"), ("x-amzn-ErrorType", "AccessDeniedException"),
                     ("x-amzn-RequestId", request_id)], body.encode()
    if service == "s3":
        body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>{escape(message)}'
                f"</Message><RequestId>{request_id}</RequestId><HostId>{request_id}</HostId></Error>")
        return 403, [("Content-Type", "application/xml"), ("x-amz-request-id", request_id)], \
            (b"" if method == "HEAD" else body.encode())
    code = "AuthorizationError" if service == "sns" else "AccessDenied"
    body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{escape(message)}</Message>"
            f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>")
    return 403, [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], body.encode()
