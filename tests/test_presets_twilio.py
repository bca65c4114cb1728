"""presets.twilio: contracts for the form, JSON and SharedKey variants, and
twilio-python's RequestValidator as an oracle in both directions."""

from __future__ import annotations

import hashlib
import urllib.parse
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]
from werkzeug.datastructures import MultiDict

from webhookverify import ConfigurationError, Secret, VerificationError, WebhookRequest, presets
from webhookverify.presets._twilio import TwilioVerifier, twilio_url_variants
from webhookverify.testing import sign_request

from contract import NOW, URL, VerifierContract

FORM_BODY = b"AccountSid=AC123&Body=h%C3%A9llo+there&From=%2B14155550100&To=%2B14155550199"

tokens = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=40
)
field_text = st.text(max_size=12)
fields = st.lists(
    st.tuples(st.text(min_size=1, max_size=8).filter(lambda n: n != "bodySHA256"), field_text),
    max_size=8,
)
base_urls = st.sampled_from(
    [
        "https://example.test/hook",
        "https://example.test:8443/a/b?x=1&y=2",
        "http://user:pw@example.test/voice?z=%20",
        "https://example.test:443/sms",
        "http://[::1]:8000/hook?q=1",
        "https://mycompany.com/myapp.php?foo=1&bar=2",
    ]
)


def form_request(url: str, pairs: list[tuple[str, str]], signature: str, **headers: str) -> Any:
    return WebhookRequest(
        url=url,
        headers={"X-Twilio-Signature": signature, **headers},
        body=urllib.parse.urlencode(pairs).encode("ascii"),
        received_at=NOW,
    )


def json_url(url: str, body: bytes) -> str:
    joiner = "&" if "?" in url else "?"
    return f"{url}{joiner}bodySHA256={hashlib.sha256(body).hexdigest()}"


# -- the contract, three ways ------------------------------------------------------


class TestTwilioForm(VerifierContract):
    body: ClassVar[bytes] = FORM_BODY

    def make(self, keys: list[Any]) -> TwilioVerifier:
        return presets.twilio(secrets=keys)

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(pairs=fields, flip=st.integers(min_value=0))
    def test_property_round_trip_and_any_flip(
        self, pairs: list[tuple[str, str]], flip: int
    ) -> None:
        # Twilio signs the decoded fields, not the body bytes: a flip is refused
        # unless it leaves the decoded fields as they were (%4a for %4A, say).
        verifier = self.make([self.new_key(0)])
        body = urllib.parse.urlencode(pairs).encode("ascii")
        request = self.signed(verifier, body=body)
        assert verifier.verify(request, now=NOW).key_id == "k0"
        if not body:
            return
        altered = bytearray(body)
        altered[flip % len(body)] ^= 1 << (flip % 8)
        changed = request.replace(body=bytes(altered))
        try:
            same = sorted(set(changed.form())) == sorted(set(request.form()))
        except VerificationError:
            same = False
        if same:
            verifier.verify(changed, now=NOW)
        else:
            with pytest.raises(VerificationError):
                verifier.verify(changed, now=NOW)

    def test_url_is_signed(self) -> None:
        verifier = self.make([self.new_key(0)])
        request = self.signed(verifier)
        for url in (URL + "&x=1", URL.replace("https", "http"), URL.replace("hooks.", "")):
            with pytest.raises(VerificationError):
                verifier.verify(request.replace(url=url), now=NOW)


class TestTwilioJson(VerifierContract):
    """JSON bodies: the URL carries bodySHA256, the signature covers the URL."""

    def make(self, keys: list[Any]) -> TwilioVerifier:
        return presets.twilio(secrets=keys)

    def signed(self, verifier: Any, body: bytes | None = None, now: float = NOW) -> WebhookRequest:
        raw = self.body if body is None else body
        return sign_request(verifier, raw, now=now, url=json_url(URL, raw), received_at=NOW)


class TestTwilioSharedKey(VerifierContract):
    def make(self, keys: list[Any]) -> TwilioVerifier:
        return presets.twilio(shared_keys=keys)

    body: ClassVar[bytes] = FORM_BODY

    def test_signs_with_sha256_and_says_so(self) -> None:
        verifier = self.make([self.new_key(0)])
        request = self.signed(verifier)
        assert request.headers["X-Twilio-Webhooks-Signature-Settings"] == (
            "key=k0,algorithm=HMAC_SHA256"
        )
        assert verifier.verify(request, now=NOW).scheme == "twilio-hmac-sha256"


# -- twilio-python as the oracle ---------------------------------------------------


@settings(max_examples=80, deadline=None)
@given(token=tokens, url=base_urls, pairs=fields)
def test_sdk_signs_form_preset_verifies(token: str, url: str, pairs: list[Any]) -> None:
    signature = RequestValidator(token).compute_signature(url, MultiDict(pairs))
    request = form_request(url, pairs, signature)
    assert presets.twilio(secret=token).verify(request).scheme == "twilio-hmac-sha1"
    with pytest.raises(VerificationError):
        presets.twilio(secret=token + "x").verify(request)


@settings(max_examples=80, deadline=None)
@given(token=tokens, url=base_urls, pairs=fields)
def test_preset_signs_form_sdk_verifies(token: str, url: str, pairs: list[Any]) -> None:
    body = urllib.parse.urlencode(pairs).encode("ascii")
    headers = presets.twilio(secret=token).sign(body, url=url)
    validator = RequestValidator(token)
    assert validator.validate(url, MultiDict(pairs), headers["X-Twilio-Signature"])
    assert not validator.validate(url + "x", MultiDict(pairs), headers["X-Twilio-Signature"])


@settings(max_examples=60, deadline=None)
@given(token=tokens, url=base_urls, body=st.text(max_size=512))
def test_json_both_directions(token: str, url: str, body: str) -> None:
    raw = body.encode("utf-8")
    signed_url = json_url(url, raw)
    validator = RequestValidator(token)
    # the SDK signs a JSON request's URL with no fields
    sdk_signature = validator.compute_signature(signed_url, {})
    request = WebhookRequest(
        url=signed_url, headers={"X-Twilio-Signature": sdk_signature}, body=raw
    )
    presets.twilio(secret=token).verify(request)
    ours = presets.twilio(secret=token).sign(raw, url=signed_url)["X-Twilio-Signature"]
    assert validator.validate(signed_url, body, ours)
    assert not validator.validate(signed_url, body + " ", ours)
    with pytest.raises(VerificationError):
        presets.twilio(secret=token).verify(request.replace(body=raw + b" "))


@settings(max_examples=60, deadline=None)
@given(key=tokens, url=base_urls, pairs=fields)
def test_shared_key_sha256_both_directions(key: str, url: str, pairs: list[Any]) -> None:
    validator = RequestValidator(key)
    settings_header = "key=webhooks_sharedkey_01,algorithm=HMAC_SHA256"
    signature = validator.compute_signature(url, MultiDict(pairs), "HMAC_SHA256")
    request = form_request(
        url, pairs, signature, **{"X-Twilio-Webhooks-Signature-Settings": settings_header}
    )
    assert presets.twilio(shared_key=key).verify(request).scheme == "twilio-hmac-sha256"
    # the same key as an Auth Token is never used for a SharedKey request
    with pytest.raises(VerificationError):
        presets.twilio(secret=key).verify(request)
    body = urllib.parse.urlencode(pairs).encode("ascii")
    headers = presets.twilio(shared_key=key).sign(body, url=url)
    algorithm = headers["X-Twilio-Webhooks-Signature-Settings"].rpartition("=")[2]
    assert validator.validate(url, MultiDict(pairs), headers["X-Twilio-Signature"], algorithm)


@settings(max_examples=40, deadline=None)
@given(token=tokens, url=base_urls, pairs=fields)
def test_port_variants_as_the_sdk(token: str, url: str, pairs: list[Any]) -> None:
    # whatever form of the URL Twilio signed, both sides accept the received one
    validator = RequestValidator(token)
    for signed_form in twilio_url_variants(url):
        signature = validator.compute_signature(signed_form, MultiDict(pairs))
        if "[" not in url:  # the SDK splits the netloc on ":", which breaks IPv6 literals
            assert validator.validate(url, MultiDict(pairs), signature)
        presets.twilio(secret=token).verify(form_request(url, pairs, signature))


def test_port_removed_from_ipv6_and_userinfo_urls_correctly() -> None:
    # twilio-python's remove_port keeps netloc.split(":")[0]: "[" for an IPv6
    # literal, the user name for "user:pass@host:port". Only the port goes here.
    for received, signed in (
        ("https://[2001:db8::1]:8443/hook", "https://[2001:db8::1]/hook"),
        ("https://user:pass@h.test:8443/hook", "https://user:pass@h.test/hook"),
    ):
        signature = RequestValidator("k").compute_signature(signed, {})
        presets.twilio(secret="k").verify(form_request(received, [], signature))


# -- quirks, pinned in place -------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "variants"),
    [
        ("https://h.test/p?q=1", ("https://h.test/p?q=1", "https://h.test:443/p?q=1")),
        ("http://h.test", ("http://h.test", "http://h.test:80")),
        ("https://h.test:1234/p", ("https://h.test:1234/p", "https://h.test/p")),
        ("https://u:p@h.test/p", ("https://u:p@h.test/p", "https://u:p@h.test:443/p")),
        ("https://u:p@h.test:8/p", ("https://u:p@h.test:8/p", "https://u:p@h.test/p")),
        ("https://[::1]:9/p", ("https://[::1]:9/p", "https://[::1]/p")),
        ("https://[::1]/p", ("https://[::1]/p", "https://[::1]:443/p")),
        ("HTTPS://h.test/p", ("HTTPS://h.test/p", "HTTPS://h.test:443/p")),
        (
            "https://h.test/p?next=http://x:1",
            ("https://h.test/p?next=http://x:1", "https://h.test:443/p?next=http://x:1"),
        ),
        ("https://h.test:port/p", ("https://h.test:port/p",)),
        ("ftp://h.test/p", ("ftp://h.test/p",)),
        ("/relative", ("/relative",)),
        ("https://[::1/p", ("https://[::1/p",)),
    ],
)
def test_url_variants(url: str, variants: tuple[str, ...]) -> None:
    assert twilio_url_variants(url) == variants


def test_multivalued_fields_deduplicated_as_the_sdk() -> None:
    pairs = [("Digits", "5678"), ("Digits", "1234"), ("Digits", "1234"), ("Sid", "CA1")]
    signature = RequestValidator("12345").compute_signature(URL, MultiDict(pairs))
    presets.twilio(secret="12345").verify(form_request(URL, pairs, signature))


def test_public_url_used_instead_of_request_url() -> None:
    public = "https://public.example.test/twilio/voice?tenant=7"
    verifier = presets.twilio(secret="12345", public_url=public)
    pairs = [("CallSid", "CA1")]
    signature = RequestValidator("12345").compute_signature(public, dict(pairs))
    request = form_request("http://10.0.0.5:8000/twilio/voice?tenant=7", pairs, signature)
    assert verifier.verify(request).key_id == "secret[0]"
    with pytest.raises(VerificationError):
        presets.twilio(secret="12345").verify(request)
    assert verifier.sign(b"CallSid=CA1", url="http://ignored.test/")["X-Twilio-Signature"] == (
        signature
    )


def test_algorithm_set_pinned_by_configuration() -> None:
    pairs = [("A", "1")]
    sha1 = RequestValidator("k").compute_signature(URL, dict(pairs), "HMAC_SHA1")
    settings_sha1 = {"X-Twilio-Webhooks-Signature-Settings": "key=x,algorithm=HMAC_SHA1"}
    request = form_request(URL, pairs, sha1, **settings_sha1)
    with pytest.raises(VerificationError) as info:
        presets.twilio(shared_key="k").verify(request)  # pinned to SHA-256 only
    assert info.value.reason == "unsupported_signature_version"
    presets.twilio(shared_key="k", shared_key_algorithms=("sha1", "sha256")).verify(request)
    for named in ("algorithm=HMAC_MD5", "algorithm=hmac_sha512", "key=x"):
        weird = form_request(URL, pairs, sha1, **{"X-Twilio-Webhooks-Signature-Settings": named})
        with pytest.raises(VerificationError) as info:
            presets.twilio(shared_key="k").verify(weird)
        assert info.value.reason == "unsupported_signature_version"
    # an Auth-Token-only verifier refuses a SharedKey request rather than guess
    with pytest.raises(VerificationError) as info:
        presets.twilio(secret="k").verify(request)
    assert info.value.reason == "unsupported_signature_version"
    # and a SharedKey-only verifier needs the settings header
    plain = form_request(URL, pairs, sha1)
    with pytest.raises(VerificationError) as info:
        presets.twilio(shared_key="k").verify(plain)
    assert info.value.reason == "missing_header"
    presets.twilio(secret="k", shared_key="other").verify(plain)


def test_json_body_without_body_hash_in_url_is_malformed() -> None:
    verifier = presets.twilio(secret="12345")
    request = WebhookRequest(
        url=URL, headers={"X-Twilio-Signature": "A" * 27 + "="}, body=b'{"a": 1}'
    )
    with pytest.raises(VerificationError, match="bodySHA256") as info:
        verifier.verify(request)
    assert info.value.reason == "malformed_body"
    with pytest.raises(VerificationError):
        verifier.sign(b'{"a": 1}', url=URL)
    with pytest.raises(VerificationError, match="bodySHA256"):
        verifier.sign(b"{}", url=json_url(URL, b"[]"))


def test_body_hash_parameter_twice_refused() -> None:
    body = b"{}"
    url = json_url(json_url(URL, body), body)
    signature = RequestValidator("k").compute_signature(url, {})
    with pytest.raises(VerificationError):
        presets.twilio(secret="k").verify(
            WebhookRequest(url=url, headers={"X-Twilio-Signature": signature}, body=body)
        )


def test_rotation_of_auth_tokens_reports_which() -> None:
    pairs = [("A", "1")]
    signature = RequestValidator("secondary").compute_signature(URL, dict(pairs))
    verifier = presets.twilio(
        secrets=[Secret("primary", key_id="primary"), Secret("secondary", key_id="secondary")]
    )
    assert verifier.verify(form_request(URL, pairs, signature)).key_id == "secondary"


def test_replay_is_keyed_on_content() -> None:
    verifier = presets.twilio(secret="k")
    request = sign_request(verifier, FORM_BODY, url=URL)
    result = verifier.verify(request)
    assert verifier.replay_default == "content" and verifier.replay_window is None
    assert result.delivery_id is None and result.timestamp is None
    reordered = request.replace(body=b"To=%2B14155550199&" + FORM_BODY.rsplit(b"&", 1)[0])
    # the same fields in another order are the same signed content
    assert verifier.verify(reordered).content_digest() == result.content_digest()


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({}, "Auth Token"),
        ({"secret": "k", "public_url": "/hook"}, "public_url"),
        ({"secret": "k", "public_url": "mailto:x@y"}, "public_url"),
        ({"secret": "k", "shared_key_algorithms": ()}, "shared_key_algorithms"),
        ({"secret": "k", "shared_key_algorithms": ("md5",)}, "shared_key_algorithms"),
        ({"secret": "k", "shared_key_algorithms": "sha256"}, "shared_key_algorithms"),
        ({"shared_key": ""}, "empty"),
        ({"shared_key": "a", "shared_keys": ["b"]}, "not both"),
    ],
)
def test_configuration_errors(options: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        presets.twilio(**options)


def test_immutable_and_repr_hides_keys() -> None:
    verifier = presets.twilio(secret="auth-token-value", shared_key="shared-key-value")
    assert "auth-token-value" not in repr(verifier)
    assert "shared-key-value" not in repr(verifier)
    with pytest.raises(AttributeError):
        verifier.public_url = "https://x.test/"


def test_get_request_signs_the_url_alone() -> None:
    # Twilio can call a webhook with GET: the fields are in the signed query
    url = "https://h.test/voice?CallSid=CA1&From=%2B1415"
    signature = RequestValidator("k").compute_signature(url, {})
    request = WebhookRequest(method="GET", url=url, headers={"X-Twilio-Signature": signature})
    presets.twilio(secret="k").verify(request)
    with pytest.raises(VerificationError):
        presets.twilio(secret="k").verify(request.replace(url=url.replace("CA1", "CA2")))
