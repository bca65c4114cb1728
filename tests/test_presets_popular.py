"""The popular presets against their providers' vectors, and the verifier contract.

Stripe, Slack, Twilio and HubSpot have their own files (SDK oracles and the
schemes with more moving parts); every vector of every provider here goes
through its preset in this file.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import inspect
from typing import Any, Literal

import pytest

from webhookverify import (
    ConfigurationError,
    Handler,
    HandlerRegistry,
    HmacVerifier,
    Secret,
    TokenVerifier,
    VerificationError,
    Verifier,
    WebhookRequest,
    presets,
)
from webhookverify.testing import sign_request

from _vectors import providers
from contract import NOW, URL, VerifierContract

POPULAR = (
    "github",
    "gitlab",
    "tiki",
    "stripe",
    "slack",
    "shopify",
    "twitch",
    "square",
    "hubspot",
    "twilio",
)

# How many vectors each provider has in tests/vectors/providers/providers.json
# for the schemes these presets implement: a vector lost from the file (or a
# scheme renamed) fails here instead of silently testing less.
EXPECTED_COUNTS = {
    "github": 7,
    "gitlab": 2,
    "tiki": 2,
    "stripe": 3,
    "slack": 3,
    "shopify": 2,
    "twitch": 1,
    "square": 3,
    "hubspot": 5,
    "twilio": 9,
}


def preset_for(vector: dict[str, Any]) -> Any:
    """Build the preset a vector's sender corresponds to, from the vector's data only."""
    provider = vector["provider"]
    params = vector["scheme_params"]
    keys = vector.get("secrets") or [vector["secret"]]
    if provider == "github":
        return presets.github(secrets=keys, legacy_sha1=params["header"] == "X-Hub-Signature")
    if provider == "tiki":
        verification: Literal["hmac", "base64 hmac"] = (
            "hmac" if params["encoding"] == "hex" else "base64 hmac"
        )
        return presets.tiki(
            secrets=keys,
            verification=verification,
            algorithm=params["algorithm"],
            header=params["header"],
        )
    if provider == "hubspot":
        # the vectors cover all three versions; the request selects among them
        return presets.hubspot(secrets=keys, versions=("v1", "v2", "v3"))
    factory = getattr(presets, provider)
    return factory(secrets=keys)


def request_for(vector: dict[str, Any]) -> WebhookRequest:
    return WebhookRequest(
        method=vector.get("method", "POST"),
        url=vector.get("url", ""),
        headers=vector["headers"],
        body=vector["body"].encode("utf-8"),
        received_at=vector.get("now", NOW),
    )


def _ours(vector: dict[str, Any]) -> bool:
    # GitLab's signing token is Standard Webhooks: presets.gitlab_signing's vectors
    return not (vector["provider"] == "gitlab" and vector["scheme"] != "static_token")


VECTORS = [v for name in POPULAR for v in providers(name) if _ours(v)]


def test_every_provider_has_its_vectors() -> None:
    found = {name: sum(1 for v in VECTORS if v["provider"] == name) for name in POPULAR}
    assert found == EXPECTED_COUNTS
    assert any(v["expected"] == "invalid" for v in VECTORS)


@pytest.mark.parametrize("vector", VECTORS, ids=[v["id"] for v in VECTORS])
def test_vector(vector: dict[str, Any]) -> None:
    verifier = preset_for(vector)
    request = request_for(vector)
    now = vector.get("now")
    if vector["expected"] == "valid":
        result = verifier.verify(request, now=now)
        assert result.key_id == "secret[0]"
        if "now" in vector:
            assert result.timestamp is not None
            assert abs(result.timestamp - vector["now"]) <= 300
    else:
        with pytest.raises(VerificationError):
            verifier.verify(request, now=now)


# -- GitHub ------------------------------------------------------------------------


class TestGitHub(VerifierContract):
    def make(self, keys: list[Any]) -> HmacVerifier:
        return presets.github(secrets=keys)


class TestGitHubLegacySha1(VerifierContract):
    def make(self, keys: list[Any]) -> HmacVerifier:
        return presets.github(secrets=keys, legacy_sha1=True)


def test_github_sha1_only_by_name() -> None:
    body = b"Hello, World!"
    sha1 = hmac.new(b"s", body, "sha1").hexdigest()
    request = WebhookRequest(headers={"X-Hub-Signature": f"sha1={sha1}"}, body=body)
    with pytest.raises(VerificationError) as info:
        presets.github(secret="s").verify(request)
    assert info.value.reason == "missing_header"
    assert presets.github(secret="s", legacy_sha1=True).verify(request).scheme == "github-hmac-sha1"
    # the SHA-1 digest in the SHA-256 header is the wrong size, whatever the prefix
    swapped = WebhookRequest(headers={"X-Hub-Signature-256": f"sha256={sha1}"}, body=body)
    with pytest.raises(VerificationError) as info:
        presets.github(secret="s").verify(swapped)
    assert info.value.reason == "malformed_signature"


def test_github_replays_keyed_on_content() -> None:
    verifier = presets.github(secret="s")
    request = sign_request(verifier, b"{}", headers={"X-GitHub-Delivery": "d-1"})
    result = verifier.verify(request)
    assert verifier.replay_default == "content"
    assert result.delivery_id is None  # X-GitHub-Delivery is not signed


# -- GitLab ------------------------------------------------------------------------


class TestGitLab(VerifierContract):
    """A token signs nothing: the body tests become "the token alone decides"."""

    def make(self, keys: list[Any]) -> TokenVerifier:
        return presets.gitlab(secrets=keys)

    def test_altered_body_rejected(self) -> None:  # type: ignore[override]
        verifier = self.make([self.new_key(0)])
        # the documented limit of a token: it does not cover the body
        verifier.verify(self.signed(verifier).replace(body=b"anything"), now=NOW)
        assert verifier.replay_default == "off"

    def test_property_round_trip_and_any_flip(self) -> None:
        verifier = self.make([self.new_key(0)])
        assert verifier.verify(self.signed(verifier, body=b"\x00\xff"), now=NOW).key_id == "k0"

    def test_garbage_body_gives_only_verification_errors(self) -> None:
        verifier = self.make([self.new_key(0)])
        verifier.verify(self.signed(verifier).replace(body=b"\xff"), now=NOW)


def test_gitlab_points_to_signing_and_refuses_a_signed_only_delivery() -> None:
    doc = inspect.getdoc(presets.gitlab) or ""
    assert "gitlab_signing" in doc and "proves less than a signature" in doc
    (signed_only,) = [v for v in providers("gitlab") if v["scheme"] == "standard_webhooks"]
    with pytest.raises(VerificationError) as info:
        presets.gitlab(secret=signed_only["secret"]).verify(request_for(signed_only))
    assert info.value.reason == "missing_header"


# -- Tiki --------------------------------------------------------------------------


class TestTikiBase64(VerifierContract):
    def make(self, keys: list[Any]) -> HmacVerifier:
        return presets.tiki(secrets=keys)


class TestTikiHexSha512CustomHeader(VerifierContract):
    def make(self, keys: list[Any]) -> HmacVerifier:
        return presets.tiki(
            secrets=keys, verification="hmac", algorithm="sha512", header="X-Caller-Sig"
        )


def test_tiki_matches_php_hash_hmac_output() -> None:
    body = b'{"event":"example"}'
    raw = hmac.new(b"tiki_webhook_secret", body, "sha256").digest()
    hex_request = WebhookRequest(headers={"Webhook-Signature": raw.hex()}, body=body)
    b64_request = WebhookRequest(
        headers={"Webhook-Signature": base64.b64encode(raw).decode()}, body=body
    )
    presets.tiki(secret="tiki_webhook_secret", verification="hmac").verify(hex_request)
    presets.tiki(secret="tiki_webhook_secret").verify(b64_request)
    # each verification type reads only its own encoding, as Tiki's handler does
    with pytest.raises(VerificationError):
        presets.tiki(secret="tiki_webhook_secret").verify(hex_request)
    with pytest.raises(VerificationError):
        presets.tiki(secret="tiki_webhook_secret", verification="hmac").verify(b64_request)
    # PHP's hash_hmac is lower-case and Tiki compares with !==
    upper = WebhookRequest(headers={"Webhook-Signature": raw.hex().upper()}, body=body)
    with pytest.raises(VerificationError):
        presets.tiki(secret="tiki_webhook_secret", verification="hmac").verify(upper)
    # header names are case-insensitive in HTTP, unlike Tiki's getallheaders() lookup
    lower_name = WebhookRequest(headers={"webhook-signature": raw.hex()}, body=body)
    presets.tiki(secret="tiki_webhook_secret", verification="hmac").verify(lower_name)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"verification": "sha256"}, "verification"),
        ({"verification": "HMAC"}, "verification"),
        ({"algorithm": "md5"}, "algorithm"),
        ({"header": ""}, "header"),
        ({"secret": ""}, "empty"),
    ],
)
def test_tiki_configuration_errors(options: dict[str, Any], match: str) -> None:
    kwargs: dict[str, Any] = {"secret": "k", **options}
    with pytest.raises(ConfigurationError, match=match):
        presets.tiki(**kwargs)


# -- Shopify -----------------------------------------------------------------------


class TestShopify(VerifierContract):
    def make(self, keys: list[Any]) -> HmacVerifier:
        return presets.shopify(secrets=keys)


def test_shopify_events_header() -> None:
    verifier = presets.shopify(secret="shpss_x", header="Shopify-Hmac-Sha256")
    body = b'{"id":1}'
    digest = base64.b64encode(hmac.new(b"shpss_x", body, "sha256").digest()).decode()
    verifier.verify(WebhookRequest(headers={"shopify-hmac-sha256": digest}, body=body))
    assert verifier.required_headers == ("Shopify-Hmac-Sha256",)


# -- Twitch ------------------------------------------------------------------------


class TestTwitch(VerifierContract):
    signs_timestamp = True
    tolerance = 600.0
    future_tolerance = 300.0

    def make(self, keys: list[Any]) -> HmacVerifier:
        return presets.twitch(secrets=keys)

    def signature_headers(self, verifier: Any) -> tuple[str, ...]:
        return verifier.required_headers  # type: ignore[no-any-return]


def test_twitch_message_id_is_the_delivery_id() -> None:
    (vector,) = providers("twitch")
    verifier = presets.twitch(secret=vector["secret"])
    result = verifier.verify(request_for(vector), now=vector["now"])
    assert result.delivery_id == vector["headers"]["Twitch-Eventsub-Message-Id"]
    assert verifier.replay_default == "id"
    # nanosecond timestamps keep their fraction
    assert result.timestamp == pytest.approx(1573899072.634234626)


def test_twitch_windows() -> None:
    verifier = presets.twitch(secret="keepItSecretKeepItSafe")
    assert (verifier.tolerance, verifier.future_tolerance) == (600.0, 300.0)
    assert verifier.replay_window == 900.0
    verifier.verify(sign_request(verifier, now=NOW - 590), now=NOW)
    with pytest.raises(VerificationError) as info:
        verifier.verify(sign_request(verifier, now=NOW + 310), now=NOW)
    assert info.value.reason == "timestamp_in_future"


# -- Square ------------------------------------------------------------------------


class TestSquareRequestUrl(VerifierContract):
    def make(self, keys: list[Any]) -> HmacVerifier:
        return presets.square(secrets=keys)

    def test_url_is_signed(self) -> None:
        verifier = self.make([self.new_key(0)])
        request = self.signed(verifier)
        with pytest.raises(VerificationError):
            verifier.verify(request.replace(url=URL.replace("contract", "other")), now=NOW)


class TestSquareNotificationUrl(VerifierContract):
    notification_url = "https://public.example.test/square/hooks"

    def make(self, keys: list[Any]) -> HmacVerifier:
        return presets.square(secrets=keys, notification_url=self.notification_url)

    def test_configured_url_wins_over_request_url(self) -> None:
        verifier = self.make([self.new_key(0)])
        request = self.signed(verifier).replace(url="http://10.0.0.7:8080/internal")
        assert verifier.verify(request, now=NOW).key_id == "k0"
        other = presets.square(secrets=[self.new_key(0)], notification_url=URL)
        with pytest.raises(VerificationError):
            other.verify(request, now=NOW)


def test_square_matches_sdk_helper_algorithm() -> None:
    (vector, *_) = providers("square")
    key, url, body = vector["secret"], vector["url"], vector["body"]
    # square-python-sdk webhooks_helper: base64(HMAC-SHA256(key, url + body))
    expected = base64.b64encode(
        hmac.new(key.encode(), (url + body).encode(), hashlib.sha256).digest()
    ).decode()
    verifier = presets.square(secret=key, notification_url=url)
    assert verifier.sign(body.encode())["x-square-hmacsha256-signature"] == expected
    with pytest.raises(VerificationError) as info:
        verifier.verify(WebhookRequest(headers={"x-square-hmacsha256-signature": expected}))
    assert info.value.reason == "malformed_body"  # Square never sends an empty body


@pytest.mark.parametrize(
    "url", ["", "/relative/path", "ftp://example.test/x", "https://", "https://h:port/", 5]
)
def test_square_notification_url_checked_at_construction(url: Any) -> None:
    with pytest.raises(ConfigurationError, match="notification_url"):
        presets.square(secret="k", notification_url=url)


# -- all presets -------------------------------------------------------------------


def test_every_popular_preset_is_exported_and_documented() -> None:
    assert set(POPULAR) <= set(presets.PRESETS) & set(presets.__all__)
    for name in POPULAR:
        factory = getattr(presets, name)
        doc = inspect.getdoc(factory) or ""
        assert "Secret:" in doc and "Signed" in doc and "Source:" in doc, name
        signature = inspect.signature(factory)
        assert all(p.kind is p.KEYWORD_ONLY for p in signature.parameters.values()), name
        assert {"secret", "secrets"} <= set(signature.parameters), name


@pytest.mark.parametrize("name", POPULAR)
def test_no_secret_or_both_refused(name: str) -> None:
    factory = getattr(presets, name)
    with pytest.raises(ConfigurationError):
        factory()
    with pytest.raises(ConfigurationError):
        factory(secret="a", secrets=["b"])
    with pytest.raises(ConfigurationError):
        factory(secret="")


@pytest.mark.parametrize("name", ["stripe", "slack", "twitch", "hubspot"])
def test_tolerances_checked_at_construction(name: str) -> None:
    factory = getattr(presets, name)
    for bad in (-1, float("nan"), "300"):
        # the message names the preset's own setting, not the verifier underneath
        with pytest.raises(ConfigurationError, match=rf"presets\.{name}\(tolerance="):
            factory(secret="k", tolerance=bad)
        with pytest.raises(ConfigurationError, match=rf"presets\.{name}\(future_tolerance="):
            factory(secret="k", future_tolerance=bad)


@pytest.mark.parametrize("name", POPULAR)
def test_errors_and_repr_never_carry_the_secret(name: str) -> None:
    secret = "very-secret-value-0123456789"
    verifier = getattr(presets, name)(secret=Secret(secret))
    # Square and HubSpot send JSON, and refuse any other body after a request URL
    body = b'{"a":1}' if name in ("square", "hubspot") else b"a=1&b=2"
    request = sign_request(
        getattr(presets, name)(secret="another-secret-000000000"), body, now=NOW, url=URL
    )
    with pytest.raises(VerificationError) as info:
        verifier.verify(request, now=NOW)
    text = str(info.value) + repr(info.value) + repr(verifier) + str(verifier)
    assert secret not in text
    signed = sign_request(verifier, body, now=NOW, url=URL)
    for header in verifier.required_headers:
        assert signed.headers[header] not in text


def test_all_popular_presets_in_one_registry_route_each_sender() -> None:
    # One handler per preset, each with its own key: every signed request is
    # matched by its own handler and no other, the way a real endpoint serves them.
    verifiers: dict[str, Verifier] = {
        "github": presets.github(secret="k-github"),
        "gitlab": presets.gitlab(secret="k-gitlab"),
        "tiki": presets.tiki(secret="k-tiki"),
        "stripe": presets.stripe(secret="whsec_k-stripe"),
        "slack": presets.slack(secret="k-slack"),
        "shopify": presets.shopify(secret="k-shopify"),
        "twitch": presets.twitch(secret="k-twitch-0123"),
        "square": presets.square(secret="k-square", notification_url=URL),
        "hubspot": presets.hubspot(secret="k-hubspot", versions=("v1", "v2", "v3")),
        "twilio": presets.twilio(secret="k-twilio"),
    }
    registry = HandlerRegistry([Handler(name, v) for name, v in verifiers.items()], strict=True)
    for name, verifier in verifiers.items():
        body = b"[]" if name == "hubspot" else b"a=1&b=2"  # HubSpot sends JSON only
        request = sign_request(verifier, body, now=NOW, url=URL)
        match = registry.verify(request, now=NOW)
        assert match.handler.name == name
