"""What the one-pass verify path must keep, and the gaps it closed.

- Texts are compared before anything is decoded: a received text equal to
  the canonical encoding of the expected digest is accepted, and *only* what
  strict decoding accepts is ever accepted (properties against an oracle made
  of ``decode_signature`` and the standard library's HMAC).
- The inline readers agree with the helpers they stand for: the compiled
  message head with ``MessageTemplate``, the unix-seconds test with
  ``parse_timestamp``, the key=value reader with a plain re-implementation.
- A user's ``MessageBuilder`` that raises is a ``MalformedBody``, never a
  foreign exception out of ``verify``.
- Configuration types are checked at construction, and errors name what the
  caller wrote (``presets.stripe(...)``, not ``HmacVerifier(...)``).
- ``HmacVerifier.verify_message`` checks a message that is not a request's,
  and the presets built on it (Mailgun, Netlify, Mollie) build no request.
- Standard Webhooks with both versions reports what each version alone does.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from hypothesis import given, settings
from hypothesis import strategies as st

from webhookverify import (
    ConfigurationError,
    HmacVerifier,
    KeyValueHeader,
    MalformedBody,
    MessageTemplate,
    Secret,
    Verification,
    VerificationError,
    WebhookRequest,
    presets,
)
from webhookverify.errors import MissingHeader
from webhookverify.request import Headers
from webhookverify.testing import sign_request
from webhookverify.verifiers._base import decode_signature, format_timestamp, parse_timestamp
from webhookverify.verifiers.asymmetric import PublicKeyVerifier
from webhookverify.verifiers.standard import StandardWebhooksVerifier

from contract import NOW

KEY = b"gap-test-key-0123456789"
DIGEST_SIZES = {"sha1": 20, "sha224": 28, "sha256": 32, "sha384": 48, "sha512": 64}


def mac(message: bytes, key: bytes = KEY, algorithm: str = "sha256") -> bytes:
    return hmac.new(key, message, algorithm).digest()


def reason(verifier: Any, request: WebhookRequest, now: float = NOW) -> str:
    """The verifier's answer as one word: ``ok`` or the error's reason code."""
    try:
        verifier.verify(request, now=now)
    except VerificationError as exc:
        return exc.reason
    return "ok"


# -- texts compared first, strict decoding kept -------------------------------------------


B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def with_unused_bits(b64: str) -> str:
    """The same bytes with the unused low bit of the last character set (RFC 4648 §3.5)."""
    stripped = b64.rstrip("=")
    last = B64_ALPHABET[B64_ALPHABET.index(stripped[-1]) | 1]
    return stripped[:-1] + last + b64[len(stripped) :]


def spellings(digest: bytes) -> st.SearchStrategy[str]:
    """Texts near the digest's encodings: canonical, re-cased, re-padded, spaced, bit-flipped."""
    b64 = base64.b64encode(digest).decode()
    url = base64.urlsafe_b64encode(digest).decode()
    stripped = b64.rstrip("=")
    flipped = with_unused_bits(b64)
    near = [
        digest.hex(),
        digest.hex().upper(),
        digest.hex()[:-1] + digest.hex()[-1].upper(),
        " " + digest.hex(),
        digest.hex() + "\t",
        digest.hex()[:-2],
        b64,
        stripped,
        b64 + "=",
        flipped,
        " " + b64,
        url,
        url.rstrip("="),
        url.rstrip("=") + "=" * (len(url) - len(url.rstrip("=")) + 1),
        b64.replace("+", "-").replace("/", "_"),
        (digest[:-1] + bytes([digest[-1] ^ 1])).hex(),
        base64.b64encode(digest[:-1]).decode(),
        "ÿ" + digest.hex()[1:],
        "",
    ]
    return st.sampled_from(near) | st.text(
        alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=90
    )


def oracle(text: str, prefix: str, encoding: Any, digest: bytes) -> str:
    """What the verifier must answer, from strict decoding and a byte comparison."""
    if not text.startswith(prefix):
        return "unsupported_signature_version"
    try:
        decoded = decode_signature(text[len(prefix) :], encoding, "S")
    except VerificationError:
        return "malformed_signature"
    if len(decoded) != len(digest):
        return "malformed_signature"
    return "ok" if decoded == digest else "signature_mismatch"


@settings(max_examples=300, deadline=None)
@given(
    data=st.data(),
    body=st.binary(max_size=64),
    encoding=st.sampled_from(["hex", "hex_lower", "base64", "base64url"]),
    prefix=st.sampled_from(["", "sha256=", "V1,"]),
    algorithm=st.sampled_from(sorted(DIGEST_SIZES)),
)
def test_accepts_exactly_what_strict_decoding_accepts(
    data: st.DataObject, body: bytes, encoding: Any, prefix: str, algorithm: str
) -> None:
    digest = mac(body, algorithm=algorithm)
    text = prefix + data.draw(spellings(digest))
    verifier = HmacVerifier(
        secret=KEY, header="S", encoding=encoding, prefix=prefix, algorithm=algorithm
    )
    try:
        request = WebhookRequest(headers={"S": text}, body=body)
    except ValueError:  # a value Headers refuses cannot be received
        return
    expected = oracle(text, prefix, encoding, digest)
    if not text:
        expected = "malformed_header"  # an empty header, refused before any decoding
    assert reason(verifier, request) == expected


@pytest.mark.parametrize(
    ("encoding", "spell"),
    [
        # a text match with the canonical spelling implies the text is canonical:
        # every other spelling goes through strict decoding, and these fail it
        ("base64", lambda d: base64.b64encode(d).decode().rstrip("=")),
        ("base64", lambda d: with_unused_bits(base64.b64encode(d).decode())),
        ("hex", lambda d: " " + d.hex()),
        ("hex", lambda d: d.hex()[:32] + " " + d.hex()[32:]),
        ("hex_lower", lambda d: d.hex().upper()),
        ("base64url", lambda d: base64.b64encode(d).decode()),  # + and / are not base64url
    ],
)
def test_non_canonical_spellings_are_refused(encoding: Any, spell: Any) -> None:
    body = b'{"n":1}'
    digest = mac(body)
    text = spell(digest)
    # lenient decoders read these as the right digest; strict decoding does not
    if encoding.startswith("hex"):
        assert bytes.fromhex(text.strip().replace(" ", "")) == digest
    else:
        assert base64.b64decode(text.replace("-", "+").replace("_", "/") + "==") == digest
    verifier = HmacVerifier(secret=KEY, header="S", encoding=encoding)
    assert reason(verifier, WebhookRequest(headers={"S": text}, body=body)) == (
        "malformed_signature"
    )


@pytest.mark.parametrize(
    ("encoding", "spell"),
    [
        ("hex", lambda d: d.hex().upper()),
        ("hex", lambda d: d.hex()[:10].upper() + d.hex()[10:]),
        ("base64url", lambda d: base64.urlsafe_b64encode(d).decode()),  # padded
    ],
)
def test_other_valid_spellings_pass_through_decoding(encoding: Any, spell: Any) -> None:
    body = b"payload"
    verifier = HmacVerifier(secret=KEY, header="S", encoding=encoding, prefix="sha256=")
    text = "sha256=" + spell(mac(body))
    assert verifier.verify(WebhookRequest(headers={"S": text}, body=body)).key_id == "secret[0]"
    # the prefix is matched exactly even where the digest may change case
    upper = "SHA256=" + spell(mac(body))
    assert reason(verifier, WebhookRequest(headers={"S": upper}, body=body)) == (
        "unsupported_signature_version"
    )


def test_reasons_keep_their_order_with_key_windows() -> None:
    body = b"x"
    expired = HmacVerifier(secret=Secret(KEY, not_after=NOW - 1), header="S")
    # a malformed signature is reported as such, before the keys are looked at
    assert reason(expired, WebhookRequest(headers={"S": "zz"}, body=body)) == (
        "malformed_signature"
    )
    good = WebhookRequest(headers={"S": mac(body).hex()}, body=body)
    assert reason(expired, good) == "no_valid_key"
    rotating = HmacVerifier(
        secrets=[
            Secret(b"old-key", key_id="old", not_after=NOW - 1),
            Secret(KEY, key_id="current", not_before=NOW - 10, not_after=NOW + 15),
            Secret(b"next-key", key_id="next", not_before=NOW + 10),
        ],
        header="S",
    )
    assert rotating.verify(good, now=NOW).key_id == "current"
    assert rotating.verify(good, now=NOW + 12).key_id == "current"  # next is valid too
    assert reason(rotating, good, now=NOW + 20) == "signature_mismatch"  # only next is
    nxt = WebhookRequest(headers={"S": mac(body, b"next-key").hex()}, body=body)
    assert rotating.verify(nxt, now=NOW + 20).key_id == "next"
    assert reason(rotating, nxt, now=NOW) == "signature_mismatch"


def test_verification_is_an_ordinary_verification() -> None:
    verifier = HmacVerifier(
        secret=KEY, header="S", template="{timestamp}.{body}", timestamp_header="T"
    )
    request = sign_request(verifier, b"body", now=NOW)
    result = verifier.verify(request, now=NOW)
    assert type(result) is Verification
    assert result == Verification("hmac-sha256", "secret[0]", NOW, None, result.signed)
    assert result.signed == (f"{int(NOW)}.".encode(), b"body")
    assert result._replace(key_id="x").key_id == "x"
    assert "secret" not in repr(result).replace("secret[0]", "")


# -- the compiled message, the inline timestamp and key=value readers ---------------------

TEMPLATE_PIECES = st.sampled_from(
    ["{timestamp}", "{id}", "{body}", "{method}", "{url}", "{header:X-Extra}", "{{", "}}"]
) | st.text(alphabet=st.sampled_from("ab.:%s é€"), min_size=1, max_size=4)


def reference_message(source: str, request: WebhookRequest, values: dict[str, str]) -> bytes:
    """The signed bytes of a template, by plain substitution (the oracle)."""
    out = b""
    for token in re.findall(r"\{\{|\}\}|\{[^{}]*\}|[^{}]+", source):
        if token in ("{{", "}}"):
            out += token[0].encode()
        elif token == "{body}":
            out += request.body
        elif token == "{method}":
            out += request.method.encode()
        elif token == "{url}":
            out += request.url.encode()
        elif token.startswith("{header:"):
            out += request.headers[token[8:-1]].encode("latin-1")
        elif token in ("{timestamp}", "{id}"):
            out += values[token[1:-1]].encode("latin-1")
        else:
            out += token.encode("utf-8")
    return out


@pytest.mark.parametrize(
    ("source", "signed"),
    [
        ("100%{body}", b"100%B"),
        ("%s%%{body}", b"%s%%B"),
        ("%{timestamp}%s{body}", b"%1%sB"),
        ("{id}%{timestamp}{body}", b"i%1B"),
        ("{body}%", b"B%"),
    ],
)
def test_percent_signs_in_templates_are_literal(source: str, signed: bytes) -> None:
    request = WebhookRequest(body=b"B")
    values = {"timestamp": "1", "id": "i"}
    assert b"".join(MessageTemplate(source)(request, values)) == signed


def test_a_template_subclass_is_called_as_it_defines() -> None:
    # MessageTemplate is public: a subclass that overrides __call__ is a
    # MessageBuilder, and the verifier hashes what it builds.
    class Suffixed(MessageTemplate):
        def __call__(self, request: WebhookRequest, values: Any) -> tuple[bytes, ...]:
            return (*super().__call__(request, values), b"|suffix")

    verifier = HmacVerifier(secret=KEY, header="S", template=Suffixed("{body}"))
    request = WebhookRequest(headers={"S": mac(b"B|suffix").hex()}, body=b"B")
    assert b"".join(verifier.verify(request, now=NOW).signed) == b"B|suffix"


@settings(max_examples=200, deadline=None)
@given(
    pieces=st.lists(TEMPLATE_PIECES, min_size=1, max_size=6),
    body=st.binary(max_size=16),
    stamp=st.from_regex(r"[0-9]{1,10}", fullmatch=True),
    ident=st.text(
        alphabet=st.characters(min_codepoint=0x21, max_codepoint=0xFF, blacklist_characters="\x7f"),
        min_size=1,
    ),
)
def test_compiled_templates_sign_what_they_say(
    pieces: list[str], body: bytes, stamp: str, ident: str
) -> None:
    source = "".join(pieces)
    template = MessageTemplate(source)
    request = WebhookRequest(url="https://x.test/h?q=é", headers={"X-Extra": "extra ÿ"}, body=body)
    values = {"timestamp": stamp, "id": ident}
    expected = reference_message(source, request, values)
    assert b"".join(template(request, values)) == expected
    # and verify builds the same message: a signature over the oracle's bytes passes
    options: dict[str, Any] = {"secret": KEY, "header": "S", "template": source, "tolerance": None}
    if "timestamp" in template.signs:
        options["timestamp_header"] = "T"
    if "id" in template.signs:
        options["id_header"] = "I"
    verifier = HmacVerifier(**options)
    headers = {"S": mac(expected).hex(), "T": stamp, "I": ident, "X-Extra": "extra ÿ"}
    if template.bare_timestamp and len(stamp) != len(str(int(NOW))):
        # nothing but its width marks where a timestamp run into a field ends
        with pytest.raises(VerificationError, match="digits, not the"):
            verifier.verify(request.replace(headers=headers), now=NOW)
        return
    result = verifier.verify(request.replace(headers=headers), now=NOW)
    assert b"".join(result.signed) == expected
    if "{body}" in source and body:
        assert any(part is request.body for part in result.signed)  # never copied


@settings(max_examples=300, deadline=None)
@given(
    stamp=st.text(alphabet=st.sampled_from("0123456789 +-.e_²³¹١"), max_size=16)
    | st.from_regex(r"[0-9]{1,16}", fullmatch=True),
    fmt=st.sampled_from(["unix", "unix_ms"]),
)
def test_inline_timestamps_agree_with_parse_timestamp(stamp: str, fmt: Any) -> None:
    verifier = HmacVerifier(
        secret=KEY,
        header="S",
        template="{timestamp}{body}",
        timestamp_header="T",
        timestamp_format=fmt,
        tolerance=None,
    )
    try:
        headers = Headers({"S": mac(stamp.encode("utf-8") + b"b").hex(), "T": stamp})
    except ValueError:  # not latin-1, or empty: not a header value a request can carry
        return
    request = WebhookRequest(headers=headers, body=b"b")
    try:
        expected: float | str = parse_timestamp(stamp, fmt, "T")
    except VerificationError as exc:
        expected = exc.reason
    if expected != "malformed_timestamp" and len(stamp) != len(format_timestamp(NOW, fmt)):
        expected = "malformed_timestamp"  # run into the body: held to the clock's width
    if not stamp:
        expected = "malformed_header"
    try:
        got: float | str | None = verifier.verify(request, now=NOW).timestamp
    except VerificationError as exc:
        got = exc.reason
    assert got == expected


def reference_pairs(value: str, fmt: KeyValueHeader) -> tuple[list[str], str | None] | str:
    """key=value entries read the documented way, in the documented order of errors."""
    entries = value.split(fmt.separator)
    if len(entries) > 20:
        return "malformed_header"
    signatures, stamp = [], None
    for entry in entries:
        key, eq, item = entry.strip().partition("=")
        if not eq:
            return "malformed_header"
        if key == fmt.signature_key:
            signatures.append(item)
        elif key == fmt.timestamp_key:
            if stamp is not None:
                return "malformed_header"
            stamp = item
    if stamp is None and fmt.timestamp_key is not None:
        return "missing_header"
    if len(signatures) > 16:
        return "malformed_header"
    return signatures, stamp


@settings(max_examples=300, deadline=None)
@given(
    entries=st.lists(
        st.sampled_from(["t=1700000000", "v1=SIG", "v1=00", "v0=ab", " v1=SIG ", "x", "t=", "=1"]),
        max_size=22,
    ),
    separator=st.sampled_from([",", ";"]),
)
def test_key_value_headers_read_as_documented(entries: list[str], separator: str) -> None:
    body = b"{}"
    fmt = KeyValueHeader(signature_key="v1", timestamp_key="t", separator=separator)
    verifier = HmacVerifier(
        secret=KEY, header="S", header_format=fmt, template="{timestamp}.{body}"
    )
    good = mac(b"1700000000." + body).hex()
    value = separator.join(entries).replace("SIG", good)
    if not value:
        return
    request = WebhookRequest(headers={"S": value}, body=body)
    read = reference_pairs(value, fmt)
    if isinstance(read, str):
        assert reason(verifier, request) == read
        return
    signatures, stamp = read
    if stamp != "1700000000":
        assert reason(verifier, request) == "malformed_timestamp"
    elif good in signatures:
        assert reason(verifier, request) == "ok"
    elif not signatures:
        assert reason(verifier, request) == "unsupported_signature_version"
    else:
        assert reason(verifier, request) in ("signature_mismatch", "malformed_signature")


# -- a MessageBuilder that fails ------------------------------------------------------------


class FailingBuilder:
    signs = frozenset[str]()

    def __init__(self, failure: Any) -> None:
        self.failure = failure

    def __call__(self, request: WebhookRequest, values: Any) -> list[bytes]:
        return self.failure(request)  # type: ignore[no-any-return]


def _value_error(request: WebhookRequest) -> list[bytes]:
    raise ValueError("no")


def _key_error(request: WebhookRequest) -> list[bytes]:
    return [{"a": b""}["missing"]]


def _unicode_error(request: WebhookRequest) -> list[bytes]:
    return [request.body.decode("utf-8").encode()]


def _json_error(request: WebhookRequest) -> list[bytes]:
    return [json.dumps(json.loads(request.body[1:])).encode()]


def _str_part(request: WebhookRequest) -> list[bytes]:
    return [request.url]  # type: ignore[list-item]


FAILURES = [
    (_value_error, ValueError),
    (_key_error, KeyError),
    (_unicode_error, UnicodeDecodeError),
    (_json_error, json.JSONDecodeError),
]


@pytest.mark.parametrize(("failure", "cause"), FAILURES)
def test_hmac_builder_failure_is_a_malformed_body(failure: Any, cause: type) -> None:
    verifier = HmacVerifier(secret=KEY, header="S", template=FailingBuilder(failure))
    request = WebhookRequest(headers={"S": "00" * 32}, body=b"\xff{not json")
    with pytest.raises(MalformedBody) as info:
        verifier.verify(request)
    assert info.value.reason == "malformed_body"
    assert isinstance(info.value.__cause__, cause)
    assert info.value.header == "S"
    assert KEY.decode() not in str(info.value)


@pytest.mark.parametrize(("failure", "cause"), FAILURES)
def test_public_key_builder_failure_is_a_malformed_body(failure: Any, cause: type) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    verifier = PublicKeyVerifier(
        algorithm="ed25519", private_key=key, header="S", template=FailingBuilder(failure)
    )
    request = WebhookRequest(headers={"S": base64.b64encode(b"\0" * 64).decode()}, body=b"\xff")
    with pytest.raises(MalformedBody) as info:
        verifier.verify(request)
    assert isinstance(info.value.__cause__, cause)


def test_builder_parts_must_be_bytes_and_its_own_errors_pass() -> None:
    verifier = HmacVerifier(secret=KEY, header="S", template=FailingBuilder(_str_part))
    with pytest.raises(MalformedBody, match="str"):
        verifier.verify(WebhookRequest(url="https://x.test", headers={"S": "00"}, body=b""))

    def refuse(request: WebhookRequest) -> list[bytes]:
        raise MissingHeader("the X header is missing", header="X")

    verifier = HmacVerifier(secret=KEY, header="S", template=FailingBuilder(refuse))
    with pytest.raises(MissingHeader) as info:
        verifier.verify(WebhookRequest(headers={"S": "00"}, body=b""))
    assert info.value.__cause__ is None


# -- configuration checked when it is built -------------------------------------------------


@pytest.mark.parametrize(
    ("options", "setting"),
    [
        ({"prefix": None}, "prefix"),
        ({"prefix": 5}, "prefix"),
        ({"delimiter": 5}, "delimiter"),
        ({"delimiter": b","}, "delimiter"),
        ({"timestamp_header": 5, "template": "{timestamp}{body}"}, "timestamp_header"),
        ({"timestamp_header": "", "template": "{timestamp}{body}"}, "timestamp_header"),
        ({"timestamp_header": "X T", "template": "{timestamp}{body}"}, "timestamp_header"),
        ({"id_header": b"I", "template": "{id}{body}"}, "id_header"),
        ({"id_header": "", "template": "{id}{body}"}, "id_header"),
        ({"scheme": ""}, "scheme"),
        ({"scheme": 5}, "scheme"),
        ({"header": "X Sig"}, "header"),
        ({"header": None}, "header"),
        ({"header_format": {"signature_key": "v1"}}, "header_format"),
        ({"owner": ""}, "owner"),
    ],
)
def test_hmac_settings_are_type_checked(options: dict[str, Any], setting: str) -> None:
    kwargs: dict[str, Any] = {"secret": KEY, "header": "S", **options}
    with pytest.raises(ConfigurationError, match=rf"HmacVerifier\({setting}=\.\.\.\)"):
        HmacVerifier(**kwargs)


@pytest.mark.parametrize(
    ("options", "setting"),
    [
        ({"scheme": ""}, "scheme"),
        ({"timestamp_header": 7, "template": "{timestamp}{body}"}, "timestamp_header"),
        ({"id_header": "", "template": "{id}{body}"}, "id_header"),
        ({"prefix": None}, "prefix"),
    ],
)
def test_public_key_settings_are_type_checked(options: dict[str, Any], setting: str) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    kwargs: dict[str, Any] = {"algorithm": "ed25519", "private_key": key, "header": "S"}
    with pytest.raises(ConfigurationError, match=rf"PublicKeyVerifier\({setting}=\.\.\.\)"):
        PublicKeyVerifier(**{**kwargs, **options})


def test_key_value_header_settings_are_checked() -> None:
    for options in ({"timestamp_key": ""}, {"signature_key": 5}, {"separator": "="}):
        with pytest.raises(ConfigurationError, match="KeyValueHeader"):
            KeyValueHeader(**options)
    assert KeyValueHeader(timestamp_key=None).render("s", None) == "v1=s"


@pytest.mark.parametrize(
    ("build", "named"),
    [
        (lambda: presets.github(), "presets.github needs a secret"),
        (lambda: presets.github(secret="k", legacy_sha1=True, secrets=["k"]), "presets.github"),
        (lambda: presets.stripe(secret="k", tolerance=-1), r"presets.stripe\(tolerance=\.\.\.\)"),
        (lambda: presets.slack(secret="k", future_tolerance="5"), r"presets.slack\(future_"),  # type: ignore[arg-type]
        (lambda: presets.twitch(secret="k", tolerance=float("inf")), r"presets.twitch\(tol"),
        (lambda: presets.shopify(secret="k", header="bad header"), r"presets.shopify\(header"),
        (lambda: presets.tiki(secret="k", header=""), r"presets.tiki\(header=\.\.\.\)"),
        (lambda: presets.square(secrets=[]), "presets.square needs a secret"),
        (lambda: presets.linear(secret="k", tolerance=-1), r"presets.linear\(tolerance=\.\.\.\)"),
        (lambda: presets.mailgun(secret="k", future_tolerance=-2), r"presets.mailgun\(future_"),
        (lambda: presets.mollie(), "presets.mollie needs a secret"),
        (lambda: presets.netlify(secrets=[]), "presets.netlify needs a secret"),
    ],
)
def test_preset_errors_name_the_preset(build: Any, named: str) -> None:
    with pytest.raises(ConfigurationError, match=named) as info:
        build()
    assert "HmacVerifier" not in str(info.value)


# -- verify_message -------------------------------------------------------------------------


def test_verify_message_checks_a_message_that_is_not_a_request() -> None:
    verifier = HmacVerifier(
        secrets=[Secret(b"old", key_id="old"), Secret(KEY, key_id="new")],
        header="X-Sig",
        prefix="v1=",
        template="{timestamp}{id}",
        timestamp_header="X-Time",
        id_header="X-Id",
    )
    parts = (b"1700000000", b"token-1")
    signature = "v1=" + mac(b"".join(parts)).hex()
    signed = {"timestamp": "1700000000", "delivery_id": "token-1"}
    result = verifier.verify_message(signature, parts, NOW, **signed)
    assert result == Verification("hmac-sha256", "new", NOW, "token-1", parts)
    # several entries, any of which may match
    assert verifier.verify_message(["v1=00", signature], parts, NOW, **signed).key_id == "new"
    # the timestamp is held to the window, and named as configured, before any hashing
    with pytest.raises(VerificationError) as info:
        verifier.verify_message(signature, parts, NOW + 301, **signed)
    assert (info.value.reason, info.value.header) == ("timestamp_too_old", "X-Time")
    with pytest.raises(VerificationError) as info:
        verifier.verify_message("nonsense", parts, NOW, timestamp="17e8", delivery_id="t")
    assert info.value.reason == "malformed_timestamp"
    cases = [
        ("v1=" + mac(b"other").hex(), "signature_mismatch"),
        ("v1=xyz", "malformed_signature"),
        ("v2=" + mac(b"".join(parts)).hex(), "unsupported_signature_version"),
        (["v1=00"] * 17, "malformed_header"),
    ]
    for bad, code in cases:
        with pytest.raises(VerificationError) as info:
            verifier.verify_message(bad, parts, NOW, **signed)
        assert (info.value.reason, info.value.header) == (code, "X-Sig")
    # what the template signs must be given: a window or a replay key is never skipped
    with pytest.raises(TypeError, match="timestamp="):
        verifier.verify_message(signature, parts, NOW, delivery_id="token-1")
    with pytest.raises(TypeError, match="delivery_id="):
        verifier.verify_message(signature, parts, NOW, timestamp="1700000000")
    body_only = HmacVerifier(secret=KEY, header="S")
    assert body_only.verify_message(mac(b"m").hex(), [b"m"]).timestamp is None


def test_verify_message_and_verify_agree() -> None:
    verifier = presets.slack(secret="slack-secret")
    request = sign_request(verifier, b"token=x&team_id=T1", now=NOW)
    stamp = request.headers["X-Slack-Request-Timestamp"]
    by_request = verifier.verify(request, now=NOW)
    by_message = verifier.verify_message(
        request.headers["X-Slack-Signature"],
        (f"v0:{stamp}:".encode(), request.body),
        NOW,
        timestamp=stamp,
    )
    assert by_message == by_request


@pytest.mark.parametrize("preset", ["mailgun", "netlify", "mollie"])
def test_presets_on_verify_message_build_no_request(
    preset: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    verifier = getattr(presets, preset)(secret="preset-secret")
    if preset == "mailgun":
        body = verifier.signed_body({"event": "delivered"}, NOW)
        request = WebhookRequest(headers=verifier.sign(body, NOW), body=body, received_at=NOW)
    else:
        request = sign_request(verifier, b'{"id":"deploy"}', now=NOW)
    built: list[object] = []
    original = WebhookRequest.__init__

    def counting(self: WebhookRequest, *args: Any, **kwargs: Any) -> None:
        built.append(kwargs)
        original(self, *args, **kwargs)

    monkeypatch.setattr(WebhookRequest, "__init__", counting)
    assert verifier.verify(request).key_id == "secret[0]"
    assert built == []


# -- the composed presets delegate to what they compose -------------------------------------


def test_composed_presets_report_what_their_verifiers_do() -> None:
    linear = presets.linear(secret="k", tolerance=10, future_tolerance=None)
    assert (linear.tolerance, linear.future_tolerance, linear.replay_window) == (10, 10, 20)
    assert presets.linear(secret="k", tolerance=None).replay_window is None
    assert presets.linear(secret="k").replay_window == 120
    assert linear.replay_default == "content"
    assert linear.required_headers == ("Linear-Signature",)
    mailgun = presets.mailgun(secret="k", tolerance=30, future_tolerance=5)
    assert (mailgun.replay_window, mailgun.replay_default) == (35, "id")
    assert (
        presets.netlify(secret="k").replay_window,
        presets.netlify(secret="k").replay_default,
    ) == (
        None,
        "content",
    )
    # Mollie's body carries its signed event id
    assert (
        presets.mollie(secret="k").replay_window,
        presets.mollie(secret="k").replay_default,
    ) == (
        None,
        "id",
    )
    assert presets.mollie(secret="k").required_headers == ("X-Mollie-Signature",)


def test_mollie_reads_every_field_and_optional_prefixes() -> None:
    body = b'{"id":"tr_1"}'
    digest = hmac.new(b"k", body, hashlib.sha256).hexdigest()
    verifier = presets.mollie(secret="k")
    for headers in (
        [("X-Mollie-Signature", digest)],
        [("X-Mollie-Signature", "sha256=" + "0" * 64), ("X-Mollie-Signature", digest)],
        [("X-Mollie-Signature", f"sha256={'1' * 64}, {digest}")],
    ):
        assert verifier.verify(WebhookRequest(headers=headers, body=body)).key_id == "secret[0]"
    many = ",".join(["0" * 64] * 17)
    assert reason(verifier, WebhookRequest(headers={"X-Mollie-Signature": many}, body=body)) == (
        "malformed_header"
    )


# -- Standard Webhooks: both versions answer as each one does -------------------------------

SW_SECRET = "whsec_" + base64.b64encode(b"standard-webhooks-gap-key-012345").decode()
SW_KEY = ed25519.Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"gap").digest())


def sw_faults() -> list[tuple[str, dict[str, str | None]]]:
    return [
        ("no signature header", {"webhook-signature": None}),
        ("empty signature header", {"webhook-signature": ""}),
        ("repeated signature header", {"webhook-signature": "REPEAT"}),
        ("too many signatures", {"webhook-signature": " ".join(["v1,AAAA"] * 17)}),
        ("no timestamp", {"webhook-timestamp": None}),
        ("empty timestamp", {"webhook-timestamp": ""}),
        ("repeated timestamp", {"webhook-timestamp": "REPEAT"}),
        ("signed timestamp", {"webhook-timestamp": "+1700000000"}),
        ("fractional timestamp", {"webhook-timestamp": "1700000000.5"}),
        ("old timestamp", {"webhook-timestamp": str(int(NOW) - 301)}),
        ("future timestamp", {"webhook-timestamp": str(int(NOW) + 301)}),
        ("no id", {"webhook-id": None}),
        ("repeated id", {"webhook-id": "REPEAT"}),
        ("no entry of a known version", {"webhook-signature": "v2,AAAA v3,BBBB"}),
    ]


@pytest.mark.parametrize(("fault", "changes"), sw_faults(), ids=[f for f, _ in sw_faults()])
def test_standard_webhooks_both_versions_report_as_each(
    fault: str, changes: dict[str, str | None]
) -> None:
    v1 = StandardWebhooksVerifier(secret=SW_SECRET)
    v1a = StandardWebhooksVerifier(private_key=SW_KEY)
    both = StandardWebhooksVerifier(secret=SW_SECRET, private_key=SW_KEY)
    signed = both.sign(b'{"type":"x"}', now=NOW)
    headers: list[tuple[str, str]] = []
    for name, value in signed.items():
        change = changes.get(name, value)
        if change is None:
            continue
        headers.append((name, value if change == "REPEAT" else change))
        if change == "REPEAT":
            headers.append((name, value))
    request = WebhookRequest(headers=headers, body=b'{"type":"x"}', received_at=NOW)
    answers = {reason(v, request) for v in (v1, v1a, both)}
    assert len(answers) == 1, (fault, answers)
    assert answers != {"ok"}


def test_standard_webhooks_both_versions_pass_with_either_entry() -> None:
    both = StandardWebhooksVerifier(secret=SW_SECRET, private_key=SW_KEY)
    signed = both.sign(b"{}", now=NOW)
    v1_entry, v1a_entry = signed["webhook-signature"].split(" ")
    for entries, scheme in (
        (v1_entry, "standard-webhooks-v1"),
        (v1a_entry, "standard-webhooks-v1a"),
        (f"v1,{'A' * 43}= {v1a_entry}", "standard-webhooks-v1a"),
    ):
        request = WebhookRequest(
            headers={**signed, "webhook-signature": entries}, body=b"{}", received_at=NOW
        )
        result = both.verify(request)
        assert (result.scheme, result.delivery_id) == (scheme, signed["webhook-id"])
