"""GoCardless, Onfido, Paystack, Webflow, Recurly, Flutterwave and Chargebee: their
vectors, their documented algorithms as oracles, and the verifier contract.

The vectors are in tests/vectors/providers_more_d.json, each with its source:
GoCardless's come from gocardless-pro-java's tests and Onfido's from
onfido-python's; Paystack, Webflow and Recurly publish no complete vector, and
Flutterwave and Chargebee sign nothing, so theirs are built from the
documentation and labelled so.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any, ClassVar

import pytest

from webhookverify import VerificationError, WebhookRequest, presets

from _vectors import check_sources, check_vector, provider_file, vector_request
from contract import NOW
from preset_contracts import PresetContract, UnsignedBodyContract

FILE = "providers_more_d.json"
# provider in the file -> (preset, number of vectors)
PROVIDERS: dict[str, tuple[str, int]] = {
    "gocardless": ("gocardless", 2),
    "onfido": ("onfido", 2),
    "paystack": ("paystack", 2),
    "webflow": ("webflow", 3),
    "recurly": ("recurly", 4),
    "flutterwave": ("flutterwave", 2),
    "chargebee": ("chargebee", 2),
}
VECTORS = provider_file(FILE)
VALID = [v for v in VECTORS if v["expected"] == "valid"]
TOKENS = ("flutterwave", "chargebee")  # nothing is signed: the body is not covered


def preset_for(vector: dict[str, Any], **override: Any) -> Any:
    """The preset for a vector's sender, built from the vector's data only."""
    name = PROVIDERS[vector["provider"]][0]
    keys = {"secret": override.get("secret", vector["secret"])}
    if name == "chargebee":
        return presets.chargebee(username=vector["scheme_params"]["username"], **keys)
    return getattr(presets, name)(**keys)


def request_for(vector: dict[str, Any]) -> WebhookRequest:
    request: WebhookRequest = vector_request(vector, NOW)
    return request


def test_every_provider_has_its_vectors_with_a_source() -> None:
    check_sources(FILE, {provider: count for provider, (_, count) in PROVIDERS.items()})


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["id"])
def test_vector(vector: dict[str, Any]) -> None:
    check_vector(preset_for(vector), vector, NOW, skew=1)


@pytest.mark.parametrize("vector", VALID, ids=lambda v: v["id"])
def test_vector_with_another_key_is_refused(vector: dict[str, Any]) -> None:
    verifier = preset_for(vector, secret="another-secret-of-the-same-kind")
    with pytest.raises(VerificationError) as info:
        verifier.verify(request_for(vector), now=vector.get("now"))
    assert info.value.reason == "signature_mismatch"


@pytest.mark.parametrize("vector", VALID, ids=lambda v: v["id"])
def test_vector_with_one_more_body_byte_is_refused(vector: dict[str, Any]) -> None:
    request = request_for(vector)
    longer = request.replace(body=request.body + b" ")
    if vector["provider"] in TOKENS:
        # the documented limit of a token: it does not cover the body
        assert preset_for(vector).verify(longer).key_id is not None
        return
    with pytest.raises(VerificationError):
        preset_for(vector).verify(longer, now=vector.get("now"))


# -- the documented algorithms as oracles --------------------------------------------------


@pytest.mark.parametrize(
    ("name", "header", "digest"),
    [
        ("paystack", "x-paystack-signature", hashlib.sha512),
        ("gocardless", "Webhook-Signature", hashlib.sha256),
        ("onfido", "X-SHA2-Signature", hashlib.sha256),
    ],
)
def test_raw_body_presets_sign_as_their_senders(name: str, header: str, digest: Any) -> None:
    secret, body = "oracle-secret", b'{"event":"charge.success","data":{"id":1}}'
    verifier = getattr(presets, name)(secret=secret)
    expected = hmac.new(secret.encode(), body, digest).hexdigest()
    assert verifier.sign(body)[header] == expected
    # the SDKs compare lower-case hex text: upper case is not what the sender sends
    request = WebhookRequest(headers={header: expected}, body=body)
    assert verifier.verify(request).scheme == f"{name}-hmac-{digest().name}"


def test_paystack_is_sha512_and_refuses_a_sha256_signature_of_the_right_length() -> None:
    verifier = presets.paystack(secret="sk_test_k")
    assert verifier.algorithm == "sha512"
    body = b"{}"
    doubled = hmac.new(b"sk_test_k", body, hashlib.sha256).hexdigest() * 2
    with pytest.raises(VerificationError):
        verifier.verify(WebhookRequest(headers={"x-paystack-signature": doubled}, body=body))


def test_webflow_signs_milliseconds_and_a_colon() -> None:
    (vector,) = [v for v in VECTORS if v["id"] == "webflow-doc-algorithm-valid"]
    stamp = vector["headers"]["x-webflow-timestamp"]
    message = f"{stamp}:{vector['body']}".encode()
    expected = hmac.new(vector["secret"].encode(), message, hashlib.sha256).hexdigest()
    assert vector["headers"]["x-webflow-signature"] == expected
    verifier = presets.webflow(secret=vector["secret"])
    made = verifier.sign(vector["body"].encode(), timestamp=stamp)
    assert made["x-webflow-signature"] == expected
    # t is read as milliseconds: a clock showing the same number in seconds is far later
    with pytest.raises(VerificationError) as info:
        verifier.verify(request_for(vector), now=float(stamp))
    assert info.value.reason == "timestamp_too_old"


def test_recurly_reads_a_timestamp_then_signatures() -> None:
    (vector,) = [v for v in VECTORS if v["id"] == "recurly-doc-algorithm-rotation"]
    stamp, old, new = vector["headers"]["recurly-signature"].split(",")
    key = vector["secret"].encode()
    assert hmac.new(key, f"{stamp}.{vector['body']}".encode(), hashlib.sha256).hexdigest() == new
    verifier = presets.recurly(secret=vector["secret"])
    assert verifier.sign(vector["body"].encode(), timestamp=stamp) == {
        "recurly-signature": f"{stamp},{new}"
    }
    body = vector["body"].encode()
    # t is read as milliseconds: a clock showing the same number in seconds is far later
    with pytest.raises(VerificationError) as info:
        verifier.verify(request_for(vector), now=float(stamp))
    assert info.value.reason == "timestamp_too_old"
    for header in (stamp, f"{stamp},", f",{new}", f"{stamp},,{new}", ",".join([stamp] + [old] * 5)):
        request = WebhookRequest(headers={"recurly-signature": header}, body=body)
        with pytest.raises(VerificationError) as info:
            verifier.verify(request, now=vector["now"])
        assert info.value.reason == "malformed_header", header
    # spaces after the commas, as a proxy may fold them, are tolerated
    spaced = WebhookRequest(headers={"Recurly-Signature": f"{stamp}, {old}, {new}"}, body=body)
    assert verifier.verify(spaced, now=vector["now"]).scheme == "recurly-hmac-sha256"


def test_token_headers() -> None:
    flutterwave = presets.flutterwave(secret="hash")
    assert flutterwave.required_headers == ("verif-hash",)
    assert flutterwave.verify(WebhookRequest(headers={"verif-hash": "hash"})).scheme == (
        "flutterwave-token"
    )
    verifier = presets.chargebee(secret="pw", username="hooks")
    assert verifier.required_headers == ("Authorization",)
    good = "Basic " + base64.b64encode(b"hooks:pw").decode()
    assert verifier.verify(WebhookRequest(headers={"Authorization": good})).scheme == (
        "chargebee-basic"
    )
    with pytest.raises(VerificationError):
        verifier.verify(WebhookRequest(headers={"Authorization": "Bearer pw"}))


# -- what each preset pins -----------------------------------------------------------------


def test_documented_windows_and_replay_ids() -> None:
    recurly = presets.recurly(secret="k")
    assert presets.recurly.__module__ == type(recurly).__module__  # factory beside verifier
    assert (recurly.tolerance, recurly.future_tolerance, recurly.replay_default) == (
        300,
        300,
        presets.webflow(secret="k").replay_default,
    )
    webflow = presets.webflow(secret="k")
    assert (webflow.tolerance, webflow.future_tolerance, webflow.id_field) == (300, 300, None)
    assert webflow.timestamp_format == "unix_ms"
    for name in ("paystack", "gocardless", "onfido"):
        verifier = getattr(presets, name)(secret="k")
        # no timestamp is read, so no window applies; no id is signed
        assert (verifier.timestamp_header, verifier.id_field, verifier.encoding) == (
            None,
            None,
            "hex_lower",
        ), name
    for name in TOKENS:
        assert getattr(presets, name)(secret="t").replay_default == "off"


# -- the contract ---------------------------------------------------------------------------


class TestPaystack(PresetContract):
    preset = "paystack"


class TestGoCardless(PresetContract):
    preset = "gocardless"


class TestOnfido(PresetContract):
    preset = "onfido"


class TestWebflow(PresetContract):
    preset = "webflow"
    signs_timestamp = True

    def signature_headers(self, verifier: Any) -> tuple[str, ...]:
        return ("x-webflow-signature", "x-webflow-timestamp")


class TestRecurly(PresetContract):
    preset = "recurly"
    signs_timestamp = True


class TestFlutterwave(UnsignedBodyContract):
    preset = "flutterwave"


class TestChargebee(UnsignedBodyContract):
    preset = "chargebee"
    options: ClassVar[dict[str, Any]] = {"username": "chargebee-hooks"}
