"""Flask integration: a view decorator and an extension for app factories.

:func:`webhook_view` turns ``view(delivery)`` into a Flask view that
verifies the request first::

    @app.post("/webhooks/github")
    @webhook_view(receiver)
    def github(delivery):
        ...
        return "", 204

:class:`WebhookVerify` builds the receiver from ``app.config`` for app
factories (``WEBHOOKVERIFY_CONFIG``: a TOML file path or a mapping, as
:func:`webhookverify.config.load_registry` takes)::

    webhooks = WebhookVerify()

    def create_app():
        app = Flask(__name__)
        app.config["WEBHOOKVERIFY_CONFIG"] = "webhooks.toml"
        webhooks.init_app(app)
        return app

    @bp.post("/webhooks")
    @webhooks.view
    def hook(delivery): ...

The view is the receiver's dispatch step (:meth:`Receiver.receive
<webhookverify.Receiver.receive>`), with the same delivery semantics as the
WSGI middleware: a verified, new delivery runs the view once; a duplicate of
a processed one answers 200 without running it; the view raising (500), or
answering anything but a 2xx (its answer is sent), releases the delivery key
so the sender's retry runs it again (a streamed response is read to its end
before the key is committed, and sent from memory); refusals (401, 403, 409,
503; 400 and 413 for a body the decorator cannot take) answer the
receiver's status, headers and fixed text. ``webhook.received`` does not fire for these
requests. Under a :class:`~webhookverify.wsgi.WebhookMiddleware` guarding
the view's path with the same receiver, the view runs with the middleware's
delivery, which settles its key by the view's answer.

Flask is imported when this module is, never by ``import webhookverify``.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeAlias

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException

from ._body import parse_content_length, whole_body
from ._options import DEFAULT_MAX_BODY_SIZE, DELIVERY_KEY
from ._origin import sent_path
from ._replies import (
    BAD_REQUEST,
    INTERNAL_ERROR,
    Refused,
    app_answer_stands,
    decline_unless_2xx,
    refuse,
    verified_ahead,
)
from ._suggest import did_you_mean
from .config import load_registry
from .delivery import Delivery, Outcome
from .errors import ConfigurationError, InvalidRequest
from .receiver import Receiver
from .request import WebhookRequest

__all__ = ["CONFIG_KEY", "EXTENSION_KEY", "WebhookVerify", "WebhookView", "webhook_view"]

# The app.config key naming the handlers (a TOML path or a mapping), and the
# app.extensions key the extension keeps its receiver under.
CONFIG_KEY = "WEBHOOKVERIFY_CONFIG"
EXTENSION_KEY = "webhookverify"
# Every app.config key WebhookVerify reads.
_SETTINGS = (CONFIG_KEY, "WEBHOOKVERIFY_REPLAY_STORE", "WEBHOOKVERIFY_MAX_BODY_SIZE")

WebhookView: TypeAlias = Callable[..., Any]

logger = logging.getLogger("webhookverify")

# Logged when the app read the body before the webhook view could (answered 500).
CONSUMED = (
    "the request body was read before the webhook view (request.form, request.values or "
    "request.files in a before_request hook or an extension); Werkzeug keeps no raw bytes "
    "of a parsed form: call request.get_data() before reading the form so they are kept, "
    "or leave webhook requests alone (answering 500)"
)


def webhook_view(
    receiver: Receiver, *, max_body_size: int = DEFAULT_MAX_BODY_SIZE
) -> Callable[[WebhookView], Callable[..., Response]]:
    """Decorate ``view(delivery, **url_values)`` so that it runs only for a verified, new delivery.

    Place it under the route decorator (``@app.post(...)`` first): above
    it, Flask has already registered the bare view, which then runs
    unverified and fails with ``TypeError: view() missing 1 required
    positional argument: 'delivery'``.

    Args:
        receiver: the :class:`~webhookverify.Receiver` that decides.
        max_body_size: the largest body read, in bytes (default 1 MiB); a
            Content-Length over it is answered 413 before reading.

    Returns:
        the decorator. The body is read once, with
        ``request.get_data()``, and kept: in the view, ``delivery.body``,
        ``delivery.json()``, ``request.data`` and ``request.get_json()``
        give the verified bytes (a chunked body, sent without a
        Content-Length, only ``delivery.body``).

    Raises:
        ConfigurationError: ``max_body_size`` is not a positive whole number.
    """
    if isinstance(max_body_size, bool) or not isinstance(max_body_size, int) or max_body_size < 1:
        raise ConfigurationError("webhook_view(max_body_size=...) must be a positive whole number")
    if not isinstance(receiver, Receiver):
        bare = "; write @webhook_view(receiver) over the view" if callable(receiver) else ""
        raise ConfigurationError(
            f"webhook_view(receiver) takes a webhookverify.Receiver, not "
            f"{type(receiver).__name__}{bare}"
        )

    def decorate(view: WebhookView) -> Callable[..., Response]:
        @functools.wraps(view)
        def wrapper(**url_values: Any) -> Response:
            return _run(receiver, view, url_values, max_body_size)

        return wrapper

    return decorate


def _read_request(max_body_size: int) -> WebhookRequest:
    """The request to verify, from ``flask.request``.

    Raises:
        Refused: 413 over ``max_body_size``; 400 for a bad length or header.
    """
    length = parse_content_length((request.headers.get("Content-Length", ""),), max_body_size)
    app_limit = request.max_content_length
    if app_limit is not None and app_limit <= max_body_size:
        # The view's limit is max_body_size, just checked, not the app's lower
        # MAX_CONTENT_LENGTH: Werkzeug answered 413 to a delivery the view
        # takes, and senders do not retry a 413. One byte more for the read of
        # a chunked body below. (Flask 3.0 has no per-request limit.)
        with contextlib.suppress(AttributeError):
            request.max_content_length = max_body_size + 1
    if length is not None:
        # bounded by the Content-Length just checked; the bytes a hook read
        # before the view (request.get_json() in before_request) are reused,
        # and kept for the view's request.get_data() and request.get_json()
        raw = request.get_data(cache=True)
    else:
        # chunked (Werkzeug's stream is empty without a length unless the
        # server marks its input terminated): one byte past the limit tells
        # a body that is too large
        raw = request.stream.read(max_body_size + 1)
    if length and not raw:
        # Werkzeug raises ClientDisconnected for a client that left mid-body;
        # an empty stream means the app read it first (request.form keeps no bytes)
        logger.error(CONSUMED, extra={"webhookverify": {"reason": "body_consumed"}})
        raise Refused(INTERNAL_ERROR, "body_consumed")
    body = whole_body(raw, length, max_body_size)
    try:
        return WebhookRequest(
            request.method,
            _sent_url(),
            list(request.headers.items()),
            body,
            time.time(),
            request.remote_addr,
        )
    except InvalidRequest:
        raise Refused(BAD_REQUEST, "malformed_request") from None


def _sent_url() -> str:
    """The URL as the sender wrote it (Werkzeug's ``request.url`` is an IRI, its
    escapes decoded): the scheme and host as Flask sees them (``ProxyFix``,
    ``trusted_hosts``), the path and query as received."""
    environ = request.environ
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    query = environ.get("QUERY_STRING", "")
    path = sent_path(raw, request.root_path + request.path)
    return f"{request.scheme}://{request.host}{path}" + (f"?{query}" if query else "")


def _run(
    receiver: Receiver, view: WebhookView, url_values: dict[str, Any], max_body_size: int
) -> Response:
    ahead = verified_ahead(request.environ.get(DELIVERY_KEY), receiver)
    if ahead is not None:  # a WebhookMiddleware holds its key, settled by this answer
        return current_app.make_response(view(ahead, **url_values))
    try:
        webhook_request = _read_request(max_body_size)
    except Refused as refused:
        reply = refuse(receiver.bus, refused, request.method, request.path, request.remote_addr)
        return Response(reply.body, status=reply.status, headers=list(reply.headers))
    answered: list[Response] = []

    def dispatch(delivery: Delivery) -> None:
        app = current_app
        try:
            response = app.make_response(view(delivery, **url_values))
        except HTTPException as exc:  # abort(400): the app's error handlers answer it
            response = app.make_response(app.handle_user_exception(exc))
        if response.is_streamed:
            # a generator runs as the answer is sent, after the key is committed:
            # read it now, so that its failure releases the key (sent from memory)
            response.make_sequence()
        answered.append(response)
        decline_unless_2xx(response.status_code, response.status)

    outcome = receiver.receive(webhook_request, dispatch=dispatch)
    if answered and app_answer_stands(outcome, answered[0].status_code):
        return answered[0]
    return outcome_response(outcome)


def outcome_response(outcome: Outcome) -> Response:
    """A Flask :class:`~flask.Response` with the outcome's status, headers and body."""
    return Response(outcome.body, status=outcome.status, headers=list(outcome.headers))


class WebhookVerify:
    """The Flask extension: a receiver per app, built from ``app.config``.

    Configuration keys:

    - ``WEBHOOKVERIFY_CONFIG`` (required): a TOML file path or a mapping of
      handlers, as :func:`webhookverify.config.load_registry` takes;
    - ``WEBHOOKVERIFY_REPLAY_STORE``: the replay store (default: a
      :class:`~webhookverify.replay.MemoryReplayStore`; a
      :class:`~webhookverify.RedisReplayStore` when the app runs in several
      processes);
    - ``WEBHOOKVERIFY_MAX_BODY_SIZE``: the largest body, in bytes (default 1 MiB).

    Args:
        app: the app, for the single-app pattern; else call :meth:`init_app`.
    """

    def __init__(self, app: Flask | None = None) -> None:
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Build the app's receiver from its configuration.

        Raises:
            ConfigurationError: ``WEBHOOKVERIFY_CONFIG`` is unset or invalid,
                another setting is invalid, or a ``WEBHOOKVERIFY_`` key is not
                one of them (one line naming the setting).
        """
        source = app.config.get(CONFIG_KEY)
        if source is None:
            raise ConfigurationError(
                f"{CONFIG_KEY} is not set in app.config: set it to the path of a TOML file "
                "or a mapping of handlers before calling init_app(app)"
            )
        if not isinstance(source, str | Mapping) and not hasattr(source, "__fspath__"):
            raise ConfigurationError(
                f"app.config[{CONFIG_KEY!r}] must be a TOML file path or a mapping, "
                f"not {type(source).__name__}"
            )
        unknown = sorted(
            key
            for key in app.config
            if isinstance(key, str) and key.startswith("WEBHOOKVERIFY_") and key not in _SETTINGS
        )
        if unknown:  # a misspelt setting would be left out without a word
            raise ConfigurationError(
                f"app.config[{unknown[0]!r}] is not a webhookverify setting"
                + (did_you_mean(unknown[0], _SETTINGS) or f"; they are {', '.join(_SETTINGS)}")
            )
        store = app.config.get("WEBHOOKVERIFY_REPLAY_STORE")
        if isinstance(store, str):
            raise ConfigurationError(
                "app.config['WEBHOOKVERIFY_REPLAY_STORE'] is a replay store, not a URL: "
                "set it to RedisReplayStore(url) (from webhookverify.replay)"
            )
        size = app.config.get("WEBHOOKVERIFY_MAX_BODY_SIZE", DEFAULT_MAX_BODY_SIZE)
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ConfigurationError(
                "app.config['WEBHOOKVERIFY_MAX_BODY_SIZE'] must be a positive whole number of bytes"
            )
        registry = load_registry(source)
        try:
            receiver = Receiver(registry, replay_store=store)
        except ConfigurationError as exc:  # the registry is sound: the store is left
            raise ConfigurationError(f"app.config['WEBHOOKVERIFY_REPLAY_STORE']: {exc}") from None
        app.extensions[EXTENSION_KEY] = (receiver, size)

    @property
    def receiver(self) -> Receiver:
        """The current app's receiver (bind listeners on ``receiver.bus``).

        Raises:
            RuntimeError: outside an app context, or before ``init_app``.
        """
        return self._state()[0]

    def _state(self) -> tuple[Receiver, int]:
        state: tuple[Receiver, int] | None = current_app.extensions.get(EXTENSION_KEY)
        if state is None:
            raise RuntimeError(
                "WebhookVerify.init_app(app) was not called for this app; call it in the "
                "app factory"
            )
        return state

    def view(self, view: WebhookView) -> Callable[..., Response]:
        """:func:`webhook_view` with the current app's receiver and body limit."""

        @functools.wraps(view)
        def wrapper(**url_values: Any) -> Response:
            receiver, size = self._state()
            return _run(receiver, view, url_values, size)

        return wrapper

    webhook_view = view
