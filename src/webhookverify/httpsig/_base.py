"""The signature base of RFC 9421 §2.5, and ``Content-Digest`` (RFC 9530).

Component values are derived from the request as received: derived
components (§2.2) from its method and URL, header fields (§2.1) from its
field lines, lower-cased names, values trimmed and combined with ``, ``.
Anything this receiver cannot derive unambiguously is refused, never guessed:
component parameters other than ``@query-param``'s ``name`` (``sf``, ``key``,
``bs``, ``req``, ``tr``), ``@status`` (a response's), a component named twice,
a query parameter absent or given more than once.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import quote, unquote_plus, urlsplit

from ..errors import (
    MalformedHeader,
    MalformedTimestamp,
    MissingHeader,
    SignatureMismatch,
    TimestampTooOld,
    UnsupportedSignatureVersion,
    VerificationError,
)
from ..request import WebhookRequest
from ..verifiers._base import constant_time_equal
from ._sfv import (
    InnerList,
    Item,
    StructuredFieldError,
    parse_dictionary,
    serialize_component,
    serialize_inner_list,
)

__all__ = [
    "DERIVED",
    "AlgorithmMismatch",
    "ContentDigestMismatch",
    "MissingComponent",
    "SignatureExpired",
    "UncoveredComponent",
    "UnknownKeyId",
    "check_content_digest",
    "check_params",
    "content_digest",
    "read_dictionary",
    "signature_base",
    "signatures_to_try",
]

# RFC 9421 §2.2: the derived components a request has (``@status`` is a
# response's, refused below; ``@query-param`` takes a ``name``).
DERIVED = frozenset(
    {
        "@method",
        "@target-uri",
        "@authority",
        "@scheme",
        "@request-target",
        "@path",
        "@query",
        "@query-param",
    }
)
# RFC 9530 §5 registers these two as the ones to use; md5, sha, unixsum and
# unixcksum are deprecated and ignored, id-sha-* describe another thing.
DIGESTS = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}
# RFC 3986 §3.2.3: the default ports, omitted from @authority (RFC 9421 §2.2.3).
_DEFAULT_PORTS = {"http": 80, "https": 443}
# RFC 9110 §5.1: a field name is a token; RFC 9421 §2.1 wants it lower-case.
_FIELD_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9a-z]+")
# The characters WHATWG's component percent-encode set leaves alone, which
# RFC 9421 §2.2.8 applies to @query-param names and values.
_QUERY_SAFE = "!'()*"


class UncoveredComponent(VerificationError):
    """The signature does not cover a component the configuration requires."""

    reason = "uncovered_component"
    default_message = "the signature does not cover a component the configuration requires"


class MissingComponent(VerificationError):
    """A covered component cannot be derived from the request (absent, ambiguous)."""

    reason = "missing_component"
    default_message = "a component the signature covers is not in the request"


class ContentDigestMismatch(VerificationError):
    """The signed ``Content-Digest`` is not the digest of the body received."""

    reason = "content_digest_mismatch"
    default_message = "the Content-Digest header does not match the body"


class UnknownKeyId(VerificationError):
    """The signature names a ``keyid`` the configuration does not hold."""

    reason = "unknown_key_id"
    default_message = "the signature's keyid is not a configured key (keys=...)"


class AlgorithmMismatch(SignatureMismatch):
    """The signature's ``alg`` parameter is not the algorithm configured for its key."""

    reason = "algorithm_mismatch"
    default_message = "the signature's alg is not the algorithm configured for its key"


class SignatureExpired(TimestampTooOld):
    """The signature's ``expires`` parameter is in the past (RFC 9421 §2.3)."""

    reason = "signature_expired"
    default_message = "the signature has expired (its expires parameter is in the past)"


def read_dictionary(request: WebhookRequest, name: str) -> dict[str, Item | InnerList]:
    """The field ``name`` parsed as an RFC 8941 Dictionary.

    Raises:
        MissingHeader: absent. MalformedHeader: not a valid Dictionary within the limits.
    """
    lines = request.headers.get_all(name)
    if not lines:
        raise MissingHeader(f"the {name} header is missing", header=name)
    try:
        return parse_dictionary(", ".join(lines))
    except StructuredFieldError as error:
        raise MalformedHeader(
            f"the {name} header is not a valid structured field (RFC 8941): {error}", header=name
        ) from None


def _field_value(request: WebhookRequest, name: str) -> str:
    """RFC 9421 §2.1: every field line's value, trimmed, joined with ``, ``.

    Only SP and HTAB are trimmed (RFC 9110 §5.5's optional whitespace):
    ``str.strip()`` or ``str.splitlines()`` would also take U+0085 and U+00A0,
    which a latin-1 field value may hold as obs-text, so that a value the
    sender never signed would be read as the one it did. Obsolete line
    folding cannot reach here: :class:`~webhookverify.Headers` refuses CR and LF.
    """
    lines = request.headers.get_all(name)
    if not lines:
        raise MissingHeader(
            f"the {name} header is covered by the signature but missing", header=name
        )
    return ", ".join(line.strip(" \t") for line in lines)


def _query_param(query: str, name: str) -> str:
    """RFC 9421 §2.2.8: the one value of the query parameter ``name``, re-encoded."""
    found: list[str] = []
    for pair in query.split("&") if query else ():
        key, _, value = pair.partition("=")
        if quote(unquote_plus(key), safe=_QUERY_SAFE) == name:
            found.append(quote(unquote_plus(value), safe=_QUERY_SAFE))
    if len(found) != 1:
        raise MissingComponent(
            f"the query parameter {name!r} the signature covers is "
            + ("absent" if not found else "given more than once")
        )
    return found[0]


def _derived(request: WebhookRequest, item: Item) -> str:
    name = str(item.value)
    params = dict(item.params)
    if name == "@query-param":
        if set(params) != {"name"} or not isinstance(params["name"], str):
            raise MalformedHeader(
                'the @query-param component needs exactly one parameter, name="..."',
                header="Signature-Input",
            )
    elif params:
        raise MalformedHeader(
            f"the component {name} has parameters this verifier does not support",
            header="Signature-Input",
        )
    if name == "@method":
        return request.method
    url = request.url
    parts = urlsplit(url)
    if not parts.scheme or not parts.hostname:
        raise MissingComponent(
            f"{name} needs the request's full URL; pass url= to the adapter or WebhookRequest"
        )
    if name == "@target-uri":
        return url
    if name == "@scheme":
        return parts.scheme.lower()
    if name == "@authority":
        host = parts.hostname.lower()
        host = f"[{host}]" if ":" in host else host
        try:
            port = parts.port
        except ValueError:
            raise MissingComponent("@authority: the URL's port is not a number") from None
        if port is None or port == _DEFAULT_PORTS.get(parts.scheme.lower()):
            return host
        return f"{host}:{port}"
    path = parts.path or "/"
    if name == "@path":
        return path
    if name == "@query":
        return "?" + parts.query
    if name == "@request-target":
        return path + ("?" + parts.query if parts.query else "")
    return _query_param(parts.query, str(params["name"]))


def component_value(request: WebhookRequest, item: Item) -> str:
    """The value of one covered component of ``request`` (RFC 9421 §2.1, §2.2).

    Raises:
        MalformedHeader: not a component identifier this verifier derives.
        MissingHeader / MissingComponent: the request does not have it.
    """
    if type(item.value) is not str:  # a Token is a str too, but not a String
        raise MalformedHeader(
            "a covered component is not a quoted string", header="Signature-Input"
        )
    name = str(item.value)
    if name.startswith("@"):
        if name == "@status":
            raise MalformedHeader(
                "@status is a response's component; a request cannot cover it",
                header="Signature-Input",
            )
        if name not in DERIVED:
            raise MalformedHeader(
                f"the derived component {name!r} is not one this verifier knows",
                header="Signature-Input",
            )
        return _derived(request, item)
    if not _FIELD_NAME.fullmatch(name):
        raise MalformedHeader(
            "a covered field name is not a lower-case field name", header="Signature-Input"
        )
    if item.params:
        raise MalformedHeader(
            f"the component {name} has parameters this verifier does not support",
            header="Signature-Input",
        )
    return _field_value(request, name)


def signature_base(request: WebhookRequest, covered: InnerList) -> bytes:
    """The signature base of RFC 9421 §2.5 for the covered components ``covered``.

    Raises:
        MalformedHeader: a component is named twice, or cannot be derived here.
        MissingHeader / MissingComponent: the request lacks a covered component.
    """
    lines: list[str] = []
    seen: set[str] = set()
    for item in covered.items:
        identifier = serialize_component(item)
        if identifier in seen:
            raise MalformedHeader("the signature names a component twice", header="Signature-Input")
        seen.add(identifier)
        value = component_value(request, item)
        if "\n" in value or "\r" in value:
            raise MalformedHeader("a covered component value spans lines", header=None)
        lines.append(f"{identifier}: {value}")
    lines.append(f'"@signature-params": {serialize_inner_list(covered)}')
    try:
        return "\n".join(lines).encode("ascii")
    except UnicodeEncodeError:
        # RFC 9110 §5.5: field values are visible ASCII; anything else never
        # matches what a conforming signer hashed.
        raise MalformedHeader("a covered component is not ASCII") from None


def content_digest(body: bytes, algorithm: str = "sha-512") -> str:
    """The ``Content-Digest`` value of ``body`` (RFC 9530 §2), one algorithm."""
    import base64

    return f"{algorithm}=:{base64.b64encode(DIGESTS[algorithm](body).digest()).decode()}:"


def check_content_digest(request: WebhookRequest) -> None:
    """Hold the ``Content-Digest`` header to the raw body (RFC 9530 §2).

    Every digest of a known algorithm (``sha-256``, ``sha-512``) must match;
    others are ignored; at least one known one must be there.

    Raises:
        MissingHeader: absent. MalformedHeader: not a Dictionary of byte sequences.
        ContentDigestMismatch: no known algorithm, or a digest that does not match.
    """
    text = _field_value(request, "content-digest")
    try:
        members = parse_dictionary(text)
    except StructuredFieldError:
        raise MalformedHeader(
            "the Content-Digest header is not a valid structured field (RFC 9530)",
            header="Content-Digest",
        ) from None
    checked = 0
    for name, member in members.items():
        if name not in DIGESTS:
            continue
        if not isinstance(member, Item) or not isinstance(member.value, bytes):
            raise MalformedHeader(
                f"the {name} digest in Content-Digest is not a byte sequence",
                header="Content-Digest",
            )
        if not constant_time_equal(DIGESTS[name](request.body).digest(), member.value):
            raise ContentDigestMismatch(header="Content-Digest")
        checked += 1
    if not checked:
        raise ContentDigestMismatch(
            "the Content-Digest header has no sha-256 or sha-512 digest", header="Content-Digest"
        )


# RFC 9421 §2.3: the parameters it defines, with the type each must have.
INT_PARAMS = ("created", "expires")
STR_PARAMS = ("keyid", "alg", "nonce", "tag")


def check_params(covered: InnerList) -> dict[str, Any]:
    """The parameters of a signature, each of the type RFC 9421 §2.3 gives it;
    ``keyid`` required."""
    params = dict(covered.params)
    for name in INT_PARAMS:
        value = params.get(name, 0)
        if type(value) is not int or value < 0:
            raise MalformedTimestamp(
                f"the signature's {name} parameter is not a whole number of seconds",
                header="Signature-Input",
            )
    for name in STR_PARAMS:
        if name in params and (type(params[name]) is not str or not params[name]):
            raise MalformedHeader(
                f"the signature's {name} parameter is not a string", header="Signature-Input"
            )
    if "keyid" not in params:
        raise MalformedHeader(
            "the signature has no keyid parameter; this verifier finds keys by keyid",
            header="Signature-Input",
        )
    return params


def signatures_to_try(
    request: WebhookRequest, label: str | None, required_tag: str | None
) -> list[tuple[str, InnerList, Item | InnerList | None]]:
    """The signatures to try: label, covered components and signature value.

    Raises:
        MalformedHeader: a ``Signature-Input`` member that is not a list.
        UnsupportedSignatureVersion: none under ``label`` / with ``required_tag``.
    """
    inputs = read_dictionary(request, "Signature-Input")
    signatures = read_dictionary(request, "Signature")
    found = []
    for name, covered in inputs.items():
        if label is not None and name != label:
            continue
        if not isinstance(covered, InnerList):
            raise MalformedHeader(
                f"Signature-Input's {name} is not a list of components",
                header="Signature-Input",
            )
        if required_tag is not None and dict(covered.params).get("tag") != required_tag:
            continue
        found.append((name, covered, signatures.get(name)))
    if found:
        return found
    wanted = [f"label {label!r}"] if label else []
    wanted += [f"tag {required_tag!r}"] if required_tag else []
    raise UnsupportedSignatureVersion(
        f"Signature-Input has no signature with {' and '.join(wanted)} "
        "(check label= and required_tag=)",
        header="Signature-Input",
    )
