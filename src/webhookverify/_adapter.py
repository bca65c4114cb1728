"""What the WSGI and ASGI adapters do alike: their construction (the
settings checked once), and on each request the head's checks and limits,
then the :class:`~webhookverify.WebhookRequest`.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, Unpack

from ._body import parse_content_length
from ._options import AdapterOptions, AdapterSettings, check_receiver, middleware_settings
from ._origin import check_host, forwarded_origin, request_url
from ._replies import BAD_REQUEST, HEADERS_TOO_LARGE, Refused
from .errors import ConfigurationError, InvalidRequest
from .headers import Headers
from .request import WebhookRequest

if TYPE_CHECKING:
    from .receiver import Receiver

__all__ = [
    "Endpoint",
    "Middleware",
    "UrlParts",
    "build_request",
    "followed_redirect",
    "read_head",
    "read_headers",
]

logger = logging.getLogger("webhookverify")

App = TypeVar("App")

# What the URL is built from, read only when a verifier reads the URL: the
# quoted path, the raw query string, and the server's (name, port) for a
# request without a Host.
UrlParts = Callable[[], tuple[str, str, "tuple[str, int | None] | None"]]


class Endpoint:
    """What a WSGI or ASGI ``WebhookApp`` holds: the receiver, and the settings
    checked at construction (see :class:`webhookverify.wsgi.WebhookApp`)."""

    receive: ClassVar[str]  # the receiver's method the adapter calls

    def __init__(self, receiver: Receiver, **options: Unpack[AdapterSettings]) -> None:
        check_receiver("WebhookApp", receiver, self.receive)
        self.receiver = receiver
        self.options = AdapterOptions.build("WebhookApp", **options)

    def __repr__(self) -> str:
        return f"{type(self).__module__.rpartition('.')[2]}.WebhookApp({self.receiver!r})"


class Middleware(Generic[App]):
    """What a WSGI or ASGI ``WebhookMiddleware`` holds: the wrapped app, the
    receiver, what it guards and the settings, checked at construction (see
    :class:`webhookverify.wsgi.WebhookMiddleware`)."""

    receive: ClassVar[str]  # the receiver's method the adapter calls
    kind: ClassVar[str]  # the app it wraps, for the error: "a WSGI"
    # How many positional arguments that kind of app takes (PEP 3333: environ,
    # start_response; ASGI 3.0: scope, receive, send), and what to use for an
    # app of the other kind.
    arguments: ClassVar[int]
    other_kind: ClassVar[str]
    # The attribute a framework's app object keeps its wrappable app in
    # (Flask's ``wsgi_app``, Quart's ``asgi_app``): a middleware assigned to
    # it while wrapping the app object itself calls itself on every request.
    app_attribute: ClassVar[str]

    def __init__(
        self,
        app: App,
        receiver: Receiver,
        *,
        path: str | None = None,
        paths: Iterable[str] | None = None,
        passthrough_methods: Iterable[str] = (),
        **options: Unpack[AdapterSettings],
    ) -> None:
        owner = "WebhookMiddleware"
        if not callable(app):
            raise ConfigurationError(f"{owner}(app=...) must be {self.kind} app")
        self.guard, self.options = middleware_settings(
            owner, receiver, self.receive, path, paths, passthrough_methods, options
        )
        taken = _positional_arguments(app)
        if taken in (2, 3) and taken != self.arguments:
            given = (
                "a WSGI app (it takes environ, start_response)"
                if taken == 2
                else "an ASGI app (it takes scope, receive, send)"
            )
            raise ConfigurationError(f"{owner}(app=...) is given {given}: {self.other_kind}")
        self.app = app
        self.receiver = receiver
        self.paths = self.guard.paths
        self.passthrough_methods = self.guard.passthrough_methods

    def __repr__(self) -> str:
        module = type(self).__module__.rpartition(".")[2]
        return f"{module}.WebhookMiddleware({self.app!r}, paths={sorted(self.paths.paths)!r})"

    def check_not_own_app(self) -> None:
        """Refuse to run as the app it wraps (``app.wsgi_app = WebhookMiddleware(app, ...)``).

        Called where that mistake shows: before the verified delivery goes to
        ``app`` (which would hand it back here, answered 409 as in flight), and
        on a ``RecursionError`` from ``app``.

        Raises:
            ConfigurationError: ``app``'s ``wsgi_app`` (``asgi_app``) is this middleware.
        """
        if getattr(self.app, self.app_attribute, None) is self:
            raise ConfigurationError(
                f"WebhookMiddleware wraps the app whose {self.app_attribute} it is, so it calls "
                f"itself: write app.{self.app_attribute} = "
                f"WebhookMiddleware(app.{self.app_attribute}, receiver, ...)"
            )


def _positional_arguments(app: object) -> int | None:
    """How many positional arguments ``app`` requires; ``None`` when unknown
    (``*args``, or a callable ``inspect`` cannot read)."""
    try:
        parameters = inspect.signature(app).parameters.values()  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in parameters):
        return None
    return sum(1 for p in parameters if p.kind in positional and p.default is p.empty)


def followed_redirect(path: object, moved: object) -> None:
    """Log the redirect a middleware followed for the sender: the wrapped app
    moved the webhook ``path`` to its other trailing slash, ``moved``."""
    logger.warning(
        "the app redirected the webhook path %r to %r; the redirect was followed "
        "here, as senders do not follow one for a POST: give the sender that URL",
        path,
        moved,
    )


def read_head(
    options: AdapterOptions, handshakes: frozenset[str], method: str, pairs: Iterable[Any]
) -> tuple[Headers, int | None, str]:
    """The checks on a request's head, made before its body is read.

    Args:
        handshakes: the receiver's ``handshake_methods``, let through besides
            ``options.methods``.
        pairs: the header pairs the server gave (see :func:`read_headers`).

    Returns:
        The headers, the Content-Length (``None``: none sent) and the Host
        (``""``: none sent).

    Raises:
        Refused: 405 for a method not configured, 431 past the header
            limits, 413 for a Content-Length over ``max_body_size``, 400 for
            a malformed header, Content-Length or Host.
    """
    options.check_method(method, handshakes)
    headers = read_headers(options, pairs)
    found = headers.by_name
    length = parse_content_length(found.get("content-length", ()), options.max_body_size)
    return headers, length, check_host(found.get("host", ()))


def read_headers(options: AdapterOptions, pairs: Iterable[Any]) -> Headers:
    """:class:`Headers` from the pairs a server gave (ASGI bytes, WSGI latin-1 str).

    Raises:
        Refused: 431 (RFC 6585 §5) past ``max_header_count`` fields (counted
            before any is looked at) or ``max_header_bytes`` bytes; 400 for
            a name or value HTTP does not allow.
    """
    try:
        pairs = pairs if type(pairs) is list else list(pairs)  # ASGI: any iterable
    except TypeError:
        raise Refused(BAD_REQUEST, "malformed_header") from None
    if len(pairs) > options.max_header_count:
        raise Refused(HEADERS_TOO_LARGE, "too_many_headers")
    try:
        headers = Headers(pairs)
    except InvalidRequest:
        raise Refused(BAD_REQUEST, "malformed_header") from None
    if headers.size > options.max_header_bytes:
        raise Refused(HEADERS_TOO_LARGE, "headers_too_large")
    return headers


def build_request(
    options: AdapterOptions,
    *,
    method: str,
    scheme: str,
    host: str,
    headers: Headers,
    body: bytes,
    received_at: float,
    peer: str | None,
    url_parts: UrlParts,
) -> WebhookRequest:
    """The request to verify; its URL is built on first read.

    Args:
        host: the Host, checked by :func:`~webhookverify._origin.check_host`
            on every request (so that a malformed one is refused whichever
            handler would verify it), before the body is read.
        url_parts: called only when the URL is read.

    Forwarded headers are read only when a proxy is trusted.

    Raises:
        Refused: 400 for a request that cannot be taken as is.
    """
    # without a trusted proxy, forwarded headers are never read
    trusts_proxies = options.trusted or options.trust_unix
    origin = forwarded_origin(options, peer, headers) if trusts_proxies else None

    def url() -> str:
        path, query, server = url_parts()
        return request_url(options, scheme, host, server, path, query, origin)

    remote_addr = peer if origin is None else origin.remote_addr
    try:
        return WebhookRequest(method, url, headers, body, received_at, remote_addr)
    except InvalidRequest:
        raise Refused(BAD_REQUEST, "malformed_request") from None
