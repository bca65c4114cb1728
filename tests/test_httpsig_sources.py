"""HttpMessageSignatureVerifier with keys a sender publishes: a key source by keyid.

The RFC 9421 Appendix B examples verified with their keys handed out by a key
source (configured, and fetched as a JWK Set from a local HTTPS server over
loopback); the algorithm held to the configuration whatever the key, the
message or the key's publisher say; nothing fetched for a signature that
fails a check needing no key; a sender whose keys cannot be fetched answered
503; and the verifier contract.
"""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from webhookverify import (
    ConfigurationError,
    Handler,
    HandlerRegistry,
    HttpMessageSignatureVerifier,
    Receiver,
    Secret,
    VerificationError,
    WebhookRequest,
)
from webhookverify.keyfetch import FixedKeys, JwksSource

from _keyserver import KeyServer, Route, b64url, jwk, jwks
from contract import NOW, VerifierContract

VECTORS = json.loads(
    (Path(__file__).parent / "vectors" / "rfc9421" / "appendix_b.json").read_text("utf-8")
)
EXAMPLES = {example["section"]: example for example in VECTORS["examples"]}
CREATED = 1618884473.0
KEYS_URL = "https://keys.example.test/.well-known/jwks.json"
ED25519 = "test-key-ed25519"
RSA_PSS = "test-key-rsa-pss"


def rfc_public(key_id: str) -> Any:
    return serialization.load_pem_public_key(VECTORS["keys"][key_id]["public_key"].encode())


def rfc_request(section: str) -> WebhookRequest:
    message, example = VECTORS["request"], EXAMPLES[section]
    headers = [tuple(h) for h in message["headers"]]
    headers += [("Signature-Input", example["signature_input"])]
    headers += [("Signature", example["signature"])]
    return WebhookRequest(
        method=message["method"],
        url=message["url"],
        headers=headers,
        body=message["body"].encode("utf-8"),
        received_at=CREATED,
    )


def with_input(request: WebhookRequest, signature_input: str) -> WebhookRequest:
    headers = [(k, v) for k, v in request.headers.raw_items() if k != "Signature-Input"]
    return request.replace(headers=[*headers, ("Signature-Input", signature_input)])


def fixed(**options: Any) -> HttpMessageSignatureVerifier:
    keys = FixedKeys({ED25519: rfc_public(ED25519), RSA_PSS: rfc_public(RSA_PSS)})
    return HttpMessageSignatureVerifier(
        keys=keys, algorithms=options.pop("algorithms", ("ed25519", "rsa-pss-sha512")), **options
    )


def reason(verifier: Any, request: WebhookRequest) -> str:
    with pytest.raises(VerificationError) as info:
        verifier.verify(request, now=CREATED)
    return str(info.value.reason)


def ed25519_jwk(key: Any, kid: str, **extra: Any) -> dict[str, Any]:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "kid": kid, "x": b64url(raw), **extra}


# -- the RFC's examples, keys from a source -----------------------------------------


@pytest.mark.parametrize("section", ["B.2.1", "B.2.2", "B.2.3", "B.2.6"])
def test_rfc_examples_verify_with_keys_from_a_source(section: str) -> None:
    verifier = fixed(required_components=())
    result = verifier.verify(rfc_request(section), now=CREATED)
    assert result.key_id == EXAMPLES[section]["keyid"]
    assert result.scheme == VECTORS["keys"][result.key_id]["algorithm"]
    assert asyncio.run(verifier.averify(rfc_request(section), now=CREATED)) == result


def test_a_key_source_is_refused_without_algorithms_and_hmac_is_never_fetched() -> None:
    keys = FixedKeys({ED25519: rfc_public(ED25519)})
    with pytest.raises(ConfigurationError, match="algorithms="):
        HttpMessageSignatureVerifier(keys=keys)
    with pytest.raises(ConfigurationError, match="hmac-sha256"):
        HttpMessageSignatureVerifier(keys=keys, algorithms=("ed25519", "hmac-sha256"))
    with pytest.raises(ConfigurationError, match=r"use one of"):
        HttpMessageSignatureVerifier(keys=keys, algorithms=("rsa-sha1",))
    with pytest.raises(ConfigurationError, match="goes with a key source"):
        HttpMessageSignatureVerifier(keys={ED25519: ("ed25519", rfc_public(ED25519))}, algorithms=("ed25519",))  # fmt: skip


# -- the algorithm is the configuration's ---------------------------------------------


def test_a_key_of_a_type_no_configured_algorithm_takes_is_refused() -> None:
    # the RSA key fetched for keyid test-key-rsa-pss, but only Ed25519 configured
    verifier = fixed(algorithms=("ed25519",), required_components=())
    assert reason(verifier, rfc_request("B.2.2")) == "algorithm_mismatch"
    assert verifier.verify(rfc_request("B.2.6"), now=CREATED).key_id == ED25519


def test_the_message_alg_chooses_only_among_configured_algorithms_fitting_the_key() -> None:
    request = rfc_request("B.2.6")
    stated = EXAMPLES["B.2.6"]["signature_input"]
    # alg names an algorithm the configuration lacks: refused before any key is looked up
    verifier = fixed(algorithms=("ed25519",), required_components=())
    assert reason(verifier, with_input(request, stated + ';alg="rsa-pss-sha512"')) == (
        "algorithm_mismatch"
    )
    # alg names a configured algorithm the key (Ed25519) does not fit
    assert reason(
        fixed(required_components=()), with_input(request, stated + ';alg="rsa-pss-sha512"')
    ) == ("algorithm_mismatch")
    # alg naming the key's own algorithm is the same signature base: still refused,
    # since the signature covers the parameters (RFC 9421 §2.5) and alg was added
    assert reason(
        fixed(required_components=()), with_input(request, stated + ';alg="ed25519"')
    ) == ("signature_mismatch")


def test_an_rsa_key_with_both_rsa_algorithms_needs_the_message_to_state_one() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    both = ("rsa-pss-sha512", "rsa-v1_5-sha256")
    signer = HttpMessageSignatureVerifier(
        keys={"k": ("rsa-v1_5-sha256", key.public_key())}, signing_keys={"k": key}
    )
    source = FixedKeys({"k": key.public_key()})
    verifier = HttpMessageSignatureVerifier(keys=source, algorithms=both)
    body = b'{"event": "ping"}'
    unstated = signer.sign(body, NOW, url="https://hooks.example.test/in")
    request = WebhookRequest(
        url="https://hooks.example.test/in", headers=unstated, body=body, received_at=NOW
    )
    with pytest.raises(VerificationError, match="several"):
        verifier.verify(request)
    stated = signer.sign(body, NOW, url="https://hooks.example.test/in", alg="1")
    assert verifier.verify(request.replace(headers=stated)).scheme == "rsa-v1_5-sha256"
    # with one RSA algorithm configured, the key's type decides
    only = HttpMessageSignatureVerifier(keys=source, algorithms=("rsa-v1_5-sha256",))
    assert only.verify(request).scheme == "rsa-v1_5-sha256"


# -- fetched keys ----------------------------------------------------------------------


def rfc_jwks() -> bytes:
    ed_public = rfc_public(ED25519)
    assert isinstance(ed_public, ed25519.Ed25519PublicKey)
    return jwks(ed25519_jwk(ed_public, ED25519), jwk(rfc_public(RSA_PSS), RSA_PSS))


def fetched(server: KeyServer, **options: Any) -> HttpMessageSignatureVerifier:
    source = JwksSource(KEYS_URL, fetcher=server.fetcher())
    return HttpMessageSignatureVerifier(
        keys=source,
        algorithms=options.pop("algorithms", ("ed25519", "rsa-pss-sha512")),
        **options,
    )


def test_keys_fetched_as_a_jwk_set_verify_the_rfc_examples_with_one_fetch(
    fresh: KeyServer,
) -> None:
    fresh.routes[("keys.example.test", "/.well-known/jwks.json")] = Route(rfc_jwks())
    verifier = fetched(fresh, required_components=())
    for section in ("B.2.1", "B.2.2", "B.2.3", "B.2.6"):
        request = rfc_request(section)
        assert verifier.verify(request, now=CREATED).key_id == EXAMPLES[section]["keyid"]
        assert (
            asyncio.run(verifier.averify(request, now=CREATED)).key_id
            == (EXAMPLES[section]["keyid"])
        )
    assert fresh.hits == {"keys.example.test/.well-known/jwks.json": 1}


def test_nothing_is_fetched_for_a_signature_that_fails_a_check_needing_no_key(
    fresh: KeyServer,
) -> None:
    fresh.routes[("keys.example.test", "/.well-known/jwks.json")] = Route(rfc_jwks())
    verifier = fetched(fresh)  # content-digest required, created within 300 s
    refused = {
        "uncovered_component": rfc_request("B.2.6"),  # B.2.6 does not cover the body
        "timestamp_too_old": rfc_request("B.2.3"),  # judged a day later
        "algorithm_mismatch": with_input(
            rfc_request("B.2.3"), EXAMPLES["B.2.3"]["signature_input"] + ';alg="hmac-sha256"'
        ),
    }
    for expected, request in refused.items():
        now = CREATED + 86400 if expected == "timestamp_too_old" else CREATED
        with pytest.raises(VerificationError) as info:
            verifier.verify(request, now=now)
        assert info.value.reason == expected
        with pytest.raises(VerificationError):
            asyncio.run(verifier.averify(request, now=now))
    assert not fresh.hits


def test_a_publisher_alg_that_disagrees_is_refused(fresh: KeyServer) -> None:
    # the RSA key published for RS256 (PKCS#1 v1.5) is not used for RSA-PSS
    ed_public = rfc_public(ED25519)
    published = jwks(
        ed25519_jwk(ed_public, ED25519), jwk(rfc_public(RSA_PSS), RSA_PSS, alg="RS256")
    )
    fresh.routes[("keys.example.test", "/.well-known/jwks.json")] = Route(published)
    verifier = fetched(fresh, required_components=())
    assert reason(verifier, rfc_request("B.2.2")) == "algorithm_mismatch"
    assert verifier.verify(rfc_request("B.2.6"), now=CREATED).key_id == ED25519


def test_unknown_keyids_cost_one_refetch(fresh: KeyServer) -> None:
    fresh.routes[("keys.example.test", "/.well-known/jwks.json")] = Route(rfc_jwks())
    verifier = fetched(fresh, required_components=())
    stated = EXAMPLES["B.2.6"]["signature_input"]
    for n in range(50):
        forged = stated.replace(f'keyid="{ED25519}"', f'keyid="forged-{n}"')
        assert reason(verifier, with_input(rfc_request("B.2.6"), forged)) == "unknown_key"
    assert fresh.hits == {"keys.example.test/.well-known/jwks.json": 1}


def test_a_sender_whose_keys_cannot_be_fetched_is_answered_503(fresh: KeyServer) -> None:
    fresh.routes[("keys.example.test", "/.well-known/jwks.json")] = Route(b"down", 503)
    verifier = fetched(fresh, required_components=())
    receiver = Receiver(HandlerRegistry([Handler("signed", verifier)]))
    outcome = receiver.receive(rfc_request("B.2.6"), now=CREATED)
    assert (outcome.status, outcome.reason) == (503, "key_unavailable")
    assert dict(outcome.headers)["Retry-After"] == "30"
    later = asyncio.run(receiver.areceive(rfc_request("B.2.6"), now=CREATED))
    assert later.status == 503


# -- the contract ------------------------------------------------------------------------


class TestKeySourceContract(VerifierContract):
    signs_timestamp = True
    random_bodies = 4

    def new_key(self, index: int, **window: float) -> Any:
        key = ed25519.Ed25519PrivateKey.from_private_bytes(bytes([index + 1]) * 32)
        pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return (Secret(pem, key_id=f"k{index}", **window), key)

    def make(self, keys: list[Any]) -> HttpMessageSignatureVerifier:
        return HttpMessageSignatureVerifier(
            keys=FixedKeys([public for public, _ in keys]),
            algorithms=("ed25519",),
            signing_keys={public.key_id: private for public, private in keys},
            required_components=("@method", "@target-uri", "content-digest"),
        )

    def signature_headers(self, verifier: Any) -> tuple[str, ...]:
        return ("Signature-Input", "Content-Digest")

    def test_wrong_key_rejected(self) -> None:
        # the key is found by keyid: a wrong key is other material under the same id
        signer = self.make([self.new_key(0)])
        (public, private), (other, _) = self.new_key(0), self.new_key(1)
        verifier = self.make([(Secret(other.value, key_id=public.key_id), private)])
        with pytest.raises(VerificationError) as info:
            verifier.verify(self.signed(signer), now=NOW)
        assert info.value.reason == "signature_mismatch"
        with pytest.raises(VerificationError) as info:
            self.make([self.new_key(1)]).verify(self.signed(signer), now=NOW)
        assert info.value.reason == "unknown_key"


def test_the_signature_is_the_rfc_one_whatever_the_source() -> None:
    # the same bytes verify through a mapping and through a source, and a
    # one-bit change is refused by both
    request = rfc_request("B.2.6")
    raw = bytearray(base64.b64decode(EXAMPLES["B.2.6"]["signature"].split("=", 1)[1].strip(":")))
    raw[0] ^= 1
    flipped = request.replace(
        headers=[
            *[(k, v) for k, v in request.headers.raw_items() if k != "Signature"],
            ("Signature", f"sig-b26=:{base64.b64encode(bytes(raw)).decode()}:"),
        ]
    )
    mapping = HttpMessageSignatureVerifier(
        keys={ED25519: ("ed25519", rfc_public(ED25519))}, required_components=()
    )
    for verifier in (mapping, fixed(required_components=())):
        assert verifier.verify(request, now=CREATED).key_id == ED25519
        assert reason(verifier, flipped) == "signature_mismatch"


def test_one_request_looks_up_at_most_two_keys(fresh: KeyServer) -> None:
    # eight signatures, each naming another key of a key-by-id endpoint: a
    # request that makes the receiver fetch eight times on its behalf
    from webhookverify.keyfetch import KeyById

    def no_key(body: bytes, kid: str) -> Any:
        raise AssertionError("every key endpoint answers 404 here")

    def verifier() -> HttpMessageSignatureVerifier:  # a new source: nothing cached
        source = KeyById(
            "https://keys.example.test/keys/{kid}", parse=no_key, fetcher=fresh.fetcher()
        )
        return HttpMessageSignatureVerifier(
            keys=source, algorithms=("ed25519",), required_components=()
        )

    example = EXAMPLES["B.2.6"]
    covered = example["signature_input"].split("=", 1)[1]
    value = example["signature"].split("=", 1)[1]
    inputs = ", ".join(
        f"s{n}=" + covered.replace(f'keyid="{ED25519}"', f'keyid="k{n}"') for n in range(8)
    )
    values = ", ".join(f"s{n}={value}" for n in range(8))
    request = with_input(rfc_request("B.2.6"), inputs)
    request = request.replace(
        headers=[
            *[(k, v) for k, v in request.headers.raw_items() if k != "Signature"],
            ("Signature", values),
        ]
    )

    def in_sync() -> None:
        verifier().verify(request, now=CREATED)

    def in_async() -> None:
        asyncio.run(verifier().averify(request, now=CREATED))

    for check in (in_sync, in_async):
        fresh.hits.clear()
        with pytest.raises(VerificationError):
            check()
        assert fresh.hits == {"keys.example.test/keys/k0": 1, "keys.example.test/keys/k1": 1}
