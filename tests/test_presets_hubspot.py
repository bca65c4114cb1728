"""presets.hubspot: v3 by default, v1/v2 only where pinned.

No HubSpot SDK is installed here: the scheme is cross-checked against the
official vectors in providers.json, the two further vectors of
HubSpot/hubspot-api-python ``tests/spec/utils/test_signature.py`` below, and
a reference written from HubSpot's "Validating requests" page.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webhookverify import ConfigurationError, VerificationError, WebhookRequest, presets
from webhookverify.presets._hubspot import HubSpotVerifier, hubspot_v3_uri
from webhookverify.testing import sign_request

from _vectors import providers
from contract import NOW, VerifierContract

SDK_SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
SDK_BODY = "{'example_field':'example_value'}"
SDK_URL = "https://www.example.com/webhook_uri"


def reference_v3(secret: str, method: str, uri: str, body: bytes, stamp: str) -> str:
    """HubSpot docs, v3: base64(HMAC-SHA256(secret, method + uri + body + timestamp))."""
    message = (method + uri).encode() + body + stamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


class TestHubSpotV3(VerifierContract):
    signs_timestamp = True
    tolerance = 300.0

    def make(self, keys: list[Any]) -> HubSpotVerifier:
        return presets.hubspot(secrets=keys)

    def signature_headers(self, verifier: Any) -> tuple[str, ...]:
        return ("X-HubSpot-Signature-v3", "X-HubSpot-Request-Timestamp")

    def test_method_and_url_are_signed(self) -> None:
        verifier = self.make([self.new_key(0)])
        request = self.signed(verifier)
        for changed in (request.replace(method="PUT"), request.replace(url=request.url + "&")):
            with pytest.raises(VerificationError):
                verifier.verify(changed, now=NOW)


class TestHubSpotV2(VerifierContract):
    def make(self, keys: list[Any]) -> HubSpotVerifier:
        return presets.hubspot(secrets=keys, versions=("v2",))

    def signature_headers(self, verifier: Any) -> tuple[str, ...]:
        return ("X-HubSpot-Signature", "X-HubSpot-Signature-Version")


class TestHubSpotV1(VerifierContract):
    def make(self, keys: list[Any]) -> HubSpotVerifier:
        return presets.hubspot(secrets=keys, versions=("v1",))


def test_sdk_test_vectors_v2_post_and_v3() -> None:
    # hubspot-api-python test_get_signature__v2 / __v3 (timestamp 15000000 ms)
    v2 = WebhookRequest(
        url=SDK_URL,
        headers={
            "X-HubSpot-Signature": (
                "4fe4e3a7d3cf09db53be39d0a58130e2aaba074ec123a9e355b876a689a1c383"
            ),
            "X-HubSpot-Signature-Version": "v2",
        },
        body=SDK_BODY.encode(),
    )
    assert presets.hubspot(secret=SDK_SECRET, versions=("v2",)).verify(v2).scheme == "hubspot-v2"
    v3 = WebhookRequest(
        url=SDK_URL,
        headers={
            "X-HubSpot-Signature-v3": "HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw=",
            "X-HubSpot-Request-Timestamp": "15000000",
        },
        body=SDK_BODY.encode(),
    )
    assert presets.hubspot(secret=SDK_SECRET).verify(v3, now=15_000.0).timestamp == 15_000.0
    with pytest.raises(VerificationError) as info:
        presets.hubspot(secret=SDK_SECRET).verify(v3, now=15_301.0)
    assert info.value.reason == "timestamp_too_old"


def test_default_accepts_v3_only() -> None:
    verifier = presets.hubspot(secret=SDK_SECRET)
    assert verifier.versions == frozenset({"v3"})
    for vector in providers("hubspot"):
        if "X-HubSpot-Signature-Version" in vector["headers"]:
            request = WebhookRequest(
                method=vector.get("method", "POST"),
                url=vector.get("url", ""),
                headers=vector["headers"],
                body=vector["body"].encode(),
            )
            with pytest.raises(VerificationError) as info:
                verifier.verify(request)
            assert info.value.reason == "missing_header"


def test_request_selects_only_within_the_pinned_set() -> None:
    (v1_vector, *_) = providers("hubspot")
    request = WebhookRequest(headers=v1_vector["headers"], body=v1_vector["body"].encode())
    presets.hubspot(secret=SDK_SECRET, versions=("v1",)).verify(request)
    with pytest.raises(VerificationError) as info:
        presets.hubspot(secret=SDK_SECRET, versions=("v2", "v3")).verify(request)
    assert info.value.reason == "unsupported_signature_version"
    # a v2 signature relabelled v1 does not pass as v1
    v2_sig = hashlib.sha256((SDK_SECRET + "POST" + SDK_URL).encode() + request.body).hexdigest()
    relabelled = request.replace(
        url=SDK_URL,
        headers={"X-HubSpot-Signature": v2_sig, "X-HubSpot-Signature-Version": "v1"},
    )
    with pytest.raises(VerificationError) as info:
        presets.hubspot(secret=SDK_SECRET, versions=("v1", "v2")).verify(relabelled)
    assert info.value.reason == "signature_mismatch"


def test_mixed_set_prefers_v3_without_fallback() -> None:
    verifier = presets.hubspot(secret=SDK_SECRET, versions=("v1", "v2", "v3"))
    request = sign_request(verifier, b'[{"eventId":1}]', now=NOW, url=SDK_URL)
    assert request.headers["X-HubSpot-Signature-Version"] == "v2"
    assert verifier.verify(request, now=NOW).scheme == "hubspot-v3"
    headers = dict(request.headers)
    del headers["X-HubSpot-Signature-v3"]
    assert verifier.verify(request.replace(headers=headers), now=NOW).scheme == "hubspot-v2"
    # a bad v3 is refused even though the v2 next to it is good
    headers = dict(request.headers)
    headers["X-HubSpot-Signature-v3"] = base64.b64encode(b"\0" * 32).decode()
    with pytest.raises(VerificationError) as info:
        verifier.verify(request.replace(headers=headers), now=NOW)
    assert info.value.reason == "signature_mismatch"
    # a stale v3 does not fall back either
    with pytest.raises(VerificationError) as info:
        verifier.verify(request, now=NOW + 301)
    assert info.value.reason == "timestamp_too_old"
    assert verifier.required_headers == ()
    assert verifier.replay_window is None


def test_v3_uri_decoding_rules() -> None:
    assert hubspot_v3_uri("https://h.test/a%3Ab%2fc?x=%40%21%24%27%28%29%2a%2C%3b%3F") == (
        "https://h.test/a:b/c?x=@!$'()*,;?"
    )
    # every other escape stays as sent, including the escaped percent sign
    assert hubspot_v3_uri("https://h.test/a%20b%25%3D%26%2B%253A") == (
        "https://h.test/a%20b%25%3D%26%2B%253A"
    )


@settings(max_examples=60, deadline=None)
@given(
    path=st.text(alphabet="ab/%3AaF2C0!", max_size=30),
    # HubSpot sends JSON, or nothing: any other body is refused (see check_json_after_url)
    body=st.binary(max_size=256).map(lambda raw: raw and b"{" + raw),
    age_ms=st.integers(min_value=-299_000, max_value=299_000),
)
def test_v3_matches_documented_algorithm(path: str, body: bytes, age_ms: int) -> None:
    url = "https://h.test/hook/" + path
    stamp = str(int(NOW * 1000) - age_ms)
    signature = reference_v3(SDK_SECRET, "POST", hubspot_v3_uri(url), body, stamp)
    request = WebhookRequest(
        url=url,
        headers={"X-HubSpot-Signature-v3": signature, "X-HubSpot-Request-Timestamp": stamp},
        body=body,
    )
    result = presets.hubspot(secret=SDK_SECRET).verify(request, now=NOW)
    assert result.timestamp == int(stamp) / 1000
    signed = presets.hubspot(secret=SDK_SECRET).sign(body, now=NOW, url=url, timestamp=stamp)
    assert signed["X-HubSpot-Signature-v3"] == signature


def test_timestamp_is_milliseconds() -> None:
    verifier = presets.hubspot(secret=SDK_SECRET)
    request = sign_request(verifier, b"[]", now=NOW)
    assert request.headers["X-HubSpot-Request-Timestamp"] == str(int(NOW * 1000))
    seconds = reference_v3(SDK_SECRET, "POST", request.url, b"[]", str(int(NOW)))
    headers = {"X-HubSpot-Signature-v3": seconds, "X-HubSpot-Request-Timestamp": str(int(NOW))}
    with pytest.raises(VerificationError) as info:
        verifier.verify(request.replace(headers=headers), now=NOW)
    assert info.value.reason == "timestamp_too_old"  # read as ms: January 1970


def test_legacy_signatures_are_lower_case_sha256_hex() -> None:
    verifier = presets.hubspot(secret=SDK_SECRET, versions=("v1",))
    body = b"[]"
    digest = hashlib.sha256(SDK_SECRET.encode() + body).hexdigest()
    for text, reason in (
        (digest.upper(), "malformed_signature"),
        (digest[:-2], "malformed_signature"),
        (hashlib.sha1(b"x").hexdigest(), "malformed_signature"),
    ):
        request = WebhookRequest(
            headers={"X-HubSpot-Signature": text, "X-HubSpot-Signature-Version": "v1"}, body=body
        )
        with pytest.raises(VerificationError) as info:
            verifier.verify(request)
        assert info.value.reason == reason


@pytest.mark.parametrize(
    ("versions", "match"),
    [((), "versions"), (("v4",), "unknown"), ("v3", "tuple"), (("V3",), "unknown"), (3, "tuple")],
)
def test_versions_checked_at_construction(versions: Any, match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        presets.hubspot(secret="k", versions=versions)


def test_required_headers_and_windows() -> None:
    assert presets.hubspot(secret="k").required_headers == (
        "X-HubSpot-Signature-v3",
        "X-HubSpot-Request-Timestamp",
    )
    assert presets.hubspot(secret="k", versions=("v1", "v2")).required_headers == (
        "X-HubSpot-Signature",
        "X-HubSpot-Signature-Version",
    )
    assert presets.hubspot(secret="k").replay_window == 600.0
    assert presets.hubspot(secret="k", versions=("v2",)).replay_window is None


def test_legacy_content_digest_never_covers_the_secret() -> None:
    verifier = presets.hubspot(secret=SDK_SECRET, versions=("v2",))
    request = sign_request(verifier, b"[]", now=NOW, url=SDK_URL)
    result = verifier.verify(request, now=NOW)
    assert all(SDK_SECRET.encode() not in part for part in result.signed)
    with pytest.raises(AttributeError):
        verifier.versions = frozenset()
