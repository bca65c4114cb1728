"""Amazon SNS HTTP/S subscriptions (and every AWS service that notifies
through SNS: SES, S3, CloudWatch alarms...).

The signature is in the body: a JSON message whose listed fields, as
``name\\nvalue\\n`` lines in a fixed order, are signed with RSA (SHA1 for
``SignatureVersion`` 1, SHA256 for 2) by the key of the certificate at
``SigningCertURL``, which is fetched only from ``sns.<region>.amazonaws.com``
(or ``.amazonaws.com.cn``), over https (AWS SNS Developer Guide, "Verifying
the signatures of Amazon SNS messages"). Subscriptions: ``_aws_sns_subscription``.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
import uuid
from collections.abc import Iterable
from typing import Any, Final

from .._checks import check_flag, check_list, check_methods
from ..errors import (
    ConfigurationError,
    MalformedBody,
    MalformedHeader,
    SignatureMismatch,
    UnsupportedSignatureVersion,
)
from ..keyfetch import (
    CertificateUrl,
    ClaimMismatch,
    FetchedKeyVerifier,
    Fetcher,
    HostRules,
    KeySource,
    Pending,
    check_key_signature,
)
from ..request import WebhookRequest
from ..types import Verification
from ..verifiers._base import (
    DEFAULT_TOLERANCE,
    check_freshness,
    parse_timestamp,
    replay_window,
    single_header,
)
from ._aws_sns_message import SIGNED_FIELDS, string_to_sign
from ._aws_sns_subscription import SnsSubscription
from ._common import check_windows, owner_of, scheme_of

__all__ = ["SIGNED_FIELDS", "SNS_CERT_HOSTS", "AwsSnsVerifier", "aws_sns", "string_to_sign"]

# AWS: "the certificate was sent from Amazon SNS": sns.<region>.amazonaws.com,
# and .amazonaws.com.cn in the China regions.
SNS_CERT_HOSTS: Final = ("sns.*.amazonaws.com", "sns.*.amazonaws.com.cn")
# Their "*" is a region (us-east-1, us-gov-west-1): any label would match S3's
# https://sns.s3-us-west-2.amazonaws.com/..., a bucket named "sns".
SNS_REGION_LABEL: Final = r"[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2}"
# The certificates SNS names: /SimpleNotificationService-<hex digest>.pem.
SNS_CERT_PATH: Final = r"/SimpleNotificationService-[0-9a-f]{16,64}\.pem"
# SNS retries an HTTP/S delivery with the same signed message; its default
# policy gives up within a minute, custom policies within an hour
# (maxDelayTarget and the retry phases are capped at 3600 s).
SNS_TOLERANCE: Final = 3600.0
_ALGORITHMS: Final = {"1": "rsa-sha1", "2": "rsa-sha256"}
_TYPE_HEADER: Final = "x-amz-sns-message-type"
# An SNS message is at most 256 KiB of payload; its JSON envelope adds ~2 KiB.
MAX_MESSAGE_BYTES: Final = 300 * 1024


class _DuplicateMember(ValueError):
    pass


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose names are unique (RFC 8259 §4 "SHOULD"): with a
    field twice, this reader (the last) and the application's (perhaps the
    first) would see two messages under one signature. SNS never repeats one."""
    found = dict(pairs)
    if len(found) != len(pairs):
        raise _DuplicateMember
    return found


# Built once: json.loads(..., object_pairs_hook=...) builds a decoder per call.
_MESSAGE_DECODER: Final = json.JSONDecoder(object_pairs_hook=_unique_members)


class AwsSnsVerifier(FetchedKeyVerifier):
    """A signed SNS message from an allowed topic; see :func:`aws_sns`."""

    __slots__ = (
        "future_tolerance",
        "handshake",
        "private_key",
        "replay_default",
        "replay_window",
        "required_headers",
        "rules",
        "signing_cert_url",
        "source",
        "tolerance",
        "topics",
        "versions",
    )

    topics: frozenset[str]
    versions: tuple[str, ...]
    rules: HostRules
    tolerance: float | None
    future_tolerance: float | None
    private_key: Any
    signing_cert_url: str | None
    handshake: SnsSubscription | None

    def __init__(
        self,
        *,
        topics: frozenset[str],
        versions: tuple[str, ...],
        rules: HostRules,
        source: KeySource,
        tolerance: float | None,
        future_tolerance: float | None,
        private_key: Any = None,
        signing_cert_url: str | None = None,
        handshake: SnsSubscription | None = None,
    ) -> None:
        self.init_fields(
            handshake=handshake,  # subscription confirmations, answered by the receiver
            topics=topics,
            versions=versions,
            rules=rules,
            source=source,
            tolerance=tolerance,
            future_tolerance=future_tolerance,
            private_key=private_key,
            signing_cert_url=signing_cert_url,
            required_headers=(_TYPE_HEADER,),
            replay_default="id",
            replay_window=replay_window(tolerance, future_tolerance),
        )

    def read(self, request: WebhookRequest) -> dict[str, Any]:
        """The message in ``request``'s body, its headers agreeing with it (no
        signature checked yet)."""
        message = self.read_body(request.body)
        if single_header(request, _TYPE_HEADER) != message.get("Type"):
            raise MalformedHeader(
                f"the {_TYPE_HEADER} header does not match the message's Type", header=_TYPE_HEADER
            )
        for header, name in (
            ("x-amz-sns-topic-arn", "TopicArn"),
            ("x-amz-sns-message-id", "MessageId"),
        ):
            sent = request.headers.get(header)
            if sent is not None and sent != message.get(name):
                raise MalformedHeader(
                    f"the {header} header does not match the message", header=header
                )
        return message

    @staticmethod
    def read_body(body: bytes) -> dict[str, Any]:
        """The JSON object of an SNS message body, unchecked."""
        if len(body) > MAX_MESSAGE_BYTES:
            raise MalformedBody("the body is larger than an SNS message can be")
        try:
            # RFC 8259 §8.1: JSON between systems is UTF-8, and SNS's is
            message = _MESSAGE_DECODER.decode(body.decode("utf-8"))
        except _DuplicateMember:
            raise MalformedBody("the SNS message names a field twice") from None
        except (ValueError, RecursionError):
            raise MalformedBody("the body is not an SNS message (JSON)") from None
        if not isinstance(message, dict):
            raise MalformedBody("the body is not an SNS message (a JSON object)")
        return message

    @property
    def scheme(self) -> str:
        """``aws-sns``; a verification reports the version: ``aws-sns-v1``, ``aws-sns-v2``."""
        return scheme_of("aws_sns")

    def prepare(self, request: WebhookRequest, now: float) -> Pending:
        message = self.read(request)
        signed = string_to_sign(message)
        version = message.get("SignatureVersion")
        if version not in self.versions:
            raise UnsupportedSignatureVersion(
                "the SNS message's SignatureVersion is not one configured (signature_versions=...)"
            )
        if message["TopicArn"] not in self.topics:
            raise ClaimMismatch("the SNS message is from a topic not configured (topics=...)")
        if message["Type"] == "SubscriptionConfirmation":  # never visited off the SNS hosts
            self.rules.check_host(message["SubscribeURL"], "SubscribeURL")
        timestamp = parse_timestamp(message["Timestamp"], "rfc3339", "Timestamp")
        check_freshness(timestamp, now, self.tolerance, self.future_tolerance, "Timestamp")
        try:
            signature = base64.b64decode(str(message.get("Signature")), validate=True)
        except (binascii.Error, ValueError):
            raise SignatureMismatch("the SNS message's Signature is not base64") from None
        url = self.rules.check(str(message.get("SigningCertURL")), "SigningCertURL")
        algorithm = _ALGORITHMS[str(version)]

        def finish(keys: tuple[Any, ...]) -> Verification:
            key = keys[0]
            unfit = "the SNS signing certificate is not valid for this message"
            mismatch = "the SNS message is not signed by its SigningCertURL"
            check_key_signature(
                key, algorithm, signature, signed, now, unfit=unfit, mismatch=mismatch
            )
            scheme = scheme_of("aws_sns", f"v{version}")
            return Verification(scheme, key.key_id, timestamp, message["MessageId"], (signed,))

        return Pending((url,), finish)

    def subscribe_url(self, request: WebhookRequest, now: float | None = None) -> str | None:
        """The URL to visit to confirm a subscription, once ``request`` is
        verified as a ``SubscriptionConfirmation`` from an allowed topic.

        Returns:
            ``SubscribeURL`` (on the SNS hosts, ``https``), or ``None`` for
            any other message type.

        Raises:
            VerificationError: the request is not verified (nothing to confirm).
        """
        self.verify(request, now)
        return self._confirmation(request)

    async def asubscribe_url(self, request: WebhookRequest, now: float | None = None) -> str | None:
        """:meth:`subscribe_url` without blocking the event loop on a fetch."""
        await self.averify(request, now)
        return self._confirmation(request)

    def _confirmation(self, request: WebhookRequest) -> str | None:
        message = self.read(request)
        if message.get("Type") != "SubscriptionConfirmation":
            return None
        return self.rules.check_host(str(message.get("SubscribeURL")), "SubscribeURL")

    def message(
        self,
        text: str,
        *,
        now: float | None = None,
        type: str = "Notification",
        topic: str | None = None,
        message_id: str | None = None,
        subject: str | None = None,
        version: str = "1",
    ) -> bytes:
        """A message as SNS would send it, signed (tests only: needs
        ``private_key`` and ``signing_cert_url``)."""
        if self.private_key is None or self.signing_cert_url is None:
            raise ConfigurationError("presets.aws_sns signs only with private_key= (tests)")
        from ._aws_sns_testing import signed_message

        return signed_message(
            self.private_key,
            self.signing_cert_url,
            text,
            now=time.time() if now is None else now,
            type=type,
            topic=topic or min(self.topics),
            message_id=message_id or str(uuid.uuid4()),
            subject=subject,
            version=version,
        )

    def sign(self, body: bytes, now: float | None = None, **parts: str) -> dict[str, str]:
        """The headers SNS sends with ``body``, a message made by :meth:`message`.

        Raises:
            MalformedBody: ``body`` is not an SNS message.
        """
        message = self.read_body(body)
        if not all(isinstance(message.get(f), str) for f in ("Type", "MessageId", "TopicArn")):
            raise MalformedBody("sign() takes a message made by message()")
        return {
            _TYPE_HEADER: message["Type"],
            "x-amz-sns-message-id": message["MessageId"],
            "x-amz-sns-topic-arn": message["TopicArn"],
        }

    def __repr__(self) -> str:
        return f"AwsSnsVerifier(topics={sorted(self.topics)!r}, versions={list(self.versions)!r})"


def aws_sns(
    *,
    topics: Iterable[str] | None = None,
    signature_versions: Iterable[str] = ("1", "2"),
    regions: Iterable[str] | None = None,
    tolerance: float | None = SNS_TOLERANCE,
    future_tolerance: float | None = DEFAULT_TOLERANCE,
    keys: KeySource | None = None,
    fetcher: Fetcher | None = None,
    private_key: Any = None,
    signing_cert_url: str | None = None,
    confirm_subscriptions: bool = True,
) -> AwsSnsVerifier:
    """Amazon SNS HTTP/S subscriptions, and AWS services that notify through SNS.

    Where the settings are: the topic's ARN (SNS console → Topics → the
    topic → "ARN"); only topics listed in ``topics`` are accepted. The
    topic's signature version is under the topic → Edit → "Signature
    version" (1: SHA1, the default; 2: SHA256).

    What is signed: the message's fields ``Message``, ``MessageId``,
    ``Subject`` (if any), ``Timestamp``, ``TopicArn``, ``Type`` (and
    ``SubscribeURL``, ``Token`` for subscription messages), as
    ``name\\nvalue\\n`` lines, with RSA PKCS#1 v1.5 and SHA1 (version 1) or
    SHA256 (version 2), by the certificate at ``SigningCertURL``. The
    certificate is fetched only from ``https://sns.<region>.amazonaws.com``
    (``.amazonaws.com.cn`` in China) at ``/SimpleNotificationService-*.pem``,
    then cached: a look-alike host, ``http://`` or a redirect elsewhere is
    refused without fetching.

    What differs: the signature is in the JSON body, not a header; the
    ``x-amz-sns-*`` headers must agree with it. Fields outside the list
    (``MessageAttributes``, ``UnsubscribeURL``) are not signed: read only
    the signed ones. A ``SubscriptionConfirmation`` is a handshake, never
    dispatched: once verified (topic allowed, ``SubscribeURL`` on the SNS
    hosts) the endpoint GETs ``SubscribeURL`` through ``fetcher``, answers
    200 and fires ``webhook.handshake`` (``aws_sns.subscription_confirmation``,
    the topic ARN in ``detail``), or answers 503 if AWS cannot be reached (SNS
    sends it again). ``confirm_subscriptions=False``: nothing is visited, the
    event's ``confirm_url`` is the URL. ``UnsubscribeConfirmation``: 200.
    SNS retries with the same signed message, so the timestamp window is an
    hour (raise ``tolerance`` if your delivery policy retries for longer).

    Replay id: the signed ``MessageId`` (the same on every retry).

    Args:
        topics: the topic ARNs accepted (required).
        signature_versions: ``"1"`` and/or ``"2"`` (default both; set
            ``("2",)`` once the topic signs with SHA256).
        regions: restrict certificates to these regions' hosts (default any).
        tolerance: seconds the message's ``Timestamp`` may be old (default 3600).
        future_tolerance: seconds it may be ahead (default 300).
        keys: another key source keyed by certificate URL (tests).
        fetcher: fetch bounds and the test hook (``keyfetch.Fetcher``).
        private_key / signing_cert_url: only to sign in tests.
        confirm_subscriptions: visit ``SubscribeURL`` (default); ``False``
            to confirm subscriptions yourself.

    Raises:
        ConfigurationError: no topic, an unknown signature version, a bad
            region, ``confirm_subscriptions`` not a bool.
    """
    owner = owner_of("aws_sns")
    allowed = frozenset(check_list(topics or (), "topics", owner, one=str))
    if not allowed or not all(isinstance(t, str) and t.startswith("arn:") for t in allowed):
        raise ConfigurationError(
            f"{owner} needs topics= (the topic ARNs to accept, arn:aws:sns:...)"
        )
    versions = check_list(signature_versions, "signature_versions", owner, one=str)
    if not versions or not set(versions) <= {"1", "2"}:
        raise ConfigurationError(f"{owner}(signature_versions=...) takes '1' and/or '2'")
    tolerance, future_tolerance = check_windows("aws_sns", tolerance, future_tolerance)
    check_flag(confirm_subscriptions, "confirm_subscriptions", owner)
    hosts: tuple[str, ...] = SNS_CERT_HOSTS
    if regions is not None:
        names = check_list(regions, "regions", owner, one=str)
        if not all(isinstance(r, str) and r for r in names):
            raise ConfigurationError(f"{owner}(regions=...) takes region names such as 'us-east-1'")
        hosts = tuple(f"sns.{r}.amazonaws.com{'.cn' if r.startswith('cn-') else ''}" for r in names)
    label = SNS_REGION_LABEL
    rules = HostRules(hosts, path=SNS_CERT_PATH, owner=owner, label=label)
    if keys is not None:
        check_methods(keys, ("key", "akey"), "keys", owner, "a key source such as FixedKeys")
    source = (
        keys
        if keys is not None
        else CertificateUrl(hosts=hosts, path=SNS_CERT_PATH, fetcher=fetcher, label=label)
    )
    return AwsSnsVerifier(
        topics=allowed,
        versions=versions,
        rules=rules,
        source=source,
        tolerance=tolerance,
        future_tolerance=future_tolerance,
        private_key=private_key,
        signing_cert_url=signing_cert_url,
        handshake=SnsSubscription(
            topics=allowed,
            rules=HostRules(hosts, owner=owner, label=label),  # SubscribeURL: any path
            fetcher=Fetcher() if fetcher is None else fetcher,
            confirm=confirm_subscriptions,
        ),
    )
