"""Work done before a signature is known to be good is bounded.

A request with a wrong signature may cost a small constant plus one pass of
hashing over the body per candidate handler. Where the signed message must be
derived from the body (form fields, multipart parts, Box's escaped form), the
derivation is bounded by named limits and refused with ``body_over_limit``
before anything past the limit is read. Timings live in
``benchmarks/bench_preauth.py``; these tests check the structure that makes
them hold.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webhookverify import BodyOverLimit, MalformedBody, VerificationError, WebhookRequest, presets
from webhookverify._form import MAX_FORM_FIELDS, parse_form
from webhookverify.presets import _box
from webhookverify.presets._box import MAX_ESCAPE_RUNS, MAX_ESCAPED_BYTES, escape_body
from webhookverify.presets._multipart import MAX_PART_HEADER, MAX_PARTS, multipart_fields

from contract import NOW

PROPERTY = settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
URL = "https://hooks.example.test/webhooks/incoming"
FORM = "application/x-www-form-urlencoded"
MAILGUN_KEY = "mailgun-webhook-signing-key"


def refusal(verifier: Any, request: WebhookRequest) -> VerificationError:
    with pytest.raises(VerificationError) as info:
        verifier.verify(request, now=NOW)
    return info.value


# -- forms: Twilio, Mandrill, Mailgun ------------------------------------------------------


def too_many_fields(tail: bytes) -> bytes:
    """MAX_FORM_FIELDS + 1 fields, the last one ``tail``."""
    return b"a=1&" * MAX_FORM_FIELDS + tail


@pytest.mark.parametrize("tail", [b"b=2", b"\xff=%ZZ", b"novalue"])
def test_a_form_over_the_field_bound_is_refused_before_it_is_decoded(tail: bytes) -> None:
    # the last field, past the bound, would be malformed: it is never read
    with pytest.raises(BodyOverLimit) as info:
        parse_form(too_many_fields(tail))
    assert info.value.reason == "body_over_limit"
    assert info.value.limit == "MAX_FORM_FIELDS"
    assert isinstance(info.value, MalformedBody)
    assert len(parse_form(b"a=1&" * (MAX_FORM_FIELDS - 1) + b"b=2")) == MAX_FORM_FIELDS


@pytest.mark.parametrize(
    ("name", "options", "headers"),
    [
        ("twilio", {"public_url": URL}, {"X-Twilio-Signature": "A" * 27 + "="}),
        ("mandrill", {"url": URL}, {"X-Mandrill-Signature": "A" * 27 + "="}),
        ("mailgun", {}, {"Content-Type": FORM}),
    ],
)
def test_form_presets_refuse_too_many_fields_with_a_reason(
    name: str, options: dict[str, str], headers: dict[str, str]
) -> None:
    verifier = getattr(presets, name)(secret="k", **options)
    request = WebhookRequest(url=URL, headers=headers, body=too_many_fields(b"b=2"))
    error = refusal(verifier, request)
    assert error.reason == "body_over_limit"


form_pairs = st.lists(st.tuples(st.text(max_size=10), st.text(max_size=20)), max_size=12)


@PROPERTY
@given(pairs=form_pairs)
def test_parse_form_reads_what_parse_qsl_reads(pairs: list[tuple[str, str]]) -> None:
    body = urllib.parse.urlencode(pairs).encode()
    expected = urllib.parse.parse_qsl(
        body.decode(), keep_blank_values=True, strict_parsing=True, errors="strict"
    )
    assert parse_form(body) == expected == pairs
    quoted = urllib.parse.urlencode(pairs, quote_via=urllib.parse.quote).encode()
    assert parse_form(quoted) == pairs


@pytest.mark.parametrize(
    "body",
    [b"a=%", b"a=%4", b"a=%zz", b"a=%%41", b"a=%=", b"a=%41%", b"a=%0A\n", b"a=%C3", b"&a=1"],
)
def test_parse_form_refuses_what_is_not_form_data(body: bytes) -> None:
    with pytest.raises(MalformedBody):
        parse_form(body)


def test_parse_form_keeps_only_the_names_asked_for() -> None:
    body = b"token=t&x=%C3%A9&timestamp=1&x=%FF%FF"  # the values not asked for are not decoded
    assert parse_form(body, ("token", "timestamp")) == [("token", "t"), ("timestamp", "1")]


# -- Mailgun's multipart form --------------------------------------------------------------


def part(name: str, value: bytes, boundary: bytes = b"x") -> bytes:
    head = f'Content-Disposition: form-data; name="{name}"'.encode()
    return b"--" + boundary + b"\r\n" + head + b"\r\n\r\n" + value + b"\r\n"


def mailgun_parts(key: str = MAILGUN_KEY) -> list[bytes]:
    token, stamp = "a" * 50, "1700000000"
    signature = hmac.new(key.encode(), (stamp + token).encode(), hashlib.sha256).hexdigest()
    values = {"token": token, "timestamp": stamp, "signature": signature}
    return [part(name, value.encode()) for name, value in values.items()]


MULTIPART = {"Content-Type": "multipart/form-data; boundary=x"}


def test_multipart_over_the_part_bound_is_refused_before_the_rest_is_read() -> None:
    filler = [part("f", b"1")] * (MAX_PARTS - 3)
    within = b"".join([*mailgun_parts(), *filler]) + b"--x--\r\n"
    verifier = presets.mailgun(secret=MAILGUN_KEY)
    assert verifier.verify(WebhookRequest(headers=MULTIPART, body=within), now=NOW).delivery_id
    # one part more, and what follows it is not multipart at all: never reached
    over = b"".join([*filler, part("f", b"1"), *mailgun_parts(), part("g", b"2")]) + b"\xff" * 64
    error = refusal(verifier, WebhookRequest(headers=MULTIPART, body=over))
    assert isinstance(error, BodyOverLimit)
    assert (error.reason, error.limit) == ("body_over_limit", "MAX_PARTS")


def test_multipart_part_header_is_bounded() -> None:
    long_head = b'--x\r\nContent-Disposition: form-data; name="token"' + b" " * MAX_PART_HEADER
    body = long_head + b"\r\n\r\nvalue\r\n--x--\r\n"
    with pytest.raises(BodyOverLimit) as info:
        multipart_fields(MULTIPART["Content-Type"], body, ("token",))
    assert info.value.limit == "MAX_PART_HEADER"
    unended = b'--x\r\nContent-Disposition: form-data; name="token"' + b" " * (4 * MAX_PART_HEADER)
    with pytest.raises(VerificationError):
        multipart_fields(MULTIPART["Content-Type"], unended, ("token",))


names = st.sampled_from(["token", "timestamp", "signature", "other", "attachment-1"])
values = st.binary(max_size=40).filter(lambda v: b"\r\n--" not in v and not v.endswith(b"\r"))


@PROPERTY
@given(
    fields=st.lists(st.tuples(names, values), max_size=8),
    boundary=st.sampled_from(["x", "XyZ-123", "a'b"]),
    preamble=st.sampled_from([b"", b"preamble\r\n"]),
)
def test_multipart_reader_finds_what_the_mime_parser_finds(
    fields: list[tuple[str, bytes]], boundary: str, preamble: bytes
) -> None:
    delimiter = boundary.encode()
    body = preamble + b"".join(part(n, v, delimiter) for n, v in fields)
    body += b"--" + delimiter + b"--\r\n"
    content_type = f'multipart/form-data; boundary="{boundary}"'
    wanted = ("token", "timestamp", "signature")
    ours = multipart_fields(content_type, body, wanted)
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = BytesParser(policy=policy.HTTP).parsebytes(head + body)
    assert isinstance(message, EmailMessage)
    theirs = [
        (p.get_param("name", header="content-disposition"), p.get_payload(decode=True))
        for p in message.iter_parts()
    ]
    assert ours == [(n, v) for n, v in theirs if n in wanted]


# -- Box's escaped form --------------------------------------------------------------------

STAMP = "2023-11-14T22:13:20Z"  # == NOW


def box_headers(signed_text: bytes, key: bytes = b"k") -> dict[str, str]:
    digest = hmac.new(key, signed_text + STAMP.encode(), hashlib.sha256).digest()
    return {
        "box-delivery-timestamp": STAMP,
        "box-signature-version": "1",
        "box-signature-algorithm": "HmacSHA256",
        "box-signature-primary": base64.b64encode(digest).decode(),
    }


def test_box_escaped_form_must_be_the_same_document() -> None:
    # Box signed {"name":"C:\\new folder"}; the body says C:<newline>ew folder.
    signed = b'{"name":"C:\\\\new folder"}'
    forged = b'{"name":"C:\\new folder"}'
    assert escape_body(forged) == signed
    assert json.loads(forged) != json.loads(signed)
    verifier = presets.box(secret="k")
    error = refusal(verifier, WebhookRequest(headers=box_headers(signed), body=forged))
    assert error.reason == "signature_mismatch"
    # what the fallback is for: the same document, escaped, still verifies
    body = '{"name":"caf\u00e9 \U0001f600","path":"a\\/b"}'.encode()
    escaped = escape_body(body)
    assert escaped is not None and json.loads(escaped) == json.loads(body)
    verification = verifier.verify(WebhookRequest(headers=box_headers(escaped), body=body), NOW)
    assert verification.signed[0] == escaped


def test_box_escaped_form_is_bounded() -> None:
    verifier = presets.box(secret="k")
    for count, accepted in ((MAX_ESCAPED_BYTES // 2, True), (MAX_ESCAPED_BYTES // 2 + 1, False)):
        body = ('{"n":"' + "\u00e9" * count + '"}').encode()
        signed = ('{"n":"' + "\\u00e9" * count + '"}').encode()
        request = WebhookRequest(headers=box_headers(signed), body=body)
        assert (escape_body(body) == signed) is accepted
        if accepted:
            verifier.verify(request, NOW)
        else:
            assert refusal(verifier, request).reason == "signature_mismatch"
    for runs, accepted in ((MAX_ESCAPE_RUNS, True), (MAX_ESCAPE_RUNS + 1, False)):
        body = ('{"n":"' + "a\u00e9" * runs + '"}').encode()
        assert (escape_body(body) is not None) is accepted


def test_box_malformed_signature_tries_no_escaped_form(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bytes] = []
    monkeypatch.setattr(_box, "escape_body", lambda body: calls.append(body))
    body = '{"n":"\u00e9"}'.encode()
    headers = {**box_headers(body), "box-signature-primary": "not base64!"}
    error = refusal(presets.box(secret="k"), WebhookRequest(headers=headers, body=body))
    assert error.reason == "malformed_signature"
    assert calls == []
