"""webhookverify.aws_lambda on events of a shape AWS does not send (a function
invoked by hand or by a test with a hand-made event): a clear
ConfigurationError naming the field, never a traceback from deep inside and
never headers misread; and on events AWS does send with a header repeated,
a repeated signature never passes."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from webhookverify import ConfigurationError, Delivery, Handler, HandlerRegistry, Receiver, presets
from webhookverify.aws_lambda import webhook_handler
from webhookverify.lambda_events import make_lambda_event
from webhookverify.testing import sign_request

SECRET = "lambda-shapes-secret"
VECTORS = Path(__file__).parent / "vectors" / "aws_lambda"


def lambda_handler(ran: list[Delivery]) -> Any:
    receiver = Receiver(HandlerRegistry([Handler("github", presets.github(secret=SECRET))]))

    @webhook_handler(receiver)
    def handler(event: Any, context: Any, delivery: Delivery) -> None:
        ran.append(delivery)

    return handler


def event(kind: Any) -> dict[str, Any]:
    body = b'{"zen": "%s"}' % uuid.uuid4().hex.encode()
    return make_lambda_event(sign_request(presets.github(secret=SECRET), body), kind)


@pytest.mark.parametrize(
    ("kind", "field", "value"),
    [
        ("v1", "headers", [["X-Hub-Signature-256", "sha256=00"]]),
        ("v2", "headers", ["x-hub-signature-256"]),
        ("v1", "multiValueHeaders", "X-Hub-Signature-256"),
        ("v1", "multiValueHeaders", {"X-Hub-Signature-256": "sha256=00"}),
        ("v2", "cookies", "a=1"),
    ],
)
def test_a_header_section_of_another_shape_is_a_clear_error(
    kind: str, field: str, value: Any
) -> None:
    ran: list[Delivery] = []
    sent = event(kind)
    sent[field] = value
    with pytest.raises(ConfigurationError, match=rf"Lambda event's {field} is not"):
        lambda_handler(ran)(sent, None)
    assert ran == []


def test_the_documented_events_still_read() -> None:
    """AWS's own samples (headers null, cookies listed) pass the shape checks."""
    ran: list[Delivery] = []
    v1, v2 = (
        json.loads((VECTORS / name).read_text(encoding="utf-8"))
        for name in ("apiGatewayProxyEvent.json", "apiGatewayProxyV2Event.json")
    )
    v1["httpMethod"] = v2["requestContext"]["http"]["method"] = "POST"
    for sample in (v1, v2):
        assert lambda_handler(ran)(sample, None)["statusCode"] == 401  # unsigned: refused
    v1 = event("v1")
    v1["headers"] = None  # a REST API event may carry only multiValueHeaders
    assert lambda_handler(ran)(v1, None)["statusCode"] == 200
    assert len(ran) == 1


@pytest.mark.parametrize("kind", ["v1", "v2"])
def test_a_second_signature_never_passes(kind: str) -> None:
    """Repeated as API Gateway passes it on (a REST API: every value in
    multiValueHeaders, the last in headers; an HTTP API: joined with commas),
    a second signature makes the request fail, whichever comes first."""
    ran: list[Delivery] = []
    for first in (True, False):
        sent = event(kind)
        forged = "sha256=" + "0" * 64
        if kind == "v1":
            name = "X-Hub-Signature-256"
            good = sent["multiValueHeaders"][name][0]
            values = [good, forged] if first else [forged, good]
            sent["multiValueHeaders"][name] = values
            sent["headers"][name] = values[-1]
        else:
            name = "x-hub-signature-256"
            good = sent["headers"][name]
            sent["headers"][name] = f"{good},{forged}" if first else f"{forged},{good}"
        assert lambda_handler(ran)(copy.deepcopy(sent), None)["statusCode"] == 401
    assert ran == []
