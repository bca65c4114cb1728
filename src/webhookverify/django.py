"""Django views that receive webhooks: a decorator, a class-based view, settings and signals.

A function view takes the verified :class:`~webhookverify.Delivery` as its
second argument and runs only for a verified, new delivery::

    from webhookverify.django import webhook_view

    @webhook_view(receiver)
    def github(request, delivery):
        ...  # delivery.json(), delivery.event_type, delivery.user
        return HttpResponse(status=204)

The view is the dispatch step of :meth:`Receiver.receive
<webhookverify.Receiver.receive>` (``areceive`` for an ``async def`` view):
only its 2xx records the delivery as processed; any other answer (sent as
it is), or a raise (500), releases the key so the retry runs the view again.
Refusals (401, 403, 409, 503, and 400, 405, 413, 431 as the WSGI adapter
answers them) and a duplicate of a processed delivery (200) never run it.

The view is CSRF-exempt (a sender proves itself with its signature). The
request is read once (a Content-Length over ``max_body_size`` is refused
with 413 before reading); ``request.build_absolute_uri()`` is called only
for the schemes that sign the URL (``ALLOWED_HOSTS``,
``USE_X_FORWARDED_HOST`` and ``SECURE_PROXY_SSL_HEADER`` decide it).

Without a receiver, ``webhook_view()`` uses the one the ``WEBHOOKVERIFY``
setting describes (a TOML file path or a mapping, as
:func:`webhookverify.config.load_registry` takes), built once on first use;
its events are sent as the signals :data:`webhook_received`,
:data:`webhook_duplicate` and :data:`webhook_rejected` (for a receiver of
your own, call :func:`connect_signals` once).

Importing this module imports Django; ``import webhookverify`` does not.
"""

from __future__ import annotations

import functools
import inspect
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings  # type: ignore[import-untyped]
from django.core.signals import setting_changed  # type: ignore[import-untyped]
from django.dispatch import Signal  # type: ignore[import-untyped]
from django.http import HttpResponse  # type: ignore[import-untyped]
from django.views import View  # type: ignore[import-untyped]

from ._django_request import adrained, mark_view, read_request, run_listeners, run_view
from ._options import DEFAULT_MAX_BODY_SIZE, AdapterOptions, check_receiver
from ._replies import (
    Refused,
    Reply,
    app_answer_stands,
    arefuse,
    decline_unless_2xx,
    refuse,
)
from .config import load_config, load_registry
from .delivery import Delivery, Outcome
from .errors import ConfigurationError
from .events import DUPLICATE, RECEIVED, REJECTED
from .receiver import Receiver

__all__ = [
    "SETTING",
    "WebhookView",
    "connect_signals",
    "settings_receiver",
    "webhook_duplicate",
    "webhook_received",
    "webhook_rejected",
    "webhook_view",
]

SETTING = "WEBHOOKVERIFY"
"""The Django setting that configures :func:`settings_receiver`."""

webhook_received = Signal()
"""Sent with ``delivery=`` when the receiver fires ``webhook.received`` (its
default dispatch, for :class:`~webhookverify.wsgi.WebhookApp` or
``receiver.receive(request)``; a ``webhook_view`` view is the dispatch step
instead). A receiver of the signal that raises releases the key: 500."""
webhook_duplicate = Signal()
"""Sent with ``delivery=`` for a replay of a processed delivery (answered 200, not run)."""
webhook_rejected = Signal()
"""Sent with ``rejection=`` (a :class:`~webhookverify.Rejection`) for each refusal."""

# -- signals ---------------------------------------------------------------------------

_connected: weakref.WeakSet[Receiver] = weakref.WeakSet()
_connecting = threading.Lock()


def connect_signals(receiver: Receiver) -> Receiver:
    """Send the Django signals from ``receiver``'s events; once per receiver.

    Binds listeners on ``receiver.bus``: ``webhook.received`` sends
    :data:`webhook_received`, ``webhook.duplicate`` :data:`webhook_duplicate`,
    ``webhook.rejected`` :data:`webhook_rejected`, each with
    ``sender=receiver``. The receiver built from the settings is connected
    already.

    Returns:
        ``receiver``, so that it can wrap the construction.
    """
    with _connecting:
        if receiver in _connected:
            return receiver
        _connected.add(receiver)
    bus = receiver.bus
    bus.bind(RECEIVED, lambda delivery: webhook_received.send(receiver, delivery=delivery))
    bus.bind(DUPLICATE, lambda delivery: webhook_duplicate.send(receiver, delivery=delivery))
    bus.bind(REJECTED, lambda rejection: webhook_rejected.send(receiver, rejection=rejection))
    return receiver


# -- the receiver the settings describe ------------------------------------------------

_configured: list[tuple[Receiver, int]] = []  # at most one: (receiver, max_body_size)
_configuring = threading.Lock()


def _from_settings() -> tuple[Receiver, int]:
    with _configuring:
        if not _configured:
            source = getattr(settings, SETTING, None)
            if source is None:
                raise ConfigurationError(
                    f"webhook_view() without a receiver needs the {SETTING} setting: a TOML "
                    "file path or a mapping of handlers (or pass webhook_view(receiver))"
                )
            try:
                limit = load_config(source).get("max_body_size", DEFAULT_MAX_BODY_SIZE)
                AdapterOptions.build("max_body_size", max_body_size=limit)  # checked now
                receiver = Receiver(load_registry(source))
            except ConfigurationError as exc:
                raise ConfigurationError(f"settings.{SETTING}: {exc}") from None
            _configured.append((connect_signals(receiver), limit))
        return _configured[0]


def settings_receiver() -> Receiver:
    """The :class:`~webhookverify.Receiver` the ``WEBHOOKVERIFY`` setting describes.

    Built on first call, then shared (again after the setting changes, as
    under ``override_settings``), with the signals connected. Its replay
    store is in memory, one per process: with several worker processes, pass
    ``webhook_view(Receiver(..., replay_store=RedisReplayStore(...)))`` instead.

    Raises:
        ConfigurationError: the setting is missing or wrong (one line naming it).
    """
    return _from_settings()[0]


def _forget_settings(*, setting: str, **_: Any) -> None:
    if setting == SETTING:
        with _configuring:
            _configured.clear()


setting_changed.connect(_forget_settings, dispatch_uid="webhookverify.django.settings")


# -- one request -----------------------------------------------------------------------


class _Endpoint:
    """A receiver and the adapter's limits; from the settings on first use when not given."""

    __slots__ = ("_fixed", "_last", "_settings")

    def __init__(self, receiver: Receiver | None, owner: str, chosen: dict[str, Any]) -> None:
        if receiver is not None:
            check_receiver(owner, receiver, "receive")
        self._settings = {"owner": owner, **chosen}
        options = AdapterOptions.build(**self._settings)  # checked at construction
        self._fixed = receiver is not None
        self._last: tuple[Receiver, AdapterOptions] | None = (
            None if receiver is None else (receiver, options)
        )

    def resolve(self) -> tuple[Receiver, AdapterOptions]:
        """The receiver and limits for a request (the settings' receiver as it is now)."""
        last = self._last
        if self._fixed and last is not None:
            return last
        receiver, limit = _from_settings()
        if last is None or last[0] is not receiver:
            options = AdapterOptions.build(**{"max_body_size": limit, **self._settings})
            self._last = last = (receiver, options)
        return last


def _status_line(response: Any) -> str:
    return f"{response.status_code} {getattr(response, 'reason_phrase', '')}".rstrip()


def _http(reply: Reply | Outcome) -> Any:
    response = HttpResponse(reply.body, status=reply.status)
    for name, value in reply.headers:
        response[name] = value
    return response


def _answer(outcome: Outcome, answered: list[Any]) -> Any:
    """The view's response when it agrees with what became of the key, else the receiver's."""
    if answered and app_answer_stands(outcome, answered[0].status_code):
        return answered[0]
    return _http(outcome)


def _refused(receiver: Receiver, refused: Refused, request: Any) -> Any:
    reply = refuse(receiver.bus, refused, request.method, request.path, _peer(request))
    return _http(reply)


def _peer(request: Any) -> str | None:
    peer = request.META.get("REMOTE_ADDR")
    return peer if isinstance(peer, str) and peer else None


def handle(endpoint: _Endpoint, view: Callable[..., Any] | None, request: Any) -> Any:
    """Verify ``request`` and run ``view(delivery)`` for a new delivery; the response.

    ``view`` ``None``: the receiver's default dispatch (``webhook.received``).
    """
    receiver, options = endpoint.resolve()
    try:
        hook = read_request(options, request, time.time(), receiver)
    except Refused as refused:
        return _refused(receiver, refused, request)
    if isinstance(hook, Delivery):  # a WebhookMiddleware verified it and settles its key
        if view is not None:
            return view(hook)
        run_listeners(receiver, hook)
        return HttpResponse(status=receiver.success_status)
    if view is None:  # the listeners, in the request's transactions
        return _http(receiver.receive(hook, dispatch=functools.partial(run_listeners, receiver)))
    answered: list[Any] = []

    def dispatch(delivery: Delivery) -> None:
        answered.append(response := view(delivery))
        decline_unless_2xx(response.status_code, _status_line(response))

    return _answer(receiver.receive(hook, dispatch=dispatch), answered)


async def ahandle(endpoint: _Endpoint, view: Callable[..., Any], request: Any) -> Any:
    """:func:`handle` for an ``async def`` view, through :meth:`Receiver.areceive`."""
    receiver, options = endpoint.resolve()
    try:
        hook = read_request(options, request, time.time(), receiver)
    except Refused as refused:
        reply = await arefuse(receiver.bus, refused, request.method, request.path, _peer(request))
        return _http(reply)
    if isinstance(hook, Delivery):  # a WebhookMiddleware verified it and settles its key
        return await view(hook)
    answered: list[Any] = []

    async def dispatch(delivery: Delivery) -> None:
        answered.append(response := await adrained(await view(delivery)))
        decline_unless_2xx(response.status_code, _status_line(response))

    return _answer(await receiver.areceive(hook, dispatch=dispatch), answered)


# -- the public views ------------------------------------------------------------------


def webhook_view(
    receiver: Receiver | Callable[..., Any] | None = None,
    *,
    max_body_size: int | None = None,
    methods: Iterable[str] = ("POST",),
    max_header_count: int | None = None,
    max_header_bytes: int | None = None,
) -> Any:
    """Decorate ``view(request, delivery, *args, **kwargs)`` to run for verified deliveries.

    An ``async def`` view gives an async view (run under ASGI without a
    thread), verified with :meth:`Receiver.areceive
    <webhookverify.Receiver.areceive>`. Used bare (``@webhook_view``) or
    without a receiver, the receiver is :func:`settings_receiver`'s, and
    ``max_body_size`` defaults to the configuration's.

    Args:
        receiver: the :class:`~webhookverify.Receiver` that decides.
        max_body_size: the largest body accepted, in bytes (default: the
            configuration's, else 1 MiB); a larger Content-Length is answered 413.
        methods: the methods accepted (default ``("POST",)``); others get 405.
        max_header_count: as for the WSGI adapter (431).
        max_header_bytes: as for the WSGI adapter (431).

    Returns:
        a decorator, or the decorated view when used bare.

    Raises:
        ConfigurationError: a setting is wrong, at decoration.
    """
    if callable(receiver) and not isinstance(receiver, Receiver):
        return webhook_view()(receiver)  # @webhook_view, bare
    given = (max_body_size, max_header_count, max_header_bytes)
    limits = zip(("max_body_size", "max_header_count", "max_header_bytes"), given, strict=True)
    chosen: dict[str, Any] = {"methods": methods, **{k: v for k, v in limits if v is not None}}
    endpoint = _Endpoint(receiver, "webhook_view", chosen)

    def decorate(view: Callable[..., Any]) -> Any:
        if inspect.iscoroutinefunction(view):

            @functools.wraps(view)
            async def async_view(request: Any, *args: Any, **kwargs: Any) -> Any:
                return await ahandle(endpoint, lambda d: view(request, d, *args, **kwargs), request)

            return mark_view(async_view, takes_transactions=False)

        @functools.wraps(view)
        def sync_view(request: Any, *args: Any, **kwargs: Any) -> Any:
            run = lambda d: run_view(view, lambda: view(request, d, *args, **kwargs))  # noqa: E731
            return handle(endpoint, run, request)

        return mark_view(sync_view)

    return decorate


class WebhookView(View):  # type: ignore[misc]
    """A class-based webhook view: override ``handle(self, request, delivery)``.

    The same as :func:`webhook_view` (an ``async def handle`` makes an async
    view). Set ``receiver`` on the class, or pass it to ``as_view(receiver=...)``;
    without one, :func:`settings_receiver`'s is used. ``max_body_size`` and
    ``methods`` are class attributes too. Without ``handle``, a verified
    delivery fires ``webhook.received`` (and so :data:`webhook_received`).
    """

    receiver: Receiver | None = None
    max_body_size: int | None = None
    methods: tuple[str, ...] = ("POST",)
    endpoint: _Endpoint | None = None  # built by as_view

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        endpoint = self.endpoint
        if endpoint is None:
            raise ConfigurationError(f"route {type(self).__name__} through its as_view()")
        handler = getattr(self, "handle", None)
        if handler is not None and inspect.iscoroutinefunction(handler):
            return ahandle(endpoint, lambda d: handler(request, d, *args, **kwargs), request)
        if handler is None:
            return handle(endpoint, None, request)
        run = lambda d: run_view(handler, lambda: handler(request, d, *args, **kwargs))  # noqa: E731
        return handle(endpoint, run, request)

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Any:
        """The view function for a URL pattern; ``initkwargs`` set class attributes.

        Raises:
            ConfigurationError: a setting is wrong.
        """
        chosen: dict[str, Any] = {"methods": initkwargs.get("methods", cls.methods)}
        limit = initkwargs.get("max_body_size", cls.max_body_size)
        if limit is not None:
            chosen["max_body_size"] = limit
        receiver = initkwargs.get("receiver", cls.receiver)
        endpoint = _Endpoint(receiver, cls.__name__, chosen)
        view = super().as_view(**initkwargs, endpoint=endpoint)
        handler = getattr(cls, "handle", None)
        if inspect.iscoroutinefunction(handler):
            return mark_view(_as_async(view), takes_transactions=False)
        return mark_view(view)  # handle(), or the listeners: run_view / run_listeners


def _as_async(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    async def async_view(request: Any, *args: Any, **kwargs: Any) -> Any:
        return await view(request, *args, **kwargs)

    return async_view
