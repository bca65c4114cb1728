"""Project Wycheproof HMAC vectors and the providers' HMAC documentation vectors."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from webhookverify import HmacVerifier, Secret, VerificationError, WebhookRequest

from _vectors import providers, wycheproof, wycheproof_id

FILES = {
    "sha1": "hmac_sha1_test.json",
    "sha256": "hmac_sha256_test.json",
    "sha512": "hmac_sha512_test.json",
}
DIGEST_BITS = {"sha1": 160, "sha256": 256, "sha512": 512}

CASES = [
    pytest.param(algorithm, group, test, id=f"{algorithm}-{wycheproof_id((group, test))}")
    for algorithm, name in FILES.items()
    for group, test in wycheproof(name)
]


@pytest.mark.parametrize(("algorithm", "group", "test"), CASES)
@pytest.mark.parametrize("encoding", ["hex", "base64"])
def test_wycheproof(
    algorithm: str, group: dict[str, Any], test: dict[str, Any], encoding: Any
) -> None:
    key = bytes.fromhex(test["key"])
    if not key:
        pytest.skip("an empty key is refused at construction (tested in test_keys)")
    verifier = HmacVerifier(secret=Secret(key), header="S", algorithm=algorithm, encoding=encoding)
    tag = bytes.fromhex(test["tag"])
    text = tag.hex() if encoding == "hex" else base64.b64encode(tag).decode()
    request = WebhookRequest(headers={"S": text}, body=bytes.fromhex(test["msg"]))
    full_length = group["tagSize"] == DIGEST_BITS[algorithm]
    if full_length and test["result"] == "valid":
        assert verifier.verify(request).key_id == "secret[0]"
    else:
        # invalid tags, and every truncated tag (valid for truncated HMAC, never for us)
        with pytest.raises(VerificationError):
            verifier.verify(request)


def test_wycheproof_coverage() -> None:
    full_valid = sum(
        1
        for algorithm, name in FILES.items()
        for group, test in wycheproof(name)
        if group["tagSize"] == DIGEST_BITS[algorithm] and test["result"] == "valid"
    )
    assert full_valid >= 90  # the files hold 99; guards against a loader that finds none


HMAC_BODY = [v for v in providers() if v["provider"] in ("github", "tiki")]


@pytest.mark.parametrize("vector", HMAC_BODY, ids=[v["id"] for v in HMAC_BODY])
def test_provider_documentation_vectors(vector: dict[str, Any]) -> None:
    params = vector["scheme_params"]
    verifier = HmacVerifier(
        secret=vector["secret"],
        header=params["header"],
        algorithm=params["algorithm"],
        # GitHub sends lower-case hex and its SDKs compare the text byte-exact
        encoding="hex_lower"
        if params["encoding"] == "hex" and vector["provider"] == "github"
        else params["encoding"],
        prefix=params.get("prefix", ""),
    )
    request = WebhookRequest(headers=vector["headers"], body=vector["body"].encode("utf-8"))
    if vector["expected"] == "valid":
        verifier.verify(request)
    else:
        with pytest.raises(VerificationError):
            verifier.verify(request)
