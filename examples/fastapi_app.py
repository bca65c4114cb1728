"""Receive GitHub webhooks in FastAPI.

    GITHUB_WEBHOOK_SECRET=... uvicorn --app-dir examples fastapi_app:app

The middleware verifies every POST to /webhooks/github before FastAPI sees
it; the endpoint runs only for a verified, new delivery. If the endpoint
fails (an exception or a 5xx), the sender gets a 5xx and its retry is
processed.
"""

import os
import sys

from fastapi import FastAPI, Request

from webhookverify import Handler, HandlerRegistry, Receiver, presets
from webhookverify.asgi import WebhookMiddleware, require_delivery

# GitHub signs the raw body with HMAC-SHA256: X-Hub-Signature-256: sha256=<hex>
secret = os.environ.get("GITHUB_WEBHOOK_SECRET")
if not secret:  # never a default: a secret written here is known to everyone
    sys.exit(
        "GITHUB_WEBHOOK_SECRET is not set: export GITHUB_WEBHOOK_SECRET='...' "
        "(the secret in GitHub's webhook settings) and start the app again"
    )
github = presets.github(secret=secret)
receiver = Receiver(HandlerRegistry([Handler("github", github, user="ci-bot")]))

app = FastAPI()
app.add_middleware(WebhookMiddleware, receiver=receiver, path="/webhooks/github")


@app.post("/webhooks/github")
async def github_webhook(request: Request) -> dict[str, object]:
    # verified: who sent it, exact body; raises MissingDelivery (a 500) if the
    # middleware does not guard this route, so the endpoint never runs unverified
    delivery = require_delivery(request.scope)
    payload = delivery.json()
    return {
        "event": request.headers.get("x-github-event"),
        "user": delivery.user,
        "action": payload.get("action"),
    }
