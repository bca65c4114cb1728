"""apple_app_store: Apple's own test notification and chains, the contract with a
locally made chain, then the hostile cases."""

from __future__ import annotations

import base64
import functools
import json
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from webhookverify import ConfigurationError, Secret, VerificationError, WebhookRequest, presets
from webhookverify.presets._apple import AppleAppStoreVerifier
from webhookverify.presets._apple_chain import APPLE_ROOT_CA_G3, load_roots, verify_chain
from webhookverify.presets._apple_testing import AppleTestChain, es256_sign, make_test_chain
from webhookverify.presets._jwt import encode_segment

from _vectors import VECTORS
from contract import NOW, VerifierContract

APPLE = json.loads((VECTORS / "apple" / "app_store_server_library.json").read_text("utf-8"))
CHAINS = APPLE["chains"]
TEST_CA = base64.b64decode(APPLE["test_ca"])
DAY = 86400.0
PAYLOAD = {
    "notificationType": "TEST",
    "notificationUUID": "5f2c7a0e-61f4-4d2b-9a6b-3d0f2b1c9e77",
    "data": {"bundleId": "com.example", "appAppleId": 1234, "environment": "Production"},
}


def reason(verifier: Any, request: WebhookRequest, now: float = NOW) -> str:
    with pytest.raises(VerificationError) as info:
        verifier.verify(request, now=now)
    return info.value.reason


def envelope(token: str) -> WebhookRequest:
    body = json.dumps({"signedPayload": token}).encode()
    return WebhookRequest(headers={"Content-Type": "application/json"}, body=body, received_at=NOW)


# -- Apple's vectors -------------------------------------------------------------------


@pytest.mark.parametrize("vector", APPLE["notifications"], ids=lambda v: v["id"])
def test_apple_test_notifications(vector: dict[str, Any]) -> None:
    verifier = presets.apple_app_store(
        bundle_id=vector["bundle_id"],
        environment=vector["environment"],
        app_apple_id=vector["app_apple_id"],
        root_certificates=[TEST_CA],
    )
    request = envelope(vector["signed_payload"])
    if vector["expected"] == "valid":
        result = verifier.verify(request, now=vector["now"])
        assert result.scheme == "apple-app-store-es256"
        assert result.delivery_id == vector["notification_uuid"]
        assert result.timestamp == vector["now"]
        assert result.key_id == "root[0]"
    else:
        assert reason(verifier, request, vector["now"]) == vector["expected"]


def test_apple_test_notification_fails_under_apples_real_root() -> None:
    vector = APPLE["notifications"][0]
    verifier = presets.apple_app_store(
        bundle_id="com.example", environment="Sandbox", app_apple_id=1234
    )
    assert reason(verifier, envelope(vector["signed_payload"]), vector["now"]) == (
        "signature_mismatch"
    )


def _chain_of(*names: str) -> list[str]:
    return [CHAINS[name] for name in names]


def test_apple_test_chains() -> None:
    # tests/test_x509_verifiction.py of Apple's library, case by case
    roots = load_roots([base64.b64decode(CHAINS["test_root"])], "t")
    when = CHAINS["effective_date"]
    good = _chain_of("test_leaf", "test_intermediate", "test_root")
    key, root_id, _, _ = verify_chain(good, roots, when, when)
    pem = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert pem.decode() == CHAINS["test_leaf_public_key"] and root_id == "root[0]"
    refused = {
        "invalid intermediate OID": _chain_of(
            "test_leaf_for_intermediate_invalid_oid", "test_intermediate_invalid_oid", "test_root"
        ),
        "invalid leaf OID": _chain_of("test_leaf_invalid_oid", "test_intermediate", "test_root"),
        "chain length 2": _chain_of("test_intermediate", "test_root"),
        "invalid base64": ["abc", CHAINS["test_intermediate"], CHAINS["test_root"]],
        "not DER": [base64.b64encode(b"abc").decode(), *good[1:]],
    }
    for case, chain in refused.items():
        with pytest.raises(VerificationError):
            verify_chain(chain, roots, when, when)
        assert case
    with pytest.raises(VerificationError) as info:  # expired at the effective date
        verify_chain(good, roots, CHAINS["expired_date"], when)
    assert info.value.reason == "signature_mismatch"
    apple = load_roots(None, "t")
    with pytest.raises(VerificationError):  # a chain to another root than the configured one
        verify_chain(good, apple, when, when)
    real = _chain_of("apple_signing_leaf", "apple_intermediate_wwdr_g6", "apple_root_g3")
    assert verify_chain(real, apple, when, when).root_id == "apple-root-ca-g3"
    assert CHAINS["apple_root_g3"] == APPLE_ROOT_CA_G3


# -- the contract, with a chain made here -----------------------------------------------


@functools.cache
def chain(index: int, **options: Any) -> AppleTestChain:
    return make_test_chain(
        not_before=NOW - 30 * DAY, not_after=NOW + 30 * DAY, name=f"C{index}", **options
    )


@dataclass(frozen=True)
class Root:
    public: Secret
    private: AppleTestChain


def make_verifier(keys: list[Root], **options: Any) -> AppleAppStoreVerifier:
    return presets.apple_app_store(
        bundle_id="com.example",
        app_apple_id=1234,
        root_certificates=[k.public for k in keys],
        signing_keys={
            k.public.key_id or "": (
                k.private.leaf_key,
                [k.private.leaf, k.private.intermediate, k.private.root],
            )
            for k in keys
        },
        **options,
    )


class TestContract(VerifierContract):
    signs_timestamp = True
    tolerance = 7 * DAY
    future_tolerance = 300.0
    random_bodies = 6

    def new_key(self, index: int, **window: float) -> Root:
        made = chain(index)
        return Root(Secret(made.root, key_id=f"k{index}", **window), made)

    def make(self, keys: list[Root]) -> AppleAppStoreVerifier:
        return make_verifier(keys)

    def signature_headers(self, verifier: Any) -> tuple[str, ...]:
        return ()  # the signature is in the body

    @pytest.mark.parametrize("where", ["first", "middle", "last", "append", "truncate"])
    def test_altered_body_rejected(self, where: str) -> None:
        if where != "append":
            super().test_altered_body_rejected(where)
            return
        # JSON whitespace around the envelope is not signed and means nothing;
        # an unsigned member beside signedPayload is refused
        verifier = self.make([self.new_key(0)])
        request = self.signed(verifier)
        assert verifier.verify(request.replace(body=request.body + b" \n"), now=NOW)
        extra = request.body[:-1] + b',"extra":1}'
        with pytest.raises(VerificationError):
            verifier.verify(request.replace(body=extra), now=NOW)

    def signed(self, verifier: Any, body: bytes | None = None, now: float = NOW) -> WebhookRequest:
        extra = base64.b64encode(self.body if body is None else body).decode()
        signed = verifier.signed_body({**PAYLOAD, "extra": extra}, now)
        return WebhookRequest(
            headers={"Content-Type": "application/json"}, body=signed, received_at=NOW
        )


# -- hostile cases ------------------------------------------------------------------------


def keys(index: int = 0, **options: Any) -> list[Root]:
    made = chain(index, **options)
    return [Root(Secret(made.root, key_id=f"k{index}"), made)]


def forged(
    made: AppleTestChain, header: dict[str, Any], payload: dict[str, Any] | None = None
) -> str:
    claims = {"signedDate": int(NOW * 1000), **PAYLOAD, **(payload or {})}
    head, body = encode_segment(header), encode_segment(claims)
    signature = es256_sign(made.leaf_key, f"{head}.{body}".encode())
    return f"{head}.{body}.{base64.urlsafe_b64encode(signature).decode().rstrip('=')}"


def test_alg_swapped_is_refused_before_the_signature() -> None:
    import hashlib
    import hmac

    made = chain(0)
    verifier = make_verifier(keys(0))
    assert verifier.verify(envelope(forged(made, {"alg": "ES256", "x5c": made_x5c(made)})))
    for alg in ("none", "HS256", "ES384", "RS256", None):
        token = forged(made, {"alg": alg, "x5c": made_x5c(made)})
        assert reason(verifier, envelope(token)) == "unsupported_signature_version"
    # HS256 keyed with the leaf's public key, as a confused verifier would accept
    head = encode_segment({"alg": "HS256", "x5c": made_x5c(made)})
    body = encode_segment({"signedDate": int(NOW * 1000), **PAYLOAD})
    secret = made.leaf
    mac = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    token = f"{head}.{body}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"
    assert reason(verifier, envelope(token)) == "unsupported_signature_version"
    unsigned = f"{encode_segment({'alg': 'none'})}.{body}."
    assert reason(verifier, envelope(unsigned)) == "malformed_signature"
    crit = forged(made, {"alg": "ES256", "x5c": made_x5c(made), "crit": ["b64"]})
    assert reason(verifier, envelope(crit)) == "unsupported_signature_version"


def made_x5c(made: AppleTestChain) -> list[str]:
    return made.x5c


def test_chain_to_another_root_is_refused() -> None:
    other = chain(1)
    verifier = make_verifier(keys(0))
    token = forged(other, {"alg": "ES256", "x5c": other.x5c})
    assert reason(verifier, envelope(token)) == "signature_mismatch"
    # the x5c root is never trusted: the configured root's place taken by the other's
    mixed = [other.leaf, other.intermediate]
    token = forged(other, {"alg": "ES256", "x5c": [*made_x5c(other)[:2], chain(0).x5c[2]]})
    assert reason(verifier, envelope(token)) == "signature_mismatch"
    assert mixed


def test_missing_oids_are_refused() -> None:
    for options in ({"leaf_oid": False}, {"intermediate_oid": False}):
        made = chain(5, **options)
        verifier = make_verifier(keys(5, **options))
        token = forged(made, {"alg": "ES256", "x5c": made.x5c})
        with pytest.raises(VerificationError, match="OIDs") as info:
            verifier.verify(envelope(token), now=NOW)
        assert info.value.reason == "signature_mismatch"


def test_expired_leaf_is_refused_at_the_signed_date() -> None:
    made = chain(6, leaf_not_after=NOW - DAY)
    verifier = make_verifier(keys(6, leaf_not_after=NOW - DAY))
    token = forged(made, {"alg": "ES256", "x5c": made.x5c})
    assert reason(verifier, envelope(token)) == "signature_mismatch"
    # signed while the leaf was valid: accepted (Apple judges the chain at signedDate)
    earlier = forged(
        made, {"alg": "ES256", "x5c": made.x5c}, {"signedDate": int((NOW - 2 * DAY) * 1000)}
    )
    assert verifier.verify(envelope(earlier), now=NOW).timestamp == NOW - 2 * DAY


def test_rsa_certificates_are_refused_before_path_validation() -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509 import load_der_x509_certificate

    made = chain(0)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    leaf = load_der_x509_certificate(made.leaf)
    builder = x509.CertificateBuilder(
        issuer_name=leaf.issuer,
        subject_name=leaf.subject,
        public_key=key.public_key(),
        serial_number=1,
        not_valid_before=leaf.not_valid_before_utc,
        not_valid_after=leaf.not_valid_after_utc,
        extensions=leaf.extensions,
    )
    rsa_leaf = builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
    x5c = [base64.b64encode(rsa_leaf).decode(), *made.x5c[1:]]
    token = forged(made, {"alg": "ES256", "x5c": x5c})
    with pytest.raises(VerificationError, match="no EC key"):
        make_verifier(keys(0)).verify(envelope(token), now=NOW)


def test_a_certificate_whose_key_is_off_its_curve_is_a_refusal() -> None:
    from cryptography.x509 import load_der_x509_certificate

    made = chain(0)
    point = (
        load_der_x509_certificate(made.leaf)
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    at = made.leaf.index(point) + 5
    broken = made.leaf[:at] + bytes([made.leaf[at] ^ 1]) + made.leaf[at + 1 :]
    x5c = [base64.b64encode(broken).decode(), *made.x5c[1:]]
    token = forged(made, {"alg": "ES256", "x5c": x5c})
    assert reason(make_verifier(keys(0)), envelope(token)) == "malformed_signature"


def test_a_validated_chain_is_reused_only_within_its_span() -> None:
    from webhookverify.presets._apple import MAX_CACHED_CHAINS

    made = chain(6, leaf_not_after=NOW - DAY)
    verifier = make_verifier(keys(6, leaf_not_after=NOW - DAY))
    header = {"alg": "ES256", "x5c": made.x5c}
    early = forged(made, header, {"signedDate": int((NOW - 2 * DAY) * 1000)})
    for _ in range(2):  # validated, then from the cache
        assert verifier.verify(envelope(early), now=NOW).timestamp == NOW - 2 * DAY
    late = forged(made, header)  # signed after the leaf expired: the cache must not pass it
    assert reason(verifier, envelope(late)) == "signature_mismatch"
    windowed = make_verifier([Root(Secret(made.root, key_id="k6", not_after=NOW - 1), made)])
    assert reason(windowed, envelope(early)) == "no_valid_key"
    # bounded: many chains later, the first still verifies and the cache holds at most the bound
    many = make_verifier([Root(Secret(chain(i).root, key_id=f"k{i}"), chain(i)) for i in range(40)])
    for i in range(40):
        assert many.verify(envelope(forged(chain(i), {"alg": "ES256", "x5c": chain(i).x5c})))
    assert many.verify(envelope(forged(chain(0), {"alg": "ES256", "x5c": chain(0).x5c})))
    assert len(many._chains) <= MAX_CACHED_CHAINS


def test_x5c_of_one_or_four_certificates_is_refused() -> None:
    made = chain(0)
    verifier = make_verifier(keys(0))
    for x5c in (made.x5c[:1], [*made.x5c, made.x5c[2]], [], "MIIB", None, [1, 2, 3]):
        token = forged(made, {"alg": "ES256", "x5c": x5c})
        assert reason(verifier, envelope(token)) == "malformed_signature"


def test_garbage_bodies_and_claims() -> None:
    made = chain(0)
    verifier = make_verifier(keys(0))
    for body in (
        b"",
        b"[]",
        b"{}",
        b'{"signedPayload": 1}',
        b'{"signedPayload": "a.b.c"}',
        b'{"signedPayload": "a.b.c.d"}',
        b"{" * 5000,
        b"\xff",
        b"x" * 300_000,
    ):
        request = WebhookRequest(headers={"Content-Type": "application/json"}, body=body)
        with pytest.raises(VerificationError):
            verifier.verify(request, now=NOW)
    good = forged(made, {"alg": "ES256", "x5c": made.x5c})
    form = envelope(good).replace(headers={"Content-Type": "text/plain"})
    assert reason(verifier, form) == "malformed_header"
    for claims in (
        {"data": {"bundleId": "com.other", "appAppleId": 1234, "environment": "Production"}},
        {"data": {"bundleId": "com.example", "appAppleId": 99, "environment": "Production"}},
        {"data": {"bundleId": "com.example", "appAppleId": 1234, "environment": "Sandbox"}},
        {"data": {"bundleId": "com.example", "appAppleId": True, "environment": "Production"}},
        {"data": None},
    ):
        token = forged(made, {"alg": "ES256", "x5c": made.x5c}, claims)
        assert reason(verifier, envelope(token)) == "claim_mismatch"
    for when in ("soon", 10**30, -1, 1.7e12, True):
        undated = forged(made, {"alg": "ES256", "x5c": made.x5c}, {"signedDate": when})
        assert reason(verifier, envelope(undated)) == "malformed_timestamp", when
    summary = {
        "data": None,
        "summary": {"bundleId": "com.example", "appAppleId": 1234, "environment": "Production"},
    }
    assert verifier.verify(envelope(forged(made, {"alg": "ES256", "x5c": made.x5c}, summary)))


def test_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match=r"^presets\.apple_app_store needs bundle_id"):
        presets.apple_app_store()
    with pytest.raises(ConfigurationError, match="app_apple_id"):
        presets.apple_app_store(bundle_id="com.example")
    with pytest.raises(ConfigurationError, match="environment"):
        presets.apple_app_store(bundle_id="a", environment="Xcode", app_apple_id=1)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="root_certificates"):
        presets.apple_app_store(bundle_id="a", app_apple_id=1, root_certificates=[b"junk"])
    with pytest.raises(ConfigurationError, match="root_certificates"):
        presets.apple_app_store(bundle_id="a", app_apple_id=1, root_certificates=[])
    with pytest.raises(ConfigurationError, match="signed_body"):
        presets.apple_app_store(bundle_id="a", app_apple_id=1).signed_body({})
    sandbox = presets.apple_app_store(bundle_id="a", environment="Sandbox")
    assert sandbox.app_apple_id is None and "apple-root-ca-g3" in repr(sandbox)
