"""Receive GitHub webhooks in aiohttp.

    GITHUB_WEBHOOK_SECRET=... python examples/aiohttp_app.py
    # or: python -m aiohttp.web -H 127.0.0.1 -P 8000 aiohttp_app:init_func  (from examples/)

The handler runs only for a verified, new delivery: ``webhook_handler`` reads
the body once, verifies it, answers refusals (401) and replays (an empty 200)
itself, and hands the handler the ``Delivery``. If the handler fails (an
exception, or an answer other than 2xx), the delivery is not recorded as
processed and GitHub's retry reaches the handler again.
"""

import os
import sys

from aiohttp import web

from webhookverify import Delivery, Handler, HandlerRegistry, Receiver, presets
from webhookverify.aiohttp import webhook_handler

# GitHub signs the raw body with HMAC-SHA256: X-Hub-Signature-256: sha256=<hex>
secret = os.environ.get("GITHUB_WEBHOOK_SECRET")
if not secret:  # never a default: a secret written here is known to everyone
    sys.exit(
        "GITHUB_WEBHOOK_SECRET is not set: export GITHUB_WEBHOOK_SECRET='...' "
        "(the secret in GitHub's webhook settings) and start the app again"
    )
github = presets.github(secret=secret)


async def github_webhook(request: web.Request, delivery: Delivery) -> web.Response:
    # verified: who sent it (delivery.handler, delivery.user), the exact body
    payload = delivery.json()
    return web.json_response(
        {
            "event": request.headers.get("X-GitHub-Event"),
            "user": delivery.user,
            "action": payload.get("action"),
        }
    )


def create_app() -> web.Application:
    receiver = Receiver(HandlerRegistry([Handler("github", github, user="ci-bot")]))
    app = web.Application()
    app.router.add_post("/webhooks/github", webhook_handler(receiver, github_webhook))
    return app


def init_func(argv: list[str]) -> web.Application:
    """For ``python -m aiohttp.web ... aiohttp_app:init_func``."""
    return create_app()


if __name__ == "__main__":
    web.run_app(create_app(), host="127.0.0.1", port=8000)
