"""The rest of the field's presets: every vector, and the verifier contract.

Box, Mailgun, Linear, Netlify, Mollie and Mandrill have more moving parts and
their own file (test_presets_more_schemes.py); the providers' SDKs are used as
oracles in test_presets_more_oracles.py.
"""

from __future__ import annotations

import base64
import hmac
import json
from typing import Any, ClassVar

import pytest

from webhookverify import (
    ConfigurationError,
    InvalidRequest,
    MalformedBody,
    VerificationError,
    WebhookRequest,
    presets,
)
from webhookverify.testing import sign_request

from _vectors import providers
from contract import NOW, URL, VerifierContract

# provider name in providers.json -> (preset function, number of vectors)
PROVIDERS: dict[str, tuple[str, int]] = {
    "typeform": ("typeform", 1),
    "zoom": ("zoom", 2),
    "mailgun": ("mailgun", 1),
    "paddle": ("paddle", 3),
    "linear": ("linear", 1),
    "meta": ("meta", 1),
    "intercom": ("intercom", 1),
    "bitbucket": ("bitbucket", 1),
    "atlassian-jira": ("jira", 1),
    "mandrill": ("mandrill", 1),
    "okta": ("okta", 1),
    "calendly": ("calendly", 1),
    "vercel": ("vercel", 1),
    "coinbase-commerce": ("coinbase_commerce", 1),
    "dropbox": ("dropbox", 1),
    "box": ("box", 6),
    "mollie": ("mollie", 1),
    "razorpay": ("razorpay", 1),
    "trello": ("trello", 1),
    "sentry": ("sentry", 1),
    "circleci": ("circleci", 1),
    "netlify": ("netlify", 2),
}
VECTORS = [v for provider in PROVIDERS for v in providers(provider)]
SIGNATURE_VECTORS = [v for v in VECTORS if v["scheme"] != "zoom_url_validation"]


def preset_for(vector: dict[str, Any]) -> Any:
    """The preset for a vector's sender, built from the vector's data only."""
    name = PROVIDERS[vector["provider"]][0]
    keys: dict[str, Any] = (
        {"secrets": vector["secrets"]} if "secrets" in vector else {"secret": vector["secret"]}
    )
    if name == "box":
        return presets.box(secondary_secret=vector.get("secondary_secret"), **keys)
    if name == "trello":
        return presets.trello(callback_url=vector["url"], **keys)
    if name == "mandrill":
        return presets.mandrill(url=vector["url"], **keys)
    if name == "okta":
        return presets.okta(header=vector["scheme_params"]["header"], **keys)
    return getattr(presets, name)(**keys)


def request_for(vector: dict[str, Any]) -> WebhookRequest:
    return WebhookRequest(
        method=vector.get("method", "POST"),
        url=vector.get("url", ""),
        headers=vector["headers"],
        body=vector["body"].encode("utf-8"),
        received_at=vector.get("now", NOW),
    )


def test_every_provider_has_its_vectors() -> None:
    for provider, (_, count) in PROVIDERS.items():
        assert len(providers(provider)) == count, provider
    assert len(VECTORS) == sum(count for _, count in PROVIDERS.values()) == 31


@pytest.mark.parametrize("vector", SIGNATURE_VECTORS, ids=lambda v: v["id"])
def test_vector(vector: dict[str, Any]) -> None:
    verifier = preset_for(vector)
    request = request_for(vector)
    if vector["expected"] == "valid":
        result = verifier.verify(request, now=vector.get("now"))
        assert result.key_id is not None
        if "now" in vector:
            assert result.timestamp is not None
            assert abs(result.timestamp - vector["now"]) <= 600
    else:
        with pytest.raises(VerificationError):
            verifier.verify(request, now=vector.get("now"))


@pytest.mark.parametrize(
    "vector", [v for v in SIGNATURE_VECTORS if v["expected"] == "valid"], ids=lambda v: v["id"]
)
def test_vector_with_another_key_is_refused(vector: dict[str, Any]) -> None:
    data = {k: v for k, v in vector.items() if k not in ("secret", "secrets", "secondary_secret")}
    verifier = preset_for({**data, "secret": "not-the-key"})
    with pytest.raises(VerificationError) as info:
        verifier.verify(request_for(vector), now=vector.get("now"))
    assert info.value.reason == "signature_mismatch"


@pytest.mark.parametrize(
    "vector", [v for v in SIGNATURE_VECTORS if v["expected"] == "valid"], ids=lambda v: v["id"]
)
def test_vector_with_one_more_body_byte_is_refused(vector: dict[str, Any]) -> None:
    if vector["provider"] in ("okta", "mailgun"):
        pytest.skip("the body is not signed by this provider (see the preset's docstring)")
    request = request_for(vector)
    with pytest.raises(VerificationError):
        preset_for(vector).verify(request.replace(body=request.body + b" "), now=vector.get("now"))


# -- Zoom's endpoint validation ---------------------------------------------------------


def test_zoom_url_validation_vector() -> None:
    (vector,) = [v for v in VECTORS if v["scheme"] == "zoom_url_validation"]
    token = json.loads(vector["body"])["payload"]["plainToken"]
    answer = presets.zoom_url_validation(token, secret=vector["secret"])
    assert answer == vector["expected_response"]


def test_zoom_url_validation_is_the_hmac_of_the_token_with_the_secret() -> None:
    answer = presets.zoom_url_validation("abc_DEF-123", secret=b"k")
    assert answer["plainToken"] == "abc_DEF-123"
    assert answer["encryptedToken"] == hmac.new(b"k", b"abc_DEF-123", "sha256").hexdigest()
    other = presets.zoom_url_validation("abc_DEF-123", secret="another")
    assert other["encryptedToken"] != answer["encryptedToken"]


@pytest.mark.parametrize("token", ["", "a\nb", "é", "x" * 1025, None, 5])
def test_zoom_url_validation_refuses_odd_tokens(token: Any) -> None:
    with pytest.raises(MalformedBody):
        presets.zoom_url_validation(token, secret="k")


def test_zoom_url_validation_needs_a_secret() -> None:
    with pytest.raises(ConfigurationError):
        presets.zoom_url_validation("abc", secret="")


# -- Dropbox's and Okta's handshakes ----------------------------------------------------


def test_dropbox_challenge_echoes_as_plain_text() -> None:
    body, headers = presets.dropbox_challenge("q8Fh2Z-xY_01")
    assert body == b"q8Fh2Z-xY_01"
    assert headers["Content-Type"].startswith("text/plain")
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_okta_verification_answer() -> None:
    assert presets.okta_verification("Yp1u1A2f") == {"verification": "Yp1u1A2f"}


@pytest.mark.parametrize("challenge", ["", "<script>\n", "\x00", "ü", "c" * 1025, None])
def test_handshakes_refuse_odd_challenges(challenge: Any) -> None:
    with pytest.raises(InvalidRequest):
        presets.dropbox_challenge(challenge)
    with pytest.raises(InvalidRequest):
        presets.okta_verification(challenge)


# -- configuration ------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted({name for name, _ in PROVIDERS.values()}))
def test_every_preset_refuses_a_missing_secret(name: str) -> None:
    function = getattr(presets, name)
    extra: dict[str, Any] = {"callback_url": URL} if name == "trello" else {}
    with pytest.raises(ConfigurationError, match="secret"):
        function(**extra)
    with pytest.raises(ConfigurationError):
        function(secret="", **extra)


@pytest.mark.parametrize("url", ["", "/relative", "ftp://x.test/", "https://", 5])
def test_trello_and_mandrill_need_an_absolute_url(url: Any) -> None:
    with pytest.raises(ConfigurationError, match="url"):
        presets.trello(secret="k", callback_url=url)
    if url != "":
        with pytest.raises(ConfigurationError, match="url"):
            presets.mandrill(secret="k", url=url)


@pytest.mark.parametrize("name", ["zoom", "paddle", "calendly", "box", "linear", "mailgun"])
def test_timestamped_presets_refuse_a_negative_tolerance(name: str) -> None:
    with pytest.raises(ConfigurationError, match="tolerance"):
        getattr(presets, name)(secret="k", tolerance=-1)


def test_documented_windows() -> None:
    assert presets.paddle(secret="k").tolerance == presets.paddle(secret="k").future_tolerance == 5
    assert presets.calendly(secret="k").tolerance == 180
    assert presets.calendly(secret="k").future_tolerance == 300
    assert (presets.box(secret="k").tolerance, presets.box(secret="k").future_tolerance) == (
        600,
        300,
    )
    assert presets.linear(secret="k").tolerance == presets.linear(secret="k").future_tolerance == 60
    assert presets.zoom(secret="k").tolerance == 300
    assert presets.mailgun(secret="k").tolerance == 900


def test_sha1_only_where_the_provider_requires_it() -> None:
    sha1 = {"intercom", "vercel", "trello", "mandrill"}
    for name in PROVIDERS.values():
        if name[0] in ("box", "linear", "mailgun", "mollie", "netlify", "okta"):
            continue
        extra: dict[str, Any] = {"callback_url": URL} if name[0] == "trello" else {}
        verifier = getattr(presets, name[0])(secret="k", **extra)
        assert (verifier.algorithm == "sha1") == (name[0] in sha1), name


def test_presets_are_exported_from_the_package() -> None:
    for name, _ in PROVIDERS.values():
        assert name in presets.PRESETS and name in presets.__all__
    for name in ("dropbox_challenge", "okta_verification", "zoom_url_validation"):
        assert callable(getattr(presets, name)) and name in presets.__all__


def test_repr_never_shows_the_secret() -> None:
    for name, _ in PROVIDERS.values():
        extra: dict[str, Any] = {"callback_url": URL} if name == "trello" else {}
        text = repr(getattr(presets, name)(secret="very-secret-value-42", **extra))
        assert "very-secret-value-42" not in text


# -- the contract ------------------------------------------------------------------------


class _Body(VerifierContract):
    preset: ClassVar[str]

    def make(self, keys: list[Any]) -> Any:
        return getattr(presets, self.preset)(secrets=keys)


class TestTypeform(_Body):
    preset = "typeform"


class TestMeta(_Body):
    preset = "meta"


class TestIntercom(_Body):
    preset = "intercom"


class TestBitbucket(_Body):
    preset = "bitbucket"


class TestJira(_Body):
    preset = "jira"


class TestVercel(_Body):
    preset = "vercel"


class TestCoinbaseCommerce(_Body):
    preset = "coinbase_commerce"


class TestDropbox(_Body):
    preset = "dropbox"


class TestRazorpay(_Body):
    preset = "razorpay"


class TestSentry(_Body):
    preset = "sentry"


class TestCircleCI(_Body):
    preset = "circleci"


class TestMollie(_Body):
    preset = "mollie"


class TestZoom(VerifierContract):
    signs_timestamp = True

    def make(self, keys: list[Any]) -> Any:
        return presets.zoom(secrets=keys)

    def signature_headers(self, verifier: Any) -> tuple[str, ...]:
        return ("x-zm-signature", "x-zm-request-timestamp")


class TestPaddle(VerifierContract):
    signs_timestamp = True
    tolerance = 5.0

    def make(self, keys: list[Any]) -> Any:
        return presets.paddle(secrets=keys)


class TestCalendly(VerifierContract):
    signs_timestamp = True
    tolerance = 180.0
    future_tolerance = 300.0

    def make(self, keys: list[Any]) -> Any:
        return presets.calendly(secrets=keys)


class TestTrello(VerifierContract):
    def make(self, keys: list[Any]) -> Any:
        return presets.trello(secrets=keys, callback_url=URL)

    def test_callback_url_is_signed(self) -> None:
        signer = presets.trello(secret="k", callback_url=URL)
        request = sign_request(signer, b'{"action":{}}', now=NOW)
        presets.trello(secret="k", callback_url=URL).verify(request)
        with pytest.raises(VerificationError):
            presets.trello(secret="k", callback_url=URL + "&x=1").verify(request)

    def test_braces_in_the_callback_url_are_literal(self) -> None:
        url = "https://hooks.example.test/t?q={board}"
        verifier = presets.trello(secret="k", callback_url=url)
        request = sign_request(verifier, b"{}", now=NOW)
        expected = hmac.new(b"k", b"{}" + url.encode(), "sha1").digest()
        assert request.headers["X-Trello-Webhook"] == base64.b64encode(expected).decode()


class TestOkta(VerifierContract):
    """A static token signs nothing: the body tests become "the token alone decides"."""

    def make(self, keys: list[Any]) -> Any:
        return presets.okta(secrets=keys)

    @pytest.mark.parametrize("where", ["anything", ""])
    def test_altered_body_rejected(self, where: str) -> None:
        verifier = self.make([self.new_key(0)])
        # the documented limit of a token: any body passes with it
        verifier.verify(self.signed(verifier).replace(body=where.encode()), now=NOW)
        assert verifier.replay_default == "off"

    def test_property_round_trip_and_any_flip(self) -> None:  # type: ignore[override]
        verifier = self.make([self.new_key(0)])
        assert verifier.verify(self.signed(verifier, body=b"\x00\xff"), now=NOW).key_id == "k0"

    def test_garbage_body_gives_only_verification_errors(self) -> None:
        verifier = self.make([self.new_key(0)])
        verifier.verify(self.signed(verifier).replace(body=b"\xff"), now=NOW)

    def test_custom_header(self) -> None:
        verifier = presets.okta(secret="s3cr3t-value", header="X-Okta-Auth")
        assert verifier.required_headers == ("X-Okta-Auth",)
        verifier.verify(WebhookRequest(headers={"X-Okta-Auth": "s3cr3t-value"}))
        with pytest.raises(VerificationError):
            verifier.verify(WebhookRequest(headers={"Authorization": "s3cr3t-value"}))


# -- things the simple presets must get exactly right -------------------------------------


def mac(key: bytes, message: bytes, algorithm: str = "sha256") -> bytes:
    return hmac.new(key, message, algorithm).digest()


def test_typeform_is_base64_behind_a_sha256_prefix() -> None:
    body = b'{"event_id":"x"}'
    digest = mac(b"k", body)
    verifier = presets.typeform(secret="k")
    verifier.verify(
        WebhookRequest(
            headers={"Typeform-Signature": "sha256=" + base64.b64encode(digest).decode()},
            body=body,
        )
    )
    with pytest.raises(VerificationError):
        verifier.verify(
            WebhookRequest(headers={"Typeform-Signature": "sha256=" + digest.hex()}, body=body)
        )


def test_zoom_signs_v0_timestamp_body() -> None:
    body = b'{"event":"meeting.started"}'
    digest = mac(b"k", b"v0:1700000000:" + body).hex()
    request = WebhookRequest(
        headers={"x-zm-signature": "v0=" + digest, "x-zm-request-timestamp": "1700000000"},
        body=body,
    )
    assert presets.zoom(secret="k").verify(request, now=NOW).timestamp == NOW
    with pytest.raises(VerificationError) as info:
        presets.zoom(secret="k").verify(
            request.replace(headers={**request.headers, "x-zm-signature": "v0=" + digest.upper()}),
            now=NOW,
        )
    assert info.value.reason == "malformed_signature"


def test_paddle_ignores_unknown_entries_and_reads_every_h1() -> None:
    body = b"{}"
    good = mac(b"pdl_ntfset_k", b"1700000000:" + body).hex()
    verifier = presets.paddle(secret="pdl_ntfset_k")
    for header in (
        f"ts=1700000000;h1={good}",
        f"ts=1700000000;h1={'0' * 64};h1={good}",
        f"ts=1700000000;h2=future;h1={good}",
    ):
        verifier.verify(WebhookRequest(headers={"Paddle-Signature": header}, body=body), now=NOW)
    for header, reason in (
        (f"h1={good}", "missing_header"),
        (f"ts=1700000000;ts=1700000000;h1={good}", "malformed_header"),
        ("ts=1700000000;h1=zz", "malformed_signature"),
    ):
        with pytest.raises(VerificationError) as info:
            verifier.verify(
                WebhookRequest(headers={"Paddle-Signature": header}, body=body), now=NOW
            )
        assert info.value.reason == reason


def test_circleci_reads_v1_among_other_versions() -> None:
    body = b"{}"
    good = mac(b"k", body).hex()
    verifier = presets.circleci(secret="k")
    for header in (f"v1={good}", f"v2=abc,v1={good}", f"v1={'0' * 64}, v1={good}"):
        verifier.verify(WebhookRequest(headers={"circleci-signature": header}, body=body))
    with pytest.raises(VerificationError) as info:
        verifier.verify(WebhookRequest(headers={"circleci-signature": "v2=abc"}, body=body))
    assert info.value.reason == "unsupported_signature_version"


def test_intercom_and_vercel_sign_with_sha1() -> None:
    body = b'{"topic":"ping"}'
    sha1 = mac(b"k", body, "sha1").hex()
    presets.intercom(secret="k").verify(
        WebhookRequest(headers={"X-Hub-Signature": "sha1=" + sha1}, body=body)
    )
    presets.vercel(secret="k").verify(
        WebhookRequest(headers={"x-vercel-signature": sha1}, body=body)
    )
    sha256 = mac(b"k", body).hex()
    with pytest.raises(VerificationError):
        presets.intercom(secret="k").verify(
            WebhookRequest(headers={"X-Hub-Signature": "sha256=" + sha256}, body=body)
        )


def test_sentry_verifies_bytes_that_json_stringify_would_not_reproduce() -> None:
    # Sentry's docs hash JSON.stringify(parsed body); the raw text is what it signs.
    body = b'{ "action": "created", "data": {"title": "caf\\u00e9"} }'
    signature = mac(b"k", body).hex()
    request = WebhookRequest(
        headers={"Sentry-Hook-Signature": signature, "Sentry-Hook-Timestamp": "1"}, body=body
    )
    verification = presets.sentry(secret="k").verify(request, now=NOW)
    assert verification.timestamp is None  # the timestamp header is not signed
    reserialised = json.dumps(json.loads(body), separators=(",", ":")).encode()
    with pytest.raises(VerificationError):
        presets.sentry(secret="k").verify(request.replace(body=reserialised), now=NOW)


def test_dropbox_and_razorpay_are_hex_of_the_body() -> None:
    body = b'{"list_folder":{}}'
    presets.dropbox(secret="app").verify(
        WebhookRequest(headers={"X-Dropbox-Signature": mac(b"app", body).hex()}, body=body)
    )
    presets.razorpay(secret="wh").verify(
        WebhookRequest(headers={"X-Razorpay-Signature": mac(b"wh", body).hex()}, body=body)
    )


def test_content_replay_default_and_no_delivery_id() -> None:
    for name in ("meta", "bitbucket", "sentry", "razorpay"):
        verifier = getattr(presets, name)(secret="k")
        assert verifier.replay_default == "content"
        request = sign_request(verifier, b"{}", now=NOW)
        verification = verifier.verify(request)
        assert verification.delivery_id is None
        assert verification.content_digest() == verifier.verify(request).content_digest()
        other = sign_request(verifier, b"[]", now=NOW)
        assert verifier.verify(other).content_digest() != verification.content_digest()
