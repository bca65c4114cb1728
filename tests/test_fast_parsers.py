"""Parsers made faster on the fetched-key and HTTP-signature paths, held to
the plain form they replaced: the same answer, or the same refusal, for any
input."""

from __future__ import annotations

import base64
import binascii
import calendar
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webhookverify import VerificationError, WebhookRequest, presets
from webhookverify.errors import (
    MalformedBody,
    MalformedHeader,
    MalformedSignature,
    MalformedTimestamp,
)
from webhookverify.httpsig._cavage_parse import CavageParams, parse_signature
from webhookverify.keyfetch.jws import is_compact
from webhookverify.presets._jwt import urlsafe_bytes
from webhookverify.verifiers._base import parse_timestamp

# draft-cavage-12 §2.1 as one regular expression, matched pair by pair: the
# plain reading the parser used to do.
_PARAM = re.compile(r'\s*([A-Za-z]+)=(?:"([^"\\]*)"|([0-9]{1,14}))\s*(?:,|$)')
_NAME = re.compile(r"\([a-z-]+\)|[!#$%&'*+\-.^_`|~0-9a-z]+")


def plain_parse(text: str) -> CavageParams:
    if len(text) > 8192:
        raise MalformedHeader("too long")
    params: dict[str, str] = {}
    position = 0
    while position < len(text):
        match = _PARAM.match(text, position)
        if match is None or match.end() == position:
            raise MalformedHeader("not pairs")
        name = match.group(1)
        if name in params:
            raise MalformedHeader("twice")
        quoted = match.group(2) is not None
        if (name in ("created", "expires")) == quoted:
            raise MalformedHeader("form")
        params[name] = match.group(2) if quoted else match.group(3)
        position = match.end()
    if not params.get("keyId"):
        raise MalformedHeader("no keyId")
    try:
        signature = binascii.a2b_base64(params.get("signature", ""), strict_mode=True)
    except ValueError:
        signature = b""
    if not signature:
        raise MalformedSignature("no signature")
    default = "(created)" if params.get("algorithm", "hs2019") == "hs2019" else "date"
    covered = tuple(params.get("headers", default).lower().split())
    if len(covered) > 32 or len(set(covered)) != len(covered):
        raise MalformedHeader("covered")
    if not all(_NAME.fullmatch(name) for name in covered):
        raise MalformedHeader("names")
    return CavageParams(
        params["keyId"],
        params.get("algorithm"),
        covered,
        signature,
        int(params["created"]) if "created" in params else None,
        int(params["expires"]) if "expires" in params else None,
    )


def outcome(parse: object, text: str) -> object:
    try:
        return parse(text)  # type: ignore[operator]
    except (MalformedHeader, MalformedSignature) as error:
        return type(error)


_VALUE = st.text(alphabet='ab=+/"\\ ,\t\n(-)0123', max_size=12)
_PAIR = st.tuples(
    st.sampled_from(["keyId", "algorithm", "headers", "signature", "created", "expires", "x"]),
    st.sampled_from(["=", " =", "= "]),
    st.one_of(
        _VALUE.map(lambda v: f'"{v}"'),
        st.from_regex(r"[0-9]{1,16}", fullmatch=True),
        _VALUE,
        st.just('"(request-target) host date"'),
        st.just('"YWJj"'),
    ),
    st.sampled_from([",", ", ", " ,", "", ",,", "\n"]),
)


@settings(max_examples=600, deadline=None)
@given(st.lists(_PAIR, max_size=6))
def test_signature_header_reads_as_the_plain_grammar(pairs: list[tuple[str, ...]]) -> None:
    text = "".join("".join(pair) for pair in pairs)
    assert outcome(parse_signature, text) == outcome(plain_parse, text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='keyIdsgnatur="YWJj,\\ 0123(-)\t', max_size=60))
def test_any_text_reads_as_the_plain_grammar(text: str) -> None:
    assert outcome(parse_signature, text) == outcome(plain_parse, text)


@pytest.mark.parametrize(
    "text",
    [
        'keyId="k",signature="YWJj"',
        'keyId="k" , signature="YWJj" ',
        'keyId="k",signature="YW\\Jj"',  # an escape: not a quoted string here
        'keyId="k",signature="YWJj',  # no closing quote
        'keyId="k",signature="YWJj"x',
        'keyId="k",created=123456789012345,signature="YWJj"',  # 15 digits
        'keyId="k",created="1",signature="YWJj"',
        'keyId="k",keyId="k",signature="YWJj"',
        'keyId="k",headers="",signature="YWJj"',
        'keyId="k",headers="(a)(b)",signature="YWJj"',
    ],
)
def test_edge_cases_read_as_the_plain_grammar(text: str) -> None:
    assert outcome(parse_signature, text) == outcome(plain_parse, text)


@given(st.binary(max_size=64))
def test_urlsafe_bytes_reads_base64url_with_or_without_padding(raw: bytes) -> None:
    text = base64.urlsafe_b64encode(raw).decode()
    assert urlsafe_bytes(text) == raw
    assert urlsafe_bytes(text.rstrip("=")) == raw


@pytest.mark.parametrize("text", ["YW j", "YW.j", "YWJ\u00e9", "YWJjZ=Q=", "YWJjZ"])
def test_urlsafe_bytes_refuses_what_is_not_base64url(text: str) -> None:
    with pytest.raises((binascii.Error, UnicodeEncodeError)):
        urlsafe_bytes(text)


def test_sns_and_app_store_bodies_are_utf8_json() -> None:
    # RFC 8259 §8.1: JSON between systems is UTF-8, which SNS and Apple send; a
    # body in another encoding is refused as malformed, never half-read.
    sns = presets.aws_sns(topics=["arn:aws:sns:us-east-1:1:T"])
    body = json.dumps({"Type": "Notification"}).encode("utf-16")
    with pytest.raises(MalformedBody):
        sns.read_body(body)
    apple = presets.apple_app_store(bundle_id="com.example", environment="Sandbox")
    request = WebhookRequest(
        headers={"Content-Type": "application/json"},
        body=json.dumps({"signedPayload": "a.b.c"}).encode("utf-16"),
    )
    with pytest.raises(VerificationError) as info:
        apple.verify(request)
    assert info.value.reason == "malformed_body"


# The plain forms of the RFC 3339 reading and the compact-JWS shape.
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))",
    re.ASCII,
)
_COMPACT = re.compile(r"[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+", re.ASCII)


def plain_rfc3339(text: str) -> float | None:
    match = _RFC3339.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    frac, _z, sign, off_h, off_m = match.groups()[6:]
    if year < 1 or not (1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]):
        return None
    if hour > 23 or minute > 59 or second > 60:
        return None
    if sign is not None and (int(off_h) > 23 or int(off_m) > 59):
        return None
    value = calendar.timegm((year, month, day, hour, minute, min(second, 59)))
    if sign is not None:
        offset = int(off_h) * 3600 + int(off_m) * 60
        value += -offset if sign == "+" else offset
    return value + (int(frac) / 10 ** len(frac) if frac else 0.0)


def read_rfc3339(text: str) -> float | None:
    try:
        return parse_timestamp(text, "rfc3339", "T")
    except MalformedTimestamp:
        return None


_DIGITS = st.integers(min_value=0, max_value=99).map(lambda n: f"{n:02d}")


@settings(max_examples=800, deadline=None)
@given(
    st.integers(min_value=0, max_value=9999).map(lambda n: f"{n:04d}"),
    st.tuples(_DIGITS, _DIGITS, _DIGITS, _DIGITS, _DIGITS),
    st.sampled_from(["", ".5", ".123", ".123456789"]),
    st.one_of(st.sampled_from(["Z", "z"]), st.tuples(st.sampled_from("+-"), _DIGITS, _DIGITS)),
)
def test_rfc3339_reads_as_the_calendar_did(
    year: str, rest: tuple[str, ...], frac: str, zone: object
) -> None:
    month, day, hour, minute, second = rest
    offset = zone if isinstance(zone, str) else f"{zone[0]}{zone[1]}:{zone[2]}"  # type: ignore[index]
    text = f"{year}-{month}-{day}T{hour}:{minute}:{second}{frac}{offset}"
    assert read_rfc3339(text) == plain_rfc3339(text)


@pytest.mark.parametrize(
    "text",
    [
        "2024-02-29T12:00:00Z",
        "2023-02-29T12:00:00Z",
        "0000-01-01T00:00:00Z",
        "0001-01-01T00:00:00+23:59",
        "2026-12-31T23:59:60.999999999-23:59",
        "2026-04-31T00:00:00Z",
        "2026-13-01T00:00:00Z",
        "2026-01-01T24:00:00Z",
        "2026-01-01T00:00:00+24:00",
    ],
)
def test_rfc3339_edges_read_as_the_calendar_did(text: str) -> None:
    assert read_rfc3339(text) == plain_rfc3339(text)


@settings(max_examples=600, deadline=None)
@given(st.text(alphabet="aZ09-_.+/= \u00e9", max_size=12))
def test_compact_jws_shape_as_the_pattern(token: str) -> None:
    assert is_compact(token) == (_COMPACT.fullmatch(token) is not None)
