"""WSGI adapters (PEP 3333): an endpoint app and a middleware.

:class:`WebhookApp` is a whole webhook endpoint::

    application = WebhookApp(receiver)            # gunicorn module:application

:class:`WebhookMiddleware` verifies requests to the webhook path(s) before
your app sees them::

    app.wsgi_app = WebhookMiddleware(app.wsgi_app, receiver, path="/webhooks")

Both read the body once, bounded by ``max_body_size`` (a Content-Length over
the limit is refused before reading, 413), build the
:class:`~webhookverify.WebhookRequest` and run :meth:`Receiver.receive
<webhookverify.Receiver.receive>`; what it decides is written back as is. A
request the adapter cannot take is answered with a short fixed text: 400
(invalid or ambiguous Content-Length, a body shorter than announced, a
malformed header or Host), 405 (with ``Allow``), 411 (a chunked body on a
server that does not mark its input as terminated), 413, 431 (more header
fields or bytes than ``max_header_count`` / ``max_header_bytes``); each also
fires ``webhook.rejected`` (a :class:`~webhookverify.Rejection` without a
request). An unexpected error inside the adapter answers 500, so the sender
retries, and is logged.

A body without Content-Length is read up to the limit when the server sets
``wsgi.input_terminated`` (gunicorn, waitress and werkzeug do); otherwise a
request with ``Transfer-Encoding`` is refused with 411, and one with neither
header has an empty body (RFC 9112 §6.3). WSGI servers fold a repeated header
into one comma-separated value (CGI), so :class:`~webhookverify.Headers` sees
one value per name.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ._adapter import Endpoint, Middleware, build_request, followed_redirect, read_head
from ._options import DEFAULT_MAX_BODY_SIZE, DELIVERY_KEY, AdapterOptions
from ._paths import environ_paths
from ._replies import INTERNAL_ERROR, Refused, Reply, app_answer_stands, decline_unless_2xx, refuse
from ._wsgi_io import (
    AppResponse,
    call_app,
    header_pairs,
    read_body,
    slash_redirect,
    url_parts,
    write,
)
from ._wsgi_io import path as request_path
from .delivery import Outcome
from .errors import MissingDelivery

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment  # noqa: F401

    from .receiver import Delivery, Dispatch, Receiver

__all__ = [
    "DEFAULT_MAX_BODY_SIZE",
    "DELIVERY_KEY",
    "WebhookApp",
    "WebhookMiddleware",
    "get_delivery",
    "require_delivery",
]

logger = logging.getLogger("webhookverify")


def get_delivery(environ: WSGIEnvironment) -> Delivery | None:
    """The verified :class:`~webhookverify.Delivery` a middleware put in ``environ``."""
    delivery: Delivery | None = environ.get(DELIVERY_KEY)
    return delivery


def require_delivery(environ: WSGIEnvironment) -> Delivery:
    """The verified :class:`~webhookverify.Delivery` for a view that must not run without one.

    Call it first in a view that acts on webhooks: a request that reached the
    view without passing through a :class:`WebhookMiddleware` guarding this
    route stops here instead of acting on unverified input.

    Args:
        environ: the WSGI environ (Flask ``request.environ``, Django ``request.META``).

    Raises:
        MissingDelivery: the request carries no verified delivery; mount
            ``WebhookMiddleware`` with ``path=...`` matching this route.
    """
    delivery = get_delivery(environ)
    if delivery is None:
        raise MissingDelivery()
    return delivery


# -- reading a request -----------------------------------------------------------------


def _handle(
    receiver: Receiver,
    options: AdapterOptions,
    environ: WSGIEnvironment,
    method: str,
    dispatch: Dispatch | None = None,
) -> Reply | Outcome:
    """Read, verify and dispatch one request; the reply to write."""
    try:
        try:
            received_at = time.time()
            pairs = header_pairs(environ)
            headers, length, host = read_head(options, receiver.handshake_methods, method, pairs)
            request = build_request(
                options,
                method=method,
                scheme=environ.get("wsgi.url_scheme", "http"),
                host=host,
                headers=headers,
                body=read_body(environ, length, options.max_body_size),
                received_at=received_at,
                peer=environ.get("REMOTE_ADDR") or None,
                url_parts=lambda: url_parts(environ),
            )
        except Refused as refused:
            try:
                path: str | None = request_path(environ)
            except Exception:  # noqa: BLE001 - a path that is not text at all
                path = None
            return refuse(receiver.bus, refused, method, path, environ.get("REMOTE_ADDR"))
        if dispatch is None:
            return receiver.receive(request)
        return receiver.receive(request, dispatch=dispatch)
    except Exception:
        logger.exception("the WSGI webhook adapter failed; answering 500 so the sender retries")
        return INTERNAL_ERROR


def _method(environ: WSGIEnvironment) -> str:
    return str(environ.get("REQUEST_METHOD", "GET")).upper()


class WebhookApp(Endpoint):
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
            7239): which headers the trusted proxies set; only one kind is read.
        max_header_count: the most header fields accepted (default 100, as
            gunicorn); more are answered 431 before any is parsed.
        max_header_bytes: the most bytes of header names and values
            together (default 64 KiB); more are answered 431.

    Raises:
        ConfigurationError: a setting is wrong, at construction.
    """

    receive = "receive"

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        reply = _handle(self.receiver, self.options, environ, _method(environ))
        return write(reply, start_response)


class WebhookMiddleware(Middleware["WSGIApplication"]):
    """Verify webhook requests before a WSGI app sees them.

    Requests to ``path`` (or any of ``paths``) are verified; other paths go
    to ``app`` untouched, and so do ``passthrough_methods`` on the webhook
    paths (a provider's ``GET`` handshake, such as Meta's ``hub.challenge``).
    A request is on a webhook path when its ``PATH_INFO``, or its
    ``SCRIPT_NAME + PATH_INFO``, names it in any spelling a router may take
    for it (percent-encoded, repeated or trailing slashes, dot segments,
    another case). In the view, call :func:`require_delivery`, so that a
    route the middleware does not guard fails loudly instead of running
    unverified.

    ``app`` is the dispatch step of :meth:`Receiver.receive
    <webhookverify.Receiver.receive>` (``webhook.received`` does not fire
    for these requests): a verified, new delivery calls ``app`` with the
    exact body bytes in a fresh ``wsgi.input`` (and a matching
    ``CONTENT_LENGTH``) and the :class:`~webhookverify.Delivery` at
    ``environ["webhookverify.delivery"]`` (see :func:`get_delivery`). Only a
    2xx from ``app`` commits the delivery key. Any other answer (a
    validation error, a CSRF 403, a redirect, a 5xx) declines it: the key is
    released, the status is logged at warning level, the sender gets the
    app's answer and its retry reaches ``app`` again; a raise gets the
    sender a 500. A 307 or 308 to the path's other trailing slash
    (Werkzeug's ``strict_slashes``) is followed once, with a warning, as
    senders do not follow one. The app's response is buffered and is what
    the sender gets. Refusals (401, 403, 409, 503, and the adapter's
    400/405/411/413/431) and duplicates of a processed delivery (the
    receiver's 200) never reach ``app``.

    Args:
        app: the WSGI app to protect.
        receiver: the :class:`~webhookverify.Receiver` that decides.
        path: the webhook path (default ``"/webhooks"``).
        paths: several webhook paths, instead of ``path``.
        passthrough_methods: methods that reach ``app`` unverified on the
            webhook paths (default none: they get 405).
        max_body_size: the largest body accepted; it and the other keyword
            options are as for :class:`WebhookApp`.

    Raises:
        ConfigurationError: a setting is wrong, at construction.
    """

    receive = "receive"
    kind = "a WSGI"
    arguments = 2
    other_kind = (
        "use webhookverify.asgi.WebhookMiddleware "
        "(FastAPI, Starlette: app.add_middleware(WebhookMiddleware, receiver=..., path=...))"
    )
    app_attribute = "wsgi_app"

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method = _method(environ)
        if not self.guard.guards(method, *environ_paths(environ)):
            try:
                return self.app(environ, start_response)
            except RecursionError:
                self.check_not_own_app()
                raise
        answered: list[AppResponse] = []

        def dispatch(delivery: Delivery) -> None:
            self.check_not_own_app()
            body = delivery.request.body
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            environ["wsgi.input_terminated"] = True
            environ[DELIVERY_KEY] = delivery
            untouched = dict(environ)  # what the app and its router write in stays out
            response = call_app(self.app, environ)
            moved = slash_redirect(untouched, response)
            if moved is not None:
                followed_redirect(environ.get("PATH_INFO"), moved["PATH_INFO"])
                moved["wsgi.input"] = io.BytesIO(body)
                response = call_app(self.app, moved)
            answered.append(response)
            decline_unless_2xx(response.status, response.line)

        reply = _handle(self.receiver, self.options, environ, method, dispatch)
        if answered and isinstance(reply, Outcome) and app_answer_stands(reply, answered[0].status):
            start_response(answered[0].line, answered[0].headers)
            return [answered[0].body]
        return write(reply, start_response)
