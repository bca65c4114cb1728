"""What the receiver's log tells whoever runs the endpoint, where nothing else would.

A request cancelled while the receiver waits on its time budget: with ``Receiver(time_budget=...)``, ``areceive`` runs the dispatch in a task
and waits at most the budget for it. An ASGI server may cancel the request
(the client went away) while it waits: the dispatch task goes on, and
settles its key when it ends, but nobody looked at how it ended. A listener
that then failed was released silently: no log line said that a delivery
had failed and was now waiting on a redelivery.

A refusal: the warning said ``webhook refused (401 no_handler_matched)``
and kept each handler's reason in the record's extra fields, which
Python's default log format does not show; someone setting up an endpoint
behind a proxy (a URL-signing scheme verifying the internal URL) saw a
stream of 401s with no cause.
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from webhookverify import Delivery, EventBus, Handler, HandlerRegistry, HmacVerifier, Receiver
from webhookverify.replay import MemoryReplayStore
from webhookverify.testing import sign_request

VERIFIER = HmacVerifier(secret="cancelled-secret", header="Webhook-Signature", encoding="base64")


def receiver_with(listener: object, store: MemoryReplayStore) -> Receiver:
    bus = EventBus()
    bus.bind("webhook.received", listener)  # type: ignore[arg-type]
    handler = Handler("a", VERIFIER)
    return Receiver(HandlerRegistry([handler]), bus, replay_store=store, time_budget=0.05)


def test_a_failure_after_the_request_was_cancelled_is_logged_and_released(
    caplog: pytest.LogCaptureFixture,
) -> None:
    calls: list[int] = []

    async def failing(_: Delivery) -> None:
        calls.append(1)
        if len(calls) == 1:
            await asyncio.sleep(0.2)  # past the budget, and past the cancellation
            raise RuntimeError("the database is down")
        raise RuntimeError("still down")

    store = MemoryReplayStore()
    receiver = receiver_with(failing, store)
    request = sign_request(VERIFIER, b'{"n": 1}')

    async def main() -> int:
        waiting = asyncio.ensure_future(receiver.areceive(request))
        await asyncio.sleep(0.01)  # within the budget: areceive waits on the dispatch
        waiting.cancel()  # the server cancelled the request
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await asyncio.sleep(0.4)  # the dispatch fails in the background
        return (await receiver.areceive(request)).status  # the sender's retry

    with caplog.at_level(logging.ERROR, logger="webhookverify"):
        retried = asyncio.run(main())
    failed = [r for r in caplog.records if "the database is down" in str(r.exc_info)]
    assert len(failed) == 1, [r.getMessage() for r in caplog.records]
    assert failed[0].webhookverify["reason"] == "listener_failed_late"  # type: ignore[attr-defined]
    assert (retried, len(calls)) == (500, 2)  # released: the retry ran the listener again


def test_the_refusal_log_line_names_each_handler_and_its_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # what a user setting up an endpoint sees with Python's default logging
    receiver = receiver_with(lambda _: None, MemoryReplayStore())
    forged = sign_request(
        HmacVerifier(secret="another", header="Webhook-Signature", encoding="base64"), b"{}"
    )
    with caplog.at_level(logging.WARNING, logger="webhookverify"):
        assert receiver.receive(forged).status == 401
    [line] = [r.getMessage() for r in caplog.records]
    assert line.startswith("webhook refused (401 no_handler_matched: a signature_mismatch; check ")
