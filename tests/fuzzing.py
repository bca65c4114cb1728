"""Signed cases, seeds and the model of what each scheme protects, for the fuzz tests.

Every input is drawn from a ``random.Random`` seeded from ``SEED`` and the
test's name: the same seed gives the same inputs on every machine.
``WEBHOOKVERIFY_FUZZ_SEED`` changes the seed and ``WEBHOOKVERIFY_FUZZ_EXAMPLES``
how many inputs each test draws (a longer campaign: ``tools/fuzz.py``). The
inputs themselves are in ``fuzz_inputs``.

A :class:`Case` is one correctly signed request and a model of what its scheme
protects: :func:`meaning` reduces a verified request to exactly that, so a
mutation that still verifies but changes its meaning is a forgery.
"""

from __future__ import annotations

import atexit
import base64
import hashlib
import inspect
import json
import os
import random
import urllib.parse
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from webhookverify import TokenVerifier, Verification, WebhookRequest, presets
from webhookverify.testing import sign_request

from _apple import PAYLOAD, apple_verifier
from _fetched_cases import FETCHED, fetched_request, fetched_verifier

NOW = 1_700_000_000.0
URL = "https://hooks.example.test/webhooks?source=fuzz"
SECRET = "fuzz-secret-0123456789abcdef"
FORM_TYPE = "application/x-www-form-urlencoded"

SEED = int(os.environ.get("WEBHOOKVERIFY_FUZZ_SEED", "20261206"))
# Inputs per test at the default scale; the default keeps the fuzz files within
# about half a minute on a small CI machine.
EXAMPLES = int(os.environ.get("WEBHOOKVERIFY_FUZZ_EXAMPLES", "300"))


# How many inputs were tried in this process, for the campaign's report
# (``tools/fuzz.py`` sets WEBHOOKVERIFY_FUZZ_COUNT_FILE and reads the file back).
EXECUTIONS = [0]


def count(executions: int = 1) -> None:
    EXECUTIONS[0] += executions


def _write_count() -> None:
    path = os.environ.get("WEBHOOKVERIFY_FUZZ_COUNT_FILE")
    if path:
        with open(path, "w", encoding="ascii") as file:
            file.write(str(EXECUTIONS[0]))


atexit.register(_write_count)


def rng_for(name: str) -> random.Random:
    """A generator for one test: the seed and the test's name, so tests stay independent."""
    return random.Random(f"{SEED}:{name}")


# -- what each preset protects ------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One preset, a request it signed, and what its scheme covers.

    ``body``: ``"raw"`` (the bytes), ``"signed"`` (the message the signature
    covers, ``Verification.signed``: SNS signs fields of its JSON body),
    ``"form"`` (the decoded fields, name and value run together in name order,
    as Twilio, Mandrill and Plivo sign them), ``"payload"`` (Braintree's
    decoded ``bt_payload`` field), ``"signed_payload"`` (the JWS in an App
    Store notification's body) or
    ``"none"`` (Mailgun signs only its token and timestamp; tokens sign
    nothing). ``url`` and ``method``: the request's own URL and method are
    signed. The signed timestamp (unless ``timestamp`` is false: a verifier
    configured to accept a version that signs none) and delivery id are part of
    the meaning.
    """

    name: str
    verifier: Any
    request: WebhookRequest
    body: str = "raw"
    url: bool = False
    method: bool = False
    timestamp: bool = True


def url_key(url: str) -> tuple[str, ...]:
    """The URL as signing schemes see it: default ports and percent-escapes folded."""
    parts = urllib.parse.urlsplit(url)
    port = parts.port
    if (parts.scheme, port) in (("https", 443), ("http", 80)):
        port = None
    unquote = urllib.parse.unquote
    host = (parts.hostname or "").lower()
    return (parts.scheme.lower(), host, str(port), unquote(parts.path), unquote(parts.query))


def form_message(request: WebhookRequest, *, distinct: bool = False) -> str:
    """Twilio's and Mandrill's signed form text: every name and value, in name order.

    ``distinct``: a repeated identical pair counts once (Twilio's
    RequestValidator signs ``sorted(set(values))`` for each name).
    """
    pairs = request.form()
    return "".join(name + value for name, value in sorted(set(pairs) if distinct else pairs))


def meaning(case: Case, request: WebhookRequest, verification: Verification) -> tuple[Any, ...]:
    """What the scheme vouches for in a verified ``request``, by ``case``'s model."""
    found: list[Any] = [verification.timestamp if case.timestamp else None]
    found.append(verification.delivery_id)
    if case.body == "raw":
        found.append(request.body)
    elif case.body == "signed_payload":
        # Apple's JWS is what is signed; JSON whitespace around it is not
        found.append(json.loads(request.body)["signedPayload"])
    elif case.body == "signed":  # the fields the signature covers, as it covered them
        found.append(verification.signed)
    elif case.body == "form":
        found.append(form_message(request, distinct=case.name.startswith("twilio")))
    elif case.body == "payload":
        found.append(dict(request.form()).get("bt_payload"))
    if case.url:
        key = url_key(request.url)
        if case.name.startswith("twilio"):
            # Twilio's RequestValidator checks the URL with its port and with
            # any port removed: the port is not protected by the scheme
            key = key[:2] + key[3:]
        found.append(key)
    if case.method:
        found.append(request.method.upper())
    return tuple(found)


JSON_BODY = '{"event":"fuzz.test","data":{"n":1,"text":"h\u00e9llo \\/ \\\\x"}}'.encode()
FORM_BODY = b"AccountSid=AC123&Body=Hello+w%C3%B6rld%21&From=%2B15551234567&To=&Empty="


def _keys(name: str) -> dict[str, Any]:
    private: Any = ed25519.Ed25519PrivateKey.generate()
    if name == "sendgrid":
        private = ec.generate_private_key(ec.SECP256R1())
    return {"private_key": private, "public_key": private.public_key()}


def build_case(name: str) -> Case:
    """A verifier of preset ``name`` and a request it signed at ``NOW``."""
    if name in FETCHED:
        return _fetched_case(name)
    factory = getattr(presets, name)
    params = inspect.signature(factory).parameters
    # a key per preset: a request signed for one cannot verify for another
    # (base64 text, which Standard Webhooks secrets must be)
    secret = base64.b64encode(f"{SECRET}-{name}".encode()).decode()
    options: dict[str, Any] = {"secret": secret}
    for option in ("callback_url", "url", "notification_url"):
        if option in params:
            options[option] = URL
    if name in ("discord", "sendgrid", "telnyx"):
        options = _keys(name)
    elif name == "apple_app_store":
        verifier = apple_verifier()
        body = verifier.signed_body(PAYLOAD, NOW)
        request = sign_request(verifier, body, now=NOW, url=URL)
        return Case(name, verifier, request, body="signed_payload")
    elif name in ("squarespace", "close", "adyen"):  # a hex secret, hex-decoded into the key
        options = {"secret": f"{SECRET}-{name}".encode().hex()}
    elif name == "braintree":
        options["public_key"] = "fuzz_public_key"
    verifier = factory(**options)
    body, headers, kind = JSON_BODY, {"Content-Type": "application/json"}, "raw"
    if name == "linear":
        body = json.dumps({"action": "create", "webhookTimestamp": int(NOW * 1000)}).encode()
    elif name == "mailgun":
        body, kind = verifier.signed_body({"event": "delivered"}, NOW, token="t" * 50), "none"
    elif name == "dropbox_sign":
        # sign() gives the multipart Content-Type
        body, kind = verifier.signed_body({"signature_request": {"title": "t"}}, NOW), "none"
    elif name == "adyen":
        # Adyen signs eight fields of each item, carried in the body
        item = {"pspReference": "PSP1", "amount": {"value": 100, "currency": "EUR"}}
        body, kind = verifier.signed_body([dict(item, eventCode="AUTHORISATION")], NOW), "none"
    elif name == "braintree":
        payload = base64.encodebytes(b"<notification><kind>check</kind></notification>")
        body, headers, kind = verifier.signed_body(payload, NOW), {}, "payload"
    elif name in ("twilio", "mandrill", "plivo"):
        body, headers, kind = FORM_BODY, {"Content-Type": FORM_TYPE}, "form"
    elif isinstance(verifier, TokenVerifier) or name == "monday":
        # a token, Basic credentials, or monday.com's JWT: nothing of the body is signed
        kind = "none"
    request = sign_request(verifier, body, now=NOW, url=URL, headers=headers)
    return Case(
        name,
        verifier,
        request,
        body=kind,
        # Plivo's is the configured URL (url=), not the request's; Contentful
        # signs the path alone, not the scheme or host
        url=name in ("twilio", "hubspot"),
        method=name in ("hubspot", "contentful"),
    )


def _fetched_case(name: str) -> Case:
    """A fetched-key preset with its key given: SNS signs the fields of its
    message (``signed``), Google's token and Graph's client state sign no body."""
    verifier = fetched_verifier(name, f"{SECRET}-{name}")
    request = fetched_request(
        name, verifier, JSON_BODY, now=NOW, url=URL, headers={"Content-Type": "application/json"}
    )
    kind = {
        "aws_sns": "signed",
        "google_chat": "none",
        "google_oidc": "none",
        "microsoft_graph": "none",
    }.get(name, "raw")
    return Case(name, verifier, request, body=kind)


def extra_cases() -> list[Case]:
    """Verifiers built directly (not through a preset), in less common configurations."""
    from webhookverify import CavageSignatureVerifier, HmacVerifier, KeyValueHeader
    from webhookverify.verifiers.asymmetric import PublicKeyVerifier
    from webhookverify.verifiers.standard import StandardWebhooksVerifier

    private = ed25519.Ed25519PrivateKey.generate()
    verifiers: list[tuple[str, Any]] = [
        (
            "hmac-list",
            HmacVerifier(
                secret=SECRET + "-list",
                header="X-Sig",
                encoding="base64",
                prefix="v1=",
                delimiter=" ",
                template="{id}.{timestamp}.{body}",
                timestamp_header="X-Time",
                id_header="X-Id",
            ),
        ),
        (
            "hmac-kv",
            HmacVerifier(
                secret=SECRET + "-kv",
                header="X-Sig",
                algorithm="sha512",
                header_format=KeyValueHeader(timestamp_key="ts", signature_key="s", separator=";"),
                template="{timestamp}:{body}",
                timestamp_format="unix_ms",
            ),
        ),
        ("token", TokenVerifier(secret=SECRET, header="X-Token")),
        (
            "ed25519",
            PublicKeyVerifier(
                algorithm="ed25519",
                private_key=private,
                public_key=private.public_key(),
                header="X-Sig",
                template="{timestamp}{body}",
                timestamp_header="X-Time",
                timestamp_format="rfc3339",
            ),
        ),
        (
            "standard-asymmetric",
            StandardWebhooksVerifier(private_key=private, public_key=private.public_key()),
        ),
        (
            # draft-cavage: the request line, Host, Date and Digest are signed
            "cavage-ed25519",
            CavageSignatureVerifier(keys={"k": private.public_key()}, signing_keys={"k": private}),
        ),
    ]
    cases = []
    for name, verifier in verifiers:
        request = sign_request(verifier, JSON_BODY, now=NOW, url=URL, id="msg_fuzz")
        cases.append(Case(name, verifier, request, body="none" if name == "token" else "raw"))
    return cases


def variant_cases() -> list[Case]:
    """Presets with other body shapes: Mailgun's form and multipart posts, Twilio's
    JSON (``bodySHA256`` in the URL) and HubSpot with every version allowed."""
    mailgun = build_case("mailgun")
    fields = json.loads(mailgun.request.body)["signature"]
    form = urllib.parse.urlencode({"event": "delivered", **fields}).encode()
    boundary = "fuzzboundary"
    multipart = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in {"event": "delivered", **fields}.items()
    )
    multipart += f"--{boundary}--\r\n"
    twilio = presets.twilio(secret=f"{SECRET}-twilio-json")
    json_url = f"{URL}&bodySHA256={hashlib.sha256(JSON_BODY).hexdigest()}"
    hubspot = presets.hubspot(secret=f"{SECRET}-hubspot", versions=("v1", "v2", "v3"))
    return [
        Case(
            "mailgun-form",
            mailgun.verifier,
            mailgun.request.replace(body=form, headers={"Content-Type": FORM_TYPE}),
            body="none",
        ),
        Case(
            "mailgun-multipart",
            mailgun.verifier,
            mailgun.request.replace(
                body=multipart.encode(),
                headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            ),
            body="none",
        ),
        Case(
            "twilio-json",
            twilio,
            sign_request(twilio, JSON_BODY, now=NOW, url=json_url),
            url=True,
        ),
        Case(
            "hubspot-all-versions",
            hubspot,
            sign_request(hubspot, JSON_BODY, now=NOW, url=URL),
            url=True,
            method=True,
            timestamp=False,  # v1 and v2, allowed here, sign no timestamp
        ),
    ]


def all_cases() -> list[Case]:
    return [build_case(name) for name in presets.PRESETS] + extra_cases() + variant_cases()
