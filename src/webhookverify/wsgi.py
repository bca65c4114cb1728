"""WSGI adapters (PEP 3333): an endpoint app and a middleware.

:class:`WebhookApp` is a whole webhook endpoint::

    application = WebhookApp(receiver)            # gunicorn module:application

:class:`WebhookMiddleware` verifies requests to the webhook path(s) before
your app sees them::

    app.wsgi_app = WebhookMiddleware(app.wsgi_app, receiver, path="/webhooks")

Both read the body once, bounded by ``max_body_size`` (a Content-Length over
the limit is refused before reading, 413), build the
:class:`~webhookverify.WebhookRequest` (method, URL, headers, raw body, when it
arrived, who sent it) and run :meth:`Receiver.receive
<webhookverify.Receiver.receive>`. What the receiver decides is written back
as is. A request the adapter cannot take is answered with a short fixed text:
400 (invalid or ambiguous Content-Length, a body shorter than announced, a
malformed header or Host), 405 (with ``Allow``), 411 (a chunked body on a
server that does not mark its input as terminated, see below), 413, 431 (more
header fields or bytes than ``max_header_count`` / ``max_header_bytes``); each
also fires ``webhook.rejected`` (a :class:`~webhookverify.Rejection` without
a request) on the receiver's bus. An unexpected error inside the adapter
answers 500, so the sender retries, and is logged.

A body without Content-Length is read up to the limit when the server sets
``wsgi.input_terminated`` (gunicorn, waitress and werkzeug do); otherwise the
stream's end cannot be told apart from a client that went away, so a request
with ``Transfer-Encoding`` is refused with 411, and one with neither header
has an empty body (RFC 9112 §6.3).

WSGI servers fold a repeated header into one comma-separated value (CGI), so
:class:`~webhookverify.Headers` sees one value per name under WSGI.
"""

from __future__ import annotations

import contextvars
import io
import logging
import operator
import time
import urllib.parse
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from ._http import (
    BAD_REQUEST,
    DEFAULT_MAX_BODY_SIZE,
    DEFAULT_MAX_HEADER_BYTES,
    DEFAULT_MAX_HEADER_COUNT,
    DELIVERY_KEY,
    HEADERS_TOO_LARGE,
    INTERNAL_ERROR,
    LENGTH_REQUIRED,
    READ_CHUNK_SIZE,
    AdapterOptions,
    BodyBuffer,
    ProxyHeaders,
    Refused,
    Reply,
    build_request,
    forwarded_origin,
    middleware_settings,
    parse_content_length,
    parse_joined,
    quote_path,
    request_url,
    status_line,
)
from ._paths import environ_paths
from ._replies import ACCEPTED, app_answer_stands, refuse
from .errors import ConfigurationError, DeliveryDeclined, MissingDelivery
from .events import RECEIVED
from .request import Headers, WebhookRequest

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

    from .receiver import Delivery, Receiver

__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "DELIVERY_KEY",
    "WebhookApp",
    "WebhookMiddleware",
    "get_delivery",
    "require_delivery",
]

logger = logging.getLogger("webhookverify")

_CGI_HEADERS = {"CONTENT_TYPE": "Content-Type", "CONTENT_LENGTH": "Content-Length"}


def get_delivery(environ: WSGIEnvironment) -> Delivery | None:
    """The verified :class:`~webhookverify.Delivery` a middleware put in ``environ``."""
    delivery: Delivery | None = environ.get(DELIVERY_KEY)
    return delivery


def require_delivery(environ: WSGIEnvironment) -> Delivery:
    """The verified :class:`~webhookverify.Delivery` for a view that must not run without one.

    Call it first in a view that acts on webhooks: if the request reached the
    view without passing through a :class:`WebhookMiddleware` that guards
    this route, the view stops here instead of acting on unverified input.

    Args:
        environ: the WSGI environ (Flask ``request.environ``, Django
            ``request.META``).

    Returns:
        the delivery the middleware verified.

    Raises:
        MissingDelivery: the request carries no verified delivery; mount
            ``WebhookMiddleware`` with ``path=...`` matching this route.
    """
    delivery: Delivery | None = environ.get(DELIVERY_KEY)
    if delivery is None:
        raise MissingDelivery()
    return delivery


# -- reading a request -----------------------------------------------------------------


# environ key -> header name, or "" for keys that are not headers. Servers
# use the same keys on every request; the bound only stops a flood of
# distinct header names from growing it.
_ENVIRON_NAMES: dict[str, str] = {}
_MAX_ENVIRON_NAMES = 1024


def _environ_name(key: str) -> str:
    if key.startswith("HTTP_"):
        if key in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
            return ""  # CGI puts these without the prefix
        return key[5:].replace("_", "-").title()  # HTTP_X_HUB_SIGNATURE_256 -> X-Hub-Signature-256
    return _CGI_HEADERS.get(key, "")


class _EnvironPlan(NamedTuple):
    """Where the headers are in environs that have one sequence of keys."""

    keys: tuple[str, ...]  # the keys that carry a header, in environ order
    joined_names: str  # their header names, joined by spaces
    values: Callable[[WSGIEnvironment], tuple[Any, ...]]  # their values, in that order
    cgi: tuple[int, ...]  # where CONTENT_TYPE and CONTENT_LENGTH are (empty means absent)


# A server builds its environ with the same keys in the same order for every
# request carrying the same headers, so the keys (all of them, as one tuple)
# name a plan that finds the headers without walking the environ. Bounded in
# count, and only environs with at most this much header-name text are
# remembered, so that a flood of distinct or long header names cannot grow it.
_PLANS: dict[tuple[str, ...], _EnvironPlan] = {}
_MAX_PLANS = 256
_MAX_PLANNED_NAMES = 4096


def _plan(keys: tuple[Any, ...]) -> _EnvironPlan:
    """The plan for environs with these keys, in this order."""
    cache = _ENVIRON_NAMES
    found: list[str] = []
    names: list[str] = []
    for key in keys:
        name = cache.get(key)
        if name is None:
            name = _environ_name(key) if isinstance(key, str) else ""
            if len(cache) < _MAX_ENVIRON_NAMES:
                cache[key] = name
        if name:
            found.append(key)
            names.append(name)
    getter: Callable[[WSGIEnvironment], tuple[Any, ...]]
    if len(found) > 1:
        getter = operator.itemgetter(*found)
    elif found:
        only = found[0]
        getter = lambda environ: (environ[only],)  # noqa: E731 - itemgetter of one is no tuple
    else:
        getter = lambda environ: ()  # noqa: E731
    cgi = tuple(i for i, key in enumerate(found) if key in _CGI_HEADERS)
    return _EnvironPlan(tuple(found), " ".join(names), getter, cgi)


def _headers(
    environ: WSGIEnvironment,
    *,
    max_count: int = DEFAULT_MAX_HEADER_COUNT,
    max_bytes: int = DEFAULT_MAX_HEADER_BYTES,
) -> Headers:
    """The request's headers: ``HTTP_*`` keys, ``CONTENT_TYPE`` and ``CONTENT_LENGTH``.

    Raises:
        Refused: 431 past ``max_count`` fields or ``max_bytes`` bytes of names
            and values (the count checked first, before any value is read);
            400 for a name or value HTTP does not allow, or a value that is
            not a str.
    """
    keys = tuple(environ)
    plan = _PLANS.get(keys)
    if plan is None:
        plan = _plan(keys)
        if len(plan.joined_names) <= _MAX_PLANNED_NAMES and len(_PLANS) < _MAX_PLANS:
            _PLANS[keys] = plan
    if not plan.keys:
        return Headers()
    if len(plan.keys) - len(plan.cgi) > max_count:  # CGI keys may be empty, "absent"
        raise Refused(HEADERS_TOO_LARGE, "too_many_headers")  # parse_headers counts exactly
    values = plan.values(environ)
    for i in plan.cgi:
        if not values[i]:  # CONTENT_TYPE or CONTENT_LENGTH empty: "absent" (PEP 3333)
            return _walk(environ, max_count, max_bytes)
    return _joined(plan.joined_names, values, max_count, max_bytes)


def _walk(environ: WSGIEnvironment, max_count: int, max_bytes: int) -> Headers:
    """The headers found key by key, leaving out an empty CONTENT_TYPE or CONTENT_LENGTH."""
    names: list[str] = []
    values: list[str] = []
    for key, value in environ.items():
        name = _ENVIRON_NAMES.get(key)
        if name is None:
            name = _environ_name(key) if isinstance(key, str) else ""
        if name and (value or key not in _CGI_HEADERS):
            names.append(name)
            values.append(value)
    return _joined(" ".join(names), values, max_count, max_bytes) if names else Headers()


def _joined(joined_names: str, values: Sequence[Any], max_count: int, max_bytes: int) -> Headers:
    try:
        joined_values = "\n".join(values)
    except TypeError:  # a value that is not a str (PEP 3333)
        raise Refused(BAD_REQUEST, "malformed_header") from None
    return parse_joined(
        joined_names, joined_values, len(values), max_count=max_count, max_bytes=max_bytes
    )


def _path(environ: WSGIEnvironment) -> str:
    """The request path as sent: the server's raw URI when it agrees with
    ``SCRIPT_NAME + PATH_INFO``, else those re-quoted (PEP 3333 "URL
    Reconstruction", from their latin-1 bytes).

    Raises:
        Refused: 400 for a path that is not latin-1 text, as PEP 3333 requires.
    """
    decoded = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    return _quoted_path(decoded, environ.get("RAW_URI") or environ.get("REQUEST_URI"))


def _quoted_path(decoded: str, raw_uri: object) -> str:
    try:
        raw_decoded = decoded.encode("latin-1")
    except UnicodeEncodeError:
        raise Refused(BAD_REQUEST, "malformed_path") from None
    if isinstance(raw_uri, str) and raw_uri.startswith("/"):
        raw_path = raw_uri.partition("?")[0]
        if "%" not in raw_path:  # nothing was unquoted: the usual case
            if raw_path == decoded:
                return quote_path(raw_decoded, decoded=False)
        elif urllib.parse.unquote_to_bytes(raw_path) == raw_decoded and raw_path.isascii():
            return quote_path(raw_path.encode("ascii"), decoded=False)
    return quote_path(raw_decoded, decoded=True)


def _server(environ: WSGIEnvironment) -> tuple[str, int | None]:
    port = environ.get("SERVER_PORT", "")
    return (
        environ.get("SERVER_NAME") or "localhost",
        int(port) if isinstance(port, str) and port.isascii() and port.isdigit() else None,
    )


def _read_body(environ: WSGIEnvironment, length: int | None, limit: int) -> bytes:
    if length is None:
        if not environ.get("wsgi.input_terminated"):
            if environ.get("HTTP_TRANSFER_ENCODING"):
                raise Refused(LENGTH_REQUIRED, "length_required")
            return b""  # RFC 9112 §6.3: neither header, no body
        remaining = limit + 1  # read to the end, never more than one byte past the limit
    else:
        remaining = length
    stream = environ["wsgi.input"]
    buffer: BodyBuffer | None = None
    while remaining > 0:
        try:
            chunk = stream.read(min(remaining, READ_CHUNK_SIZE))
        except Exception as exc:  # noqa: BLE001 - the server's stream: a client gone, a bad chunk
            logger.info("the request body could not be read: %r", exc)
            raise Refused(BAD_REQUEST, "unreadable_body") from None
        if buffer is None:
            if len(chunk) == length:  # the whole body in one read: the usual case
                return bytes(chunk)
            buffer = BodyBuffer(limit, length)
        if not chunk:
            break
        buffer.add(chunk)
        remaining -= len(chunk)
    return (buffer or BodyBuffer(limit, length)).finish()


def _read_request(
    options: AdapterOptions, environ: WSGIEnvironment, method: str, received_at: float
) -> WebhookRequest:
    """Build the request, or raise :class:`Refused` with what to answer."""
    options.check_method(method)
    length = parse_content_length((environ.get("CONTENT_LENGTH") or "",), options.max_body_size)
    headers = _headers(
        environ, max_count=options.max_header_count, max_bytes=options.max_header_bytes
    )
    peer = environ.get("REMOTE_ADDR") or None
    origin = forwarded_origin(options, peer, headers) if options.trusts_proxies else None
    scheme = environ.get("wsgi.url_scheme", "http")
    hosts = headers.by_name.get("host", ())
    query = environ.get("QUERY_STRING", "")
    # The URL of a request with one Host, behind no trusted proxy (the usual
    # request), depends on nothing else than these: it is built once per
    # distinct set of them.
    key = None
    if origin is None and len(hosts) == 1 and hosts[0]:
        raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI") or ""
        script, info = environ.get("SCRIPT_NAME", ""), environ.get("PATH_INFO", "")
        key = (scheme, hosts[0], script, info, raw_uri, query)
    url = options.urls.get(key) if key is not None else None
    if url is None:
        url = request_url(
            options,
            scheme=scheme,
            hosts=hosts,
            server=None if hosts and hosts[0] else _server(environ),  # needed only without a Host
            path=_path(environ),
            query=query,
            origin=origin,
        )
        if key is not None:
            options.remember_url(key, url)
    body = _read_body(environ, length, options.max_body_size)
    remote_addr = peer if origin is None else origin.remote_addr
    return build_request(method, url, headers, body, received_at, remote_addr)


def _refuse(receiver: Receiver, refused: Refused, environ: WSGIEnvironment, method: str) -> Reply:
    """Log the adapter's refusal and fire ``webhook.rejected``; the reply to write."""
    try:
        path: str | None = _path(environ)
    except Exception:  # noqa: BLE001 - a path that is not latin-1 text, or not text at all
        path = None
    return refuse(
        receiver.bus, refused, method=method, path=path, remote_addr=environ.get("REMOTE_ADDR")
    )


def _write(reply: Reply, start_response: StartResponse) -> list[bytes]:
    start_response(
        status_line(reply.status), [*reply.headers, ("Content-Length", str(len(reply.body)))]
    )
    return [reply.body]


def _check_receiver(owner: str, receiver: object) -> None:
    bus = getattr(receiver, "bus", None)
    if not callable(getattr(receiver, "receive", None)) or not callable(getattr(bus, "bind", None)):
        raise ConfigurationError(f"{owner}(receiver=...) must be a webhookverify.Receiver")


class WebhookApp:
    """A WSGI app that is a whole webhook endpoint.

    Args:
        receiver: the :class:`~webhookverify.Receiver` that decides.
        max_body_size: the largest body accepted, in bytes (default 1 MiB).
        methods: the methods accepted (default ``("POST",)``); others get 405.
        public_url: the base URL senders use, such as
            ``"https://hooks.example.com"``: the request's path and query are
            appended to it. Needed behind a proxy by schemes that sign the
            URL (Twilio, Square, HubSpot, Trello); pins the host as well.
        trusted_proxies: proxies whose ``X-Forwarded-For/-Proto/-Host`` (or
            ``Forwarded``) headers are believed, by address or network
            (``["10.0.0.0/8", "127.0.0.1"]``; ``"unix"`` for a Unix socket).
            Empty by default: forwarded headers are then ignored.
        proxy_headers: ``"x-forwarded"`` (default) or ``"forwarded"`` (RFC
            7239): which headers the trusted proxies set. Only one kind is
            read, so a client cannot smuggle the other past a proxy that
            does not strip it.
        max_header_count: the most header fields accepted (default 100, as
            gunicorn); more are answered 431 before any is parsed.
        max_header_bytes: the most bytes of header names and values
            together (default 64 KiB); more are answered 431.

    Raises:
        ConfigurationError: a setting is wrong, at construction.
    """

    def __init__(
        self,
        receiver: Receiver,
        *,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        methods: Iterable[str] = ("POST",),
        public_url: str | None = None,
        trusted_proxies: Iterable[Any] = (),
        proxy_headers: ProxyHeaders = "x-forwarded",
        max_header_count: int = DEFAULT_MAX_HEADER_COUNT,
        max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
    ) -> None:
        _check_receiver("WebhookApp", receiver)
        self.receiver = receiver
        self.options = AdapterOptions.build(
            "WebhookApp",
            max_body_size=max_body_size,
            methods=methods,
            public_url=public_url,
            trusted_proxies=trusted_proxies,
            proxy_headers=proxy_headers,
            max_header_count=max_header_count,
            max_header_bytes=max_header_bytes,
        )

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        received_at = time.time()
        try:
            method = str(environ.get("REQUEST_METHOD", "GET")).upper()
            try:
                request = _read_request(self.options, environ, method, received_at)
            except Refused as refused:
                return _write(_refuse(self.receiver, refused, environ, method), start_response)
            outcome = self.receiver.receive(request)
            reply = Reply(outcome.status, outcome.headers, outcome.body)
        except Exception:
            logger.exception(
                "the WSGI webhook endpoint failed; answering 500 so the sender retries"
            )
            reply = INTERNAL_ERROR
        return _write(reply, start_response)

    def __repr__(self) -> str:
        return f"wsgi.WebhookApp({self.receiver!r})"


# -- the middleware --------------------------------------------------------------------


@dataclass(slots=True)
class _Response:
    status: int
    status_line: str
    headers: list[tuple[str, str]]
    body: bytes


@dataclass(slots=True)
class _Context:
    owner: WebhookMiddleware
    environ: WSGIEnvironment
    request: WebhookRequest
    response: _Response | None = None


_CURRENT: contextvars.ContextVar[_Context] = contextvars.ContextVar("webhookverify_wsgi")


def _call_app(app: WSGIApplication, environ: WSGIEnvironment) -> _Response:
    """Run a WSGI app to completion and keep its whole response."""
    started: list[Any] = []
    chunks: list[bytes] = []

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], object]:
        # Nothing is sent before the app finishes, so a second call (with
        # exc_info, as PEP 3333 allows for an error page) replaces the first.
        started[:] = [status, list(headers)]
        return chunks.append

    result = app(environ, start_response)
    try:
        for chunk in result:
            chunks.append(chunk)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    if not started:
        raise RuntimeError("the wrapped WSGI app returned without calling start_response")
    line, headers = started
    return _Response(int(line.split(" ", 1)[0]), line, headers, b"".join(chunks))


class WebhookMiddleware:
    """Verify webhook requests before a WSGI app sees them.

    Requests to ``path`` (or any of ``paths``) are read and run through the
    receiver; other paths go to ``app`` untouched, and so do
    ``passthrough_methods`` on the webhook paths (for a provider's ``GET``
    handshake, such as Meta's ``hub.challenge``; no delivery is set for
    those). A request is on a webhook path when its ``PATH_INFO``, or its
    ``SCRIPT_NAME + PATH_INFO``, names it in any spelling a router may take
    for it: percent-encoded (``/%2Fwebhooks``), with repeated or trailing
    slashes, dot segments, or in another case. In the view, call
    :func:`require_delivery` so that a route the middleware does not guard
    fails loudly instead of running unverified.

    A verified, new delivery is handed to ``app`` **as a listener of
    ``webhook.received``**: the middleware binds one listener to
    ``receiver.bus`` at construction, which calls ``app`` with the exact body
    bytes in a fresh ``wsgi.input`` (and a matching ``CONTENT_LENGTH``) and the
    :class:`~webhookverify.Delivery` at ``environ["webhookverify.delivery"]``
    (see :func:`get_delivery`). So the delivery key is committed only once
    ``app`` has answered 2xx. Any other answer (a validation error, a CSRF
    403, a redirect, a 5xx) declines the delivery: the key is released, the
    status is logged at warning level, and the sender gets the app's answer
    and retries, and the retry reaches ``app`` again rather than being taken
    for a replay; so does a raise (the sender gets 500). Nothing a sender
    delivered is lost because the app refused or failed. The app's response
    is buffered and is what the sender gets.

    What ``app`` does not see: refusals (401, 403, 409, 503, and the adapter's
    400/405/411/413/431, which fire ``webhook.rejected`` as well), which the
    middleware answers itself; and duplicates of a processed delivery, which
    are acknowledged (the receiver's 200, empty body) without calling ``app``
    again.

    Args:
        app: the WSGI app to protect.
        receiver: the :class:`~webhookverify.Receiver` that decides.
        path / paths: the webhook path, or several (default ``"/webhooks"``).
        passthrough_methods: methods that reach ``app`` unverified on the
            webhook paths (default none: they get 405).
        max_body_size, methods, public_url, trusted_proxies, proxy_headers,
        max_header_count, max_header_bytes:
            as for :class:`WebhookApp`.

    Raises:
        ConfigurationError: a setting is wrong, at construction.
    """

    def __init__(
        self,
        app: WSGIApplication,
        receiver: Receiver,
        *,
        path: str | None = None,
        paths: Iterable[str] | None = None,
        passthrough_methods: Iterable[str] = (),
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        methods: Iterable[str] = ("POST",),
        public_url: str | None = None,
        trusted_proxies: Iterable[Any] = (),
        proxy_headers: ProxyHeaders = "x-forwarded",
        max_header_count: int = DEFAULT_MAX_HEADER_COUNT,
        max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
    ) -> None:
        if not callable(app):
            raise ConfigurationError("WebhookMiddleware(app=...) must be a WSGI app")
        _check_receiver("WebhookMiddleware", receiver)
        self.app = app
        self.receiver = receiver
        self.paths, self.options, self.passthrough_methods = middleware_settings(
            path,
            paths,
            passthrough_methods,
            max_body_size=max_body_size,
            methods=methods,
            public_url=public_url,
            trusted_proxies=trusted_proxies,
            proxy_headers=proxy_headers,
            max_header_count=max_header_count,
            max_header_bytes=max_header_bytes,
        )
        receiver.bus.bind(RECEIVED, self._dispatch)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if not self.paths.matches(*environ_paths(environ)):
            return self.app(environ, start_response)
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        if method in self.passthrough_methods:
            return self.app(environ, start_response)
        received_at = time.time()
        try:
            try:
                request = _read_request(self.options, environ, method, received_at)
            except Refused as refused:
                return _write(_refuse(self.receiver, refused, environ, method), start_response)
            context = _Context(self, environ, request)
            token = _CURRENT.set(context)
            try:
                outcome = self.receiver.receive(request)
            finally:
                _CURRENT.reset(token)
            response = context.response
            if response is not None and app_answer_stands(outcome.reason, response.status):
                start_response(response.status_line, response.headers)
                return [response.body]
            if outcome.reason in ACCEPTED:
                logger.error(
                    "a delivery was accepted but the wrapped app was not called; was the "
                    "middleware's listener unbound from receiver.bus?"
                )
            reply = Reply(outcome.status, outcome.headers, outcome.body)
        except Exception:
            logger.exception(
                "the WSGI webhook middleware failed; answering 500 so the sender retries"
            )
            reply = INTERNAL_ERROR
        return _write(reply, start_response)

    def _dispatch(self, delivery: Delivery) -> None:
        """The listener: run the wrapped app for this middleware's own request."""
        context = _CURRENT.get(None)
        if context is None or context.owner is not self or context.request is not delivery.request:
            return
        environ = context.environ
        body = delivery.request.body
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ["wsgi.input_terminated"] = True
        environ[DELIVERY_KEY] = delivery
        context.response = response = _call_app(self.app, environ)
        if not 200 <= response.status < 300:
            # Only a 2xx means the app processed the delivery: a 4xx (Django's
            # CSRF 403, a validation error) committed would turn the sender's
            # retry into an empty 200 that never reaches the app.
            raise DeliveryDeclined(
                f"the wrapped app answered {response.status_line}", status=response.status
            )

    def __repr__(self) -> str:
        return f"wsgi.WebhookMiddleware({self.app!r}, paths={sorted(self.paths.paths)!r})"
