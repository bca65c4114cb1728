"""What the WSGI and ASGI adapters share: limits, fixed replies, Content-Length
parsing, the public URL, trusted proxies and the client address.

Framework-free and sans-IO: every function here takes plain values (strings,
byte strings, a :class:`Headers`) and either returns a value or raises
:class:`Refused` carrying the short fixed reply to send. The adapters only
move bytes between their server and these helpers.
"""

from __future__ import annotations

import http
import ipaddress
import logging
import re
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, TypeAlias

from ._paths import PathSet
from .errors import ConfigurationError, InvalidRequest
from .request import Headers, WebhookRequest, _checked_request

__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "DEFAULT_MAX_HEADER_BYTES",
    "DEFAULT_MAX_HEADER_COUNT",
    "DELIVERY_KEY",
    "READ_CHUNK_SIZE",
    "AdapterOptions",
    "BodyBuffer",
    "ProxyHeaders",
    "Refused",
    "Reply",
]

logger = logging.getLogger("webhookverify")

# GitHub caps payloads at 25 MB, but webhook events are small: Stripe, Slack
# and Standard Webhooks senders send a few KiB, and a large GitHub push stays
# well under a megabyte. 1 MiB bounds the memory one request can hold.
DEFAULT_MAX_BODY_SIZE = 1 << 20
# Header fields per request: gunicorn's and Apache's default
# (limit_request_fields, LimitRequestFields). A webhook carries a dozen or two,
# a few more behind proxies; past this count a request is no webhook.
DEFAULT_MAX_HEADER_COUNT = 100
# Bytes of header names and values together (without ": " and CRLF): the
# most AWS ALB passes (64 KiB), twice nginx's default buffers (4 x 8 KiB) and
# four times h11's whole request head (16 KiB). httptools sets no bound of
# its own, so this is what keeps one request's headers from costing more.
DEFAULT_MAX_HEADER_BYTES = 64 * 1024
# Bytes asked of a WSGI input per read: one socket buffer's worth, so a read
# without a Content-Length never holds more than this beyond the limit.
READ_CHUNK_SIZE = 64 * 1024
# A Content-Length of more than 18 significant digits (an exabyte) is over any
# limit; it is refused as too large without building the number (Python
# refuses int() on strings over 4300 digits).
_MAX_LENGTH_DIGITS = 18
# Where a verified Delivery is put for the wrapped app: the WSGI environ key
# and the ASGI scope["state"] key.
DELIVERY_KEY = "webhookverify.delivery"

ProxyHeaders: TypeAlias = Literal["x-forwarded", "forwarded"]
_Network: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network
_Address: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address

# RFC 9110 §5.6.2: a method is a token.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# RFC 3986 §3.2.2-3.2.3, narrowed to what a Host header really holds: an
# IP literal, or a DNS name / IPv4 address, and an optional port. Commas,
# slashes, '@' and spaces never belong in a host.
_HOST = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-_~%]+)(?::[0-9]{0,5})?", re.ASCII)
# RFC 3986 §3.3: the characters a path segment may hold unescaped (pchar
# and "/"); "%" is kept so that escapes already in a raw path stay as sent.
_PATH_SAFE = b"/:@!$&'()*+,;=~%"
_PATH_SAFE_DECODED = b"/:@!$&'()*+,;=~"
_DEFAULT_PORTS = {"http": 80, "https": 443}


class Reply(NamedTuple):
    """A response to write: status, headers (without Content-Length) and body."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


_TEXT = ("Content-Type", "text/plain; charset=utf-8")
# Short, fixed texts: they tell a sender what to fix, never what we hold.
BAD_REQUEST = Reply(400, (_TEXT,), b"malformed request\n")
LENGTH_REQUIRED = Reply(411, (_TEXT,), b"a Content-Length is required\n")
TOO_LARGE = Reply(413, (_TEXT,), b"request body too large\n")
# RFC 6585 §5: Request Header Fields Too Large.
HEADERS_TOO_LARGE = Reply(431, (_TEXT,), b"request header fields too large\n")
INTERNAL_ERROR = Reply(500, (_TEXT,), b"the delivery could not be processed; retry later\n")


def method_not_allowed(allow: str) -> Reply:
    """405 with the ``Allow`` header RFC 9110 §15.5.6 requires."""
    return Reply(405, (_TEXT, ("Allow", allow)), b"method not allowed\n")


class Refused(Exception):
    """A request the adapter answers itself, before or instead of the receiver.

    Attributes:
        reply: what to send.
        reason: a code for the log (``body_too_large``, ``truncated_body``, ...).
    """

    def __init__(self, reply: Reply, reason: str) -> None:
        super().__init__(reason)
        self.reply = reply
        self.reason = reason


_STATUS_LINES: dict[int, str] = {s.value: f"{s.value} {s.phrase}" for s in http.HTTPStatus}


def status_line(status: int) -> str:
    """The WSGI status line for ``status`` (``"200 OK"``)."""
    line = _STATUS_LINES.get(status)
    return line if line is not None else f"{status} Unknown"


def log_refused(refused: Refused, remote_addr: str | None) -> None:
    logger.info(
        "webhook request refused by the adapter (%d %s)",
        refused.reply.status,
        refused.reason,
        extra={
            "webhookverify": {
                "status": refused.reply.status,
                "reason": refused.reason,
                "remote_addr": remote_addr,
            }
        },
    )


# -- bodies ----------------------------------------------------------------------------


def parse_content_length(values: Sequence[str], limit: int) -> int | None:
    """The body length a request announces, checked against ``limit``.

    ``values`` are the Content-Length field values as received (several when
    the header was repeated or the server folded repeats with commas). RFC 9110
    §8.6: the value is ``1*DIGIT``; a list of identical values may be taken as
    one, differing values make the request invalid.

    Returns:
        the length, or ``None`` when no value was sent (or the value is empty,
        which CGI and PEP 3333 use for "absent").

    Raises:
        Refused: 400 for an invalid or ambiguous value; 413 over ``limit``.
    """
    if len(values) == 1:
        value = values[0]
        if value.isdigit() and value.isascii() and len(value) <= _MAX_LENGTH_DIGITS:
            length = int(value)  # the usual case: one plain number
            if length > limit:
                raise Refused(TOO_LARGE, "body_too_large")
            return length
    found: str | None = None
    for value in values:
        for item in value.split(","):
            digits = item.strip(" \t")
            if not digits and len(values) == 1 and "," not in value:
                return None
            if not (digits.isascii() and digits.isdigit()):
                raise Refused(BAD_REQUEST, "invalid_content_length")
            digits = digits.lstrip("0") or "0"
            if found is not None and digits != found:
                raise Refused(BAD_REQUEST, "invalid_content_length")
            found = digits
    if found is None:
        return None
    if len(found) > _MAX_LENGTH_DIGITS or int(found) > limit:
        raise Refused(TOO_LARGE, "body_too_large")
    return int(found)


def whole_body(body: bytes, expected: int | None, limit: int) -> bytes:
    """Check a body that arrived in one piece, as :class:`BodyBuffer` would.

    Raises:
        Refused: 413 past the limit; 400 when it differs from the Content-Length.
    """
    if len(body) > limit:
        raise Refused(TOO_LARGE, "body_too_large")
    if expected is not None and len(body) != expected:
        raise Refused(
            BAD_REQUEST,
            "truncated_body" if len(body) < expected else "body_longer_than_content_length",
        )
    return body


class BodyBuffer:
    """Collects body chunks and refuses the request as soon as it passes the limit.

    Args:
        limit: the most bytes accepted.
        expected: the announced Content-Length, or ``None``.
    """

    __slots__ = ("_chunks", "_size", "expected", "limit")

    def __init__(self, limit: int, expected: int | None) -> None:
        self.limit = limit
        self.expected = expected
        self._chunks: list[bytes] = []
        self._size = 0

    def add(self, chunk: bytes) -> None:
        """Append ``chunk``.

        Raises:
            Refused: 413 past the limit; 400 past the announced length.
        """
        if not chunk:
            return
        self._size += len(chunk)
        if self._size > self.limit:
            raise Refused(TOO_LARGE, "body_too_large")
        if self.expected is not None and self._size > self.expected:
            raise Refused(BAD_REQUEST, "body_longer_than_content_length")
        self._chunks.append(chunk)

    @property
    def size(self) -> int:
        return self._size

    def finish(self) -> bytes:
        """The whole body.

        Raises:
            Refused: 400 when fewer bytes came than the Content-Length announced
                (the client went away mid-body): such a body is never dispatched.
        """
        if self.expected is not None and self._size != self.expected:
            raise Refused(BAD_REQUEST, "truncated_body")
        chunks = self._chunks
        if len(chunks) == 1:
            return chunks[0]
        return b"".join(chunks)


# -- configuration ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AdapterOptions:
    """The checked settings both adapters share; built by :meth:`build`."""

    max_body_size: int
    methods: frozenset[str]
    allow: str
    public_url: str | None
    trusted: tuple[_Network, ...]
    trust_unix: bool
    proxy_headers: ProxyHeaders
    max_header_count: int = DEFAULT_MAX_HEADER_COUNT
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES
    # any proxy trusted at all: without one, forwarded headers are never read
    trusts_proxies: bool = False
    # the URLs built for requests, by what they were built from: an adapter
    # keys a URL by every value that went into it (see remember_url)
    urls: dict[tuple[str | bytes, ...], str] = field(
        default_factory=dict, compare=False, repr=False
    )

    def remember_url(self, key: tuple[str | bytes, ...], url: str) -> None:
        """Keep ``url`` for requests whose URL is built from ``key``, within bounds."""
        size = len(url) + sum(len(part) for part in key)
        if size <= 2 * MAX_CACHED_LENGTH and len(self.urls) < _MAX_URLS:
            self.urls[key] = url

    @classmethod
    def build(
        cls,
        owner: str,
        *,
        max_body_size: int,
        methods: Iterable[str],
        public_url: str | None,
        trusted_proxies: Iterable[str | _Network | _Address],
        proxy_headers: str,
        max_header_count: int = DEFAULT_MAX_HEADER_COUNT,
        max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
    ) -> AdapterOptions:
        """Check every setting once, at construction.

        Raises:
            ConfigurationError: naming the setting to fix.
        """
        if (
            isinstance(max_body_size, bool)
            or not isinstance(max_body_size, int)
            or max_body_size < 1
        ):
            raise ConfigurationError(f"{owner}(max_body_size=...) must be a positive int (bytes)")
        for setting, value, unit in (
            ("max_header_count", max_header_count, "header fields"),
            ("max_header_bytes", max_header_bytes, "bytes of header names and values"),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigurationError(f"{owner}({setting}=...) must be a positive int ({unit})")
        names = parse_methods(owner, "methods", methods)
        if not names:
            raise ConfigurationError(f"{owner}(methods=...) must name at least one method")
        if proxy_headers not in ("x-forwarded", "forwarded"):
            raise ConfigurationError(
                f"{owner}(proxy_headers={proxy_headers!r}) is unknown; use 'x-forwarded' "
                "(X-Forwarded-For/-Proto/-Host) or 'forwarded' (RFC 7239)"
            )
        networks, trust_unix = _parse_trusted(owner, trusted_proxies)
        return cls(
            max_body_size=max_body_size,
            methods=frozenset(names),
            allow=", ".join(names),
            public_url=_parse_public_url(owner, public_url),
            trusted=networks,
            trust_unix=trust_unix,
            proxy_headers=proxy_headers,  # type: ignore[arg-type]
            max_header_count=max_header_count,
            max_header_bytes=max_header_bytes,
            trusts_proxies=bool(networks) or trust_unix,
        )

    def check_method(self, method: str) -> None:
        """Raises: Refused: 405 (with ``Allow``) for a method not configured."""
        if method not in self.methods:
            raise self.method_refused()

    def method_refused(self) -> Refused:
        """The refusal of a method not configured: 405, with ``Allow``."""
        return Refused(method_not_allowed(self.allow), "method_not_allowed")

    def is_trusted(self, address: _Address | None) -> bool:
        if address is None:
            return self.trust_unix
        return any(address in network for network in self.trusted)


def parse_methods(owner: str, setting: str, methods: Iterable[str]) -> tuple[str, ...]:
    """HTTP method names, upper-cased, in order, without repeats.

    Raises:
        ConfigurationError: a str instead of a sequence, or a name that is not a token.
    """
    if isinstance(methods, str | bytes):
        raise ConfigurationError(f"{owner}({setting}=...) takes a sequence such as ('POST',)")
    names: list[str] = []
    for method in methods:
        if not isinstance(method, str) or not _TOKEN.fullmatch(method):
            raise ConfigurationError(
                f"{owner}({setting}=...) holds {method!r}, which is not an HTTP method"
            )
        if method.upper() not in names:
            names.append(method.upper())
    return tuple(names)


def _parse_public_url(owner: str, public_url: str | None) -> str | None:
    if public_url is None:
        return None
    problem = f"{owner}(public_url=...) must be an http(s) URL such as 'https://hooks.example.com'"
    if not isinstance(public_url, str):
        raise ConfigurationError(problem)
    parts = urllib.parse.urlsplit(public_url)
    if parts.scheme not in ("http", "https") or not _HOST.fullmatch(parts.netloc):
        raise ConfigurationError(problem)
    try:
        public_url.encode("utf-8")
    except UnicodeEncodeError:
        raise ConfigurationError(
            f"{owner}(public_url=...) has characters that are not valid Unicode (lone "
            "surrogates); write it as senders do, percent-encoded"
        ) from None
    if parts.query or parts.fragment or "?" in public_url or "#" in public_url:
        raise ConfigurationError(
            f"{owner}(public_url=...) is a base URL: the request's path and query are "
            "appended to it, so it takes no query or fragment"
        )
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def _parse_trusted(
    owner: str, entries: Iterable[str | _Network | _Address]
) -> tuple[tuple[_Network, ...], bool]:
    if isinstance(entries, str | bytes):
        raise ConfigurationError(
            f"{owner}(trusted_proxies=...) takes a list such as ['10.0.0.0/8', '127.0.0.1']"
        )
    networks: list[_Network] = []
    trust_unix = False
    for entry in entries:
        if entry == "unix":
            trust_unix = True
            continue
        try:
            if isinstance(entry, ipaddress.IPv4Address | ipaddress.IPv6Address):
                network: _Network = ipaddress.ip_network(entry)
            elif isinstance(entry, ipaddress.IPv4Network | ipaddress.IPv6Network):
                network = entry
            elif isinstance(entry, str):
                network = ipaddress.ip_network(entry.strip())
            else:
                raise TypeError
        except (TypeError, ValueError):
            raise ConfigurationError(
                f"{owner}(trusted_proxies=...) holds {entry!r}, which is not an IP address "
                "or network; name proxies by address ('127.0.0.1', '10.0.0.0/8', with the "
                "network's host bits zero) or 'unix' for a proxy on a Unix socket"
            ) from None
        networks.append(network)
    return tuple(networks), trust_unix


# -- URLs and client addresses ---------------------------------------------------------


# What the adapters remember between requests (quoted paths, Host values
# found valid) is bounded in count and in length: webhook paths and host names
# are short and few, and a client sending many long distinct ones must not
# fill memory. Past either bound a value is simply checked again per request.
MAX_CACHED_LENGTH = 256
_MAX_QUOTED_PATHS = 1024
_MAX_URLS = 1024
_quoted_paths: dict[tuple[bytes, bool], str] = {}


def quote_path(raw: bytes, *, decoded: bool) -> str:
    """A request path fit for a URL.

    Args:
        raw: the path bytes: as received on the wire (ASGI ``raw_path``, a WSGI
            server's ``RAW_URI``), or decoded (WSGI ``SCRIPT_NAME + PATH_INFO``
            encoded back to latin-1 bytes, as PEP 3333 defines them).
        decoded: ``True`` when ``raw`` had its %-escapes decoded, so that a
            literal ``%`` must be escaped again.
    """
    key = (raw, decoded)
    quoted = _quoted_paths.get(key)
    if quoted is None:
        quoted = urllib.parse.quote_from_bytes(raw, _PATH_SAFE_DECODED if decoded else _PATH_SAFE)
        if len(raw) <= MAX_CACHED_LENGTH and len(_quoted_paths) < _MAX_QUOTED_PATHS:
            _quoted_paths[key] = quoted
    return quoted


def _address(text: str | None) -> _Address | None:
    """The IP address in a peer or forwarded node (``1.2.3.4``, ``[::1]:80``, ...)."""
    if not text:
        return None
    text = text.strip()
    if text.startswith("["):
        end = text.find("]")
        text = text[1:end] if end > 0 else text
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _values(headers: Headers, name: str) -> list[str]:
    """Every comma-separated item of every ``name`` field, in order."""
    return [item.strip(" \t") for value in headers.get_all(name) for item in value.split(",")]


# RFC 7239 §4: forwarded-pair = token "=" value; value = token / quoted-string.
# Unquoted values are read leniently (proxies write "host=example.com:8080").
_FORWARDED_PAIR = re.compile(
    r'[ \t]*([!#$%&\'*+.^_`|~0-9A-Za-z-]+)=("(?:[^"\\]|\\.)*"|[^;,"\s]*)[ \t]*(;|\Z)'
)


def _forwarded_elements(headers: Headers) -> list[dict[str, str] | None]:
    """The elements of every ``Forwarded`` field, in order; a malformed one is ``None``."""
    elements: list[dict[str, str] | None] = []
    for value in headers.get_all("forwarded"):
        # split on commas outside quoted strings
        parts: list[str] = []
        start, quoted, escaped = 0, False, False
        for i, char in enumerate(value):
            if escaped:
                escaped = False
            elif char == "\\" and quoted:
                escaped = True
            elif char == '"':
                quoted = not quoted
            elif char == "," and not quoted:
                parts.append(value[start:i])
                start = i + 1
        parts.append(value[start:])
        for part in parts:
            pairs: dict[str, str] = {}
            pos = 0
            while pos < len(part):
                match = _FORWARDED_PAIR.match(part, pos)
                if match is None or match.end() == pos:
                    pairs = {}
                    break
                raw = match.group(2)
                if raw.startswith('"'):
                    raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
                pairs[match.group(1).lower()] = raw
                pos = match.end()
            elements.append(pairs or None)
    return elements


def _pick(values: list[str], hops: int) -> str | None:
    """The value the outermost trusted proxy added to an appended list.

    Each trusted proxy that appends adds one item at the right; items further
    left came from the client. With fewer items than hops (proxies that
    overwrite instead of append) the leftmost is the outermost proxy's.
    """
    if not values:
        return None
    return values[max(0, len(values) - hops)]


class Origin(NamedTuple):
    """Where a request came from, as far as the settings let us believe it."""

    scheme: str | None
    host: str | None
    remote_addr: str | None


def forwarded_origin(options: AdapterOptions, peer: str | None, headers: Headers) -> Origin:
    """Scheme, host and client address from a trusted proxy's headers.

    Forwarded headers are read only when the peer is one of
    ``trusted_proxies``; then the client is found from the right, skipping
    every hop that is itself trusted (a client can prepend anything, but not
    append after a trusted proxy). Values that are not a valid scheme or host
    are ignored.
    """
    if not options.trusts_proxies or not options.is_trusted(_address(peer)):
        return Origin(None, None, peer)
    scheme: str | None
    host: str | None
    if options.proxy_headers == "forwarded":
        client: str | None = peer
        scheme = host = None
        for element in reversed(_forwarded_elements(headers)):
            if element is None:
                break
            scheme, host = element.get("proto"), element.get("host")
            node = element.get("for")
            if node is None:
                # a trusted proxy that does not say who connected to it: the
                # elements further left cannot be attributed to a trusted hop
                break
            address = _address(node)
            client = str(address) if address is not None else node
            if address is None or not options.is_trusted(address):
                break
    else:
        chain = [item for item in _values(headers, "x-forwarded-for") if item]
        client = peer
        hops = 1
        for item in reversed(chain):
            address = _address(item)
            client = str(address) if address is not None else item
            if address is None or not options.is_trusted(address):
                break
            hops += 1
        scheme = _pick(_values(headers, "x-forwarded-proto"), hops)
        host = _pick(_values(headers, "x-forwarded-host"), hops)
    if scheme is not None:
        scheme = scheme.lower()
        if scheme not in _DEFAULT_PORTS:
            scheme = None
    if host is not None and not _HOST.fullmatch(host):
        host = None
    return Origin(scheme, host, client)


# Host header values already found valid: a server answers to a handful of
# names, so the regex runs about once per name (bounded as quoted paths are).
_VALID_HOSTS: set[str] = set()
_MAX_VALID_HOSTS = 256


def request_url(
    options: AdapterOptions,
    *,
    scheme: str,
    hosts: Sequence[str],
    server: tuple[str, int | None] | None,
    path: str,
    query: str,
    origin: Origin | None,
) -> str:
    """The URL the sender used, for schemes that sign it.

    ``public_url`` wins when set (its path is a prefix to the request's);
    else a trusted proxy's scheme and host; else the request's own scheme and
    ``Host`` header, or the server's name and port without a Host.

    Args:
        scheme: the request's scheme (``wsgi.url_scheme``, ASGI ``scheme``).
        hosts: every Host header value received.
        server: the server's ``(name, port)``, for requests without a Host.
        path: the full path, already quoted (:func:`quote_path`).
        query: the raw query string.
        origin: what trusted proxies said (:func:`forwarded_origin`), or
            ``None`` when no proxy is trusted.

    Raises:
        Refused: 400 for more than one Host, or one that is not a host.
    """
    if len(hosts) == 1:
        host = hosts[0]
        if host not in _VALID_HOSTS:
            if host and not _HOST.fullmatch(host):
                raise Refused(BAD_REQUEST, "malformed_host")
            if len(host) <= MAX_CACHED_LENGTH and len(_VALID_HOSTS) < _MAX_VALID_HOSTS:
                _VALID_HOSTS.add(host)
    elif hosts:
        # RFC 9112 §3.2: a request with more than one Host is answered 400.
        raise Refused(BAD_REQUEST, "duplicate_host")
    else:
        host = ""
    tail = f"{path}?{query}" if query else path
    if options.public_url is not None:
        return options.public_url + tail
    if origin is not None:
        scheme = origin.scheme or scheme
        host = origin.host or host
    if not host:
        name, port = server if server is not None else ("localhost", None)
        if ":" in name and not name.startswith("["):
            name = f"[{name}]"  # an IPv6 address
        if not _HOST.fullmatch(name):
            name, port = "localhost", None  # a Unix socket's path, say
        host = name if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{name}:{port}"
    return f"{scheme}://{host}{tail}"


def build_request(
    method: str,
    url: str,
    headers: Headers,
    body: bytes,
    received_at: float,
    remote_addr: str | None,
) -> WebhookRequest:
    """The :class:`WebhookRequest` of an adapter that checked ``method`` and
    ``headers`` (see :func:`~webhookverify.request._checked_request`).

    Raises:
        Refused: 400 when the request cannot be taken as is.
    """
    try:
        return _checked_request(method, url, headers, body, received_at, remote_addr)
    except InvalidRequest:
        raise Refused(BAD_REQUEST, "malformed_request") from None


def parse_headers(
    pairs: Iterable[tuple[str, str]] | Iterable[tuple[bytes, bytes]],
    *,
    max_count: int = DEFAULT_MAX_HEADER_COUNT,
    max_bytes: int = DEFAULT_MAX_HEADER_BYTES,
) -> Headers:
    """:class:`Headers` from the raw pairs a server gives (ASGI bytes, WSGI latin-1 str).

    The count of fields, then their size (names and values, measured by
    joining them), are checked against the limits before anything else is
    done with them; then every field is checked as :class:`Headers` checks it.

    Raises:
        Refused: 431 (RFC 6585 §5) past ``max_count`` fields or ``max_bytes``
            bytes; 400 for a name or value HTTP does not allow (control
            characters), or pairs that are not pairs of bytes or of str.
    """
    try:
        items: list[Any] = pairs if type(pairs) is list else list(pairs)  # ASGI: any iterable
    except TypeError:
        raise Refused(BAD_REQUEST, "malformed_header") from None
    if len(items) > max_count:
        raise Refused(HEADERS_TOO_LARGE, "too_many_headers")
    if not items:
        return Headers()
    try:
        names, values = zip(*items, strict=True)
        # all bytes (ASGI) or all str (WSGI, PEP 3333), never mixed
        if type(names[0]) is bytes:
            joined_names: str | bytes = b" ".join(names)
            joined_values: str | bytes = b"\n".join(values)
        else:
            joined_names, joined_values = " ".join(names), "\n".join(values)
    except (TypeError, ValueError):  # not pairs, or mixed types
        raise Refused(BAD_REQUEST, "malformed_header") from None
    return parse_joined(
        joined_names, joined_values, len(items), max_count=max_count, max_bytes=max_bytes
    )


def parse_joined(
    joined_names: str | bytes,
    joined_values: str | bytes,
    count: int,
    *,
    max_count: int = DEFAULT_MAX_HEADER_COUNT,
    max_bytes: int = DEFAULT_MAX_HEADER_BYTES,
) -> Headers:
    """:class:`Headers` from ``count`` names joined by spaces and values joined
    by LF, as :func:`parse_headers` joins them: the count and the size are
    checked against the limits first.

    Raises:
        Refused: 431 past ``max_count`` fields or ``max_bytes`` bytes (the
            separators not counted); 400 for a name or value HTTP does not
            allow, or counts that do not agree.
    """
    if count > max_count:
        raise Refused(HEADERS_TOO_LARGE, "too_many_headers")
    if len(joined_names) + len(joined_values) - 2 * (count - 1) > max_bytes:
        raise Refused(HEADERS_TOO_LARGE, "headers_too_large")
    try:
        return Headers.from_joined(joined_names, joined_values, count)
    except InvalidRequest:
        raise Refused(BAD_REQUEST, "malformed_header") from None


def middleware_settings(
    path: str | None,
    paths: Iterable[str] | None,
    passthrough_methods: Iterable[str],
    **options: Any,
) -> tuple[PathSet, AdapterOptions, frozenset[str]]:
    """Check a ``WebhookMiddleware``'s settings, the same for WSGI and ASGI.

    Returns:
        the webhook paths, the adapter options, and the passthrough methods.

    Raises:
        ConfigurationError: a setting is wrong, or a method is both verified
            and passed through.
    """
    owner = "WebhookMiddleware"
    found = PathSet(owner, path, paths)
    adapter = AdapterOptions.build(owner, **options)
    passthrough = parse_methods(owner, "passthrough_methods", passthrough_methods)
    if set(passthrough) & adapter.methods:
        raise ConfigurationError(
            "WebhookMiddleware: a method cannot be both verified (methods=...) and passed "
            "through unverified (passthrough_methods=...)"
        )
    return found, adapter, frozenset(passthrough)
