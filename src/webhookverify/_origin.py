"""Where a request came from: trusted proxies, the client address, the Host
and the URL the sender used.

Forwarded headers (``X-Forwarded-*``, RFC 7239 ``Forwarded``) are believed
only from a peer in ``trusted_proxies``. The URL is needed only by schemes
that sign it (Twilio, Square, HubSpot, Trello): the adapters check the Host
on every request but build the URL only when a verifier reads it.
"""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple, TypeAlias

from ._replies import BAD_REQUEST, Refused
from .headers import Headers

if TYPE_CHECKING:
    from ._options import AdapterOptions

__all__ = [
    "HOST",
    "Origin",
    "check_host",
    "forwarded_origin",
    "ip_address",
    "request_url",
    "sent_path",
]

Address: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address

# RFC 3986 §3.2.2-3.2.3, narrowed to what a Host header really holds: an
# IP literal, or a DNS name / IPv4 address, and an optional port. Commas,
# slashes, '@' and spaces never belong in a host.
HOST = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-_~%]+)(?::[0-9]{0,5})?", re.ASCII)
# RFC 3986 §3.3: the characters a path segment may hold unescaped (pchar
# and "/"); "%" is kept so that escapes already in a raw path stay as sent.
_PATH_SAFE = b"/:@!$&'()*+,;=~%"
_PATH_SAFE_DECODED = b"/:@!$&'()*+,;=~"
_DEFAULT_PORTS = {"http": 80, "https": 443}
# RFC 7239 §4: forwarded-pair = token "=" value; value = token / quoted-string.
# Unquoted values are read leniently (proxies write "host=example.com:8080").
_PAIR = r'[ \t]*([!#$%&\'*+.^_`|~0-9A-Za-z-]+)=("(?:[^"\\]|\\.)*"|[^;,"\s]*)[ \t]*'
_FORWARDED_PAIR = re.compile(_PAIR)
# forwarded-element: pairs joined by ";" (one more ";" tolerated at the end).
_FORWARDED_ELEMENT = re.compile(rf"{_PAIR}(?:;{_PAIR})*;?")
# The elements of a Forwarded value: split on the commas outside quoted
# strings (a quoted string left open runs to the end of the value).
_ELEMENTS = re.compile(r'(?:^|,)((?:"(?:[^"\\]|\\.)*(?:"|\\?\Z)|[^,"])*)', re.S)


class Origin(NamedTuple):
    """Where a request came from, as far as the settings let us believe it."""

    scheme: str | None
    host: str | None
    remote_addr: str | None


def ip_address(text: str | None) -> Address | None:
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
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:1.2.3.4 is 1.2.3.4
    return address if mapped is None else mapped


def _items(headers: Headers, name: str) -> list[str]:
    """Every comma-separated item of every ``name`` field, in order."""
    return [item.strip(" \t") for value in headers.get_all(name) for item in value.split(",")]


def _forwarded_elements(headers: Headers) -> list[dict[str, str] | None]:
    """The elements of every ``Forwarded`` field, in order; a malformed one is ``None``."""
    elements: list[dict[str, str] | None] = []
    for value in headers.get_all("forwarded"):
        for part in _ELEMENTS.findall(value):
            if not _FORWARDED_ELEMENT.fullmatch(part):
                elements.append(None)
                continue
            elements.append(
                {
                    name.lower(): re.sub(r"\\(.)", r"\1", raw[1:-1]) if raw.startswith('"') else raw
                    for name, raw in _FORWARDED_PAIR.findall(part)
                }
            )
    return elements


def _pick(values: list[str], hops: int) -> str | None:
    """The value the outermost trusted proxy added to an appended list.

    Each trusted proxy that appends adds one item at the right; items further
    left came from the client. With fewer items than hops (proxies that
    overwrite instead of append) the leftmost is the outermost proxy's.
    """
    return values[max(0, len(values) - hops)] if values else None


def forwarded_origin(options: AdapterOptions, peer: str | None, headers: Headers) -> Origin:
    """Scheme, host and client address from a trusted proxy's headers.

    Forwarded headers are read only when the peer is one of
    ``trusted_proxies``; then the client is found from the right, skipping
    every hop that is itself trusted (a client can prepend anything, but not
    append after a trusted proxy). Values that are not a valid scheme or host
    are ignored.
    """
    if not options.is_trusted(ip_address(peer)):
        return Origin(None, None, peer)
    client = peer
    scheme: str | None = None
    host: str | None = None
    if options.proxy_headers == "forwarded":
        for element in reversed(_forwarded_elements(headers)):
            if element is None:
                break
            scheme, host, node = element.get("proto"), element.get("host"), element.get("for")
            if node is None:
                # a trusted proxy that does not say who connected to it: the
                # elements further left cannot be attributed to a trusted hop
                break
            address = ip_address(node)
            client = str(address) if address is not None else node
            if address is None or not options.is_trusted(address):
                break
    else:
        hops = 1
        for item in reversed([item for item in _items(headers, "x-forwarded-for") if item]):
            address = ip_address(item)
            client = str(address) if address is not None else item
            if address is None or not options.is_trusted(address):
                break
            hops += 1
        scheme = _pick(_items(headers, "x-forwarded-proto"), hops)
        host = _pick(_items(headers, "x-forwarded-host"), hops)
    scheme = scheme.lower() if scheme and scheme.lower() in _DEFAULT_PORTS else None
    return Origin(scheme, host if host and HOST.fullmatch(host) else None, client)


def check_host(hosts: Sequence[str]) -> str:
    """The request's Host (``""`` when none was sent).

    Raises:
        Refused: 400 for more than one Host (RFC 9112 §3.2), or one that is
            not a host.
    """
    if len(hosts) > 1:
        raise Refused(BAD_REQUEST, "duplicate_host")
    host = hosts[0] if hosts else ""
    if host and not HOST.fullmatch(host):
        raise Refused(BAD_REQUEST, "malformed_host")
    return host


def quote_path(raw: bytes, *, decoded: bool) -> str:
    """A request path fit for a URL.

    Args:
        raw: the path bytes: as received on the wire (ASGI ``raw_path``, a WSGI
            server's ``RAW_URI``), or decoded (WSGI ``SCRIPT_NAME + PATH_INFO``
            encoded back to latin-1 bytes, as PEP 3333 defines them).
        decoded: ``True`` when ``raw`` had its %-escapes decoded, so that a
            literal ``%`` must be escaped again.
    """
    return urllib.parse.quote_from_bytes(raw, _PATH_SAFE_DECODED if decoded else _PATH_SAFE)


def sent_path(raw: object, decoded: str) -> str:
    """The request path as the sender wrote it, for a framework integration.

    A framework hands its app the decoded path (``/café``, ``/a b``) or a
    URL of its own spelling (Werkzeug's IRI, Django's re-escaped path); a
    scheme that signs the URL signs the bytes sent (``/caf%C3%A9``).

    Args:
        raw: the request target as received (ASGI ``raw_path``, a WSGI
            server's ``RAW_URI``/``REQUEST_URI``; bytes or latin-1 text), or
            ``None``; its query, if any, is ignored.
        decoded: the framework's decoded path, mount prefix included.

    Returns:
        ``raw`` when it decodes to ``decoded`` (the bytes the sender sent),
        else ``decoded`` quoted again (behind a proxy that rewrote the path,
        or a server that keeps no raw target).
    """
    text = decoded.encode("utf-8", "surrogateescape")
    if isinstance(raw, str):
        raw = raw.encode("latin-1", "replace")
    if isinstance(raw, bytes) and raw.startswith(b"/"):
        raw = raw.partition(b"?")[0]
        if urllib.parse.unquote_to_bytes(raw) == text:
            return quote_path(raw, decoded=False)
    return quote_path(text, decoded=True)


def request_url(
    options: AdapterOptions,
    scheme: str,
    host: str,
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
        host: the request's Host, checked (:func:`check_host`), or ``""``.
        server: the server's ``(name, port)``, for requests without a Host.
        path: the full path, already quoted (:func:`quote_path`).
        query: the raw query string.
        origin: what trusted proxies said (:func:`forwarded_origin`), or ``None``.
    """
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
        if not HOST.fullmatch(name):
            name, port = "localhost", None  # a Unix socket's path, say
        host = name if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{name}:{port}"
    return f"{scheme}://{host}{tail}"
