"""What :mod:`webhookverify.django` needs of a Django request: its body, read
within the webhook view's own limit; the URL the sender signed; and the
request's transactions, committed before the delivery's key.

The body
--------

Django's body handling loses some deliveries a sender really made:

- ``WSGIRequest`` limits its stream to ``CONTENT_LENGTH or 0``, so a chunked
  body (no Content-Length, as gunicorn passes it with
  ``wsgi.input_terminated``) reads as empty and its signature fails. Such a
  body is read from the server's own ``wsgi.input`` instead, as the WSGI
  adapter reads it: to its end when the server marks it terminated, else
  411 (PEP 3333 gives no other way to find the end).
- ``request.body`` refuses a Content-Length over
  ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (2.5 MB by default) with a 400, although
  the view's ``max_body_size``, already checked, allows it. ``request.read()``
  reads it instead: the bound that matters was applied before reading.

The transactions
----------------

With ``ATOMIC_REQUESTS``, Django commits a view's transaction after the
view returns, so after the receiver committed the delivery's key: a
transaction that then failed to commit (a deferred foreign key, a
serialization failure) answered 500, and the sender's retry was taken for a
duplicate of writes that were rolled back. A webhook view takes that
transaction over (:func:`mark_view`) and runs the user's view in it inside
the dispatch step (:func:`run_view`; a ``WebhookView`` without ``handle``
its ``webhook.received`` listeners, :func:`run_listeners`): it commits, or
its failure releases the key, before the answer.

The streamed answer
-------------------

A ``StreamingHttpResponse`` runs the view's generator only as Django sends
it, after the view returned and so after the delivery's key was committed: a
generator that then failed cut the answer short, and the sender's retry was
taken for a duplicate of work never done. Its content is read to its end in
the dispatch step (:func:`drained`, :func:`adrained`), so that its failure
releases the key, and sent from memory, as the middlewares send the wrapped
app's buffered answer.

Imported by :mod:`webhookverify.django` only (it imports Django).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.conf import settings  # type: ignore[import-untyped]
from django.core.exceptions import RequestDataTooBig  # type: ignore[import-untyped]
from django.db import connections, transaction  # type: ignore[import-untyped]

from ._adapter import read_headers
from ._body import parse_content_length, whole_body
from ._options import DELIVERY_KEY, AdapterOptions
from ._origin import sent_path
from ._replies import BAD_REQUEST, Refused, replay_parts, verified_ahead
from ._wsgi_io import read_body
from .delivery import Delivery
from .errors import InvalidRequest
from .receiver import NO_LISTENER
from .request import WebhookRequest

if TYPE_CHECKING:
    from .receiver import Receiver

logger = logging.getLogger("webhookverify")

__all__ = [
    "adrained",
    "drained",
    "mark_view",
    "read_request",
    "request_body",
    "run_listeners",
    "run_view",
    "sent_url",
]


def read_request(
    options: AdapterOptions, request: Any, received_at: float, receiver: Receiver
) -> WebhookRequest | Delivery:
    """The request to verify, or :class:`Refused` with what to answer (a
    method the handlers' handshakes come with is accepted too).

    Returns:
        the :class:`~webhookverify.WebhookRequest`; or, under a
        ``WebhookMiddleware`` that verified the request with one of
        ``receiver``'s handlers, its :class:`~webhookverify.Delivery`, for the
        view to run with: the middleware holds the delivery's key and settles
        it by the view's answer (verified again, the key was found in flight
        and every attempt answered 409).
    """
    scope = getattr(request, "scope", None)  # ASGI: the delivery is in the scope's state
    meta = request.META
    found = (scope.get("state") or {}).get(DELIVERY_KEY) if scope else meta.get(DELIVERY_KEY)
    ahead = verified_ahead(found, receiver)
    if ahead is not None:
        return ahead
    method = str(request.method or "GET").upper()
    options.check_method(method, receiver.handshake_methods)
    length = parse_content_length((meta.get("CONTENT_LENGTH") or "",), options.max_body_size)
    headers = read_headers(options, list(request.headers.items()))
    body = request_body(request, length, options.max_body_size)
    try:
        # called once, and only when a verifier reads the URL
        url = functools.partial(sent_url, request)
        return WebhookRequest(method, url, headers, body, received_at, meta.get("REMOTE_ADDR"))
    except InvalidRequest:
        raise Refused(BAD_REQUEST, "malformed_request") from None


def request_body(request: Any, length: int | None, limit: int) -> bytes:
    """The body of a Django ``request`` whose Content-Length, ``length``, was
    checked against ``limit`` (``None``: none was sent).

    Raises:
        Refused: 411 for a chunked body the server does not end; 413 past
            ``limit``; 400 for a body shorter than its length or unreadable.
    """
    meta = request.META
    if length is None and "wsgi.input" in meta:
        # WSGI: Django read nothing without a length; the server's input has it
        return read_body(meta, None, limit)
    try:
        raw = request.body
    except RequestDataTooBig:
        try:
            raw = request.read()  # within limit: checked against the Content-Length
        except OSError:  # the client went away mid-body
            raise Refused(BAD_REQUEST, "unreadable_body") from None
    return whole_body(raw, length, limit)


def sent_url(request: Any) -> str:
    """The URL as the sender wrote it: the scheme and host as Django's settings
    decide them (``ALLOWED_HOSTS``, ``USE_X_FORWARDED_HOST``,
    ``SECURE_PROXY_SSL_HEADER``), the path and query as received
    (``build_absolute_uri`` escapes ``;`` and ``=`` in a path again, and a
    URL-signing sender signed the bytes it sent).

    Raises:
        django.core.exceptions.DisallowedHost: as ``build_absolute_uri`` does.
    """
    meta = request.META
    scope = getattr(request, "scope", None)  # ASGI
    raw = scope.get("raw_path") if isinstance(scope, dict) else None
    if raw is None:
        raw = meta.get("RAW_URI") or meta.get("REQUEST_URI")
    query = meta.get("QUERY_STRING", "")
    origin: str = request.build_absolute_uri("/")[:-1]
    return origin + sent_path(raw, request.path) + (f"?{query}" if query else "")


def mark_view(view: Any, *, takes_transactions: bool = True) -> Any:
    """Mark a webhook view function: CSRF-exempt (a sender proves itself with
    its signature) and, with ``takes_transactions``, left out of Django's
    ``ATOMIC_REQUESTS`` for every database configured now, since
    :func:`run_view` or :func:`run_listeners` opens those transactions itself.

    Returns:
        ``view``, marked.
    """
    view.csrf_exempt = True  # what django.views.decorators.csrf.csrf_exempt sets
    if takes_transactions and settings.configured:
        # a set of its own: functools.wraps shared the user's view's marks
        view._non_atomic_requests = set(getattr(view, "_non_atomic_requests", ()))
        for alias in settings.DATABASES:
            view = transaction.non_atomic_requests(using=alias)(view)
    return view


def run_view(view: Any, call: Callable[[], Any]) -> Any:
    """``call()`` (the user's ``view`` with its arguments) in a transaction on
    each database with ``ATOMIC_REQUESTS`` that ``view`` does not opt out of
    (``transaction.non_atomic_requests``), as Django would have run it;
    committed before this returns, so a failed commit raises here, in the
    dispatch step; a streamed answer is read to its end there too (:func:`drained`),
    after the transactions, where Django would have run it."""
    return drained(_in_transactions(getattr(view, "_non_atomic_requests", ()), call))


def drained(response: Any) -> Any:
    """``response`` with its streamed content read to its end now, in the
    dispatch step, so that a generator that fails releases the key.

    Returns:
        ``response``: a ``StreamingHttpResponse`` keeps its status and
        headers and sends the parts read.

    Raises:
        Exception: what the streamed content raised.
    """
    if getattr(response, "streaming", False):
        # an async iterator is read through async_to_sync, as Django serves it under WSGI
        response.streaming_content = list(response)
    return response


async def adrained(response: Any) -> Any:
    """:func:`drained` for an async view: the content read with ``async for`` (a
    sync iterator in a worker thread, as Django does) and sent again by an
    async iterator, as Django serves one under ASGI."""
    if getattr(response, "streaming", False):
        response.streaming_content = replay_parts([part async for part in response])
    return response


def run_listeners(receiver: Receiver, delivery: Delivery) -> None:
    """The receiver's default dispatch (its ``webhook.received`` listeners, the
    view of a ``WebhookView`` without ``handle``) in a transaction on each
    database with ``ATOMIC_REQUESTS``, committed before this returns, as
    :func:`run_view` runs a view."""

    def fire() -> int:
        return receiver.bus.trigger_all(receiver.routes(delivery), delivery)

    if not _in_transactions((), fire):
        logger.warning(NO_LISTENER, delivery.handler.name)


def _in_transactions(own: Any, call: Callable[[], Any]) -> Any:
    """``call()`` in an atomic block on each ``ATOMIC_REQUESTS`` database not in ``own``."""
    for alias, database in connections.settings.items():
        if database.get("ATOMIC_REQUESTS") and alias not in own:
            call = transaction.atomic(using=alias)(call)
    return call()
