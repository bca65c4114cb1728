"""The SNS subscription handshake: a verified ``SubscriptionConfirmation``
from an allowed topic is confirmed by the endpoint itself, with a GET of its
``SubscribeURL`` (AWS SNS Developer Guide, "Subscribing an HTTP/S endpoint
to a topic", step 2: "confirm the subscription ... visit the URL in the
SubscribeURL value").

The confirmation is a :class:`~webhookverify.handshake.Handshake` of
``presets.aws_sns``: signed (asked only once the verifier has passed: the
signature, the topic allowlist, the ``SubscribeURL`` on the SNS hosts),
never dispatched as a delivery. The GET goes through the preset's
:class:`~webhookverify.keyfetch.Fetcher` under the SNS host rules (``https``,
bounded, redirects only on the SNS hosts); sync under ``Receiver.receive``,
awaited under ``areceive``. When it fails (AWS unreachable, an error answer)
the request is answered 503 so that SNS delivers the confirmation again
(SNS retries a ``SubscriptionConfirmation`` like any message, under the
topic's delivery policy). An ``UnsubscribeConfirmation`` is answered 200 and
nothing is visited.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any, Final

from ..errors import VerificationError
from ..handshake import UNAVAILABLE, HandshakeAnswer, handshake_answer
from ..keyfetch import Fetcher, HostRules, Request

if TYPE_CHECKING:
    from ..request import WebhookRequest
    from ..types import Verification

__all__ = ["SUBSCRIPTION_CONFIRMATION", "UNSUBSCRIBE_CONFIRMATION", "SnsSubscription"]

logger = logging.getLogger("webhookverify")

SUBSCRIPTION_CONFIRMATION: Final = "aws_sns.subscription_confirmation"
UNSUBSCRIBE_CONFIRMATION: Final = "aws_sns.unsubscribe_confirmation"
# The scheme of a verification by AwsSnsVerifier (aws-sns-v1, aws-sns-v2):
# a confirmation is visited only for a message that verifier proved.
_SCHEME: Final = "aws-sns-v"
_TYPE_HEADER: Final = "x-amz-sns-message-type"
_TYPES: Final = frozenset({"SubscriptionConfirmation", "UnsubscribeConfirmation"})


class SnsSubscription:
    """The handshake of ``presets.aws_sns``: ``SubscriptionConfirmation``
    confirmed (or handed to the application), ``UnsubscribeConfirmation``
    acknowledged.

    Args:
        topics: the topic ARNs whose subscriptions are confirmed.
        rules: the SNS hosts (any path): where ``SubscribeURL`` and its
            redirects may lead.
        fetcher: the fetch bounds (and test hook) of the GET.
        confirm: visit ``SubscribeURL`` (``True``), or leave it to the
            application, which finds it in the event's ``confirm_url``.
    """

    __slots__ = ("confirm", "fetcher", "rules", "topics")

    kind: Final = SUBSCRIPTION_CONFIRMATION
    signed: Final = True
    methods: Final = frozenset({"POST"})

    topics: frozenset[str]
    rules: HostRules
    fetcher: Fetcher
    confirm: bool

    def __init__(
        self, *, topics: frozenset[str], rules: HostRules, fetcher: Fetcher, confirm: bool
    ) -> None:
        object.__setattr__(self, "topics", topics)
        object.__setattr__(self, "rules", rules)
        object.__setattr__(self, "fetcher", fetcher)
        object.__setattr__(self, "confirm", confirm)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable; build a new one")

    def read(
        self, request: WebhookRequest, verification: Verification | None
    ) -> tuple[str, str] | HandshakeAnswer | None:
        """What ``request`` asks of the handshake: ``(topic ARN, SubscribeURL)``
        to confirm, the answer to an ``UnsubscribeConfirmation``, or ``None``
        (not verified by the SNS verifier, or a notification)."""
        if verification is None or not verification.scheme.startswith(_SCHEME):
            return None
        # the verifier held this header to the signed Type: a notification
        # (nearly every delivery) is told apart without parsing the body again
        if request.headers.get(_TYPE_HEADER) not in _TYPES:
            return None
        try:
            message = json.loads(request.body)
        except (ValueError, RecursionError):
            return None
        if not isinstance(message, dict) or message.get("TopicArn") not in self.topics:
            return None
        topic = str(message["TopicArn"])
        kind = message.get("Type")
        if kind == "UnsubscribeConfirmation":
            return handshake_answer(b"")._replace(kind=UNSUBSCRIBE_CONFIRMATION, detail=topic)
        if kind != "SubscriptionConfirmation":
            return None
        return topic, str(message.get("SubscribeURL"))

    def answer(
        self, request: WebhookRequest, verification: Verification | None
    ) -> HandshakeAnswer | None:
        """The answer to ``request`` (confirming it first, blocking); see
        :meth:`~webhookverify.handshake.Handshake.answer`."""
        found = self.read(request, verification)
        if found is None or isinstance(found, HandshakeAnswer):
            return found
        topic, url = found
        try:
            url = self.rules.check_host(url, "SubscribeURL")
            if self.confirm:
                self.fetcher.fetch(Request("GET", url), self.rules)
        except (VerificationError, ImportError) as exc:
            return self.unavailable(topic, exc)
        return self.confirmed(topic, url)

    async def aanswer(
        self, request: WebhookRequest, verification: Verification | None
    ) -> HandshakeAnswer | None:
        """:meth:`answer` for the event loop: the GET is awaited, never blocking."""
        found = self.read(request, verification)
        if found is None or isinstance(found, HandshakeAnswer):
            return found
        topic, url = found
        try:
            url = self.rules.check_host(url, "SubscribeURL")
            if self.confirm:
                await self.fetcher.afetch(Request("GET", url), self.rules)
        except (VerificationError, ImportError) as exc:
            return self.unavailable(topic, exc)
        return self.confirmed(topic, url)

    def confirmed(self, topic: str, url: str) -> HandshakeAnswer:
        """200: confirmed (the event names the topic), or, when the application
        confirms, the URL for it in the event's ``confirm_url``."""
        if self.confirm:
            logger.info(
                "confirmed the SNS subscription to %s",
                topic,
                extra={"webhookverify": {"reason": "handshake", "detail": topic}},
            )
        answer = handshake_answer(b"")._replace(kind=SUBSCRIPTION_CONFIRMATION, detail=topic)
        return answer if self.confirm else answer._replace(confirm_url=url)

    @staticmethod
    def unavailable(topic: str, exc: BaseException) -> HandshakeAnswer:
        """503: not confirmed now; SNS delivers the confirmation again."""
        cause: Any = exc
        if isinstance(exc, ImportError):
            cause = "httpx is not installed: pip install 'webhookverify[fetch]'"
        logger.error(
            "could not confirm the SNS subscription to %s (%s); answering 503 so SNS retries",
            topic,
            cause,
            extra={"webhookverify": {"reason": "handshake_unavailable", "detail": topic}},
        )
        return HandshakeAnswer(UNAVAILABLE, (), b"", kind=SUBSCRIPTION_CONFIRMATION, detail=topic)

    def __repr__(self) -> str:
        return f"SnsSubscription(topics={sorted(self.topics)!r}, confirm={self.confirm!r})"
