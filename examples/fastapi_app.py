"""Receive GitHub webhooks in FastAPI.

    GITHUB_WEBHOOK_SECRET=... uvicorn --app-dir examples fastapi_app:app

The route runs only for a verified, new delivery: the ``WebhookDelivery``
dependency reads the body once, verifies it, answers refusals (401) and
replays (an empty 200) itself, and hands the route the ``Delivery``. If the
route fails (an exception, an ``HTTPException``, a status other than 2xx),
the delivery is not recorded as processed and GitHub's retry reaches the
route again.
"""

import os
import sys
from typing import Annotated

from fastapi import Depends, FastAPI, Header

from webhookverify import Delivery, Handler, HandlerRegistry, Receiver, presets
from webhookverify.fastapi import WebhookDelivery, install

# GitHub signs the raw body with HMAC-SHA256: X-Hub-Signature-256: sha256=<hex>
secret = os.environ.get("GITHUB_WEBHOOK_SECRET")
if not secret:  # never a default: a secret written here is known to everyone
    sys.exit(
        "GITHUB_WEBHOOK_SECRET is not set: export GITHUB_WEBHOOK_SECRET='...' "
        "(the secret in GitHub's webhook settings) and start the app again"
    )
github = presets.github(secret=secret)
receiver = Receiver(HandlerRegistry([Handler("github", github, user="ci-bot")]))
verified = WebhookDelivery(receiver)

app = FastAPI()
install(app)  # refusals and replays answered with the receiver's exact text


@app.post("/webhooks/github")
async def github_webhook(
    delivery: Annotated[Delivery, Depends(verified)],
    x_github_event: Annotated[str | None, Header()] = None,
) -> dict[str, object]:
    # verified: who sent it (delivery.handler, delivery.user), the exact body
    payload = delivery.json()
    return {"event": x_github_event, "user": delivery.user, "action": payload.get("action")}
