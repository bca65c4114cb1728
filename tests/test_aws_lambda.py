"""webhookverify.aws_lambda on the events AWS documents (tests/vectors/aws_lambda,
from Powertools for AWS Lambda): REST API (payload 1.0), HTTP API (2.0) and
function URL events, base64 bodies, multi-value headers and cookies; the
delivery semantics end to end on a real Redis."""

from __future__ import annotations

import base64
import copy
import json
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from webhookverify import ConfigurationError, Delivery, Handler, HandlerRegistry, Receiver, presets
from webhookverify._options import AdapterOptions
from webhookverify.aws_lambda import receiver_from_env, webhook_handler
from webhookverify.lambda_events import event_kind, make_lambda_event, read_event
from webhookverify.replay import RedisReplayStore
from webhookverify.request import WebhookRequest
from webhookverify.testing import sign_request

VECTORS = Path(__file__).parent / "vectors" / "aws_lambda"
SAMPLES = {
    "v1": "apiGatewayProxyEvent.json",
    "v2": "apiGatewayProxyV2Event.json",
    "url": "lambdaFunctionUrlEventWithHeaders.json",
}
SECRET = "lambda-test-secret"
OPTIONS = AdapterOptions.build("test", methods=("GET", "POST"))


def sample(kind: str) -> dict[str, Any]:
    """AWS's sample event; the function URL's ``<url-id>`` placeholder (no valid
    Host) filled in with an id of the shape AWS gives."""
    text = (VECTORS / SAMPLES[kind]).read_text(encoding="utf-8")
    event: dict[str, Any] = json.loads(text.replace("<url-id>", "abcdefghij0123456789"))
    return event


def aws_event(kind: str, request: WebhookRequest, *, base64_body: bool = False) -> dict[str, Any]:
    """AWS's sample event for ``kind`` carrying ``request``: every documented field
    kept, the method, the body and the signature headers replaced or added."""
    event = copy.deepcopy(sample(kind))
    body = request.body
    event["body"] = base64.b64encode(body).decode() if base64_body else body.decode()
    event["isBase64Encoded"] = base64_body
    signed = dict(request.headers.items())
    if kind == "v1":
        event["httpMethod"] = request.method
        event["headers"].update(signed)
        for name, value in signed.items():
            event["multiValueHeaders"][name] = [value]
    else:
        event["requestContext"]["http"]["method"] = request.method
        event["headers"].update({name.lower(): value for name, value in signed.items()})
    return event


def test_the_documented_rest_api_event_reads_as_sent() -> None:
    request, kind = read_event(OPTIONS, sample("v1"), 1.0)
    assert kind == "v1"
    assert (request.method, request.body) == ("GET", b"Hello from Lambda!")
    # multiValueHeaders keep every value; names without one come from headers
    assert request.headers.get_all("header2") == ("value1", "value2")
    assert request.headers.get("origin") == "https://aws.amazon.com"
    assert request.remote_addr == "192.168.0.1"
    assert request.url == (
        "https://id.execute-api.us-east-1.amazonaws.com/my/path"
        "?parameter1=value1&parameter1=value2&parameter2=value"
    )


def test_the_documented_http_api_event_reads_as_sent() -> None:
    request, kind = read_event(OPTIONS, sample("v2"), 1.0)
    assert kind == "v2"
    assert request.method == "POST"
    assert request.body == b'{"message": "hello world", "username": "tom"}'
    assert request.headers.get("Cookie") == "cookie1; cookie2"  # payload 2.0 moves cookies out
    assert request.headers.get("HEADER2") == "value1,value2"
    assert request.url == (
        "https://id.execute-api.us-east-1.amazonaws.com/my/path"
        "?parameter1=value1&parameter1=value2&parameter2=value"
    )


def test_the_documented_function_url_event_reads_as_sent() -> None:
    request, kind = read_event(OPTIONS, sample("url"), 1.0)
    assert kind == "v2"
    assert request.url == "https://abcdefghij0123456789.lambda-url.us-east-1.on.aws/"
    assert request.remote_addr == "123.123.123.123"
    assert request.headers.get("x-forwarded-proto") == "https"


def test_a_signed_url_is_rebuilt_from_a_rest_api_event_with_its_stage() -> None:
    """Twilio signs the URL: the event's domain, stage, path and query must give it back."""
    twilio = presets.twilio(secret="twilio-token")
    url = "https://id.execute-api.us-east-1.amazonaws.com/prod/hooks/sms?To=%2B15551234567"
    request = sign_request(
        twilio, b"Body=hi&From=%2B15557654321", url=url,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    event = aws_event("v1", request)
    event["path"] = "/hooks/sms"
    event["requestContext"]["path"] = "/prod/hooks/sms"
    event["requestContext"]["stage"] = "prod"
    event["multiValueQueryStringParameters"] = {"To": ["+15551234567"]}
    rebuilt, _ = read_event(OPTIONS, event, request.received_at)
    assert rebuilt.url == url
    twilio.verify(rebuilt)


def test_a_base64_body_that_is_not_base64_is_refused() -> None:
    event = aws_event("v2", sign_request(presets.github(secret=SECRET), b"{}"), base64_body=True)
    event["body"] = "not base64!"
    handler = webhook_handler(new_receiver_memory())(lambda event, context, delivery: None)
    assert handler(event, None)["statusCode"] == 400


def test_an_event_that_is_not_http_says_what_to_fix() -> None:
    with pytest.raises(ConfigurationError, match=r"^the Lambda event is not an HTTP request"):
        event_kind({"Records": [{"eventSource": "aws:sqs"}]})


def new_receiver_memory() -> Receiver:
    registry = HandlerRegistry([Handler("github", presets.github(secret=SECRET), user="ci-bot")])
    return Receiver(registry)


@pytest.fixture
def redis_receiver(redis_url: str, redis_prefix: str) -> Iterator[Receiver]:
    registry = HandlerRegistry([Handler("github", presets.github(secret=SECRET), user="ci-bot")])
    with RedisReplayStore(redis_url, prefix=redis_prefix) as store:
        yield Receiver(registry, replay_store=store)


class Function:
    """The user's Lambda code: records each delivery, answers as told."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None, Any]] = []
        self.answers: list[Any] = []

    def __call__(self, event: Any, context: Any, delivery: Delivery) -> dict[str, Any] | None:
        self.calls.append((delivery.handler.name, delivery.user, delivery.json()))
        answer = self.answers.pop(0) if self.answers else None
        if isinstance(answer, Exception):
            raise answer
        return answer


def github_request(n: int) -> WebhookRequest:
    body = json.dumps({"action": "opened", "n": n, "id": str(uuid.uuid4())}).encode()
    return sign_request(presets.github(secret=SECRET), body)


@pytest.mark.redis
@pytest.mark.parametrize("base64_body", [False, True], ids=["text", "base64"])
@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_delivery_semantics_on_aws_events_with_redis(
    redis_receiver: Receiver, kind: str, base64_body: bool
) -> None:
    function = Function()
    handler = webhook_handler(redis_receiver)(function)

    def send(request: WebhookRequest, body: bytes | None = None) -> dict[str, Any]:
        if body is not None:  # tampered: the signature of another body
            request = request.replace(body=body)
        return handler(aws_event(kind, request, base64_body=base64_body), None)

    valid, declined, raising = github_request(1), github_request(2), github_request(3)
    first = send(valid)
    assert (first["statusCode"], function.calls) == (200, [("github", "ci-bot", valid_json(valid))])
    assert send(valid, b'{"action": "closed"}')["statusCode"] == 401
    replay = send(valid)
    assert (replay["statusCode"], replay["body"]) == (200, "")
    assert len(function.calls) == 1

    function.answers = [{"statusCode": 400, "body": "bad"}, {"statusCode": 202, "body": "ok"}]
    assert send(declined) == {"statusCode": 400, "body": "bad"}
    assert send(declined) == {"statusCode": 202, "body": "ok"}  # the retry runs it
    assert send(declined)["statusCode"] == 200

    function.answers = [RuntimeError("db down")]
    assert send(raising)["statusCode"] == 500
    assert send(raising)["statusCode"] == 200
    assert send(raising)["statusCode"] == 200
    assert len(function.calls) == 5


def valid_json(request: WebhookRequest) -> Any:
    return json.loads(request.body)


def test_refusals_answer_as_the_other_adapters_do() -> None:
    function = Function()
    handler = webhook_handler(new_receiver_memory(), max_body_size=10, max_header_count=20)(
        function
    )
    big = aws_event("v2", github_request(1))
    many = aws_event("v1", sign_request(presets.github(secret=SECRET), b"{}"))
    many["multiValueHeaders"].update({f"X-Extra-{i}": ["1"] for i in range(30)})
    get = aws_event("url", sign_request(presets.github(secret=SECRET), b"{}", method="GET"))
    answers = [handler(event, None) for event in (big, many, get)]
    assert [a["statusCode"] for a in answers] == [413, 431, 405]
    assert answers[2]["headers"]["Allow"] == "POST"
    assert function.calls == []


def test_a_function_returning_something_else_answers_500_and_is_retried() -> None:
    function = Function()
    function.answers = ["ok"]
    handler = webhook_handler(new_receiver_memory())(function)
    event = aws_event("v2", github_request(1))
    assert handler(event, None)["statusCode"] == 500
    assert handler(event, None)["statusCode"] == 200
    assert len(function.calls) == 2


def test_make_lambda_event_round_trips_through_the_handler() -> None:
    function = Function()
    handler = webhook_handler(new_receiver_memory())(function)
    for kind in ("v1", "v2", "url"):
        request = github_request({"v1": 1, "v2": 2, "url": 3}[kind])
        assert handler(make_lambda_event(request, kind), None)["statusCode"] == 200  # type: ignore[arg-type]
    binary = sign_request(presets.github(secret=SECRET), b"\xff\xfe not utf-8")
    event = make_lambda_event(binary)
    assert event["isBase64Encoded"] is True
    assert read_event(OPTIONS, event, 1.0)[0].body == b"\xff\xfe not utf-8"


def test_receiver_from_env_names_the_variable_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WEBHOOKVERIFY_REDIS_URL", raising=False)
    registry = HandlerRegistry([Handler("github", presets.github(secret=SECRET))])
    with pytest.raises(ConfigurationError, match=r"^WEBHOOKVERIFY_REDIS_URL is not set: set it"):
        receiver_from_env(registry)


@pytest.mark.redis
def test_receiver_from_env_uses_the_redis_it_names(
    monkeypatch: pytest.MonkeyPatch, redis_url: str, redis_prefix: str
) -> None:
    monkeypatch.setenv("WEBHOOKVERIFY_REDIS_URL", redis_url)
    registry = HandlerRegistry([Handler("github", presets.github(secret=SECRET), user="ci-bot")])
    function = Function()
    first = webhook_handler(receiver_from_env(registry, prefix=redis_prefix))(function)
    # a second instance of the function (its own memory, the same Redis)
    second = webhook_handler(receiver_from_env(registry, prefix=redis_prefix))(function)
    event = aws_event("v2", github_request(1))
    assert first(event, None)["statusCode"] == 200
    assert second(event, None)["statusCode"] == 200
    assert len(function.calls) == 1  # the replay reached the other instance and did not run


def test_a_memory_store_is_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="webhookverify"):
        webhook_handler(new_receiver_memory())
    assert "concurrent Lambda instances do not share" in caplog.text


def test_an_unreachable_redis_fails_closed_with_503_and_nothing_runs() -> None:
    from _redis import closed_port

    store = RedisReplayStore(
        f"redis://127.0.0.1:{closed_port()}/0", connect_timeout=0.2, socket_timeout=0.2, retries=0
    )
    registry = HandlerRegistry([Handler("github", presets.github(secret=SECRET), user="ci-bot")])
    function = Function()
    handler = webhook_handler(Receiver(registry, replay_store=store))(function)
    answer = handler(aws_event("v2", github_request(1)), None)
    assert answer["statusCode"] == 503
    assert "Retry-After" in answer["headers"]
    assert function.calls == []


@pytest.mark.parametrize("kind", ["v1", "v2", "url"])
def test_a_get_handshake_is_answered_not_refused_405(kind: str) -> None:
    # Dropbox checks the endpoint with a GET before it delivers anything.
    receiver = Receiver(HandlerRegistry([Handler("dropbox", presets.dropbox(secret=SECRET))]))
    ran: list[Delivery] = []
    handler = webhook_handler(receiver)(lambda event, context, delivery: ran.append(delivery))
    get = WebhookRequest(method="GET", url="https://example.test/hooks?challenge=abc123")
    answer = handler(make_lambda_event(get, kind), None)
    assert (answer["statusCode"], answer["body"]) == (200, "abc123")
    put = WebhookRequest(method="PUT", url="https://example.test/hooks?challenge=abc123")
    assert handler(make_lambda_event(put, kind), None)["statusCode"] == 405
    assert ran == []
