"""Forgeries of the fetched-key presets that a signed message made possible:
a second reading of SNS's signed text, and SNS certificate hosts a customer
can claim."""

from __future__ import annotations

import json
from typing import Any

import pytest

from webhookverify import VerificationError, WebhookRequest, presets
from webhookverify.keyfetch import CertificateUrl, FixedKeys, HostRules, KeyUrlRefused
from webhookverify.presets._aws_sns import SNS_CERT_HOSTS, SNS_CERT_PATH
from webhookverify.testing import sign_request

from _keyserver import pem_public, private_key
from contract import NOW

TOPIC = "arn:aws:sns:us-east-1:123456789012:MyTopic"
CERT_PATH = "/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem"


def _sns(cert_url: str) -> Any:
    key = private_key("rsa", 0)
    return presets.aws_sns(
        topics=[TOPIC],
        keys=FixedKeys({cert_url: pem_public(key)}),
        private_key=key,
        signing_cert_url=cert_url,
    )


def _request(body: bytes) -> WebhookRequest:
    headers = {"x-amz-sns-message-type": json.loads(body)["Type"]}
    return WebhookRequest(
        method="POST",
        url="https://hooks.example.test/sns",
        headers=headers,
        body=body,
        received_at=NOW,
    )


def test_sns_signed_text_has_one_reading() -> None:
    # A publisher's Message that ends in "\nMessageId\nX" (text it relays from
    # a user, say) signs the same text as a shorter Message whose MessageId is
    # "X\nMessageId\n<the real id>": a new delivery id (past the replay guard)
    # and a truncated Message, both under SNS's genuine signature.
    verifier = _sns("https://sns.us-east-1.amazonaws.com" + CERT_PATH)
    genuine = verifier.message("pay 5\nMessageId\nfresh-id", now=NOW, message_id="real-id")
    first = verifier.verify(sign_request(verifier, genuine, now=NOW, received_at=NOW), now=NOW)
    assert first.delivery_id == "real-id"
    message = json.loads(genuine)
    message["Message"] = "pay 5"
    message["MessageId"] = "fresh-id\nMessageId\nreal-id"
    with pytest.raises(VerificationError) as info:
        verifier.verify(_request(json.dumps(message).encode()), now=NOW)
    assert info.value.reason == "malformed_body"


@pytest.mark.parametrize("field", ["Subject", "Timestamp", "TopicArn", "MessageId"])
def test_sns_line_break_outside_message_refused(field: str) -> None:
    verifier = _sns("https://sns.us-east-1.amazonaws.com" + CERT_PATH)
    message = json.loads(verifier.message("hello", now=NOW, subject="s"))
    message[field] += "\r"
    with pytest.raises(VerificationError):
        verifier.verify(_request(json.dumps(message).encode()), now=NOW)


BUCKET_HOSTS = [
    "sns.s3-us-west-2.amazonaws.com",  # the S3 bucket "sns", legacy regional endpoint
    "sns.s3-external-1.amazonaws.com",
    "sns.s3-accelerate.amazonaws.com",
    "sns.s3.amazonaws.com",
]


@pytest.mark.parametrize("host", BUCKET_HOSTS)
def test_sns_certificate_on_a_bucket_host_refused(host: str) -> None:
    # Whoever owns the S3 bucket "sns" serves any path at these hosts over
    # https; a certificate there must not sign SNS messages.
    url = f"https://{host}{CERT_PATH}"
    verifier = _sns(url)
    body = verifier.message("hello", now=NOW)
    with pytest.raises(VerificationError) as info:
        verifier.verify(_request(body), now=NOW)
    assert info.value.reason == "key_url_refused"


@pytest.mark.parametrize("host", BUCKET_HOSTS)
def test_certificate_url_wildcard_held_to_label(host: str) -> None:
    from webhookverify.presets._aws_sns import SNS_REGION_LABEL

    source = CertificateUrl(hosts=SNS_CERT_HOSTS, path=SNS_CERT_PATH, label=SNS_REGION_LABEL)
    with pytest.raises(KeyUrlRefused):
        source.key(f"https://{host}{CERT_PATH}")


@pytest.mark.parametrize(
    "host",
    [
        "sns.us-east-1.amazonaws.com",
        "sns.us-gov-west-1.amazonaws.com",
        "sns.ap-southeast-2.amazonaws.com",
        "sns.cn-north-1.amazonaws.com.cn",
        "SNS.EU-CENTRAL-1.AMAZONAWS.COM",
    ],
)
def test_sns_region_hosts_still_allowed(host: str) -> None:
    from webhookverify.presets._aws_sns import SNS_REGION_LABEL

    rules = HostRules(SNS_CERT_HOSTS, path=SNS_CERT_PATH, label=SNS_REGION_LABEL)
    assert rules.check(f"https://{host}{CERT_PATH}") == f"https://{host}{CERT_PATH}"
    verifier = _sns(f"https://{host}{CERT_PATH}")
    verifier.verify(_request(verifier.message("hello", now=NOW)), now=NOW)


@pytest.mark.parametrize(
    "path",
    [
        "/v1/notifications/certs/..",  # fetched as /v1/notifications (RFC 3986 §5.2.4)
        "/v1/notifications/certs/.",
        "/v1/notifications/certs/..?x=1",
        "/v1/notifications/certs/%2e%2E",
    ],
)
def test_paypal_certificate_path_has_no_dot_segment(path: str) -> None:
    # The path rule judged the text; the fetch would resolve the dot segment
    # and ask PayPal's host for a path outside the certificates.
    from webhookverify.presets._paypal import PAYPAL_CERT_PATH

    rules = HostRules(["api.paypal.com"], path=PAYPAL_CERT_PATH)
    with pytest.raises(KeyUrlRefused):
        rules.check("https://api.paypal.com" + path)
    rules.check("https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-a.b")
    with pytest.raises(KeyUrlRefused):
        HostRules(["mastodon.social"]).check("https://mastodon.social/users/a/../b")


class _Answers:
    """A fetcher that answers each URL with a fixed body (no network)."""

    def __init__(self, answers: dict[str, bytes]) -> None:
        self.answers = answers

    def fetch(self, request: Any, rules: HostRules) -> Any:
        from webhookverify.keyfetch import Document

        return Document(self.answers[rules.check(request.url)], 3600.0)


def test_key_by_id_cache_shared_by_two_endpoints_keeps_them_apart() -> None:
    # One cache behind Plaid's sandbox and production key endpoints: the key
    # the sandbox publishes as "k1" must not verify for production's "k1".
    from webhookverify.keyfetch import FetchedKey, KeyById, KeyCache, UnknownKey

    sandbox_key = private_key("rsa", 0).public_key()

    def read(body: bytes, kid: str) -> FetchedKey:
        if body != b"sandbox k1":
            raise UnknownKey("no such key")
        return FetchedKey(kid, sandbox_key)

    answers = _Answers(
        {
            "https://sandbox.plaid.com/keys/k1": b"sandbox k1",
            "https://production.plaid.com/keys/k1": b"",
        }
    )
    cache = KeyCache()
    sandbox, production = (
        KeyById(f"https://{host}/keys/{{kid}}", parse=read, fetcher=answers, cache=cache)  # type: ignore[arg-type]
        for host in ("sandbox.plaid.com", "production.plaid.com")
    )
    assert sandbox.key("k1").key is sandbox_key
    with pytest.raises(VerificationError) as info:
        production.key("k1")
    assert info.value.reason == "unknown_key"


def test_sns_message_with_a_field_twice_refused() -> None:
    # Python's reader keeps the last "Message", which the signature covers;
    # a reader that keeps the first (the application's, a proxy's) would act
    # on the unsigned one.
    verifier = _sns("https://sns.us-east-1.amazonaws.com" + CERT_PATH)
    genuine = verifier.message("hello", now=NOW)
    body = b'{"Message":"pay 1000",' + genuine[1:]
    assert json.loads(body)["Message"] == "hello"
    with pytest.raises(VerificationError) as info:
        verifier.verify(_request(body), now=NOW)
    assert info.value.reason == "malformed_body"
