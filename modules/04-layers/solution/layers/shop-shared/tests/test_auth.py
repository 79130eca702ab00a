import base64
import json

import pytest
from shop_shared import auth
from aws_lambda_powertools.event_handler.exceptions import UnauthorizedError as Unauthorized

SECRET = "s3cret"
NOW = 1_800_000_000


def test_a_fresh_token_verifies_and_carries_its_claims():
    claims = auth.verify_token(auth.issue_token("alice", SECRET, 60, now=NOW), SECRET, now=NOW + 59)
    assert claims["sub"] == "alice" and claims["exp"] == NOW + 60


def test_the_token_is_a_standard_hs256_jwt():
    header, payload, signature = auth.issue_token("alice", SECRET, 60, now=NOW).split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    assert json.loads(base64.urlsafe_b64decode(pad(header))) == {"alg": "HS256", "typ": "JWT"}
    assert json.loads(base64.urlsafe_b64decode(pad(payload)))["exp"] == NOW + 60
    assert "=" not in signature


def test_an_expired_token_is_refused():
    token = auth.issue_token("alice", SECRET, 60, now=NOW)
    with pytest.raises(Unauthorized, match="expired"):
        auth.verify_token(token, SECRET, now=NOW + 60)


def test_a_token_signed_with_another_secret_is_refused():
    with pytest.raises(Unauthorized, match="signature"):
        auth.verify_token(auth.issue_token("alice", "not-the-secret", 60, now=NOW), SECRET, now=NOW)


def test_a_tampered_payload_is_refused():
    header, _, signature = auth.issue_token("alice", SECRET, 60, now=NOW).split(".")
    longer = base64.urlsafe_b64encode(json.dumps({"sub": "alice", "exp": NOW + 10**6}).encode()).rstrip(b"=").decode()
    with pytest.raises(Unauthorized):
        auth.verify_token(f"{header}.{longer}.{signature}", SECRET, now=NOW)


def test_an_unsigned_token_is_refused():
    encode = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()  # noqa: E731
    token = f"{encode({'alg': 'none'})}.{encode({'sub': 'eve', 'exp': NOW + 60})}."
    with pytest.raises(Unauthorized):
        auth.verify_token(token, SECRET, now=NOW)


@pytest.mark.parametrize("token", ["", "abc", "a.b", "a.b.c.d", "!!!.???.***"])
def test_malformed_tokens_are_refused(token):
    with pytest.raises(Unauthorized):
        auth.verify_token(token, SECRET, now=NOW)


def test_a_token_without_expiry_is_refused():
    encode = lambda d: base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()  # noqa: E731
    signing_input = f"{encode(auth.HEADER)}.{encode({'sub': 'alice'})}"
    token = f"{signing_input}.{auth._signature(SECRET, signing_input)}"
    with pytest.raises(Unauthorized, match="expiry"):
        auth.verify_token(token, SECRET, now=NOW)


def test_the_bearer_header_is_found_in_any_case():
    assert auth.bearer_token({"authorization": "Bearer abc"}) == "abc"
    assert auth.bearer_token({"AUTHORIZATION": "bearer  abc "}) == "abc"
    assert auth.bearer_token(None) is None
    with pytest.raises(Unauthorized):
        auth.bearer_token({"Authorization": "Basic abc"})


def resolver_with(middleware):
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

    app = APIGatewayRestResolver()
    app.use(middlewares=[middleware])

    @app.get("/who")
    def who():
        return {"claims": app.context.get("claims")}

    return app


def call(app, headers):
    event = {"resource": "/who", "path": "/who", "httpMethod": "GET", "headers": headers,
             "multiValueHeaders": {}, "requestContext": {"requestId": "r", "stage": "Prod"}, "body": None}
    response = app.resolve(event, None)
    return int(response["statusCode"]), json.loads(response["body"])


def test_the_middlewares_for_the_event_handler(monkeypatch):
    monkeypatch.setenv(auth.SECRET_ENV, SECRET)
    good = {"Authorization": f"Bearer {auth.issue_token('alice', SECRET)}"}
    expired = {"Authorization": f"Bearer {auth.issue_token('alice', SECRET, -1)}"}
    required, optional = resolver_with(auth.require_token), resolver_with(auth.check_token_if_sent)
    assert call(required, good)[1]["claims"]["sub"] == "alice"
    assert call(optional, {}) == (200, {"claims": None})
    for app, headers in ((required, {}), (required, expired), (optional, expired)):
        status, body = call(app, headers)
        assert status == 401 and body["message"]


def test_a_missing_secret_is_a_configuration_error(monkeypatch):
    monkeypatch.delenv(auth.SECRET_ENV, raising=False)
    with pytest.raises(RuntimeError, match=auth.SECRET_ENV):
        auth.claims_of({"Authorization": "Bearer x.y.z"})


def test_the_command_line_mints_a_token(capsys):
    auth.main(["--secret", SECRET, "--sub", "bob", "--ttl", "30"])
    assert auth.verify_token(capsys.readouterr().out.strip(), SECRET)["sub"] == "bob"
