"""CavageSignatureVerifier: draft-cavage HTTP Signatures (ActivityPub, Mastodon).

The draft's own Appendix C examples and a Mastodon-style delivery
(tests/vectors/cavage/), the verifier contract, then the hostile cases.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

import webhookverify
from webhookverify import (
    CavageSignatureVerifier,
    ConfigurationError,
    Secret,
    VerificationError,
    WebhookError,
    WebhookRequest,
)
from webhookverify.httpsig._cavage_parse import MAX_COVERED, parse_signature, signing_string
from webhookverify.testing import sign_request

from _vectors import VECTORS
from contract import NOW, VerifierContract, mutate

DRAFT = json.loads((VECTORS / "cavage" / "draft_cavage_12.json").read_text("utf-8"))
MASTODON = json.loads((VECTORS / "cavage" / "mastodon_follow.json").read_text("utf-8"))
INBOX = "https://receiver.example/users/bob/inbox"


def draft_request(signature: str, **changes: Any) -> WebhookRequest:
    message = DRAFT["request"]
    request = WebhookRequest(
        method=message["method"],
        url=message["url"],
        headers=[*map(tuple, message["headers"]), ("Signature", signature)],
        body=message["body"].encode(),
        received_at=DRAFT["now"],
    )
    return request.replace(**changes) if changes else request


def draft_verifier(**options: Any) -> CavageSignatureVerifier:
    settings: dict[str, Any] = {
        "keys": {"Test": DRAFT["public_key"]},
        "allow_weak_rsa": True,
        "required_headers": ("date",),
        "require_digest": False,
    }
    return CavageSignatureVerifier(**{**settings, **options})


def reason(verifier: Any, request: WebhookRequest, now: float | None = None) -> str:
    with pytest.raises(VerificationError) as info:
        verifier.verify(request, now=now)
    return info.value.reason


def with_header(request: WebhookRequest, name: str, value: str | None) -> WebhookRequest:
    headers = [(k, v) for k, v in request.headers.raw_items() if k.lower() != name.lower()]
    return request.replace(headers=headers + ([(name, value)] if value is not None else []))


# -- the draft's Appendix C -----------------------------------------------------------


@pytest.mark.parametrize("example", DRAFT["examples"], ids=lambda e: e["section"])
def test_draft_appendix_c(example: dict[str, Any]) -> None:
    request = draft_request(example["signature"])
    verifier = draft_verifier()
    if example["expected"] != "valid":
        # -12's C.3 covers (created) under rsa-sha256, which Mastodon refuses
        # before the signature (which would not match either)
        assert reason(verifier, request) == "malformed_header"
        hs2019 = draft_request(example["signature"].replace("rsa-sha256", "hs2019"))
        assert (
            reason(draft_verifier(tolerance=None, future_tolerance=None), hs2019)
            == "signature_mismatch"
        )
        return
    assert signing_string(request, parse_signature(example["signature"])) == (
        example["signing_string"].encode()
    )
    result = verifier.verify(request)
    assert (result.scheme, result.key_id, result.timestamp) == (
        "cavage-rsa-sha256",
        "Test",
        DRAFT["now"],
    )


def test_draft_key_is_weak_and_refused_unless_allowed() -> None:
    with pytest.raises(ConfigurationError, match=r"1024-bit RSA key.*allow_weak_rsa=True"):
        CavageSignatureVerifier(keys={"Test": DRAFT["public_key"]})
    resolver = CavageSignatureVerifier(keys=lambda key_id: DRAFT["public_key"])
    all_headers = DRAFT["examples"][2]["signature"]
    assert reason(resolver, draft_request(all_headers)) == "unusable_key"


def test_draft_basic_test_under_mastodons_rules() -> None:
    # the C.2 request covers (request-target) host date but not digest: a POST
    # with a body must, under the default (Mastodon's) rules
    verifier = draft_verifier(required_headers=("(request-target)", "host", "date"))
    basic = draft_request(DRAFT["examples"][1]["signature"])
    assert verifier.verify(basic).key_id == "Test"
    strict = draft_verifier(
        required_headers=("(request-target)", "host", "date"), require_digest=True
    )
    assert reason(strict, basic) == "uncovered_component"
    all_headers = draft_request(DRAFT["examples"][2]["signature"])
    assert strict.verify(all_headers).key_id == "Test"
    default = draft_request(DRAFT["examples"][0]["signature"])
    assert reason(strict, default) == "uncovered_component"


def mastodon_request(**changes: Any) -> WebhookRequest:
    message = MASTODON["request"]
    request = WebhookRequest(
        method=message["method"],
        url=message["url"],
        headers=[tuple(h) for h in message["headers"]],
        body=message["body"].encode(),
        received_at=MASTODON["now"],
    )
    return request.replace(**changes) if changes else request


def mastodon_verifier(**options: Any) -> CavageSignatureVerifier:
    return CavageSignatureVerifier(keys={MASTODON["key_id"]: MASTODON["public_key"]}, **options)


def test_mastodon_delivery() -> None:
    result = mastodon_verifier().verify(mastodon_request())
    assert result.key_id == MASTODON["key_id"] and result.timestamp == MASTODON["now"]
    # through a resolver, as the actor-document key source plugs in
    asked: list[str] = []

    def resolve(key_id: str) -> str | None:
        asked.append(key_id)
        return MASTODON["public_key"] if key_id == MASTODON["key_id"] else None

    assert CavageSignatureVerifier(keys=resolve).verify(mastodon_request()).key_id
    assert asked == [MASTODON["key_id"]]


def test_mastodon_time_window() -> None:
    verifier, request, now = mastodon_verifier(), mastodon_request(), MASTODON["now"]
    # Mastodon: valid five minutes after its date, with one hour of clock skew
    assert verifier.verify(request, now=now + 3900)
    assert reason(verifier, request, now + 3901) == "timestamp_too_old"
    assert verifier.verify(request, now=now - 3600)
    assert reason(verifier, request, now - 3601) == "timestamp_in_future"
    assert reason(verifier, with_header(request, "Date", "yesterday"), now) == "malformed_timestamp"
    rfc850 = "Saturday, 06-Dec-25 00:00:00 GMT"
    assert reason(verifier, with_header(request, "Date", rfc850), now) == "malformed_timestamp"


# -- the contract -----------------------------------------------------------------------


@functools.cache
def private_key(kind: str, index: int) -> Any:
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass(frozen=True)
class KeyPair:
    public: Secret
    private: Any


class TestRsaContract(VerifierContract):
    signs_timestamp = True
    tolerance = 3900.0
    future_tolerance = 3600.0
    random_bodies = 8
    kind = "rsa"
    url = INBOX

    def new_key(self, index: int, **window: float) -> KeyPair:
        key = private_key(self.kind, index)
        pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return KeyPair(Secret(pem, key_id=f"k{index}", **window), key)

    def make(self, keys: list[KeyPair]) -> CavageSignatureVerifier:
        return CavageSignatureVerifier(
            keys={k.public.key_id: k.public for k in keys},  # type: ignore[misc]
            signing_keys={k.public.key_id: k.private for k in keys},  # type: ignore[misc]
        )

    def signature_headers(self, verifier: Any) -> tuple[str, ...]:
        return ("Signature", "Date", "Digest")

    def test_every_character_of_signature_headers_matters(self) -> None:
        # Every character but those of the parameter name "algorithm": misspelt,
        # it is an unknown parameter, ignored (draft-cavage-12 §2.1), and the
        # label defaults to hs2019, the same operation for the same key. The
        # label is not signed in draft-cavage; the key decides the operation.
        verifier = self.make([self.new_key(0)])
        request = self.signed(verifier)
        for name in self.signature_headers(verifier):
            value = request.headers[name]
            start = value.find("algorithm=") if name == "Signature" else -1
            for index in range(len(value)):
                changed = with_header(request, name, mutate(value, index))
                if 0 <= start <= index < start + len("algorithm"):
                    # a letter makes an unknown name; a digit, no name at all
                    if mutate(value, index)[index].isalpha():
                        assert verifier.verify(changed, now=NOW).key_id == "k0"
                    else:
                        assert reason(verifier, changed, NOW) == "malformed_header"
                    continue
                with pytest.raises(VerificationError):
                    verifier.verify(changed, now=NOW)

    def test_wrong_key_rejected(self) -> None:
        # the key id names the key: the same id with other material is a
        # mismatch, another id is unknown
        signer = self.make([self.new_key(0)])
        other = self.new_key(1)
        renamed = KeyPair(Secret(other.public.value, key_id="k0"), other.private)
        request = self.signed(signer)
        assert reason(self.make([renamed]), request, NOW) == "signature_mismatch"
        assert reason(self.make([other]), request, NOW) == "unknown_key_id"


class TestEd25519Contract(TestRsaContract):
    kind = "ed25519"
    random_bodies = 20


# -- hostile cases ------------------------------------------------------------------------


def signed(verifier: CavageSignatureVerifier, **parts: str) -> WebhookRequest:
    body = MASTODON["request"]["body"]
    return sign_request(verifier, body, now=NOW, url=INBOX, received_at=NOW, **parts)


@functools.cache
def local() -> CavageSignatureVerifier:
    key = private_key("rsa", 9)
    return CavageSignatureVerifier(keys={"k": key.public_key()}, signing_keys={"k": key})


def test_a_required_header_not_covered_is_refused() -> None:
    for covered in ("host date digest", "(request-target) date digest",
                    "(request-target) host digest", "(request-target) host date"):  # fmt: skip
        assert reason(local(), signed(local(), covered=covered)) == "uncovered_component"
    get = sign_request(local(), b"", now=NOW, method="GET", url=INBOX,
                       covered="(request-target) host date")  # fmt: skip
    assert local().verify(get.replace(body=b""), now=NOW)  # a GET without a body needs no digest


def test_digest_mismatch_and_forms() -> None:
    request = signed(local())
    assert reason(local(), request.replace(body=request.body + b" ")) == "content_digest_mismatch"
    sha512 = "SHA-512=" + "A" * 86 + "=="
    # a Digest header changed after signing breaks the signature first
    assert reason(local(), with_header(request, "Digest", sha512)) == "signature_mismatch"
    assert reason(local(), with_header(request, "Digest", None)) == "missing_header"
    unsigned_digest = signed(local(), covered="(request-target) host date digest")
    assert local().verify(unsigned_digest, now=NOW)


def test_algorithm_is_the_keys_never_the_messages() -> None:
    request = signed(local())
    for label in ("hmac-sha256", "rsa-sha512", "ecdsa-sha256", "ed25519", "none", "RSA-SHA256"):
        value = request.headers["Signature"].replace('"rsa-sha256"', f'"{label}"')
        assert reason(local(), with_header(request, "Signature", value)) == "algorithm_mismatch"
    only_rsa = CavageSignatureVerifier(
        keys={"k": private_key("rsa", 9).public_key()}, algorithms=("rsa-sha256",)
    )
    hs2019 = signed(local(), algorithm="hs2019")
    assert local().verify(hs2019, now=NOW)
    assert reason(only_rsa, hs2019) == "algorithm_mismatch"
    edkey = private_key("ed25519", 9)
    ed = CavageSignatureVerifier(keys={"k": edkey.public_key()}, signing_keys={"k": edkey})
    ed_request = signed(ed)
    assert ed.verify(ed_request, now=NOW).scheme == "cavage-ed25519"
    as_rsa = ed_request.headers["Signature"].replace('"hs2019"', '"rsa-sha256"')
    assert reason(ed, with_header(ed_request, "Signature", as_rsa)) == "algorithm_mismatch"


def test_created_and_expires() -> None:
    covered = "(request-target) (created) (expires) host date digest"
    request = signed(local(), algorithm="hs2019", covered=covered, created=str(int(NOW)),
                     expires=str(int(NOW) + 60))  # fmt: skip
    assert local().verify(request, now=NOW).timestamp == NOW
    assert reason(local(), request, NOW + 61) == "signature_expired"
    value = request.headers["Signature"]
    assert reason(local(), with_header(request, "Signature", value.replace(
        f"expires={int(NOW) + 60}", f"expires={int(NOW) + 6000}"))) == "signature_mismatch"  # fmt: skip
    # created stated but not signed: refused, it could be anything
    loose = signed(local(), algorithm="hs2019", created=str(int(NOW)))
    assert reason(local(), loose) == "uncovered_component"
    # Mastodon: (created) and (expires) belong to hs2019 only
    rsa_created = signed(local(), algorithm="rsa-sha256", covered=covered, created=str(int(NOW)),
                         expires=str(int(NOW) + 60))  # fmt: skip
    assert reason(local(), rsa_created) == "malformed_header"
    missing = with_header(request, "Signature", value.replace(f"created={int(NOW)},", ""))
    assert reason(local(), missing) == "malformed_header"


def test_duplicate_and_malformed_parameters() -> None:
    request = signed(local())
    value = request.headers["Signature"]
    for bad in (
        value + ',keyId="k"',
        value + ',signature="AAAA"',
        value.replace('headers="', 'headers="date '),  # date twice in the list
        value.replace('keyId="k"', "keyId=k"),
        value.replace('keyId="k",', 'keyId="k",created="1",'),
        value.replace(",", ";"),
        'keyId="k"',
        "",
        "Signature " + value,
    ):
        with pytest.raises(VerificationError):
            local().verify(with_header(request, "Signature", bad), now=NOW)
    twice = request.replace(headers=[*request.headers.raw_items(), ("Signature", value)])
    assert reason(local(), twice) == "duplicate_header"
    unknown = value + ',extension="ignored"'
    assert local().verify(with_header(request, "Signature", unknown), now=NOW)


def test_non_ascii_and_unparsable_values_are_refusals() -> None:
    request = signed(local())
    for name, value in (
        ("Signature", 'keyId="k",headers="(request-target) host date digest",signature="\u00e9"'),
        ("Digest", "SHA-256=\u00e9"),
        ("Digest", "SHA-256="),
        ("Digest", "sha-256=AAAA,SHA-256=AAAA"),
    ):
        with pytest.raises(VerificationError):
            local().verify(with_header(request, name, value), now=NOW)
    with pytest.raises(VerificationError):
        local().verify(request.replace(url="http://[::1/inbox"), now=NOW)


def test_huge_headers_list_is_refused_before_any_lookup() -> None:
    request = signed(local())
    names = " ".join(f"x-h{i}" for i in range(MAX_COVERED + 1))
    value = request.headers["Signature"].replace('headers="', f'headers="{names} ')
    assert reason(local(), with_header(request, "Signature", value)) == "malformed_header"
    long = request.headers["Signature"] + ',x="' + "a" * 10_000 + '"'
    assert reason(local(), with_header(request, "Signature", long)) == "malformed_header"


def test_resolver_errors() -> None:
    request = signed(local())

    class Unavailable(WebhookError):
        pass

    def down(key_id: str) -> None:
        raise Unavailable("the key source cannot reach the sender")

    def broken(key_id: str) -> None:
        raise RuntimeError("bug")

    with pytest.raises(Unavailable):
        CavageSignatureVerifier(keys=down).verify(request, now=NOW)
    assert reason(CavageSignatureVerifier(keys=broken), request, NOW) == "key_resolution_failed"
    assert reason(CavageSignatureVerifier(keys=lambda k: None), request, NOW) == "unknown_key_id"
    assert reason(CavageSignatureVerifier(keys=lambda k: b"junk"), request, NOW) == "unusable_key"


def test_configuration_errors() -> None:
    key = private_key("rsa", 9).public_key()
    for options in (
        {"keys": {}},
        {"keys": 3},
        {"keys": {"k": b"junk"}},
        {"keys": {"k": key}, "algorithms": ("rsa-sha512",)},
        {"keys": {"k": key}, "required_headers": "date"},
        {"keys": {"k": key}, "required_headers": ("host",)},
        {"keys": {"k": key}, "tolerance": -1},
        {"keys": {"k": key}, "signing_keys": {"k": b"junk"}},
    ):
        with pytest.raises(ConfigurationError):
            CavageSignatureVerifier(**options)
    with pytest.raises(ConfigurationError, match="signing_keys"):
        CavageSignatureVerifier(keys={"k": key}).sign(b"{}")
    with pytest.raises(ConfigurationError, match="'other' is not in signing_keys"):
        local().sign(b"{}", NOW, key_id="other")
    assert "k" in repr(CavageSignatureVerifier(keys={"k": key}))


def test_exported() -> None:
    assert webhookverify.CavageSignatureVerifier is CavageSignatureVerifier
    assert webhookverify.httpsig.CavageSignatureVerifier is CavageSignatureVerifier
