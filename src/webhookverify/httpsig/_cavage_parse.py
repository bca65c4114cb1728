"""The parts of a draft-cavage ``Signature`` header and the string it signs.

draft-cavage-http-signatures-12 (the form ActivityPub servers send):

    Signature: keyId="https://example.social/users/a#main-key",algorithm="rsa-sha256",
               headers="(request-target) host date digest",signature="BASE64"

Parsing is strict where leniency would let two readers see two different
messages: a parameter named twice, a value that is not a quoted string (only
``created`` and ``expires`` are bare integers, §2.1.4-5), a covered name
listed twice, or more names or a longer header than any sender uses, are
refused. Unknown parameters are ignored (§2.1).
"""

from __future__ import annotations

import base64
import binascii
import calendar
import hashlib
import re
from typing import Final, NamedTuple
from urllib.parse import SplitResult, urlsplit

from ..errors import MalformedHeader, MalformedSignature, MalformedTimestamp, MissingHeader
from ..request import WebhookRequest
from ..verifiers._base import constant_time_equal
from ._base import ContentDigestMismatch

__all__ = [
    "MAX_COVERED",
    "MAX_SIGNATURE_HEADER",
    "CavageParams",
    "check_digest",
    "digest_header",
    "http_date",
    "parse_http_date",
    "parse_signature",
    "signing_string",
]

# A Mastodon signature header is about 600 characters (a key id URL, four
# covered names, a 4096-bit RSA signature in base64: 684 characters). 8 KiB
# is far beyond any sender and bounds the work on a hostile one.
MAX_SIGNATURE_HEADER: Final = 8192
# Senders cover four to eight names; 32 leaves room, and a list of thousands
# (each one a header lookup) is refused before any of them is read.
MAX_COVERED: Final = 32
# draft-cavage-12 §2.1: name="quoted string" or name=integer, comma-separated:
#   \s*([A-Za-z]+)=(?:"([^"\\]*)"|([0-9]{1,14}))\s*(?:,|$)
# read in three steps, so that a long quoted value (a signature: 344 characters
# for RSA-2048) is scanned by str.find rather than a character class: the name
# and what opens the value, the closing quote (no backslash before it), the end.
_PARAM_HEAD = re.compile(r'\s*([A-Za-z]+)=(?:(")|([0-9]{1,14}))')
_PARAM_END = re.compile(r"\s*(?:,|$)")
_COVERED_NAME = r"(?:\([a-z-]+\)|[!#$%&'*+\-.^_`|~0-9a-z]+)"
# The covered names, as split() leaves them joined by single spaces.
_COVERED = re.compile(rf"(?:{_COVERED_NAME}(?: {_COVERED_NAME})*)?")
# RFC 9110 §5.6.7: IMF-fixdate, the only form a sender generates.
_IMF_FIXDATE = re.compile(
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), ([0-9]{2}) "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) ([0-9]{4}) "
    r"([0-9]{2}):([0-9]{2}):([0-9]{2}) GMT"
)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_WHERE: Final = "Signature"
_NOT_PAIRS: Final = 'the Signature header is not name="value" pairs (draft-cavage §2.1)'


class CavageParams(NamedTuple):
    """A parsed ``Signature`` header (draft-cavage-12 §2.1)."""

    key_id: str
    algorithm: str | None
    covered: tuple[str, ...]
    signature: bytes
    created: int | None
    expires: int | None


def parse_signature(text: str) -> CavageParams:
    """Parse the value of a ``Signature`` header.

    Raises:
        MalformedHeader: too long, not ``name="value"`` pairs, a parameter
            twice, too many or repeated covered names.
        MalformedSignature: ``signature`` absent or not base64.
    """
    if len(text) > MAX_SIGNATURE_HEADER:
        raise MalformedHeader("the Signature header is longer than any sender's", header=_WHERE)
    params = _params(text)
    key_id = params.get("keyId")
    if not key_id:
        raise MalformedHeader("the Signature header has no keyId", header=_WHERE)
    try:
        signature = binascii.a2b_base64(params.get("signature", ""), strict_mode=True)
    except ValueError:  # binascii.Error, or a character that is not ASCII
        signature = b""
    if not signature:
        raise MalformedSignature("the Signature header has no base64 signature", header=_WHERE)
    # §2.1.6: without headers, (created) alone is signed; Mastodon does so for
    # hs2019 (the label it assumes when none is given) and signs date for the rest
    default = "(created)" if params.get("algorithm", "hs2019") == "hs2019" else "date"
    covered = tuple(params.get("headers", default).lower().split())
    if len(covered) > MAX_COVERED or len(set(covered)) != len(covered):
        raise MalformedHeader(
            f"the Signature header covers a name twice, or more than {MAX_COVERED}", header=_WHERE
        )
    if not _COVERED.fullmatch(" ".join(covered)):
        raise MalformedHeader("the Signature header covers a name that is not a field name")
    created, expires = params.get("created"), params.get("expires")
    return CavageParams(
        key_id,
        params.get("algorithm"),
        covered,
        signature,
        None if created is None else int(created),
        None if expires is None else int(expires),
    )


def _params(text: str) -> dict[str, str]:
    """The parameters of a ``Signature`` header by name (draft-cavage-12 §2.1).

    Raises:
        MalformedHeader: not ``name="value"`` / ``name=integer`` pairs
            separated by commas, or a parameter twice.
    """
    params: dict[str, str] = {}
    position = 0
    while position < len(text):
        head = _PARAM_HEAD.match(text, position)
        if head is None:
            raise MalformedHeader(_NOT_PAIRS, header=_WHERE)
        name, quoted, number = head.groups()
        if quoted is None:
            value, position = number, head.end()
        else:
            closing = text.find('"', head.end())
            value = text[head.end() : closing]
            if closing < 0 or "\\" in value:  # no closing quote, or an escape
                raise MalformedHeader(_NOT_PAIRS, header=_WHERE)
            position = closing + 1
        end = _PARAM_END.match(text, position)
        if end is None:
            raise MalformedHeader(_NOT_PAIRS, header=_WHERE)
        if name in params:
            raise MalformedHeader(f"the Signature header names {name} twice", header=_WHERE)
        if (name in ("created", "expires")) == (quoted is not None):
            raise MalformedHeader(
                f"the Signature parameter {name} has the wrong form (created and expires "
                "are integers, the others quoted strings)",
                header=_WHERE,
            )
        params[name] = value
        position = end.end()
    return params


def _url(request: WebhookRequest) -> SplitResult:
    try:
        return urlsplit(request.url)
    except ValueError:  # an unbalanced IPv6 bracket, say
        raise MalformedHeader("the request's URL cannot be parsed", header="Host") from None


def _field(request: WebhookRequest, name: str) -> str:
    lines = request.headers.get_all(name)
    if not lines and name == "host":
        # HTTP/2 carries the host as :authority; the adapters put the URL's there
        host = _url(request).netloc
        lines = (host,) if host else ()
    if not lines:
        raise MissingHeader(
            f"the {name} header is covered by the signature but missing", header=name
        )
    # draft-cavage-12 §2.3 step 2: values trimmed, repeated fields joined by ", ";
    # trimmed of SP and HTAB only (RFC 9110 §5.5): str.strip() would also drop
    # the obs-text U+0085 and U+00A0, so that a value never signed would pass
    return ", ".join(line.strip(" \t") for line in lines)


def signing_string(request: WebhookRequest, params: CavageParams) -> bytes:
    """The signing string of draft-cavage-12 §2.3 for ``params.covered``.

    Raises:
        MissingHeader: a covered header is absent.
        MalformedHeader: ``(created)``/``(expires)`` covered without its
            parameter, or a value that is not ASCII or spans lines.
    """
    lines: list[str] = []
    for name in params.covered:
        if name == "(request-target)":
            parts = _url(request)
            target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            value = f"{request.method.lower()} {target}"
        elif name in ("(created)", "(expires)"):
            number = params.created if name == "(created)" else params.expires
            if number is None:
                raise MalformedHeader(f"{name} is covered but has no parameter", header=_WHERE)
            value = str(number)
        elif name.startswith("("):
            raise MalformedHeader(f"{name} is not a pseudo-header of draft-cavage", header=_WHERE)
        else:
            value = _field(request, name)
        if "\n" in value or "\r" in value:
            raise MalformedHeader(f"the covered {name} spans lines", header=_WHERE)
        lines.append(f"{name}: {value}")
    try:
        return "\n".join(lines).encode("ascii")
    except UnicodeEncodeError:
        raise MalformedHeader("a covered header is not ASCII", header=_WHERE) from None


def parse_http_date(text: str) -> float:
    """Unix seconds of an IMF-fixdate (RFC 9110 §5.6.7), strictly.

    Raises:
        MalformedTimestamp: any other form.
    """
    match = _IMF_FIXDATE.fullmatch(text.strip(" \t"))
    if match is None:
        raise MalformedTimestamp(
            "the Date header is not an HTTP date (Sun, 06 Nov 1994 08:49:37 GMT)", header="Date"
        )
    _, day, month, year, hour, minute, second = match.groups()
    parts = (int(year), _MONTHS.index(month) + 1, int(day), int(hour), int(minute), int(second))
    if not (1 <= parts[2] <= 31 and parts[3] < 24 and parts[4] < 60 and parts[5] < 61):
        raise MalformedTimestamp("the Date header is not a valid date", header="Date")
    return float(calendar.timegm((*parts, 0, 0, 0)))


def http_date(now: float) -> str:
    """``now`` as an IMF-fixdate (RFC 9110 §5.6.7)."""
    import time

    moment = time.gmtime(now)
    return (
        f"{_DAYS[moment.tm_wday]}, {moment.tm_mday:02d} {_MONTHS[moment.tm_mon - 1]} "
        f"{moment.tm_year:04d} {moment.tm_hour:02d}:{moment.tm_min:02d}:{moment.tm_sec:02d} GMT"
    )


def digest_header(body: bytes) -> str:
    """The ``Digest`` header of ``body`` (RFC 3230), as Mastodon sends it."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def check_digest(request: WebhookRequest) -> None:
    """Hold the ``Digest`` header (RFC 3230, RFC 5843) to the raw body.

    A ``SHA-256`` digest must be there (Mastodon requires it), and every
    ``SHA-256``/``SHA-512`` digest given must match; other algorithms are ignored.

    Raises:
        MissingHeader: absent. MalformedHeader: not ``alg=base64`` pairs.
        ContentDigestMismatch: no SHA-256, or a digest that does not match.
    """
    text = _field(request, "digest")
    found: dict[str, bytes] = {}
    for pair in text.split(","):
        name, sep, value = pair.strip().partition("=")
        try:
            decoded = binascii.a2b_base64(value.strip(), strict_mode=True)
        except ValueError:  # binascii.Error, or a character that is not ASCII
            decoded = b""
        if not sep or not decoded or name.lower() in found:
            raise MalformedHeader("the Digest header is not alg=base64 pairs", header="Digest")
        found[name.lower()] = decoded
    if "sha-256" not in found:
        raise ContentDigestMismatch("the Digest header has no SHA-256 digest", header="Digest")
    for name, function in (("sha-256", hashlib.sha256), ("sha-512", hashlib.sha512)):
        if name in found and not constant_time_equal(function(request.body).digest(), found[name]):
            raise ContentDigestMismatch(
                "the Digest header does not match the body", header="Digest"
            )
