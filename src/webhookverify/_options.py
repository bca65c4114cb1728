"""The adapters' settings, checked once at construction: limits, methods,
the public URL, trusted proxies, and a middleware's paths.
"""

from __future__ import annotations

import ipaddress
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias, TypedDict

from ._checks import check_list
from ._origin import HOST, Address
from ._paths import PathSet, normalize_path
from ._replies import Refused, method_not_allowed
from ._suggest import did_you_mean
from .errors import ConfigurationError
from .headers import TOKEN

__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "DEFAULT_MAX_HEADER_BYTES",
    "DEFAULT_MAX_HEADER_COUNT",
    "DELIVERY_KEY",
    "AdapterOptions",
    "AdapterSettings",
    "Guard",
    "ProxyHeaders",
    "check_receiver",
    "middleware_settings",
]

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
# Where a verified Delivery is put for the wrapped app: the WSGI environ key
# and the ASGI scope["state"] key.
DELIVERY_KEY = "webhookverify.delivery"

ProxyHeaders: TypeAlias = Literal["x-forwarded", "forwarded"]
Network: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network


class AdapterSettings(TypedDict, total=False):
    """The keyword settings both adapters take (see ``WebhookApp``)."""

    max_body_size: int
    methods: Iterable[str]
    public_url: str | None
    trusted_proxies: Iterable[Any]
    proxy_headers: ProxyHeaders
    max_header_count: int
    max_header_bytes: int


@dataclass(frozen=True, slots=True)
class AdapterOptions:
    """The checked settings both adapters share; built by :meth:`build`."""

    max_body_size: int
    methods: tuple[str, ...]  # in order, for the Allow header
    public_url: str | None
    trusted: tuple[Network, ...]
    trust_unix: bool
    proxy_headers: ProxyHeaders
    max_header_count: int = DEFAULT_MAX_HEADER_COUNT
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES

    @classmethod
    def build(
        cls,
        owner: str,
        *,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        methods: Iterable[str] = ("POST",),
        public_url: str | None = None,
        trusted_proxies: Iterable[str | Network | Address] = (),
        proxy_headers: str = "x-forwarded",
        max_header_count: int = DEFAULT_MAX_HEADER_COUNT,
        max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
        **unknown: object,
    ) -> AdapterOptions:
        """Check every setting once, at construction.

        Raises:
            ConfigurationError: naming the setting to fix (a misspelt one
                with the nearest valid name).
        """
        if unknown:
            refuse_unknown(owner, sorted(unknown)[0])
        for setting, value, unit in (
            ("max_body_size", max_body_size, "bytes"),
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
            methods=names,
            public_url=_parse_public_url(owner, public_url),
            trusted=networks,
            trust_unix=trust_unix,
            proxy_headers=proxy_headers,  # type: ignore[arg-type]
            max_header_count=max_header_count,
            max_header_bytes=max_header_bytes,
        )

    def check_method(self, method: str, handshakes: frozenset[str] = frozenset()) -> None:
        """Raises: Refused: 405 (with ``Allow``) for a method not configured,
        unless a handler's handshake comes with it (``handshakes``: the
        receiver's ``handshake_methods``)."""
        if method not in self.methods and method not in handshakes:
            raise Refused(method_not_allowed(", ".join(self.methods)), "method_not_allowed")

    def is_trusted(self, address: Address | None) -> bool:
        """Whether a peer at ``address`` (``None``: a Unix socket) is a trusted proxy."""
        return self.trust_unix if address is None else any(address in n for n in self.trusted)


@dataclass(frozen=True, slots=True)
class Guard:
    """What a middleware guards: its webhook paths, less the methods it passes through."""

    paths: PathSet
    passthrough_methods: frozenset[str]

    def guards(self, method: object, path: str, mount: str) -> bool:
        """Whether the middleware verifies a request (else the wrapped app gets it untouched)."""
        return self.paths.matches(path, mount) and method not in self.passthrough_methods


# What a middleware takes besides AdapterSettings, for the nearest-name hint.
MIDDLEWARE_SETTINGS = ("path", "paths", "passthrough_methods")


def refuse_unknown(owner: str, name: str) -> None:
    """Raises: ConfigurationError: ``name`` is not a setting of ``owner``,
    with the nearest one (or the list of them)."""
    valid = tuple(AdapterSettings.__annotations__)
    if owner.endswith("WebhookMiddleware"):
        valid += MIDDLEWARE_SETTINGS
    hint = did_you_mean(name, valid) or f"; it takes {', '.join(valid)}"
    raise ConfigurationError(f"{owner}: unknown setting {name!r}{hint}")


def middleware_settings(
    owner: str,
    receiver: object,
    receive: str,
    path: str | None,
    paths: Iterable[str] | None,
    passthrough_methods: Iterable[str],
    options: AdapterSettings,
) -> tuple[Guard, AdapterOptions]:
    """Check a middleware's settings, the same for WSGI, ASGI and aiohttp.

    Args:
        receive: the receiver's method the middleware calls
            (``"receive"`` or ``"areceive"``).

    Raises:
        ConfigurationError: a setting is wrong, or a method is both verified
            and passed through.
    """
    check_receiver(owner, receiver, receive)
    found = PathSet(owner, path, paths)
    adapter = AdapterOptions.build(owner, **options)
    passthrough = frozenset(parse_methods(owner, "passthrough_methods", passthrough_methods))
    if passthrough.intersection(adapter.methods):
        raise ConfigurationError(
            f"{owner}: a method cannot be both verified (methods=...) and passed "
            "through unverified (passthrough_methods=...)"
        )
    _check_base(owner, adapter.public_url, found)
    return Guard(found, passthrough), adapter


def _check_base(owner: str, public_url: str | None, found: PathSet) -> None:
    """Refuse a ``public_url`` that ends with a guarded path: the request's
    path is appended to it, so every URL-signed delivery would be checked
    against ``.../webhooks/webhooks`` and refused."""
    if public_url is None:
        return
    base = urllib.parse.urlsplit(public_url)
    prefix = normalize_path(base.path)
    for path in sorted(found.paths):
        guarded = normalize_path(path)
        if guarded != "/" and prefix.endswith(guarded):
            raise ConfigurationError(
                f"{owner}(public_url=...) ends with the webhook path {path!r}, which the "
                f"request's own path adds again: give the base, {base.scheme}://{base.netloc} "
                "(with only the prefix a proxy strips, if any)"
            )


def check_receiver(owner: str, receiver: object, method: str) -> None:
    """Raises: ConfigurationError: ``receiver`` has no ``method`` or no event bus."""
    bus = getattr(receiver, "bus", None)
    if not callable(getattr(receiver, method, None)) or not callable(getattr(bus, "bind", None)):
        raise ConfigurationError(
            f"{owner}(receiver=...) must be a webhookverify.Receiver, not "
            f"{type(receiver).__name__}: write {owner}(Receiver(registry), ...)"
        )


def parse_methods(owner: str, setting: str, methods: Iterable[str]) -> tuple[str, ...]:
    """HTTP method names, upper-cased, in order, without repeats.

    Raises:
        ConfigurationError: a str instead of a sequence, or a name that is not a token.
    """
    names: list[str] = []
    for method in check_list(methods, setting, owner, hint=" such as ('POST',)"):
        if not isinstance(method, str) or not TOKEN.fullmatch(method):  # RFC 9110 §9.1
            raise ConfigurationError(
                f"{owner}({setting}=...) holds {method!r}, which is not an HTTP method"
            )
        if method.upper() not in names:
            names.append(method.upper())
    return tuple(names)


def _parse_public_url(owner: str, public_url: str | None) -> str | None:
    if public_url is None:
        return None
    try:
        # ValueError: an IPv6 host left open ("https://[::1"); AttributeError: not text
        parts = urllib.parse.urlsplit(public_url)
        if parts.scheme not in ("http", "https") or not HOST.fullmatch(parts.netloc):
            raise ValueError
    except (AttributeError, TypeError, ValueError):
        raise ConfigurationError(
            f"{owner}(public_url=...) must be an http(s) URL such as 'https://hooks.example.com'"
        ) from None
    if any("\ud800" <= char <= "\udfff" for char in public_url):  # UTF-8 cannot encode them
        raise ConfigurationError(
            f"{owner}(public_url=...) has characters that are not valid Unicode (lone "
            "surrogates); write it as senders do, percent-encoded"
        )
    if "?" in public_url or "#" in public_url:  # also a "?" or "#" with nothing after it
        raise ConfigurationError(
            f"{owner}(public_url=...) is a base URL: the request's path and query are "
            "appended to it, so it takes no query or fragment"
        )
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def _parse_trusted(owner: str, entries: Iterable[Any]) -> tuple[tuple[Network, ...], bool]:
    hint = " such as ['10.0.0.0/8', '127.0.0.1']"
    entries = check_list(entries, "trusted_proxies", owner, hint=hint)
    networks: list[Network] = []
    for entry in entries:
        if entry == "unix":
            continue
        try:
            if not isinstance(entry, str | Address | Network):
                raise TypeError
            networks.append(
                ipaddress.ip_network(entry.strip() if isinstance(entry, str) else entry)
            )
        except (TypeError, ValueError):
            raise ConfigurationError(
                f"{owner}(trusted_proxies=...) holds {entry!r}, which is not an IP address "
                "or network; name proxies by address ('127.0.0.1', '10.0.0.0/8', with the "
                "network's host bits zero) or 'unix' for a proxy on a Unix socket"
            ) from None
    return tuple(networks), "unix" in entries
