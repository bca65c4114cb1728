"""PagerDuty, WooCommerce, Lemon Squeezy, Cal.com, Intuit QuickBooks, DocuSign
Connect, LINE, Checkr and Zendesk: every vector of
tests/vectors/providers_more.json, and the verifier contract.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import pytest

from webhookverify import (
    ConfigurationError,
    HmacVerifier,
    VerificationError,
    WebhookRequest,
    presets,
)
from webhookverify.testing import sign_request

from _vectors import providers_more
from contract import NOW, VerifierContract
from preset_contracts import PresetContract

# preset -> (number of vectors, signature header, encoding)
GROUP: dict[str, tuple[int, str, str]] = {
    "cal_com": (2, "X-Cal-Signature-256", "hex"),
    "checkr": (1, "X-Checkr-Signature", "hex"),
    "docusign": (2, "X-DocuSign-Signature-1", "base64"),
    "intuit": (1, "intuit-signature", "base64"),
    "lemon_squeezy": (1, "X-Signature", "hex"),
    "line": (2, "x-line-signature", "base64"),
    "pagerduty": (3, "X-PagerDuty-Signature", "hex"),
    "woocommerce": (1, "X-WC-Webhook-Signature", "base64"),
    "zendesk": (2, "X-Zendesk-Webhook-Signature", "base64"),
}
# the senders that sign a timestamp with the body
TIMESTAMPED = {"zendesk": "X-Zendesk-Webhook-Signature-Timestamp"}
VECTORS = providers_more()
VALID = [v for v in VECTORS if v["expected"] == "valid"]


def preset_for(vector: dict[str, Any], **keys: Any) -> HmacVerifier:
    """The preset of a vector, built from the vector's data only."""
    keys = keys or {"secret": vector["secret"]}
    extra = {"header": vector["header"]} if "header" in vector else {}
    verifier: HmacVerifier = getattr(presets, vector["preset"])(**keys, **extra)
    return verifier


def request_for(vector: dict[str, Any], body: bytes | None = None) -> WebhookRequest:
    return WebhookRequest(
        method="POST",
        url="https://hooks.example.test/in",
        headers=vector["headers"],
        body=vector["body"].encode("utf-8") if body is None else body,
        received_at=vector.get("now", NOW),
    )


def test_every_preset_of_the_group_has_its_vectors() -> None:
    for name, (count, _, _) in GROUP.items():
        assert len(providers_more(name)) == count, name
        assert name in presets.PRESETS and name in presets.__all__
    assert {v["preset"] for v in VECTORS} == set(GROUP)
    for vector in VECTORS:
        assert vector["source"] and vector["source_kind"] in (
            "doc",
            "sdk-test",
            "derived",
            "derived-negative",
            "self-generated",
        ), vector["id"]


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["id"])
def test_vector(vector: dict[str, Any]) -> None:
    verifier = preset_for(vector)
    if vector["expected"] == "valid":
        result = verifier.verify(request_for(vector), now=vector.get("now"))
        assert result.key_id == "secret[0]"
        assert result.scheme == vector["preset"].replace("_", "-") + "-hmac-sha256"
        assert result.delivery_id is None
        if vector["preset"] in TIMESTAMPED:
            assert result.timestamp is not None
            assert abs(result.timestamp - vector["now"]) <= 60
        else:
            assert result.timestamp is None
    else:
        with pytest.raises(VerificationError):
            verifier.verify(request_for(vector), now=vector.get("now"))


@pytest.mark.parametrize("vector", VALID, ids=lambda v: v["id"])
def test_vector_with_another_key_is_refused(vector: dict[str, Any]) -> None:
    with pytest.raises(VerificationError) as info:
        preset_for(vector, secret="not-the-key").verify(request_for(vector), now=vector.get("now"))
    assert info.value.reason == "signature_mismatch"


@pytest.mark.parametrize("vector", VALID, ids=lambda v: v["id"])
def test_vector_with_one_more_body_byte_is_refused(vector: dict[str, Any]) -> None:
    body = vector["body"].encode("utf-8") + b" "
    with pytest.raises(VerificationError) as info:
        preset_for(vector).verify(request_for(vector, body), now=vector.get("now"))
    assert info.value.reason == "signature_mismatch"


@pytest.mark.parametrize("vector", VALID, ids=lambda v: v["id"])
def test_vector_verifies_as_the_rotated_key(vector: dict[str, Any]) -> None:
    verifier = preset_for(vector, secrets=["an-older-key", vector["secret"]])
    assert verifier.verify(request_for(vector), now=vector.get("now")).key_id == "secret[1]"


@pytest.mark.parametrize("vector", VALID, ids=lambda v: v["id"])
def test_the_preset_signs_as_the_sender_does(vector: dict[str, Any]) -> None:
    # sign() is what `webhookverify sign --preset` sends: it must reproduce the
    # sender's own header byte for byte (the rotation vector lists two).
    verifier = preset_for(vector)
    parts = {}
    if vector["preset"] in TIMESTAMPED:
        parts["timestamp"] = vector["headers"][TIMESTAMPED[vector["preset"]]]
    headers = verifier.sign(vector["body"].encode("utf-8"), now=NOW, **parts)
    assert vector["headers"][verifier.header].endswith(headers[verifier.header])


@pytest.mark.parametrize("name", sorted(GROUP))
def test_the_documented_algorithm(name: str) -> None:
    # Independent of the vectors: the header each sender names, carrying
    # HMAC-SHA256 of the raw body in the encoding it documents.
    _, header, encoding = GROUP[name]
    body = '{"event":"ping","n":"h\u00e9"}'.encode()
    digest = hmac.new(b"k-123", body, hashlib.sha256).digest()
    text = digest.hex() if encoding == "hex" else base64.b64encode(digest).decode()
    if name == "pagerduty":
        text = "v1=" + text
    headers = {header: text}
    if name in TIMESTAMPED:
        stamp = "2024-05-01T10:00:00Z"
        digest = hmac.new(b"k-123", stamp.encode() + body, hashlib.sha256).digest()
        headers = {header: base64.b64encode(digest).decode(), TIMESTAMPED[name]: stamp}
        now = 1714557600.0  # the stamp, in unix seconds
        request = WebhookRequest(method="POST", url="", headers=headers, body=body)
        assert getattr(presets, name)(secret="k-123").verify(request, now=now).timestamp == now
        return
    request = WebhookRequest(method="POST", url="", headers=headers, body=body)
    assert getattr(presets, name)(secret="k-123").verify(request, now=NOW).key_id == "secret[0]"


def test_hex_senders_refuse_upper_case_hex() -> None:
    body = b'{"a":1}'
    upper = hmac.new(b"k", body, hashlib.sha256).hexdigest().upper()
    for name in ("cal_com", "checkr", "lemon_squeezy"):
        header = GROUP[name][1]
        request = WebhookRequest(method="POST", url="", headers={header: upper}, body=body)
        with pytest.raises(VerificationError):
            getattr(presets, name)(secret="k").verify(request, now=NOW)


def test_pagerduty_ignores_other_versions_and_needs_v1() -> None:
    body = b'{"event":{"id":"e1"}}'
    good = hmac.new(b"k", body, hashlib.sha256).hexdigest()
    verifier = presets.pagerduty(secret="k")
    ok = {"X-PagerDuty-Signature": f"v2=abc, v1={good}"}
    assert verifier.verify(WebhookRequest(method="POST", url="", headers=ok, body=body), now=NOW)
    bare = {"X-PagerDuty-Signature": good}
    with pytest.raises(VerificationError) as info:
        verifier.verify(WebhookRequest(method="POST", url="", headers=bare, body=body), now=NOW)
    assert info.value.reason == "unsupported_signature_version"


def test_docusign_reads_the_header_it_is_given() -> None:
    (vector,) = [v for v in VECTORS if v["id"] == "docusign-second-key"]
    request = request_for(vector)
    with pytest.raises(VerificationError):
        presets.docusign(secret=vector["secret"]).verify(request, now=NOW)  # reads -1
    assert presets.docusign(secret=vector["secret"], header="X-DocuSign-Signature-2").verify(
        request, now=NOW
    )
    with pytest.raises(ConfigurationError, match=r"^presets\.docusign\(header=\.\.\.\)"):
        presets.docusign(secret="k", header="")


@pytest.mark.parametrize("name", sorted(GROUP))
def test_replay_key_is_the_content_hash(name: str) -> None:
    # None of these senders signs a delivery id: two deliveries of one body are
    # the same delivery, whatever unsigned headers say.
    verifier = getattr(presets, name)(secret="k")
    assert verifier.replay_default == "content"
    assert verifier.id_field is None
    assert (verifier.replay_window is None) == (name not in TIMESTAMPED)


def test_zendesk_signs_the_timestamp_first() -> None:
    # Zendesk's earlier page gave the body first, and its example was signed
    # that way; the current page puts the timestamp first, as the preset does.
    (old,) = [v for v in VECTORS if v["id"] == "zendesk-earlier-doc-example"]
    stamp = old["headers"]["X-Zendesk-Webhook-Signature-Timestamp"].encode()
    body = old["body"].encode()
    key = old["secret"].encode()
    expected = old["headers"]["X-Zendesk-Webhook-Signature"]
    assert base64.b64encode(hmac.new(key, body + stamp, hashlib.sha256).digest()).decode() == (
        expected
    )
    signed = presets.zendesk(secret=key).sign(body, now=old["now"], timestamp=stamp.decode())
    assert (
        signed["X-Zendesk-Webhook-Signature"]
        == base64.b64encode(hmac.new(key, stamp + body, hashlib.sha256).digest()).decode()
    )


def test_zendesk_window_and_missing_timestamp() -> None:
    (vector,) = [v for v in VECTORS if v["id"] == "zendesk-self-generated"]
    verifier = presets.zendesk(secret=vector["secret"])
    with pytest.raises(VerificationError) as info:
        verifier.verify(request_for(vector), now=vector["now"] + 301)
    assert info.value.reason == "timestamp_too_old"
    assert presets.zendesk(secret=vector["secret"], tolerance=400).verify(
        request_for(vector), now=vector["now"] + 301
    )
    headers = {"X-Zendesk-Webhook-Signature": vector["headers"]["X-Zendesk-Webhook-Signature"]}
    with pytest.raises(VerificationError) as info:
        verifier.verify(request_for({**vector, "headers": headers}), now=vector["now"])
    assert info.value.reason == "missing_header"
    with pytest.raises(ConfigurationError, match=r"^presets\.zendesk\(tolerance=\.\.\.\)"):
        presets.zendesk(secret="k", tolerance=-1)


@pytest.mark.parametrize("name", sorted(GROUP))
def test_missing_and_bad_secrets_name_the_preset(name: str) -> None:
    with pytest.raises(ConfigurationError, match=rf"^presets\.{name} needs a secret"):
        getattr(presets, name)()
    with pytest.raises(ConfigurationError, match="secret is empty"):
        getattr(presets, name)(secret="")


def test_repr_never_shows_the_secret() -> None:
    for name in GROUP:
        assert "very-secret-value-42" not in repr(
            getattr(presets, name)(secret="very-secret-value-42")
        )


# -- the contract ------------------------------------------------------------------------


class TestPagerDuty(PresetContract):
    preset = "pagerduty"


class TestWooCommerce(PresetContract):
    preset = "woocommerce"


class TestLemonSqueezy(PresetContract):
    preset = "lemon_squeezy"


class TestCalCom(PresetContract):
    preset = "cal_com"


class TestIntuit(PresetContract):
    preset = "intuit"


class TestDocuSign(PresetContract):
    preset = "docusign"


class TestDocuSignSecondHeader(VerifierContract):
    def make(self, keys: list[Any]) -> Any:
        return presets.docusign(secrets=keys, header="X-DocuSign-Signature-2")


class TestLine(PresetContract):
    preset = "line"


class TestCheckr(PresetContract):
    preset = "checkr"


class TestZendesk(PresetContract):
    preset = "zendesk"
    signs_timestamp = True

    def signature_headers(self, verifier: Any) -> tuple[str, ...]:
        return ("X-Zendesk-Webhook-Signature", "X-Zendesk-Webhook-Signature-Timestamp")


def test_sign_request_round_trips_through_every_preset() -> None:
    for name in GROUP:
        verifier = getattr(presets, name)(secret="k")
        request = sign_request(verifier, b'{"x":1}', now=NOW, received_at=NOW)
        assert verifier.verify(request, now=NOW).scheme.startswith(name.replace("_", "-"))
