"""AWS Lambda integration: a handler for API Gateway and function URL events.

The function's code takes the event, the context and the verified
:class:`~webhookverify.Delivery`, and runs only for a verified, new delivery::

    from webhookverify.aws_lambda import receiver_from_env, webhook_handler

    receiver = receiver_from_env(load_registry("webhooks.toml"))  # Redis: WEBHOOKVERIFY_REDIS_URL

    @webhook_handler(receiver)
    def handler(event, context, delivery):
        payload = delivery.json()
        ...
        return {"statusCode": 204}

It reads REST API (payload 1.0), HTTP API (payload 2.0) and function URL
events (see :mod:`webhookverify.lambda_events`), base64-encoded bodies
included, and answers in the proxy integration's shape.

The function is the dispatch step of :meth:`Receiver.receive
<webhookverify.Receiver.receive>`: returning ``None`` or a 2xx
``{"statusCode": ...}`` records the delivery as processed; any other status
is answered as it is and releases the delivery key, so the sender's retry
runs the function again; a raise answers 500 and releases it too. Refusals
(401, 403, 409, 503; 400, 405, 413 and 431 as the other adapters answer
them) and a duplicate of a processed delivery (200) never run it.

Replay protection must be shared: concurrent invocations run in separate
execution environments, each with its own memory, so a
:class:`~webhookverify.replay.MemoryReplayStore` would let a replay through
to another one. :func:`receiver_from_env` builds a receiver on a
:class:`~webhookverify.RedisReplayStore` (ElastiCache, MemoryDB or any
Redis the function reaches) named by ``WEBHOOKVERIFY_REDIS_URL``; build it
at module level so that its connection is reused by warm invocations.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeAlias, Unpack

from ._options import AdapterOptions, AdapterSettings, check_receiver
from ._replies import Refused, app_answer_stands, decline_unless_2xx, refuse
from .delivery import Delivery
from .errors import ConfigurationError
from .events import EventBus
from .lambda_events import describe_event, lambda_response, read_event
from .receiver import Receiver
from .registry import HandlerRegistry
from .replay import MemoryReplayStore

__all__ = [
    "REDIS_URL_VARIABLE",
    "LambdaFunction",
    "receiver_from_env",
    "webhook_handler",
]

logger = logging.getLogger("webhookverify")

# The environment variable receiver_from_env reads the Redis URL from.
REDIS_URL_VARIABLE = "WEBHOOKVERIFY_REDIS_URL"

LambdaFunction: TypeAlias = Callable[[Any, Any, Delivery], Mapping[str, Any] | None]
LambdaHandler: TypeAlias = Callable[[Any, Any], dict[str, Any]]


def receiver_from_env(
    registry: HandlerRegistry,
    bus: EventBus | None = None,
    *,
    variable: str = REDIS_URL_VARIABLE,
    prefix: str = "",
    **receiver_options: Any,
) -> Receiver:
    """A :class:`~webhookverify.Receiver` whose replay store is the Redis named in the environment.

    Args:
        registry: the handlers.
        bus: the event bus (default: a new one).
        variable: the environment variable holding the ``redis://`` or
            ``rediss://`` URL (default ``WEBHOOKVERIFY_REDIS_URL``).
        prefix: put before every key (to share a Redis database).
        receiver_options: more :class:`~webhookverify.Receiver` settings.

    Raises:
        ConfigurationError: the variable is unset or empty, or its URL is
            not a Redis URL; redis is not installed (``webhookverify[redis]``).
    """
    from .redis_store import RedisReplayStore

    url = os.environ.get(variable, "").strip()
    if not url:
        raise ConfigurationError(
            f"{variable} is not set: set it in the function's environment to the "
            "rediss:// URL of the Redis every instance of the function shares"
        )
    store = RedisReplayStore(url, prefix=prefix)
    return Receiver(registry, bus, replay_store=store, **receiver_options)


def webhook_handler(
    receiver: Receiver, **options: Unpack[AdapterSettings]
) -> Callable[[LambdaFunction], LambdaHandler]:
    """Decorate ``function(event, context, delivery)`` into a Lambda handler ``(event, context)``.

    Args:
        receiver: the :class:`~webhookverify.Receiver` that decides (use one
            on a shared store: :func:`receiver_from_env`).
        options: ``max_body_size`` (default 1 MiB; API Gateway allows
            10 MB, Lambda 6 MB), ``methods`` (default ``("POST",)``),
            ``public_url`` (the URL senders use, when it is not the API's
            own, for schemes that sign it), ``max_header_count``,
            ``max_header_bytes``; proxies are not trusted here (API Gateway
            sets the forwarded headers itself).

    Returns:
        the decorator. ``function`` returns ``None`` (the receiver's 200) or
        a proxy response (``{"statusCode": 204, "body": ...}``), sent as it is.

    Raises:
        ConfigurationError: a setting is wrong, at decoration.
    """
    check_receiver("webhook_handler", receiver, "receive")
    if "trusted_proxies" in options:
        raise ConfigurationError(
            "webhook_handler(trusted_proxies=...) is not taken under Lambda: the request "
            "comes from API Gateway; set public_url= for the URL senders sign"
        )
    adapter = AdapterOptions.build("webhook_handler", **options)
    if isinstance(receiver.replay_store, MemoryReplayStore):
        logger.warning(
            "webhook_handler: the receiver keeps delivery keys in memory, which concurrent "
            "Lambda instances do not share; use receiver_from_env() or a RedisReplayStore"
        )

    def decorate(function: LambdaFunction) -> LambdaHandler:
        if not callable(function):
            raise ConfigurationError("webhook_handler(receiver) decorates a function")

        @functools.wraps(function)
        def handler(event: Any, context: Any) -> dict[str, Any]:
            return _run(receiver, adapter, function, event, context)

        return handler

    return decorate


def _run(
    receiver: Receiver,
    options: AdapterOptions,
    function: LambdaFunction,
    event: Any,
    context: Any,
) -> dict[str, Any]:
    try:
        methods = receiver.handshake_methods
        request, _ = read_event(options, event, time.time(), handshake_methods=methods)
    except Refused as refused:
        method, path = describe_event(event)
        reply = refuse(receiver.bus, refused, method, path, None)
        return lambda_response(*reply)
    answered: list[dict[str, Any]] = []

    def dispatch(delivery: Delivery) -> None:
        response = function(event, context, delivery)
        if response is None:
            return
        if not isinstance(response, Mapping) or not isinstance(response.get("statusCode"), int):
            raise TypeError(
                "the Lambda function returned neither None nor a proxy response "
                "({'statusCode': 200, ...})"
            )
        answered.append(dict(response))
        decline_unless_2xx(response["statusCode"], str(response["statusCode"]))

    outcome = receiver.receive(request, dispatch=dispatch)
    if answered and app_answer_stands(outcome, answered[0]["statusCode"]):
        return answered[0]
    return lambda_response(outcome.status, outcome.headers, outcome.body)
